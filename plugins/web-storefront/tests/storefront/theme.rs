//! Theme overrides: the merchant's files are used, drafts only in preview;
//! a broken file shows where it is broken in preview and never breaks the shop.

use crate::browser::{Browser, assert_page_basics, shop};

const PRODUCT: &str = "/products/torta-caprese";

#[test]
fn overrides_are_used_and_drafts_only_in_preview() {
    let h = shop();
    h.put_draft_file("snippets/price.liquid", b"<span class=\"price\">Solo {{ price | money }}</span>").unwrap();
    let mut shopper = Browser::new(&h);
    let mut merchant = Browser::new(&h);
    merchant.preview = true;
    assert!(merchant.get(PRODUCT).text().contains("Solo 22,00\u{a0}€"), "the draft in preview");
    assert!(!shopper.get(PRODUCT).text().contains("Solo "), "not published yet");
    h.publish_files().unwrap();
    let html = shopper.get(PRODUCT).text();
    assert_page_basics(&html);
    assert!(html.contains("Solo 22,00\u{a0}€"), "published: {html}");

    // Translations and theme settings are files too.
    h.put_draft_file("config/settings_data.json", br#"{ "current": { "products_per_page": 3 } }"#).unwrap();
    h.publish_files().unwrap();
    let first = shopper.get("/collections/cannoli").text();
    assert!(first.contains("rel=\"next\""), "8 cannoli in pages of 3: {first}");
    let third = shopper.get("/collections/cannoli?page=3");
    assert_eq!(third.status, 200);
    assert_eq!(shopper.get("/collections/cannoli?page=4").status, 404);
    let sorted = shopper.get("/collections/cannoli?sort_by=price-descending&page=1").text();
    assert!(sorted.contains("Vassoio di cannoli mignon"), "the dearest on the first page");
    assert!(
        sorted.contains("sort_by=price-descending&amp;page=2") || sorted.contains("sort_by=price-descending&page=2"),
        "{sorted}"
    );
}

#[test]
fn a_broken_file_names_itself_in_preview_and_the_shop_keeps_selling() {
    let h = shop();
    let broken = b"<div>\n<h1>{{ product.title }}</h1>\n{% if product.available %}\n</div>\n";
    h.put_draft_file("templates/product.liquid", broken).unwrap();
    let mut merchant = Browser::new(&h);
    merchant.preview = true;
    let error = merchant.get(PRODUCT);
    assert_eq!(error.status, 500);
    let html = error.text();
    assert!(html.contains("templates/product.liquid"), "{html}");
    assert!(html.contains("line 3"), "{html}");
    assert!(html.contains("never closed"), "{html}");

    h.put_draft_file("snippets/product-card.liquid", b"{{ product.title | money }}").unwrap();
    h.publish_files().unwrap();
    let mut shopper = Browser::new(&h);
    let page = shopper.get(PRODUCT);
    assert_eq!(page.status, 200, "the default theme's page: {}", page.text());
    let html = page.text();
    assert_page_basics(&html);
    assert!(html.contains("<h1>Torta caprese</h1>"));
    let collection = shopper.get("/collections/torte");
    assert_eq!(collection.status, 200, "a render error falls back too");
    assert!(collection.text().contains("Torta caprese"));
    let preview = merchant.get("/collections/torte");
    assert_eq!(preview.status, 500);
    assert!(preview.text().contains("money"), "{}", preview.text());
}

/// The storefront keeps parsed theme files in its warm instance; every
/// change of a file, and every switch between the draft and the live
/// files, shows at once.
#[test]
fn a_warm_instance_shows_every_change_of_the_theme_at_once() {
    let h = shop();
    let mut shopper = Browser::new(&h);
    let mut merchant = Browser::new(&h);
    merchant.preview = true;
    assert!(shopper.get(PRODUCT).text().contains("Aggiungi al carrello"));
    assert_eq!(h.warm_instances(), 1, "the storefront's instance is kept for the next request");

    for (i, word) in ["Prima", "Seconda", "Terza"].into_iter().enumerate() {
        let snippet = format!("<span class=\"price\">{word} {{{{ price | money }}}}</span>");
        h.put_draft_file("snippets/price.liquid", snippet.as_bytes()).unwrap();
        h.publish_files().unwrap();
        let draft = format!("<span class=\"price\">Bozza{i} {{{{ price | money }}}}</span>");
        h.put_draft_file("snippets/price.liquid", draft.as_bytes()).unwrap();
        for _ in 0..2 {
            let live = shopper.get(PRODUCT).text();
            assert!(live.contains(&format!("{word} 22,00\u{a0}€")), "{word}: {live}");
            assert!(!live.contains("Bozza"), "a draft reached a shopper: {live}");
            let preview = merchant.get(PRODUCT).text();
            assert!(preview.contains(&format!("Bozza{i} 22,00\u{a0}€")), "{preview}");
        }
    }

    // Translations: a changed locale file is read again.
    let bundled: serde_json::Value = serde_json::from_str(include_str!("../../theme/locales/it.json")).unwrap();
    for label in ["Metti nel cestino", "Prendilo ora"] {
        let mut strings = bundled.clone();
        strings["products"]["add_to_cart"] = serde_json::json!(label);
        h.put_draft_file("locales/it.json", strings.to_string().as_bytes()).unwrap();
        h.publish_files().unwrap();
        let html = shopper.get(PRODUCT).text();
        assert!(html.contains(label), "{label}: {html}");
        assert!(!html.contains("Aggiungi al carrello"));
    }
    assert_eq!(h.warm_instances(), 1);
}

/// The address of `name` that the home page links to.
fn asset_link(b: &mut Browser<'_>, name: &str) -> String {
    let html = b.get("/").text();
    let marker = format!("/assets/{name}?v=");
    let start = html.find(&marker).unwrap_or_else(|| panic!("the page links {name}: {html}"));
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

#[test]
fn theme_assets_are_cached_for_good_under_a_url_that_changes_with_them() {
    let h = shop();
    let mut b = Browser::new(&h);
    let link = asset_link(&mut b, "base.css");
    let css = b.get(&link);
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let etag = css.header("etag").expect("an ETag").to_string();
    let again = b.send("GET", &link, None, b"", &[("if-none-match", &etag)]);
    assert_eq!((again.status, again.body.len()), (304, 0));
    let unversioned = b.get("/assets/base.css");
    assert_eq!(unversioned.header("cache-control"), Some("public, max-age=300"), "not the theme's URL: checked soon");
    assert_eq!(unversioned.header("etag"), Some(etag.as_str()));

    // The merchant's stylesheet gets a URL of its own; the old validator no longer matches.
    h.put_draft_file("assets/base.css", b"body { color: #b00020; }").unwrap();
    h.publish_files().unwrap();
    let mine = asset_link(&mut b, "base.css");
    assert_ne!(mine, link);
    let css = b.get(&mine);
    assert_eq!(css.text(), "body { color: #b00020; }");
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let new_etag = css.header("etag").unwrap().to_string();
    assert_ne!(new_etag, etag);
    assert_eq!(b.send("GET", &mine, None, b"", &[("if-none-match", &etag)]).status, 200);
    assert_eq!(b.send("GET", &mine, None, b"", &[("if-none-match", &new_etag)]).status, 304);
    // An old page's link is served, but not kept for good.
    let old = b.get(&link);
    assert_eq!(old.text(), "body { color: #b00020; }");
    assert_eq!(old.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(b.get("/assets/missing.css").status, 404);
    assert_eq!(b.get("/assets/..%2Fplugin.toml").status, 404);
}
