//! The feeds: Meta's field names and formats, RFC 4180 CSV and escaped RSS
//! 2.0, streamed a catalog page per body page.

use omnistore_core::{NewProduct, NewVariant, ProductStatus};

use crate::meta::Meta;
use crate::shop::{SHOP_URL, shop};

/// RFC 4180 records, read independently of the plugin's writer.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted && field.is_empty() && row.is_empty(), "the CSV ends with a complete record");
    rows
}

/// Add `n` products, one with a description that needs quoting and escaping.
fn add_products(h: &omnistore_sdk_harness::Harness, n: usize) {
    for i in 0..n {
        let new = NewProduct {
            handle: format!("extra-{i}"),
            title: format!("Extra \"{i}\", <special>"),
            description: "<p>Line one, with a comma &amp; an ampersand</p><p>Line \"two\"</p>".into(),
            brand: Some("Dolce & Vita".into()),
            tags: vec![],
            collections: vec![],
            images: vec![],
            status: ProductStatus::Active,
            variants: vec![NewVariant {
                sku: format!("EX-{i:04}"),
                title: "Default".into(),
                options: Default::default(),
                gtin: None,
                weight_grams: None,
                price: omnistore_core::Money::new(999, "EUR").unwrap(),
                compare_at: None,
                backorderable: false,
            }],
        };
        h.core().create_product(h.tenant(), new, h.now_ms()).unwrap();
    }
    let channel = h.channel();
    h.core().publish_all_active(h.tenant(), &channel, h.now_ms()).unwrap();
}

#[test]
fn the_csv_feed_has_metas_columns_quoted_per_rfc_4180_and_streams_by_page() {
    let meta = Meta::start();
    let h = shop(&meta);
    add_products(&h, 180);
    let r = h.get("/feed.csv").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.pages >= 3, "one body page per catalog page of 100: {} pages", r.pages);
    let rows = parse_csv(&r.text());
    let header = &rows[0];
    assert_eq!(&header[..6], ["id", "title", "description", "availability", "condition", "price"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(rows[1..].iter().all(|r| r.len() == header.len()));
    let extra = rows.iter().find(|r| r[0] == "EX-0007").unwrap();
    assert_eq!(extra[col("title")], "Extra \"7\", <special>");
    assert_eq!(extra[col("description")], "Line one, with a comma & an ampersand\nLine \"two\"");
    assert_eq!(extra[col("price")], "9.99 EUR");
    assert_eq!(extra[col("availability")], "out of stock");
    assert_eq!(extra[col("link")], format!("{SHOP_URL}/products/extra-7"));
    assert_eq!(extra[col("brand")], "Dolce & Vita");
    let grande = rows.iter().find(|r| r[0] == "DV-01-GRA").unwrap();
    assert_eq!(grande[col("size")], "Grande");
    assert_eq!(grande[col("availability")], "in stock");
    assert!(grande[col("inventory")].parse::<i64>().unwrap() > 0);
    assert_eq!(grande[col("google_product_category")], "5750");
    let skus: std::collections::BTreeSet<_> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(skus.len(), rows.len() - 1, "each SKU once");
    assert!(meta.calls().is_empty());
}

#[test]
fn the_xml_feed_is_rss_with_the_g_namespace_and_escaped() {
    let meta = Meta::start();
    let h = shop(&meta);
    add_products(&h, 2);
    let r = h.get("/feed.xml").unwrap();
    assert_eq!(r.status, 200);
    let xml = r.text();
    assert!(xml.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">"
    ));
    assert!(xml.trim_end().ends_with("</channel>\n</rss>"));
    assert!(xml.contains("<g:title>Extra &quot;1&quot;, &lt;special&gt;</g:title>"), "{xml}");
    assert!(xml.contains("<g:brand>Dolce &amp; Vita</g:brand>"));
    assert!(xml.contains("<g:id>DV-01-GRA</g:id>"));
    assert_eq!(xml.matches("<item>").count(), xml.matches("</item>").count());
    // Every `&` starts an entity: nothing unescaped slipped through.
    for (i, _) in xml.match_indices('&') {
        let rest = &xml[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| rest.starts_with(e)),
            "{}",
            &rest[..20.min(rest.len())]
        );
    }
}
