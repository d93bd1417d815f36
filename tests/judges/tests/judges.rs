//! The judges judge: each one is shown a page it must refuse and one it must
//! accept, so a judge that silently passes everything fails here.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use omnistore_judges::{BrowserOptions, Judges};

const GOOD_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cannolo</title>
<meta property="og:type" content="product"><meta property="og:title" content="Cannolo">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Cannolo","offers":{"@type":"Offer","price":"3.50","priceCurrency":"EUR"}}</script>
</head><body><main><h1>Cannolo</h1><form><label for="q">Quantity</label><input id="q" name="q"></form></main></body></html>"#;

const BAD_PAGE: &str = r#"<!doctype html>
<html><head><title>Bad</title></head><body><main><h1>Bad</h1><p><div>block in p</div></p>
<input name="unlabelled"><img src="x.png"></main></body></html>"#;

async fn serve_site() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let robots = format!("User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n");
    let sitemap = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}/products/cannolo</loc></url><url><loc>{base}/products/babà</loc></url></urlset>"#
    );
    let app = Router::new()
        .route("/", get(|| async { axum::response::Html(GOOD_PAGE) }))
        .route("/bad", get(|| async { axum::response::Html(BAD_PAGE) }))
        .route("/robots.txt", get(move || async move { robots }))
        .route("/sitemap.xml", get(move || async move { ([("content-type", "application/xml")], sitemap) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[test]
fn the_html_checker_refuses_an_invalid_page_and_accepts_a_valid_one() {
    let judges = Judges::find().unwrap();
    let errors = judges.html_errors(&[("good", GOOD_PAGE), ("bad", BAD_PAGE)]).unwrap();
    assert!(errors.iter().all(|e| e.starts_with("bad ")), "the valid page got errors: {errors:#?}");
    assert!(errors.iter().any(|e| e.contains("alt")), "a missing alt went unnoticed: {errors:#?}");
}

#[test]
fn extruct_reads_json_ld_and_open_graph() {
    let judges = Judges::find().unwrap();
    let data = judges.structured_data(GOOD_PAGE, "https://shop.example/products/cannolo").unwrap();
    assert_eq!(data["json-ld"][0]["@type"], "Product", "{data}");
    assert_eq!(data["json-ld"][0]["offers"]["priceCurrency"], "EUR", "{data}");
    // extruct's uniform form turns og:type into @type.
    assert_eq!(data["opengraph"][0]["@type"], "product", "{data}");
    assert_eq!(data["opengraph"][0]["og:title"], "Cannolo", "{data}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sitemap_parser_lists_every_url_found_through_robots_txt() {
    let addr = serve_site().await;
    let judges = Judges::find().unwrap();
    let homepage = format!("http://{addr}/");
    let urls = tokio::task::spawn_blocking(move || judges.sitemap_urls(&homepage)).await.unwrap().unwrap();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls.iter().any(|u| u.ends_with("/products/cannolo")), "{urls:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_runs_axe_and_sees_the_difference_between_pages() {
    let addr = serve_site().await;
    let judges = Judges::find().unwrap();
    let browser = judges.browser(BrowserOptions::default()).await.unwrap();
    browser.goto(&format!("http://{addr}/")).await.unwrap();
    let heading = browser.find("h1").await.unwrap();
    assert_eq!(browser.text(&heading).await.unwrap(), "Cannolo");
    let field = browser.find("#q").await.unwrap();
    browser.fill(&field, "3").await.unwrap();
    let typed = browser.execute("return document.getElementById('q').value", vec![]).await.unwrap();
    assert_eq!(typed, "3");
    assert_eq!(browser.serious_accessibility_violations().await.unwrap(), Vec::<String>::new());
    browser.goto(&format!("http://{addr}/bad")).await.unwrap();
    let violations = browser.serious_accessibility_violations().await.unwrap();
    assert!(violations.iter().any(|v| v.contains("image-alt") || v.contains("label")), "{violations:?}");
    let shot = tempfile::tempdir().unwrap();
    browser.screenshot(&shot.path().join("bad.png")).await.unwrap();
    assert!(std::fs::read(shot.path().join("bad.png")).unwrap().starts_with(b"\x89PNG"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_javascript_off_the_browser_runs_no_page_script() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let page = r#"<!doctype html><html lang="en"><head><title>t</title></head><body><p id="p">static</p><script>document.getElementById('p').textContent = 'scripted';</script></body></html>"#;
    let app = Router::new().route("/", get(move || async move { axum::response::Html(page) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let judges = Judges::find().unwrap();
    for (javascript, expected) in [(false, "static"), (true, "scripted")] {
        let browser = judges.browser(BrowserOptions { javascript, ..BrowserOptions::default() }).await.unwrap();
        browser.goto(&format!("http://{addr}/")).await.unwrap();
        let p = browser.find("#p").await.unwrap();
        assert_eq!(browser.text(&p).await.unwrap(), expected, "javascript {javascript}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lighthouse_marks_down_a_page_without_alt_text_and_labels() {
    let addr = serve_site().await;
    let judges = Judges::find().unwrap();
    let url = format!("http://{addr}/bad");
    let scores = tokio::task::spawn_blocking(move || judges.lighthouse(&url)).await.unwrap().unwrap();
    assert!(scores.accessibility < 95, "{scores:?}");
    assert!(scores.failed_audits.iter().any(|a| a.to_lowercase().contains("alt")), "{scores:?}");
}

/// Processes whose command line names `needle`.
fn processes_naming(needle: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(needle))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_browser_leaves_no_chromium_running() {
    let judges = Judges::find().unwrap();
    let browser = judges.browser(BrowserOptions::default()).await.unwrap();
    let profile = browser.profile_dir().display().to_string();
    assert!(processes_naming(&profile) > 0, "the browser runs with its own profile");
    drop(browser);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while processes_naming(&profile) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} Chromium processes outlived their session",
            processes_naming(&profile)
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
