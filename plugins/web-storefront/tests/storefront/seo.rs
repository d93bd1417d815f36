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

#[test]
fn every_page_names_its_address_in_each_language_of_the_shop() {
    let h = shop();
    let mut b = Browser::new(&h);
    let product = "/products/cannolo-siciliano-classico";
    let alternates = [
        format!("<link rel=\"alternate\" hreflang=\"it\" href=\"https://shop.example{product}\">"),
        format!("<link rel=\"alternate\" hreflang=\"en\" href=\"https://shop.example/en{product}\">"),
        format!("<link rel=\"alternate\" hreflang=\"x-default\" href=\"https://shop.example{product}\">"),
    ];
    for (path, lang) in [(product.to_string(), "it"), (format!("/en{product}"), "en")] {
        let html = b.get(&path).text();
        for alternate in &alternates {
            assert!(html.contains(alternate.as_str()), "{path} lacks {alternate}");
        }
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{path}");
        assert!(html.contains(&format!("<link rel=\"canonical\" href=\"https://shop.example{path}\">")), "{path}");
    }
    let sitemap = b.get("/sitemap_products_1.xml").text();
    assert!(sitemap.contains(&format!(
        "<xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"https://shop.example/en{product}\"/>"
    )));

    // A shop of one language names no alternates.
    let only_italian = omnistore_core::ShopPatch { languages: Some(vec!["it".into()]), ..Default::default() };
    h.core().update_shop(h.tenant(), only_italian, h.now_ms()).unwrap();
    assert!(!b.get(product).text().contains("hreflang"));
    assert!(!b.get("/sitemap_products_1.xml").text().contains("hreflang"));
    assert_eq!(b.get(&format!("/en{product}")).status, 404, "English is no longer served");
}

/// The `<loc>` of every `<url>` of a sitemap file.
fn locations(xml: &str) -> Vec<String> {
    xml.split("<url><loc>").skip(1).map(|rest| rest[..rest.find("</loc>").unwrap()].to_string()).collect()
}

#[test]
fn a_large_catalog_in_many_languages_is_split_into_files_that_stay_within_the_limits() {
    const PRODUCTS: usize = 12_000;
    const SITEMAP_BYTES: usize = 50 * 1024 * 1024;
    let h = shop();
    let languages = [
        "it", "en", "de", "fr", "es", "pt", "nl", "sv", "da", "fi", "nb", "pl", "cs", "sk", "hu", "ro", "el", "bg",
        "hr", "sl",
    ];
    let (core, t, now) = (h.core(), h.tenant(), h.now_ms());
    let many =
        omnistore_core::ShopPatch { languages: Some(languages.map(String::from).to_vec()), ..Default::default() };
    core.update_shop(t, many, now).unwrap();
    for i in 0..PRODUCTS {
        let new = omnistore_core::NewProduct {
            handle: format!("{i:06}-{}", "torta-della-nonna-con-pinoli-e-crema-pasticcera-al-limone-di-amalfi"),
            title: format!("Torta {i}"),
            description: String::new(),
            brand: None,
            tags: vec![],
            collections: vec![],
            images: vec![],
            status: omnistore_core::ProductStatus::Active,
            variants: vec![omnistore_core::NewVariant {
                sku: format!("T-{i:06}"),
                title: "Default".into(),
                options: Default::default(),
                gtin: None,
                weight_grams: None,
                price: omnistore_core::Money::new(1200, "EUR").unwrap(),
                compare_at: None,
                backorderable: false,
            }],
        };
        core.create_product(t, new, now).unwrap();
    }
    core.publish_all_active(t, &h.channel(), now).unwrap();

    let mut b = Browser::new(&h);
    let index = b.get("/sitemap.xml").text();
    let files: Vec<String> = index
        .split("<sitemap><loc>https://shop.example/")
        .skip(1)
        .map(|rest| rest[..rest.find("</loc>").unwrap()].to_string())
        .filter(|f| f.starts_with("sitemap_products_"))
        .collect();
    assert!(files.len() >= 2, "{index}");
    let mut listed = std::collections::BTreeSet::new();
    for file in &files {
        let r = b.get(&format!("/{file}"));
        assert_eq!(r.status, 200, "{file}");
        assert!(r.pages > 1, "{file} streams one catalog page at a time: {} pages", r.pages);
        assert!(r.body.len() <= SITEMAP_BYTES, "{file}: {} bytes", r.body.len());
        let xml = r.text();
        assert!(xml.ends_with("</urlset>\n"), "{file} is whole");
        let urls = locations(&xml);
        assert!(urls.len() <= 50_000);
        assert_eq!(xml.matches("hreflang=").count(), urls.len() * languages.len(), "{file}");
        for url in urls {
            assert!(listed.insert(url.clone()), "{url} is listed twice");
        }
    }
    assert_eq!(listed.len(), PRODUCTS + 31, "every published product, once");
    let past = files.len() + 1;
    assert_eq!(b.get(&format!("/sitemap_products_{past}.xml")).status, 404);
}
