//! What search engines read besides the pages: `robots.txt` and the
//! sitemap (an index of files of at most 50,000 URLs each).

use omnistore_sdk::{PluginError, Response, catalog, html};

use crate::context::Ctx;
use crate::objects::iso_date;
use crate::pages::not_found;

/// The most URLs a sitemap file may list (sitemaps.org).
pub const URLS_PER_SITEMAP: usize = 50_000;
const PAGE_SIZE: u32 = 500;

pub fn robots(ctx: &Ctx) -> Response {
    let mut text = String::from("User-agent: *\n");
    for path in ["/cart", "/checkout", "/orders/", "/search", "/collections/vendors", "/cart.js"] {
        text.push_str(&format!("Disallow: {}\n", ctx.url_in(&ctx.default_language, path)));
    }
    text.push_str(&format!("\nSitemap: {}\n", ctx.absolute_in(&ctx.default_language, "/sitemap.xml")));
    Response::text(text).with_header("cache-control", "public, max-age=3600")
}

fn xml(body: String) -> Response {
    Response::bytes("application/xml; charset=utf-8", body).with_header("cache-control", "public, max-age=3600")
}

fn count_products() -> Result<usize, PluginError> {
    let mut count = 0;
    for product in catalog::all_products(PAGE_SIZE) {
        product?;
        count += 1;
    }
    Ok(count)
}

/// `/sitemap.xml`: the products' files and the collections' file.
pub fn sitemap_index(ctx: &Ctx) -> Result<Response, PluginError> {
    let files = count_products()?.div_ceil(URLS_PER_SITEMAP).max(1);
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut entry = |path: String| {
        body.push_str(&format!(
            "  <sitemap><loc>{}</loc></sitemap>\n",
            html::escape(&ctx.absolute_in(&ctx.default_language, &path))
        ));
    };
    for n in 1..=files {
        entry(format!("/sitemap_products_{n}.xml"));
    }
    entry("/sitemap_collections_1.xml".to_string());
    body.push_str("</sitemapindex>\n");
    Ok(xml(body))
}

/// The URL of `path` in every language, for a `<url>` entry.
fn url_entry(ctx: &Ctx, path: &str, lastmod: Option<i64>) -> String {
    let mut entry = format!("  <url><loc>{}</loc>", html::escape(&ctx.absolute_in(&ctx.default_language, path)));
    if let Some(ms) = lastmod {
        entry.push_str(&format!("<lastmod>{}</lastmod>", iso_date(ms)));
    }
    if ctx.shop.languages.len() > 1 {
        for language in &ctx.shop.languages {
            let language = language.to_ascii_lowercase();
            entry.push_str(&format!(
                "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                html::escape(&language),
                html::escape(&ctx.absolute_in(&language, path))
            ));
        }
    }
    entry.push_str("</url>\n");
    entry
}

const URLSET: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n";

/// `/sitemap_products_N.xml` and `/sitemap_collections_1.xml`.
pub fn sitemap_file(ctx: &Ctx, file: &str) -> Result<Response, PluginError> {
    let name = file.trim_end_matches(".xml");
    if name == "sitemap_collections_1" {
        let mut body = String::from(URLSET);
        body.push_str(&url_entry(ctx, "/", None));
        body.push_str(&url_entry(ctx, "/collections", None));
        for c in catalog::list_collections()? {
            body.push_str(&url_entry(ctx, &format!("/collections/{}", c.handle), None));
        }
        body.push_str("</urlset>\n");
        return Ok(xml(body));
    }
    let Some(n) = name.strip_prefix("sitemap_products_").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1)
    else {
        return not_found(ctx);
    };
    let skip = (n - 1) * URLS_PER_SITEMAP;
    let mut body = String::from(URLSET);
    let mut listed = 0;
    for product in catalog::all_products(PAGE_SIZE).skip(skip).take(URLS_PER_SITEMAP) {
        let product = product?;
        body.push_str(&url_entry(ctx, &format!("/products/{}", product.handle), Some(product.updated_at)));
        listed += 1;
    }
    if listed == 0 && n > 1 {
        return not_found(ctx);
    }
    body.push_str("</urlset>\n");
    Ok(xml(body))
}
