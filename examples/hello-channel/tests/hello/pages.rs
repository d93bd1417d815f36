//! The pages, the product page's path parameter, the counter and the feed.

use omnistore_sdk_harness::Error;
use omnistore_sdk_harness::types::PluginError;

use crate::browser::{BASE_URL, Browser, T0, hello, json};

const CANNOLO: &str = "cannolo-siciliano-classico";

#[test]
fn the_home_page_greets_counts_and_links_the_products() {
    let h = omnistore_sdk_harness::Harness::for_plugin("hello-channel")
        .setting("greeting", "Ciao")
        .clock_at(T0)
        .start()
        .unwrap();
    let mut b = Browser::new(&h);
    let first = b.get("/");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), Some("text/html; charset=utf-8"));
    let html = first.text();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<title>Ciao</title>") && html.contains("<h1>Ciao!</h1>"), "{html}");
    assert!(html.contains(r#"<span id="visits">1</span>"#), "{html}");
    assert!(html.contains(&format!(r#"<a href="{BASE_URL}/products/{CANNOLO}">Cannolo siciliano classico</a>"#)));
    // The lowest price, after the demo shop's automatic 20% off cannoli.
    assert!(html.contains(r#"<span class="price">EUR 1.44</span>"#), "{html}");
    assert!(html.contains(&format!("Rendered at {T0} ms")), "{html}");
    assert!(html.contains("Nobody has signed yet."));
    assert!(!html.contains("Welcome back"));

    b.get("/");
    let visits = b.get("/api/visits");
    assert_eq!(visits.status, 200);
    assert_eq!(json(&visits), serde_json::json!({ "visits": 2 }));
}

#[test]
fn shop_values_are_escaped() {
    let h = omnistore_sdk_harness::Harness::for_plugin("hello-channel")
        .setting("greeting", "<script>alert(\"hi\")</script> & co")
        .start()
        .unwrap();
    let html = h.get("/").unwrap().text();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; co!"), "{html}");
}

#[test]
fn a_product_page_is_found_by_the_handle_in_its_path() {
    let h = hello();
    let mut b = Browser::new(&h);
    let page = b.get(&format!("/products/{CANNOLO}"));
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains("<title>Cannolo siciliano classico</title>"), "{html}");
    assert!(html.contains("<h1>Cannolo siciliano classico</h1>"));
    assert!(html.contains("ricotta di pecora"), "the description: {html}");
    for variant in ["<td>Mignon</td>", "<td>EUR 1.44</td>", "<td>Grande</td>", "<td>EUR 2.80</td>"] {
        assert!(html.contains(variant), "{variant} in {html}");
    }
    assert!(html.contains(r#"<span id="views">1</span>"#), "{html}");
    // Counted per product: another product starts at one, this one goes on.
    assert!(b.get("/products/cannolo-al-pistacchio").text().contains(r#"<span id="views">1</span>"#));
    assert!(b.get(&format!("/products/{CANNOLO}")).text().contains(r#"<span id="views">2</span>"#));
    // The handle is percent-decoded from the path.
    assert_eq!(b.get("/products/cannolo%2Dal%2Dpistacchio").status, 200);
}

#[test]
fn an_unknown_product_is_not_found() {
    let h = hello();
    for path in ["/products/no-such-pastry", "/products/%3Cscript%3E", "/nowhere", "/products/"] {
        match h.get(path) {
            Err(Error::Plugin(PluginError::NotFound(why))) => assert!(!why.is_empty(), "{path}"),
            other => panic!("{path}: expected the plugin's not-found, got {other:?}"),
        }
    }
    // A known path with another method is told which methods it takes.
    let r = h.request(omnistore_sdk_harness::request("DELETE", "/api/notes", vec![])).unwrap();
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD, POST")));
}

#[test]
fn the_feed_lists_every_variant_as_csv() {
    let h = hello();
    let feed = h.get("/feed.csv").unwrap();
    assert_eq!(feed.status, 200);
    assert_eq!(feed.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv = feed.text();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("product_id,handle,title,sku,price,currency,available"));
    let cannolo: Vec<&str> = lines.filter(|l| l.contains(&format!(",{CANNOLO},"))).collect();
    assert_eq!(cannolo.len(), 2, "one row per variant: {csv}");
    assert!(cannolo.iter().any(|l| l.contains(",DV-01-MIG,1.44,EUR,")), "{cannolo:?}");
}
