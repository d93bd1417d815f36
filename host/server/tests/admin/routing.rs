//! A tenant's pages are served only on its own host names; `/t/{tenant}/…`
//! only where path routing is enabled, and only on the host's own names.

use axum::http::StatusCode;
use omnistore_server::deployment::HttpSettings;
use serde_json::json;

use super::Edge;

/// Tenants alpha (alpha.example) and beta (beta.example), each with
/// hello-channel at `/` greeting in its own words.
async fn two_shops(http: HttpSettings) -> Edge {
    let edge = Edge::start(http).await;
    for (tenant, greeting) in [("alpha", "Greetings from Alpha"), ("beta", "Greetings from Beta")] {
        let token = edge.tenant(tenant).await;
        edge.domain(tenant, &format!("{tenant}.example"));
        edge.install_with(tenant, &token, "hello-channel", json!({ "greeting": greeting })).await;
    }
    edge
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_pages_are_found_by_host_name_only() {
    let edge = two_shops(HttpSettings::default()).await;
    let alpha = edge.page("Alpha.Example:8080", "/").await;
    assert_eq!(alpha.status, StatusCode::OK);
    assert!(alpha.text().contains("Greetings from Alpha"), "{}", alpha.text());
    // Alpha's pages under beta's name: beta's own plugin answers that path, never alpha's.
    let crossed = edge.page("beta.example", "/t/alpha/").await;
    assert!(!crossed.text().contains("Greetings from Alpha"), "alpha served on beta's domain: {}", crossed.text());
    assert!(crossed.headers.get("set-cookie").is_none());
    // Path routing is off, even on the host's own name.
    let own = edge.page("localhost:8080", "/t/alpha/").await;
    assert_eq!((own.status, own.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", own.text());
    assert!(!own.text().contains("Greetings from Alpha"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_routing_answers_only_on_the_hosts_own_names() {
    let edge = two_shops(HttpSettings::development()).await;
    for own in ["localhost:8080", "127.0.0.1", "LOCALHOST"] {
        let page = edge.page(own, "/t/alpha/").await;
        assert_eq!(page.status, StatusCode::OK, "{own}: {}", page.text());
        assert!(page.text().contains("Greetings from Alpha"), "{own}: {}", page.text());
    }
    let beta = edge.page("localhost", "/t/beta").await;
    assert!(beta.text().contains("Greetings from Beta"), "{}", beta.text());
    // On a tenant's domain, /t/… is just a path of that tenant.
    let crossed = edge.page("beta.example", "/t/alpha/").await;
    assert!(!crossed.text().contains("Greetings from Alpha"), "{}", crossed.text());
    // On a name that is neither the host's nor a tenant's: nothing.
    let foreign = edge.page("evil.example", "/t/alpha/").await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.text().contains("Greetings from Alpha"));
    let unknown = edge.page("localhost", "/t/nobody/").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // A request without any host name is not the host's own name.
    let nameless = edge.send(axum::http::Request::get("/t/alpha/").body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(nameless.status, StatusCode::NOT_FOUND, "{}", nameless.text());
}
