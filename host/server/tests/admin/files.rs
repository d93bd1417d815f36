//! Theme files per installation through the whole host: written into a
//! draft through the admin API, invisible to shoppers until published, seen
//! by the plugin only in a preview reached through a signed link.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use omnistore_server::deployment::HttpSettings;
use serde_json::json;

use super::{Edge, Reply};

async fn put(edge: &Edge, tenant: &str, channel: &str, path: &str, token: &str, body: &str) -> Reply {
    let request = Request::put(format!("/api/v1/tenants/{tenant}/channels/{channel}/files/{path}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/octet-stream")
        .body(Body::from(body.to_owned()))
        .unwrap();
    edge.send(request).await
}

async fn storefront(edge: &Edge, host: &str, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(path).header("host", host);
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    edge.send(request.body(Body::empty()).unwrap()).await
}

/// Alpha on alpha.example with the `shopper` test guest at `/` (it answers
/// `/file?path=` from its files and `/headers` with what it was sent).
async fn alpha(edge: &Edge) -> (String, String) {
    let token = edge.tenant("alpha").await;
    edge.domain("alpha", "alpha.example");
    let channel = edge.install("alpha", &token, "shopper").await;
    (token, channel)
}

const INDEX: &str = "templates/index.liquid";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_seen_only_in_preview_until_it_is_published() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, channel) = alpha(&edge).await;
    let files = format!("/tenants/alpha/channels/{channel}/files");

    let r = put(&edge, "alpha", &channel, INDEX, &token, "<h1>draft one</h1>").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["size"], 18);
    let sha = r.json["sha256"].as_str().unwrap().to_owned();

    // Shoppers see the live files: none yet.
    let page = storefront(&edge, "alpha.example", &format!("/file?path={INDEX}"), None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.text());

    let list = edge.admin("GET", &files, &token, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(
        list.json["items"],
        json!([{ "path": INDEX, "state": "added", "live_sha256": null, "draft_sha256": sha, "size": 18 }])
    );
    let raw = edge.admin("GET", &format!("{files}/{INDEX}"), &token, None).await;
    assert_eq!(raw.text(), "<h1>draft one</h1>");
    let live = edge.admin("GET", &format!("{files}/{INDEX}?version=live"), &token, None).await;
    assert_eq!(live.status, StatusCode::NOT_FOUND);

    // A preview link: the draft, the preview header, and a cookie that keeps it.
    let link = edge.admin("POST", &format!("{files}/preview"), &token, None).await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text());
    let query = link.json["query"].as_str().unwrap().to_owned();
    let seen = storefront(&edge, "alpha.example", &format!("/file?path={INDEX}&{query}"), None).await;
    assert_eq!((seen.status, seen.text().as_str()), (StatusCode::OK, "<h1>draft one</h1>"));
    let cookie = seen.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let headers = storefront(&edge, "alpha.example", "/headers", Some(&cookie)).await;
    assert!(headers.text().contains("x-omnistore-preview: 1"), "{}", headers.text());
    let again = storefront(&edge, "alpha.example", &format!("/file?path={INDEX}"), Some(&cookie)).await;
    assert_eq!(again.text(), "<h1>draft one</h1>");

    // Without it, and with a client pretending to be the host: no preview.
    let plain = edge
        .send(
            Request::get("/headers")
                .header("host", "alpha.example")
                .header("x-omnistore-preview", "1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!plain.text().contains("x-omnistore-preview: 1"), "{}", plain.text());

    // Publish: now everyone sees it, and the list says so.
    let published = edge.admin("POST", &format!("{files}/publish"), &token, None).await;
    assert_eq!(
        (published.status, published.json["changed"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{}",
        published.text()
    );
    let page = storefront(&edge, "alpha.example", &format!("/file?path={INDEX}"), None).await;
    assert_eq!(page.text(), "<h1>draft one</h1>");
    let list = edge.admin("GET", &files, &token, None).await;
    assert_eq!(list.json["items"][0]["state"], "live");

    // A change and a deletion in the draft, then discarded: live unchanged.
    put(&edge, "alpha", &channel, INDEX, &token, "<h1>draft two</h1>").await;
    put(&edge, "alpha", &channel, "assets/theme.css", &token, "body{}").await;
    let list = edge.admin("GET", &format!("{files}?prefix=templates/"), &token, None).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.json["items"][0]["state"], "modified");
    let r = edge.admin("DELETE", &format!("{files}/{INDEX}"), &token, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let list = edge.admin("GET", &files, &token, None).await;
    let states: Vec<&str> =
        list.json["items"].as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["added", "deleted"]);
    let r = edge.admin("POST", &format!("{files}/discard"), &token, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let page = storefront(&edge, "alpha.example", &format!("/file?path={INDEX}"), Some(&cookie)).await;
    assert_eq!(page.text(), "<h1>draft one</h1>");
    let list = edge.admin("GET", &files, &token, None).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_and_foreign_preview_tokens_show_the_live_files() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, channel) = alpha(&edge).await;
    put(&edge, "alpha", &channel, INDEX, &token, "draft").await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let good = edge.host.preview.issue("alpha", &channel, now + 60_000);
    assert_eq!(
        storefront(&edge, "alpha.example", &format!("/file?path={INDEX}&preview={good}"), None).await.text(),
        "draft"
    );

    let mut forged = good.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    let expired = edge.host.preview.issue("alpha", &channel, now - 1);
    let other_installation = edge.host.preview.issue("alpha", "chn-other", now + 60_000);
    let other_tenant = edge.host.preview.issue("beta", &channel, now + 60_000);
    let stranger = omnistore_server::preview::PreviewKey::random().unwrap().issue("alpha", &channel, now + 60_000);
    for bad in [forged, expired, other_installation, other_tenant, stranger, "nonsense".into()] {
        let page = storefront(&edge, "alpha.example", &format!("/file?path={INDEX}&preview={bad}"), None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}: {}", page.text());
        assert!(page.headers.get("set-cookie").is_none());
        let cookie = format!("omnistore-preview={bad}");
        let headers = storefront(&edge, "alpha.example", "/headers", Some(&cookie)).await;
        assert!(!headers.text().contains("x-omnistore-preview"), "{bad}: {}", headers.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_and_other_tenants_installations_are_refused() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, channel) = alpha(&edge).await;
    let beta = edge.tenant("beta").await;
    let before = edge.dump();
    for path in ["..%2F..%2Fetc%2Fpasswd", "templates/../../x", "templates/%2E%2E/x", "a//b", "a%5Cb"] {
        let r = put(&edge, "alpha", &channel, path, &token, "x").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{path}: {}",
            r.text()
        );
    }
    // Beta's token on alpha's installation, and alpha's installation under beta.
    let r = put(&edge, "alpha", &channel, INDEX, &beta, "x").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = put(&edge, "beta", &channel, INDEX, &beta, "x").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.text());
    for (method, action) in [("GET", ""), ("POST", "/publish"), ("POST", "/preview"), ("POST", "/discard")] {
        let r = edge.admin(method, &format!("/tenants/beta/channels/{channel}/files{action}"), &beta, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {action}: {}", r.text());
    }
    let r = put(&edge, "alpha", &channel, INDEX, "osk_wrong", "x").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A file over the limit.
    let big = "x".repeat((2 << 20) + 1);
    let r = put(&edge, "alpha", &channel, INDEX, &token, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    let after = edge.dump();
    let alpha_keys = |d: &Vec<(Vec<u8>, Vec<u8>)>| -> Vec<(Vec<u8>, Vec<u8>)> {
        d.iter().filter(|(k, _)| String::from_utf8_lossy(k).contains("alpha")).cloned().collect()
    };
    assert!(alpha_keys(&before) == alpha_keys(&after), "a refused write changed alpha's data");
}
