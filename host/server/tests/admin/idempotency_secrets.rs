//! An `Idempotency-Key` record keeps no trace of a password or a channel
//! secret a client could guess against: the stored fingerprint is keyed, not a
//! plain hash of the request, and replays still work.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Api, seed};

const PASSWORD: &str = "torta-della-nonna-1955";
const SECRET: &str = "ig-secret-value-never-stored";

/// Whether any key or value in the store contains `needle`.
fn stored_anywhere(api: &Api, needle: &[u8]) -> bool {
    api.dump().iter().any(|(k, v)| [k, v].iter().any(|bytes| bytes.windows(needle.len()).any(|w| w == needle)))
}

/// The plain SHA-256 digests (hex) an offline guesser would compute for a
/// request: of the body alone and of the method, path (with or without the
/// API's prefix) and body.
fn plain_hashes(method: &str, path: &str, body: &Value) -> Vec<String> {
    let body = body.to_string();
    let texts = [body.clone(), format!("{method}\n{path}\n{body}"), format!("{method}\n/api/v1{path}\n{body}")];
    texts.iter().map(|t| hex::encode(Sha256::digest(t.as_bytes()))).collect()
}

#[tokio::test]
async fn idempotency_records_keep_no_plain_hash_of_a_password_or_secret() {
    let api = Api::memory();
    let a = seed(&api, "alpha", "A").await;
    let users = "/tenants/alpha/users";
    let body = json!({ "email": "owner@alpha.example", "password": PASSWORD });

    let first = api.call("POST", users, Some(&a.token), Some(&body), Some("user-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(api.dump().iter().any(|(k, _)| k.starts_with(b"admin/idem/alpha/")), "the key was recorded");
    for hash in plain_hashes("POST", users, &body) {
        assert!(!stored_anywhere(&api, hash.as_bytes()), "the store holds a plain SHA-256 of the request: {hash}");
    }
    assert!(!stored_anywhere(&api, PASSWORD.as_bytes()), "the store holds the password");

    // Replays work as before: same key and body → the same answer …
    let again = api.call("POST", users, Some(&a.token), Some(&body), Some("user-1")).await;
    assert_eq!((again.status, &again.text), (StatusCode::CREATED, &first.text));
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    // … another password under the same key → 422, nothing runs.
    let other = json!({ "email": "owner@alpha.example", "password": "another-password-1955" });
    let r = api.call("POST", users, Some(&a.token), Some(&other), Some("user-1")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"), "{}", r.text);

    // A channel secret set with a key leaves no plain hash either.
    let path = format!("/tenants/alpha/channels/{}/secrets/access_token", a.channel);
    let secret = json!({ "value": SECRET });
    let r = api.call("PUT", &path, Some(&a.token), Some(&secret), Some("secret-1")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for hash in plain_hashes("PUT", &path, &secret) {
        assert!(!stored_anywhere(&api, hash.as_bytes()), "the store holds a plain SHA-256 of the secret's request");
    }
    assert!(!stored_anywhere(&api, SECRET.as_bytes()), "the store holds the secret");
    let r = api.call("PUT", &path, Some(&a.token), Some(&secret), Some("secret-1")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.headers.get("idempotent-replayed").unwrap(), "true");
    let r = api.call("PUT", &path, Some(&a.token), Some(&json!({ "value": "guess" })), Some("secret-1")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
}
