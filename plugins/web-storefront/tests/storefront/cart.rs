//! The cart: HTML forms without JavaScript, the Ajax API shaped as
//! Shopify's, and refusal of forged requests.

use serde_json::json;

use crate::browser::{BASE_URL, Browser, assert_page_basics, shop, variant_id};

const CANNOLO: &str = "cannolo-siciliano-classico";

#[test]
fn the_cart_works_with_plain_forms() {
    let h = shop();
    let mut b = Browser::new(&h);
    let mignon = variant_id(&mut b, CANNOLO, "Mignon");
    let token = b.token(&format!("/products/{CANNOLO}"));

    let added = b.post_form("/cart/add", &[("authenticity_token", &token), ("id", &mignon), ("quantity", "2")]);
    assert_eq!(added.status, 303, "{}", added.text());
    assert_eq!(added.header("location"), Some("/cart"));
    let cookie =
        added.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with("ws_cart=")).map(|(_, v)| v.clone());
    let cookie = cookie.expect("the cart's cookie is set");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"), "{cookie}");

    let page = b.get("/cart");
    let html = page.text();
    assert_page_basics(&html);
    assert!(html.contains(&format!("name=\"updates[{mignon}]\" value=\"2\"")), "{html}");
    assert!(html.contains("<label class=\"visually-hidden\" for=\"Quantity-1\">"));

    let token = b.token("/cart");
    let updated = b.post_form("/cart/update", &[("authenticity_token", &token), (&format!("updates[{mignon}]"), "10")]);
    assert_eq!(updated.status, 303);
    assert_eq!(b.cart()["item_count"], 10);

    // 10 × 1.44 = 14.40: below DOLCE10's 20 EUR minimum, then above it.
    let refused = b.post_form("/cart/update", &[("authenticity_token", &token), ("discount", "NOPE")]);
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("NOPE"), "{}", refused.text());
    b.post_form("/cart/update", &[("authenticity_token", &token), (&format!("updates[{mignon}]"), "15")]);
    let applied = b.post_form("/cart/update", &[("authenticity_token", &token), ("discount", "DOLCE10")]);
    assert_eq!(applied.status, 303, "{}", applied.text());
    let cart = b.cart();
    assert_eq!(cart["discount_codes"][0]["code"], "DOLCE10");
    assert_eq!(cart["original_total_price"], 15 * 180);
    // 20% off the line, then 10% off the order: 2160 − 216.
    assert_eq!(cart["total_price"], 1944, "{cart}");
    let html = b.get("/cart").text();
    assert!(html.contains("19,44\u{a0}€ EUR"), "{html}");
    b.post_form("/cart/update", &[("authenticity_token", &token), ("remove_discount", "DOLCE10")]);
    assert_eq!(b.cart()["discount_codes"].as_array().unwrap().len(), 0);

    let removed = b.post_form("/cart/change", &[("authenticity_token", &token), ("line", "1"), ("quantity", "0")]);
    assert_eq!(removed.status, 303);
    assert_eq!(b.cart()["item_count"], 0);
    assert!(b.get("/cart").text().contains("Il carrello è vuoto"));
}

