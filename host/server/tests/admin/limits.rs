//! Request bodies are bounded in size and time before any token is looked
//! at; internal failures reach the client only as a request id.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use omnistore_core::{Channel, Core, TenantId};
use omnistore_server::admin::{AdminError, AdminState, ChannelInstaller, InstallRequest, admin_router};
use omnistore_server::deployment::HttpSettings;
use omnistore_storage::MemoryStore;
use serde_json::json;
use tower::ServiceExt;

use super::{Edge, OPERATOR};

/// A body that sends one chunk and then nothing, never ending.
fn trickle() -> Body {
    let first = futures::stream::once(async { Ok::<Bytes, std::io::Error>(Bytes::from_static(b"{\"id\":")) });
    Body::from_stream(futures::StreamExt::chain(first, futures::stream::pending()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_bodies_are_bounded_before_the_token_is_looked_at() {
    let http = HttpSettings { body_read_timeout_secs: 1, admin_max_body_bytes: 1024, ..HttpSettings::default() };
    let edge = Edge::start(http).await;
    // Too large, with a token nobody has: refused for its size, not its token.
    let big = Request::post("/api/v1/tenants")
        .header("authorization", "Bearer osk_0000")
        .header("content-length", "10000000")
        .body(Body::from(vec![b' '; 10_000_000]))
        .unwrap();
    let r = edge.send(big).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"), "{}", r.text());
    // Too slow: 408 after the read timeout, even with the operator token.
    for token in [OPERATOR, "osk_0000"] {
        let slow = Request::post("/api/v1/tenants")
            .header("authorization", format!("Bearer {token}"))
            .body(trickle())
            .unwrap();
        let r = tokio::time::timeout(Duration::from_secs(30), edge.send(slow)).await.expect("answered");
        assert_eq!((r.status, r.code()), (StatusCode::REQUEST_TIMEOUT, "body_timeout"), "{}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storefront_bodies_are_bounded_in_size_and_time() {
    let http = HttpSettings { body_read_timeout_secs: 1, max_body_bytes: 1024, ..HttpSettings::default() };
    let edge = Edge::start(http).await;
    let token = edge.tenant("alpha").await;
    edge.domain("alpha", "alpha.example");
    edge.install("alpha", &token, "hello-channel").await;
    let slow = Request::post("/").header("host", "alpha.example").body(trickle()).unwrap();
    let r = tokio::time::timeout(Duration::from_secs(30), edge.send(slow)).await.expect("answered");
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.text());
    let big = Request::post("/")
        .header("host", "alpha.example")
        .header("content-length", "4096")
        .body(Body::from(vec![b'x'; 4096]))
        .unwrap();
    assert_eq!(edge.send(big).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// An installer whose storage fails with a message full of internals.
struct Broken;

#[async_trait]
impl ChannelInstaller for Broken {
    async fn install(&self, _: &TenantId, _: InstallRequest, _: i64) -> Result<Channel, AdminError> {
        Err(AdminError::internal("writing /srv/omnistore/data/packages/x: permission denied (10.0.0.7:5432)"))
    }
}

#[tokio::test]
async fn internal_errors_reach_the_client_as_a_request_id_only() {
    let core = Core::new(Arc::new(MemoryStore::new()));
    let state = AdminState::new(core, OPERATOR).unwrap().with_installer(Arc::new(Broken));
    let router = Router::new().nest("/api/v1", admin_router(state));
    let tenant = json!({ "id": "alpha", "name": "A", "currency": "EUR" });
    let send = |path: &str, body: serde_json::Value| {
        Request::post(format!("/api/v1{path}"))
            .header("authorization", format!("Bearer {OPERATOR}"))
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    router.clone().oneshot(send("/tenants", tenant)).await.unwrap();
    let response = router.oneshot(send("/tenants/alpha/channels", json!({ "package": "/x" }))).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    for leak in ["/srv", "permission", "10.0.0.7"] {
        assert!(!text.contains(leak), "`{leak}` leaked in: {text}");
    }
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let id = body["error"]["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 16, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(id), "{body}");
}
