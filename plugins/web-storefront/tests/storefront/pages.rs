//! Catalog pages with the demo shop's real data.

use crate::browser::{Browser, assert_page_basics, product_json, script_json, shop, variant_id};

#[test]
fn every_catalog_page_renders_the_shop_s_data() {
    let h = shop();
    let mut b = Browser::new(&h);
    let home = b.get("/");
    assert_eq!(home.status, 200, "{}", home.text());
    let html = home.text();
    assert_page_basics(&html);
    assert!(html.contains("Pasticceria Dolce Vita"));
    assert!(html.contains("<html lang=\"it\">"));
    // The featured collection (the first, Cannoli) with its products and prices after the 20% promotion.
    assert!(html.contains("Cannolo siciliano classico"), "{html}");
    assert!(html.contains("1,44\u{a0}€"), "Mignon 1.80 − 20%: {html}");
    assert!(b.cookies.contains_key("ws_visitor"), "a visitor cookie is set");

    let list = b.get("/collections").text();
    assert_page_basics(&list);
    for title in ["Cannoli", "Sfogliatelle", "Torte", "Biscotti"] {
        assert!(list.contains(title), "{title}");
    }

    let collection = b.get("/collections/sfogliatelle");
    assert_eq!(collection.status, 200);
    let html = collection.text();
    assert_page_basics(&html);
    assert!(html.contains("Sfogliatella riccia") && html.contains("Santa Rosa"));
    assert!(!html.contains("Cannolo siciliano"), "only the collection's products");

    let about = b.get("/pages/about").text();
    assert_page_basics(&about);
    assert!(about.contains("Negozio") && about.contains("Via dei Dolci 1"), "{about}");

    for missing in ["/products/no-such-pastry", "/collections/nope", "/nowhere"] {
        let r = b.get(missing);
        assert_eq!(r.status, 404, "{missing}");
        assert_page_basics(&r.text());
    }
}

#[test]
fn a_product_page_offers_its_variants_and_honours_the_choice() {
    let h = shop();
    let mut b = Browser::new(&h);
    let handle = "cannolo-siciliano-classico";
    let page = b.get(&format!("/products/{handle}"));
    let html = page.text();
    assert_page_basics(&html);
    assert!(html.contains("<h1>Cannolo siciliano classico</h1>"));
    // The option select, labelled, works without JavaScript (a GET form).
    assert!(html.contains("<label for=\"Option1\">Formato</label>"), "{html}");
    assert!(html.contains("<option value=\"Grande\">Grande</option>"));
    let mignon = variant_id(&mut b, handle, "Mignon");
    let grande = variant_id(&mut b, handle, "Grande");
    assert!(html.contains(&format!("name=\"id\" value=\"{mignon}\"")), "the first available variant is chosen");

    for chosen in [format!("?variant={grande}"), "?option1=Grande".to_string()] {
        let html = b.get(&format!("/products/{handle}{chosen}")).text();
        assert!(html.contains(&format!("name=\"id\" value=\"{grande}\"")), "{chosen}");
        assert!(html.contains("<option value=\"Grande\" selected>Grande</option>"), "{chosen}");
        assert!(html.contains("2,80\u{a0}€"), "Grande 3.50 − 20%: {chosen}");
    }
    let json = product_json(&mut b, handle);
    assert_eq!(json["variants"].as_array().unwrap().len(), 2);
    assert_eq!(json["options"][0], "Formato");
    assert_eq!(json["vendor"], "Dolce Vita");
}

