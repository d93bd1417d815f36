//! Preview links: a merchant looks at the storefront with the draft files
//! before publishing them.
//!
//! `POST …/channels/{channel}/files/preview` issues a token,
//! `{tenant}.{installation}.{expires ms}.{HMAC-SHA256 in hex}`, signed with
//! the host's preview key (kept in the data directory, so links survive a
//! restart). Visiting the storefront with `?preview=TOKEN` sets it as an
//! `HttpOnly` cookie; every request carrying a valid token for the tenant and
//! the installation it reaches is a preview (the plugin's `files` imports
//! read the draft, and it sees `x-omnistore-preview: 1`). A token that is
//! forged, expired, or for another tenant or installation is ignored: the
//! request is an ordinary one.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The query parameter and cookie that carry a preview token.
pub const PREVIEW_PARAM: &str = "preview";
pub const PREVIEW_COOKIE: &str = "omnistore-preview";

/// How long a preview link works.
pub const PREVIEW_TTL_MS: i64 = 60 * 60 * 1000;

/// The key that signs preview tokens.
#[derive(Clone)]
pub struct PreviewKey([u8; 32]);

impl std::fmt::Debug for PreviewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreviewKey(..)")
    }
}

/// What a valid token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewGrant {
    pub tenant: String,
    pub installation: String,
    pub expires_ms: i64,
}

impl PreviewKey {
    pub fn random() -> std::io::Result<PreviewKey> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(std::io::Error::other)?;
        Ok(PreviewKey(key))
    }

    /// The key in `<data>/preview-key`, made on first use.
    pub fn from_file_or_create(data_dir: &Path) -> std::io::Result<PreviewKey> {
        let file = data_dir.join("preview-key");
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(std::io::Error::other)?;
                let key: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| std::io::Error::other(format!("{} must hold 64 hex digits", file.display())))?;
                Ok(PreviewKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = PreviewKey::random()?;
                let tmp = data_dir.join("preview-key.tmp");
                std::fs::write(&tmp, hex::encode(key.0))?;
                restrict(&tmp)?;
                std::fs::rename(&tmp, &file)?;
                Ok(key)
            }
            Err(e) => Err(e),
        }
    }

    fn mac(&self, body: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(body.as_bytes());
        mac
    }

    /// A token for previewing `installation` of `tenant` until `expires_ms`.
    pub fn issue(&self, tenant: &str, installation: &str, expires_ms: i64) -> String {
        let body = format!("{tenant}.{installation}.{expires_ms}");
        let sig = hex::encode(self.mac(&body).finalize().into_bytes());
        format!("{body}.{sig}")
    }

    /// What `token` allows at `now_ms`, if it is ours and not expired.
    pub fn verify(&self, token: &str, now_ms: i64) -> Option<PreviewGrant> {
        let (body, sig) = token.rsplit_once('.')?;
        let sig = hex::decode(sig).ok()?;
        self.mac(body).verify_slice(&sig).ok()?;
        let mut parts = body.split('.');
        let (tenant, installation, expires) = (parts.next()?, parts.next()?, parts.next()?);
        let expires_ms = expires.parse::<i64>().ok()?;
        (parts.next().is_none() && now_ms < expires_ms).then(|| PreviewGrant {
            tenant: tenant.to_owned(),
            installation: installation.to_owned(),
            expires_ms,
        })
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The preview token of a storefront request: `?preview=` first, then the cookie.
pub(crate) fn token_of(query: Option<&str>, headers: &axum::http::HeaderMap) -> Option<(String, bool)> {
    let from_query = query.into_iter().flat_map(|q| q.split('&')).find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == PREVIEW_PARAM && !v.is_empty()).then(|| v.to_owned())
    });
    if let Some(t) = from_query {
        return Some((t, true));
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == PREVIEW_COOKIE).then(|| v.to_owned())
        })
        .map(|t| (t, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_as_issued_and_until_they_expire() {
        let key = PreviewKey::random().unwrap();
        let token = key.issue("alpha", "chn-1", 2_000);
        let grant = key.verify(&token, 1_000).unwrap();
        assert_eq!((grant.tenant.as_str(), grant.installation.as_str(), grant.expires_ms), ("alpha", "chn-1", 2_000));
        assert!(key.verify(&token, 2_000).is_none(), "expired");
        assert!(PreviewKey::random().unwrap().verify(&token, 1_000).is_none(), "another key");
        let forged = token.replacen("alpha", "betaa", 1);
        assert!(key.verify(&forged, 1_000).is_none());
        let longer = token.replacen(".2000.", ".9999.", 1);
        assert!(key.verify(&longer, 1_000).is_none());
        assert!(key.verify("", 0).is_none() && key.verify("a.b.c.d", 0).is_none());
    }

    #[test]
    fn the_key_is_kept_in_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = PreviewKey::from_file_or_create(dir.path()).unwrap();
        let b = PreviewKey::from_file_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        let token = a.issue("t", "i", 10);
        assert!(b.verify(&token, 5).is_some());
    }

    #[test]
    fn the_token_comes_from_the_query_or_the_cookie() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(token_of(Some("a=1&preview=tok"), &headers), Some(("tok".into(), true)));
        headers.insert("cookie", "x=1; omnistore-preview=cook; y=2".parse().unwrap());
        assert_eq!(token_of(None, &headers), Some(("cook".into(), false)));
        assert_eq!(token_of(Some("preview="), &headers), Some(("cook".into(), false)));
    }
}
