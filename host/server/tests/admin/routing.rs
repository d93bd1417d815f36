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

/// Deleting a tenant on a running host: its pages and its tokens stop at
/// once, its export holds what it stored, and the other tenant goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_tenant_stops_being_served_and_its_export_is_whole() {
    let edge = Edge::start(HttpSettings::default()).await;
    let mut tokens = Vec::new();
    for (tenant, greeting) in [("alpha", "Greetings from Alpha"), ("beta", "Greetings from Beta")] {
        let token = edge.tenant(tenant).await;
        edge.domain(tenant, &format!("{tenant}.example"));
        edge.install_with(tenant, &token, "hello-channel", json!({ "greeting": greeting })).await;
        tokens.push(token);
    }
    assert!(edge.page("alpha.example", "/").await.text().contains("Greetings from Alpha"));

    let export = edge.admin("GET", "/tenants/alpha/export", super::OPERATOR, None).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    assert_eq!(export.headers["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> =
        export.text().lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines[0]["tenant"], "alpha");
    let end = lines.last().unwrap();
    assert_eq!(end["end"], true);
    assert_eq!(end["entries"].as_u64().unwrap() as usize, lines.len() - 2, "the end line counts every entry");
    let by_tenant = edge.admin("GET", "/tenants/alpha/export", &tokens[0], None).await;
    assert_eq!(by_tenant.status, StatusCode::FORBIDDEN, "exports are for the operator");

    let unconfirmed = edge.admin("DELETE", "/tenants/alpha", super::OPERATOR, None).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unconfirmed.text());
    assert!(edge.page("alpha.example", "/").await.text().contains("Greetings from Alpha"), "nothing changed");

    let deleted = edge.admin("DELETE", "/tenants/alpha?confirm=alpha", super::OPERATOR, None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    // Not compared with the export's count: the dispatcher runs between
    // the two, adding deliveries and clearing the due index as it delivers.
    // What holds is below: nothing of the tenant is left.
    assert!(deleted.json["entries"].as_u64().unwrap() > 0, "{}", deleted.text());
    let gone = edge.page("alpha.example", "/").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text());
    assert!(!gone.text().contains("Greetings from Alpha"));
    let token = edge.admin("GET", "/tenants/alpha/products", &tokens[0], None).await;
    assert_eq!(token.status, StatusCode::UNAUTHORIZED, "its tokens died with it: {}", token.text());
    let alpha_keys = edge.dump().into_iter().filter(|(k, v)| {
        let (k, v) = (String::from_utf8_lossy(k), String::from_utf8_lossy(v));
        k.contains("alpha") || v.contains("\"alpha\"")
    });
    assert_eq!(alpha_keys.count(), 0, "nothing of the tenant is left in the store");
    assert!(edge.page("beta.example", "/").await.text().contains("Greetings from Beta"));
    edge.stop().await;
}
