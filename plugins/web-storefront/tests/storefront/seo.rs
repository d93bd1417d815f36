//! robots.txt and the sitemap.

use crate::browser::{Browser, shop};

#[test]
fn robots_and_the_sitemap_list_every_published_product() {
    let h = shop();
    let mut b = Browser::new(&h);
    let robots = b.get("/robots.txt").text();
    assert!(robots.starts_with("User-agent: *\n"), "{robots}");
    assert!(robots.contains("Disallow: /cart\n") && robots.contains("Disallow: /checkout\n"));
    assert!(robots.contains("Sitemap: https://shop.example/sitemap.xml"));

    let index = b.get("/sitemap.xml");
    assert_eq!(index.header("content-type"), Some("application/xml; charset=utf-8"));
    let index = index.text();
    assert!(index.contains("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
    assert!(index.contains("<loc>https://shop.example/sitemap_products_1.xml</loc>"));
    assert!(!index.contains("sitemap_products_2.xml"), "31 products fit in one file");
    assert!(index.contains("<loc>https://shop.example/sitemap_collections_1.xml</loc>"));

    let products = b.get("/sitemap_products_1.xml").text();
    assert_eq!(products.matches("<url>").count(), 31, "{products}");
    assert!(products.contains("<loc>https://shop.example/products/cannolo-siciliano-classico</loc><lastmod>"));
    let collections = b.get("/sitemap_collections_1.xml").text();
    assert!(collections.contains("<loc>https://shop.example/collections/cannoli</loc>"));
    assert_eq!(b.get("/sitemap_products_2.xml").status, 404);
    assert_eq!(b.get("/sitemap_products_x.xml").status, 404);
}
