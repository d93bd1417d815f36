//! A streamed response ends at its caps in pages, bytes and time, however
//! long the plugin would continue, and no page is pulled for a client that
//! has gone.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use omnistore_server::deployment::HttpSettings;
use tower::ServiceExt;

use super::Edge;

/// Bytes received before the body ended, and whether it ended in an error
/// (a cut-off transfer) rather than cleanly.
async fn drain(mut body: Body) -> (usize, bool) {
    let mut received = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => received += f.data_ref().map_or(0, |d| d.len()),
            Err(_) => return (received, true),
        }
    }
    (received, false)
}

/// An endless response from the `endless` guest, drained with a generous bound.
async fn endless(http: HttpSettings, path: &str) -> (Edge, usize, bool) {
    let edge = Edge::start(http).await;
    let token = edge.tenant("alpha").await;
    edge.domain("alpha", "alpha.example");
    edge.install("alpha", &token, "endless").await;
    let request = Request::get(path).header("host", "alpha.example").body(Body::empty()).unwrap();
    let response = edge.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let drained = tokio::time::timeout(Duration::from_secs(120), drain(response.into_body()))
        .await
        .expect("an endless response must be cut off by the host");
    (edge, drained.0, drained.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_response_stops_at_the_page_cap() {
    let http = HttpSettings { stream_max_pages: 5, ..HttpSettings::default() };
    let (_, received, cut) = endless(http, "/?bytes=1000").await;
    assert!(cut, "the client sees a cut-off transfer, not a short success");
    assert_eq!(received, 6 * 1000, "the first page and five more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_response_stops_at_the_byte_cap() {
    let http = HttpSettings { stream_max_bytes: 10_500, ..HttpSettings::default() };
    let (_, received, cut) = endless(http, "/?bytes=1000").await;
    assert!(cut);
    assert_eq!(received, 10_000, "no page beyond the cap is sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_response_stops_at_the_time_cap() {
    let http = HttpSettings { stream_max_secs: 1, ..HttpSettings::default() };
    let (_, received, cut) = endless(http, "/?bytes=100").await;
    assert!(cut);
    assert!(received >= 100, "{received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_is_pulled_after_the_client_goes() {
    let edge = Edge::start(HttpSettings::default()).await;
    let token = edge.tenant("alpha").await;
    edge.domain("alpha", "alpha.example");
    edge.install("alpha", &token, "endless").await;
    let request = Request::get("/?bytes=100").header("host", "alpha.example").body(Body::empty()).unwrap();
    let mut body = edge.router.clone().oneshot(request).await.unwrap().into_body();
    for _ in 0..3 {
        body.frame().await.expect("a page").expect("not cut yet");
    }
    drop(body);
    let pulled = || async { edge.page("alpha.example", "/pages").await.text().parse::<u64>().unwrap() };
    let after_drop = pulled().await;
    assert!(after_drop <= 3, "pages pulled before the client left: {after_drop}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pulled().await, after_drop, "pages were pulled for a client that had gone");
}