#[test]
fn collections_sort_and_page() {
    let h = shop();
    let mut b = Browser::new(&h);
    let cheapest_first = b.get("/collections/cannoli?sort_by=price-ascending").text();
    let dearest_first = b.get("/collections/cannoli?sort_by=price-descending").text();
    let position = |html: &str, title: &str| html.find(title).unwrap_or_else(|| panic!("{title} missing"));
    // The party tray is the dearest cannolo, the classic the cheapest.
    assert!(
        position(&cheapest_first, "Cannolo siciliano classico")
            < position(&cheapest_first, "Vassoio di cannoli mignon")
    );
    assert!(
        position(&dearest_first, "Vassoio di cannoli mignon") < position(&dearest_first, "Cannolo siciliano classico")
    );
    assert!(dearest_first.contains("<option value=\"price-descending\" selected>"));
    let by_title = b.get("/collections/cannoli?sort_by=title-ascending").text();
    assert!(position(&by_title, "Cannolo al cioccolato") < position(&by_title, "Cannolo siciliano classico"));
    // 8 cannoli, 12 a page: one page, and page 2 does not exist.
    assert!(cheapest_first.contains("8 prodotti"), "{cheapest_first}");
    assert_eq!(b.get("/collections/cannoli?page=2").status, 404);
}

#[test]
fn search_finds_titles_and_tags() {
    let h = shop();
    let mut b = Browser::new(&h);
    let r = b.get("/search?q=pistacchio");
    assert_eq!(r.status, 200);
    let html = r.text();
    assert_page_basics(&html);
    assert!(html.contains("Cannolo al pistacchio") && html.contains("Sfogliatella al pistacchio"), "{html}");
    assert!(!html.contains("Torta caprese"));
    assert_eq!(r.header("x-robots-tag"), Some("noindex"));
    let none = b.get("/search?q=zzzzzz").text();
    assert!(none.contains("Nessun risultato"), "{none}");
    let empty = b.get("/search").text();
    assert_page_basics(&empty);
}

#[test]
fn product_pages_carry_json_ld_and_open_graph() {
    let h = shop();
    let mut b = Browser::new(&h);
    let handle = "cannolo-al-pistacchio";
    let html = b.get(&format!("/products/{handle}")).text();
    let ld = script_json(&html, "type=\"application/ld+json\"");
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Product");
    assert_eq!(ld["name"], "Cannolo al pistacchio");
    assert_eq!(ld["brand"]["name"], "Dolce Vita");
    assert_eq!(ld["url"], format!("https://shop.example/products/{handle}"));
    let offers = ld["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 2);
    assert_eq!(offers[0]["@type"], "Offer");
    assert_eq!(offers[0]["price"], "1.76", "2.20 − 20%");
    assert_eq!(offers[0]["priceCurrency"], "EUR");
    assert_eq!(offers[0]["availability"], "https://schema.org/InStock");
    assert_eq!(offers[0]["itemCondition"], "https://schema.org/NewCondition");
    assert_eq!(offers[0]["sku"], "DV-02-MIG");
    assert!(
        offers[0]["url"].as_str().unwrap().starts_with("https://shop.example/products/cannolo-al-pistacchio?variant=")
    );
    for (property, value) in [
        ("og:type", "product".to_string()),
        ("og:title", "Cannolo al pistacchio".to_string()),
        ("og:url", format!("https://shop.example/products/{handle}")),
        ("product:price:amount", "1.76".to_string()),
        ("product:price:currency", "EUR".to_string()),
        ("product:availability", "in stock".to_string()),
        ("product:retailer_item_id", "DV-02-MIG".to_string()),
    ] {
        assert!(html.contains(&format!("<meta property=\"{property}\" content=\"{value}\">")), "{property}: {html}");
    }
    assert!(html.contains(
        "<meta property=\"og:image\" content=\"https://shop.example/demo/images/cannolo-al-pistacchio.jpg?width=1200\">"
    ));
    assert!(html.contains(&format!("<link rel=\"canonical\" href=\"https://shop.example/products/{handle}\">")));
    assert!(html.contains("<meta name=\"description\" content=\"Crema di ricotta e pistacchio di Bronte"));
    assert!(html.contains("alt=\"Cannolo al pistacchio\""), "images have alt text");
}
