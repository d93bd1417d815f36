//! A catalog channel's sync report reaches the merchant through the admin
//! API: what the plugin wrote under the well-known keys of its storage, per
//! product and for the channel, paged, with a plugin's garbage named rather
//! than fatal, and never another tenant's.

use axum::http::StatusCode;
use omnistore_server::deployment::HttpSettings;
use serde_json::json;

use super::Edge;

/// Write `value` under `key` in the installation's plugin storage, as the
/// plugin's `storage.set` does.
fn plugin_wrote(edge: &Edge, tenant: &str, channel: &str, key: &str, value: &serde_json::Value) {
    let t = omnistore_runtime::TenantId::new(tenant).unwrap();
    let mut full = omnistore_storage::keyspace::plugin_data_prefix(&t, channel);
    full.extend_from_slice(key.as_bytes());
    let mut txn = edge.host.core.store().begin().unwrap();
    let bytes = match value {
        serde_json::Value::String(s) => s.clone().into_bytes(),
        v => v.to_string().into_bytes(),
    };
    txn.put(&full, &bytes).unwrap();
    txn.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channels_sync_report_is_read_per_product_and_tenant() {
    let edge = Edge::start(HttpSettings::default()).await;
    let alpha = edge.tenant("alpha").await;
    let beta = edge.tenant("beta").await;
    let channel = edge.install("alpha", &alpha, "hello-channel").await;
    let path = format!("/tenants/alpha/channels/{channel}/sync");

    let empty = edge.admin("GET", &path, &alpha, None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text());
    assert_eq!(empty.json["status"], json!(null), "nothing reported yet");
    assert_eq!(empty.json["products"], json!([]));

    plugin_wrote(
        &edge,
        "alpha",
        &channel,
        "sync/channel",
        &json!({
            "status": "needs_reauthorization", "message": "Pinterest refused the access token: connect the account again", "updated_ms": 5
        }),
    );
    plugin_wrote(
        &edge,
        "alpha",
        &channel,
        "sync/product/p1",
        &json!({
            "product_id": "p1", "status": "error", "last_synced_ms": 4,
            "errors": [{ "code": "INVALID_PRICE", "message": "price is missing its currency" }]
        }),
    );
    plugin_wrote(&edge, "alpha", &channel, "sync/product/p2", &json!("{ not a report"));
    plugin_wrote(
        &edge,
        "alpha",
        &channel,
        "sync/product/p3",
        &json!({ "product_id": "p3", "status": "synced", "last_synced_ms": 9 }),
    );
    plugin_wrote(
        &edge,
        "alpha",
        &channel,
        "not/sync/p4",
        &json!({ "product_id": "p4", "status": "synced", "last_synced_ms": 9 }),
    );

    let first = edge.admin("GET", &format!("{path}?limit=2"), &alpha, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json["status"], "needs_reauthorization");
    assert_eq!(first.json["message"], "Pinterest refused the access token: connect the account again");
    let products = first.json["products"].as_array().unwrap();
    assert_eq!(products.len(), 2);
    assert_eq!(products[0]["status"], "error");
    assert_eq!(products[0]["errors"][0]["code"], "INVALID_PRICE");
    assert_eq!(products[1]["product_id"], "p2");
    assert_eq!(products[1]["status"], "unreadable", "a plugin's garbage is named, not fatal");
    assert_eq!(first.json["next_after"], "p2");
    let rest = edge.admin("GET", &format!("{path}?after=p2"), &alpha, None).await;
    let rest: Vec<&str> =
        rest.json["products"].as_array().unwrap().iter().map(|p| p["product_id"].as_str().unwrap()).collect();
    assert_eq!(rest, ["p3"], "only keys under sync/product/");

    let theirs = edge.admin("GET", &path, &beta, None).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "another tenant's token: {}", theirs.text());
    let guessed = edge.admin("GET", &format!("/tenants/beta/channels/{channel}/sync"), &beta, None).await;
    assert_eq!(guessed.status, StatusCode::NOT_FOUND, "alpha's channel id under beta: {}", guessed.text());
    let bad = edge.admin("GET", &format!("{path}?limit=0"), &alpha, None).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text());
    assert!(bad.text().contains("limit must be between 1"), "{}", bad.text());
}
