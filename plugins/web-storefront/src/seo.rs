//! What search engines read besides the pages: `robots.txt` and the
//! sitemap — an index of files of at most 50,000 URLs and 50 MB each
//! (sitemaps.org), every file streamed one catalog page at a time so no
//! response page comes near the host's limit, however many languages the
//! shop speaks.

use omnistore_sdk::{BodyPage, PluginError, Response, Shop, catalog, html, settings};

use crate::context::{Ctx, absolute_in, default_language_of};
use crate::objects::iso_date;
use crate::pages::not_found;

/// What limits one sitemap file (sitemaps.org: 50,000 URLs, 50 MB).
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    pub urls: usize,
    pub bytes: usize,
}

pub const SITEMAP_LIMITS: FileLimits = FileLimits { urls: 50_000, bytes: 50 * 1024 * 1024 };
/// Products per host call, and per streamed page of a file.
const PAGE_SIZE: u32 = 500;
/// The longest handle the core accepts.
const MAX_HANDLE: usize = 128;

const URLSET: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n";
const URLSET_END: &str = "</urlset>\n";

pub fn robots(ctx: &Ctx) -> Response {
    let mut text = String::from("User-agent: *\n");
    for path in ["/cart", "/checkout", "/orders/", "/search", "/collections/vendors", "/cart.js", "/account/"] {
        text.push_str(&format!("Disallow: {}\n", ctx.url_in(&ctx.default_language, path)));
    }
    text.push_str(&format!("\nSitemap: {}\n", ctx.absolute_in(&ctx.default_language, "/sitemap.xml")));
    Response::text(text).with_header("cache-control", "public, max-age=3600")
}

/// The shop's addresses as the sitemap writes them; rebuilt from the
/// continuation for the pages after the first, which come without a request.
pub struct Site {
    base_url: String,
    default_language: String,
    languages: Vec<String>,
}

impl Site {
    fn of(ctx: &Ctx) -> Site {
        Site::new(&ctx.base_url, &ctx.shop, ctx.default_language.clone())
    }

    fn new(base_url: &str, shop: &Shop, default_language: String) -> Site {
        let languages = shop.languages.iter().map(|l| l.to_ascii_lowercase()).collect();
        Site { base_url: base_url.to_string(), default_language, languages }
    }

    fn absolute_in(&self, language: &str, path: &str) -> String {
        absolute_in(&self.base_url, &self.default_language, language, path)
    }

    /// The `<url>` entry of `path`, with its address in every language.
    fn entry(&self, path: &str, lastmod: Option<i64>) -> String {
        let mut entry = format!("  <url><loc>{}</loc>", html::escape(&self.absolute_in(&self.default_language, path)));
        if let Some(ms) = lastmod {
            entry.push_str(&format!("<lastmod>{}</lastmod>", iso_date(ms)));
        }
        if self.languages.len() > 1 {
            for language in &self.languages {
                entry.push_str(&format!(
                    "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                    html::escape(language),
                    html::escape(&self.absolute_in(language, path))
                ));
            }
        }
        entry.push_str("</url>\n");
        entry
    }

    /// How many products one file lists: as many as fit the limits with
    /// the longest entry this shop can write, in whole catalog pages.
    fn products_per_file(&self, limits: FileLimits) -> usize {
        let longest = self.entry(&format!("/products/{}", "x".repeat(MAX_HANDLE)), Some(0)).len();
        let fit = limits.bytes.saturating_sub(URLSET.len() + URLSET_END.len()) / longest;
        let page = PAGE_SIZE as usize;
        (fit.min(limits.urls) / page * page).max(page)
    }
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
    let site = Site::of(ctx);
    let files = count_products()?.div_ceil(site.products_per_file(SITEMAP_LIMITS)).max(1);
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut entry = |path: String| {
        body.push_str(&format!(
            "  <sitemap><loc>{}</loc></sitemap>\n",
            html::escape(&site.absolute_in(&site.default_language, &path))
        ));
    };
    for n in 1..=files {
        entry(format!("/sitemap_products_{n}.xml"));
    }
    entry("/sitemap_collections_1.xml".to_string());
    body.push_str("</sitemapindex>\n");
    Ok(xml(body))
}

