//! Meta's webhook: `GET /webhook` answers the subscription handshake,
//! `POST /webhook` takes the orders placed on Instagram. Each POST must
//! carry `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw
//! body with the app secret; anything else is a 403 and changes nothing.

use hmac::{Hmac, Mac};
use omnistore_sdk::{PluginError, Request, Response, settings};
use sha2::Sha256;

use crate::orders;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The handshake: Meta sends `hub.mode=subscribe`, the verify token the
/// merchant typed and a challenge to echo.
pub fn verify(req: &Request, _params: &omnistore_sdk::Params) -> Result<Response, PluginError> {
    let expected = settings::get("webhook_verify_token").map(|t| t.trim().to_string()).unwrap_or_default();
    let mode = req.query_param("hub.mode").unwrap_or_default();
    let token = req.query_param("hub.verify_token").unwrap_or_default();
    let challenge = req.query_param("hub.challenge").unwrap_or_default();
    if expected.is_empty() || mode != "subscribe" || !same(token.as_bytes(), expected.as_bytes()) {
        omnistore_sdk::warn!("a webhook subscription with a wrong verify token was refused");
        return Ok(forbidden("the verify token does not match the secret `webhook_verify_token`"));
    }
    Ok(Response::text(challenge))
}

/// An order notification: verified, then each order ingested once.
pub fn receive(req: &Request, _params: &omnistore_sdk::Params) -> Result<Response, PluginError> {
    let secret = settings::get("app_secret").map(|s| s.trim().to_string()).unwrap_or_default();
    if secret.is_empty() {
        omnistore_sdk::error!("a Meta webhook was refused: the secret `app_secret` is not set");
        return Ok(forbidden("the secret `app_secret` is not set"));
    }
    let signed = req.header(SIGNATURE_HEADER).is_some_and(|h| signature_ok(secret.as_bytes(), &req.body, h));
    if !signed {
        omnistore_sdk::warn!("a webhook without a valid Meta signature was refused");
        return Ok(forbidden("the request is not signed with this installation's app secret"));
    }
    let ingested = orders::receive(&req.body)?;
    omnistore_sdk::info!("Meta webhook handled", orders = ingested);
    Ok(Response::text("EVENT_RECEIVED"))
}

/// Whether `header` is `sha256=` and the hex HMAC-SHA256 of `body` with
/// `secret`, compared in constant time.
pub fn signature_ok(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// Equality that takes as long whatever the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn forbidden(why: &str) -> Response {
    Response::text(format!("Forbidden: {why}")).with_status(403)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_raw_body() {
        let body = br#"{"object":"page"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_ok(b"s3cret", body, &good));
        assert!(!signature_ok(b"other", body, &good));
        assert!(!signature_ok(b"s3cret", b"{}", &good));
        assert!(!signature_ok(b"s3cret", body, good.trim_start_matches("sha256=")));
        assert!(!signature_ok(b"s3cret", body, "sha256=zz"));
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
