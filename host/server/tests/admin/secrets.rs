//! Channel secrets are sealed at rest, never returned, opened only for the
//! plugin, and a host started with the wrong key says so.

use std::sync::Arc;

use axum::http::StatusCode;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::secrets::SecretKeys;
use serde_json::json;

use super::{Edge, OPERATOR};

const PLAIN: &str = "sk_live_do-not-store-me-in-clear";
const KEY_A: &str = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";
const KEY_B: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn keys(current: &str, older: &[&str]) -> Arc<SecretKeys> {
    Arc::new(SecretKeys::from_hex(current, older).unwrap())
}

fn stored_anywhere(edge: &Edge, needle: &str) -> bool {
    edge.dump()
        .iter()
        .any(|(k, v)| [k, v].iter().any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes())))
}

/// A host in `dir` with tenant alpha, hello-channel installed and a secret set.
async fn with_secret(dir: tempfile::TempDir, key: &str) -> (Edge, String) {
    let edge = Edge::start_in(dir, HttpSettings::default(), keys(key, &[])).await.unwrap();
    let token = edge.tenant("alpha").await;
    let channel = edge.install("alpha", &token, "hello-channel").await;
    let path = format!("/tenants/alpha/channels/{channel}/secrets/api_key");
    let r = edge.admin("PUT", &path, &token, Some(&json!({ "value": PLAIN }))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    (edge, channel)
}

fn mounted_secret(edge: &Edge, channel: &str) -> Option<String> {
    let tenant = omnistore_runtime::TenantId::new("alpha").unwrap();
    edge.host.registry.find(&tenant, channel)?.installation.settings.get("api_key").cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_sealed_at_rest_and_never_returned() {
    let (edge, channel) = with_secret(tempfile::tempdir().unwrap(), KEY_A).await;
    assert!(!stored_anywhere(&edge, PLAIN), "the raw store holds the secret in clear");
    assert!(!stored_anywhere(&edge, &PLAIN[8..20]), "not even a part of it");
    for path in [format!("/tenants/alpha/channels/{channel}"), "/tenants/alpha/channels".to_string()] {
        let r = edge.admin("GET", &path, OPERATOR, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.text().contains(PLAIN), "{path} returned the secret");
    }
    // The plugin still gets it in clear.
    assert_eq!(mounted_secret(&edge, &channel).as_deref(), Some(PLAIN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_key_is_a_clear_error_and_rotation_reseals() {
    let (edge, _) = with_secret(tempfile::tempdir().unwrap(), KEY_A).await;
    let dir = edge.stop().await;

    let err = Edge::start_in(dir, HttpSettings::default(), keys(KEY_B, &[])).await.err().expect("wrong key refused");
    let message = format!("{err:#}");
    let key_a_id = SecretKeys::from_hex(KEY_A, &[]).unwrap().current_id().to_owned();
    assert!(message.contains(&key_a_id) && message.contains("OMNISTORE_SECRETS_KEY"), "{message}");
    assert!(!message.contains(KEY_A) && !message.contains(KEY_B), "no key material in: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_opens_with_the_old_key_and_reseals_under_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (edge, channel) = with_secret(dir, KEY_A).await;
    // A secret stored in clear before secrets were sealed.
    let tenant = omnistore_core::TenantId::new("alpha").unwrap();
    let id = omnistore_core::ChannelId::new(channel.clone());
    edge.host.core.set_channel_secret(&tenant, &id, "legacy", "legacy-in-clear", 1).unwrap();
    let dir = edge.stop().await;
    assert_eq!(dir.path(), path);

    let edge = Edge::start_in(dir, HttpSettings::default(), keys(KEY_B, &[KEY_A])).await.unwrap();
    assert_eq!(mounted_secret(&edge, &channel).as_deref(), Some(PLAIN));
    let dir = edge.stop().await;
    // Re-sealed under B: B alone opens it now.
    let edge = Edge::start_in(dir, HttpSettings::default(), keys(KEY_B, &[])).await.unwrap();
    assert_eq!(mounted_secret(&edge, &channel).as_deref(), Some(PLAIN));
    assert!(!stored_anywhere(&edge, PLAIN));
    assert!(!stored_anywhere(&edge, "legacy-in-clear"), "the clear secret was sealed at start");
}