/// `/sitemap_products_N.xml` and `/sitemap_collections_1.xml`.
pub fn sitemap_file(ctx: &Ctx, file: &str) -> Result<Response, PluginError> {
    let site = Site::of(ctx);
    let name = file.trim_end_matches(".xml");
    if name == "sitemap_collections_1" {
        let mut body = String::from(URLSET);
        body.push_str(&site.entry("/", None));
        body.push_str(&site.entry("/collections", None));
        for c in catalog::list_collections()? {
            body.push_str(&site.entry(&format!("/collections/{}", c.handle), None));
        }
        body.push_str(URLSET_END);
        return Ok(xml(body));
    }
    let Some(n) = name.strip_prefix("sitemap_products_").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1)
    else {
        return not_found(ctx);
    };
    let pages_per_file = site.products_per_file(SITEMAP_LIMITS).div_ceil(PAGE_SIZE as usize);
    // The file's first catalog page: pages before it are read and passed over.
    let mut cursor: Option<String> = None;
    for _ in 0..(n - 1).saturating_mul(pages_per_file) {
        match catalog::list_products(cursor.as_deref(), PAGE_SIZE)?.next {
            Some(next) => cursor = Some(next),
            None => return not_found(ctx),
        }
    }
    let (entries, next) = products_page(&site, cursor.as_deref(), pages_per_file)?;
    if entries.is_empty() && n > 1 {
        return not_found(ctx);
    }
    let mut body = String::from(URLSET);
    body.push_str(&entries);
    match next {
        Some(continuation) => Ok(xml(body).with_continuation(continuation)),
        None => {
            body.push_str(URLSET_END);
            Ok(xml(body))
        }
    }
}

/// One catalog page of entries and, when the file goes on, the
/// continuation `{pages left}\n{catalog cursor}\n{base URL}`.
fn products_page(
    site: &Site,
    cursor: Option<&str>,
    pages_left: usize,
) -> Result<(String, Option<String>), PluginError> {
    let page = catalog::list_products(cursor, PAGE_SIZE)?;
    let mut entries = String::new();
    for product in &page.products {
        entries.push_str(&site.entry(&format!("/products/{}", product.handle), Some(product.updated_at)));
    }
    let next =
        page.next.filter(|_| pages_left > 1).map(|cursor| format!("{}\n{cursor}\n{}", pages_left - 1, site.base_url));
    Ok((entries, next))
}

/// The page of a sitemap file after `continuation`, ending the file after
/// its last page.
pub fn next_page(continuation: &str) -> Result<BodyPage, PluginError> {
    let mut parts = continuation.splitn(3, '\n');
    let (Some(pages_left), Some(cursor), Some(base_url)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(PluginError::bad_request(
            "this sitemap cursor is not one the storefront made; fetch the file again",
        ));
    };
    let Some(pages_left) = pages_left.parse::<usize>().ok().filter(|p| *p >= 1) else {
        return Err(PluginError::bad_request(
            "this sitemap cursor is not one the storefront made; fetch the file again",
        ));
    };
    let shop = settings::shop();
    let site = Site::new(base_url, &shop, default_language_of(&shop));
    let (mut data, next) = products_page(&site, Some(cursor), pages_left)?;
    if next.is_none() {
        data.push_str(URLSET_END);
    }
    Ok(BodyPage { data: data.into_bytes(), continuation: next })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(languages: &[&str], base_url: &str) -> Site {
        Site {
            base_url: base_url.into(),
            default_language: languages[0].into(),
            languages: languages.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn a_file_holds_whole_catalog_pages_within_both_limits() {
        let one = site(&["it"], "https://shop.example");
        assert_eq!(one.products_per_file(SITEMAP_LIMITS), 50_000, "one language: the URL limit binds");

        let many: Vec<String> = (0..20).map(|i| format!("l{i:02}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let wide = site(&many, "https://a-rather-long-host-name.example/shop");
        let per_file = wide.products_per_file(SITEMAP_LIMITS);
        assert!(per_file < 50_000 && per_file.is_multiple_of(PAGE_SIZE as usize), "{per_file}");
        let longest = wide.entry(&format!("/products/{}", "x".repeat(MAX_HANDLE)), Some(0)).len();
        assert!(URLSET.len() + per_file * longest + URLSET_END.len() <= SITEMAP_LIMITS.bytes);
        assert!(URLSET.len() + (per_file + PAGE_SIZE as usize) * longest > SITEMAP_LIMITS.bytes);

        let tiny = FileLimits { urls: 1_200, bytes: usize::MAX };
        assert_eq!(one.products_per_file(tiny), 1_000, "whole pages of 500");
    }

    #[test]
    fn entries_carry_every_language_of_the_shop_and_the_mount_point() {
        let s = site(&["it", "en"], "https://shop.example/negozio");
        let entry = s.entry("/products/cannolo", Some(0));
        assert_eq!(
            entry,
            "  <url><loc>https://shop.example/negozio/products/cannolo</loc><lastmod>1970-01-01</lastmod>\
             <xhtml:link rel=\"alternate\" hreflang=\"it\" href=\"https://shop.example/negozio/products/cannolo\"/>\
             <xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"https://shop.example/negozio/en/products/cannolo\"/>\
             </url>\n"
        );
        assert!(!site(&["it"], "https://shop.example").entry("/", None).contains("hreflang"));
    }
}