#[test]
fn the_ajax_api_answers_as_shopify_s() {
    let h = shop();
    let mut b = Browser::new(&h);
    b.get("/");
    let grande = variant_id(&mut b, CANNOLO, "Grande");
    let mignon = variant_id(&mut b, CANNOLO, "Mignon");

    let empty = b.cart();
    for field in [
        "token",
        "note",
        "attributes",
        "original_total_price",
        "total_price",
        "total_discount",
        "total_weight",
        "item_count",
        "items",
        "requires_shipping",
        "currency",
        "items_subtotal_price",
        "cart_level_discount_applications",
    ] {
        assert!(empty.get(field).is_some(), "cart.js lacks {field}");
    }
    assert_eq!((empty["item_count"].clone(), empty["currency"].clone()), (json!(0), json!("EUR")));

    let added = b.post_json("/cart/add.js", &json!({ "id": grande, "quantity": 2 }));
    assert_eq!(added.status, 200, "{}", added.text());
    assert_eq!(added.header("content-type"), Some("application/json"));
    let line: serde_json::Value = serde_json::from_slice(&added.body).unwrap();
    for field in [
        "id",
        "key",
        "variant_id",
        "product_id",
        "title",
        "product_title",
        "variant_title",
        "quantity",
        "price",
        "original_price",
        "discounted_price",
        "line_price",
        "original_line_price",
        "final_price",
        "final_line_price",
        "total_discount",
        "sku",
        "handle",
        "url",
        "image",
        "featured_image",
        "properties",
        "options_with_values",
        "product_has_only_default_variant",
        "requires_shipping",
        "gift_card",
    ] {
        assert!(line.get(field).is_some(), "a line lacks {field}");
    }
    assert_eq!(line["id"], grande.as_str());
    assert_eq!(line["quantity"], 2);
    // As on Shopify, `price` is the variant's price before the automatic
    // discount; `final_price` is what the shopper pays for one.
    assert_eq!((line["price"].clone(), line["original_price"].clone()), (json!(350), json!(350)));
    assert_eq!(line["final_price"], 280, "3.50 − 20%, in cents");
    assert_eq!(line["final_line_price"], 560);
    assert_eq!(line["total_discount"], 140);
    assert_eq!(line["handle"], CANNOLO);
    assert_eq!(line["sku"], "DV-01-GRA");
    assert_eq!(line["url"], format!("/products/{CANNOLO}?variant={grande}"));

    let items = b.post_json("/cart/add.js", &json!({ "items": [{ "id": mignon, "quantity": 1 }] }));
    let items: serde_json::Value = serde_json::from_slice(&items.body).unwrap();
    assert_eq!(items["items"][0]["id"], mignon.as_str());
    let cart = b.cart();
    assert_eq!(cart["item_count"], 3);
    assert_eq!(cart["items"].as_array().unwrap().len(), 2);
    assert_eq!(cart["total_price"], 560 + 144);

    let changed = b.post_json("/cart/change.js", &json!({ "id": grande, "quantity": 1 }));
    let changed: serde_json::Value = serde_json::from_slice(&changed.body).unwrap();
    assert_eq!(changed["item_count"], 2);
    // As on Shopify, the line added last comes first: line 2 is the Grande.
    let by_line = b.post_json("/cart/change.js", &json!({ "line": 2, "quantity": 4 }));
    let by_line: serde_json::Value = serde_json::from_slice(&by_line.body).unwrap();
    assert_eq!(by_line["item_count"], 5, "{by_line}");
    assert_eq!((by_line["items"][0]["id"].clone(), by_line["items"][1]["quantity"].clone()), (json!(mignon), json!(4)));

    // update.js with a form body, as `$.post('/cart/update.js', 'updates[ID]=3')` sends it.
    let body = format!("updates%5B{mignon}%5D=3");
    let updated = b.send(
        "POST",
        "/cart/update.js",
        Some("application/x-www-form-urlencoded"),
        body.as_bytes(),
        &[("origin", BASE_URL)],
    );
    let updated: serde_json::Value = serde_json::from_slice(&updated.body).unwrap();
    assert_eq!(updated["item_count"], 7, "{updated}");

    let unknown = b.post_json("/cart/add.js", &json!({ "id": "no-such-variant", "quantity": 1 }));
    assert_eq!(unknown.status, 404);
    let error: serde_json::Value = serde_json::from_slice(&unknown.body).unwrap();
    assert_eq!((error["status"].clone(), error["message"].clone()), (json!(404), json!("Cart Error")));
    assert!(error["description"].is_string());
    let zero = b.post_json("/cart/add.js", &json!({ "id": grande, "quantity": 0 }));
    assert_eq!(zero.status, 422);

    let cleared = b.post_json("/cart/clear.js", &json!({}));
    let cleared: serde_json::Value = serde_json::from_slice(&cleared.body).unwrap();
    assert_eq!(cleared["item_count"], 0);
    assert_eq!(b.cart()["items"].as_array().unwrap().len(), 0);
}

#[test]
fn forged_requests_change_nothing() {
    let h = shop();
    let mut b = Browser::new(&h);
    let mignon = variant_id(&mut b, CANNOLO, "Mignon");
    // An empty cart page has no form: the product page has the token.
    let token = b.token(&format!("/products/{CANNOLO}"));

    let wrong = b.post_form("/cart/add", &[("authenticity_token", "0000"), ("id", &mignon)]);
    assert_eq!(wrong.status, 403);
    let missing = b.post_form("/cart/add", &[("id", &mignon)]);
    assert_eq!(missing.status, 403);
    // Another visitor's token does not pass either.
    let mut other = Browser::new(&h);
    let theirs = other.token(&format!("/products/{CANNOLO}"));
    assert_ne!(theirs, token);
    assert_eq!(b.post_form("/cart/add", &[("authenticity_token", &theirs), ("id", &mignon)]).status, 403);
    // A form from another site does not carry the visitor's cookie: its token cannot be right.
    let mut stranger = Browser::new(&h);
    assert_eq!(stranger.post_form("/cart/add", &[("authenticity_token", &token), ("id", &mignon)]).status, 403);

    let body = serde_json::to_vec(&json!({ "id": mignon, "quantity": 1 })).unwrap();
    let evil = b.send("POST", "/cart/add.js", Some("application/json"), &body, &[("origin", "https://evil.example")]);
    assert_eq!(evil.status, 403);
    let nowhere = b.send("POST", "/cart/add.js", Some("application/json"), &body, &[]);
    assert_eq!(nowhere.status, 403);
    let evil_referer =
        b.send("POST", "/cart/clear.js", Some("application/json"), b"{}", &[("referer", "https://evil.example/x")]);
    assert_eq!(evil_referer.status, 403);
    assert_eq!(b.cart()["item_count"], 0, "nothing was added");

    // The page's own token in a header, or a same-site referrer, passes.
    let with_token = b.send("POST", "/cart/add.js", Some("application/json"), &body, &[("x-csrf-token", &token)]);
    assert_eq!(with_token.status, 200, "{}", with_token.text());
    let referred = b.send(
        "POST",
        "/cart/add.js",
        Some("application/json"),
        &body,
        &[("referer", "https://shop.example/products/x")],
    );
    assert_eq!(referred.status, 200);
    assert_eq!(b.cart()["item_count"], 2);
}
