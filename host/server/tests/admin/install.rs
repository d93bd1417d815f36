//! Code reaches a tenant only as a verified package: uploaded through the
//! API by anyone, or from a server path by the operator alone.

use axum::http::StatusCode;
use base64::Engine as _;
use omnistore_server::deployment::HttpSettings;
use serde_json::json;

use super::{Edge, OPERATOR, package, upload};

/// What an install may leave behind: channels, mounts, stored packages.
async fn installed(edge: &Edge) -> (usize, Vec<String>) {
    let listed = edge.admin("GET", "/tenants/alpha/channels", OPERATOR, None).await;
    let channels = listed.json["items"].as_array().map_or(0, Vec::len);
    let mounts: Vec<String> = edge
        .dump()
        .iter()
        .filter(|(k, _)| k.starts_with(b"host/mount/"))
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    let packages = edge.dir.path().join("packages");
    let stored = std::fs::read_dir(&packages).map(|d| d.count()).unwrap_or(0);
    (channels + stored, mounts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_token_cannot_install_from_a_server_path() {
    let edge = Edge::start(HttpSettings::default()).await;
    let token = edge.tenant("alpha").await;
    let before = installed(&edge).await;
    // A real, valid package directory: the path itself is what is refused.
    let dir = package("hello-channel");
    let body = json!({ "package": dir });
    let r = edge.admin("POST", "/tenants/alpha/channels", &token, Some(&body)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", r.text());
    assert!(r.text().contains("upload"), "says what to do instead: {}", r.text());
    assert!(!r.text().contains(&*dir.to_string_lossy()), "no server path in: {}", r.text());
    let r = edge.admin("POST", "/tenants/alpha/channels", &token, Some(&json!({ "package": "/etc" }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(!r.text().contains("/etc"), "{}", r.text());
    assert_eq!(installed(&edge).await, before, "nothing installed");
    let listed = edge.admin("GET", "/tenants/alpha/channels", &token, None).await;
    assert_eq!(listed.json["items"], json!([]));
    // The operator may, for the same tenant.
    let r = edge.admin("POST", "/tenants/alpha/channels", OPERATOR, Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_errors_name_no_server_path() {
    let edge = Edge::start(HttpSettings::default()).await;
    edge.tenant("alpha").await;
    let secret_dir = edge.dir.path().join("private-operator-dir");
    std::fs::create_dir_all(&secret_dir).unwrap();
    std::fs::write(secret_dir.join("plugin.toml"), "not toml [").unwrap();
    for dir in [edge.dir.path().join("no-such-dir"), secret_dir] {
        let r = edge.admin("POST", "/tenants/alpha/channels", OPERATOR, Some(&json!({ "package": dir }))).await;
        assert!(r.status.is_client_error(), "{}: {}", r.status, r.text());
        let text = r.text();
        for leak in [edge.dir.path().to_string_lossy().as_ref(), "private-operator-dir", "no-such-dir", "os error"] {
            assert!(!text.contains(leak), "`{leak}` leaked in: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_package_installs_and_serves() {
    let edge = Edge::start(HttpSettings::default()).await;
    let token = edge.tenant("alpha").await;
    edge.domain("alpha", "alpha.example");
    let id = edge.install_with("alpha", &token, "hello-channel", json!({ "greeting": "Ciao da Alpha" })).await;
    let page = edge.page("alpha.example", "/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("Ciao da Alpha"), "{}", page.text());
    let channel = edge.admin("GET", &format!("/tenants/alpha/channels/{id}"), &token, None).await;
    assert_eq!(channel.json["plugin_id"], "hello-channel");
    // The same package again is accepted (same content); another tenant may upload it too.
    let beta = edge.tenant("beta").await;
    edge.install("beta", &beta, "hello-channel").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_and_record_nothing() {
    let edge = Edge::start(HttpSettings::default()).await;
    let token = edge.tenant("alpha").await;
    let before = installed(&edge).await;
    let good = upload("hello-channel");
    let manifest = good["upload"]["manifest"].as_str().unwrap().to_owned();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let other_wasm = std::fs::read(package("snoop").join("plugin.wasm")).unwrap();
    let cases = [
        ("not base64", json!({ "upload": { "manifest": manifest, "component": "%%%not base64%%%" } })),
        (
            "not a component",
            json!({ "upload": { "manifest": manifest, "component": b64(&b"\0asm\x01\0\0\0junk"[..]) } }),
        ),
        ("manifest not toml", json!({ "upload": { "manifest": "[plugin", "component": b64(&b"\0asm"[..]) } })),
        (
            "another plugin's component",
            json!({ "upload": { "manifest": manifest, "component": b64(other_wasm.as_slice()) } }),
        ),
        ("both sources", json!({ "package": "/tmp", "upload": { "manifest": manifest, "component": "" } })),
        ("no source", json!({ "name": "x" })),
        ("unknown field", json!({ "upload": { "manifest": manifest, "component": "", "extra": 1 } })),
    ];
    for (what, body) in cases {
        let r = edge.admin("POST", "/tenants/alpha/channels", &token, Some(&body)).await;
        assert!(
            matches!(r.status, StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY),
            "{what}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.json["error"]["message"].as_str().unwrap_or("").is_empty(), "{what}: a message");
        assert_eq!(installed(&edge).await, before, "{what}: nothing recorded");
    }
    // Larger than a deployment's package limit: 413 before anything is parsed.
    let limits = HttpSettings { max_package_bytes: 4 << 10, admin_max_body_bytes: 2 << 10, ..HttpSettings::default() };
    let small = Edge::start(limits).await;
    let token = small.tenant("alpha").await;
    let before = installed(&small).await;
    let r = small.admin("POST", "/tenants/alpha/channels", &token, Some(&good)).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"), "{}", r.text());
    assert_eq!(installed(&small).await, before, "oversized: nothing recorded");
}
