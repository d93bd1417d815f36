//! Checkout: pickup at a shop that holds the stock, the order the core
//! places with its totals, the status page behind its link, stock that ran
//! out meanwhile.

use omnistore_core::TimelineEntry;

use crate::browser::{Browser, assert_page_basics, attribute_after, shop, variant_id};

pub const CASSATA: &str = "cassata-siciliana";
pub const CANNOLO: &str = "cannolo-siciliano-classico";

pub fn fill_cart(b: &mut Browser<'_>, handle: &str, variant: &str, quantity: &str) {
    let id = variant_id(b, handle, variant);
    let token = b.token(&format!("/products/{handle}"));
    let r = b.post_form("/cart/add", &[("authenticity_token", &token), ("id", &id), ("quantity", quantity)]);
    assert_eq!(r.status, 303, "{}", r.text());
}

#[test]
fn checkout_with_pickup_places_the_order_the_core_priced() {
    let h = shop();
    let mut b = Browser::new(&h);
    fill_cart(&mut b, CANNOLO, "Grande", "4");
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    let cart = b.cart();
    let quoted = cart["total_price"].as_i64().unwrap();
    assert!(cart["total_discount"].as_i64().unwrap() > 0, "the cannoli promotion applies: {cart}");

    let page = b.get("/checkout");
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert_page_basics(&html);
    // Only the shop offers pickup, with its address; the marketing boxes start unticked.
    assert!(html.contains("Ritiro presso Negozio"), "{html}");
    assert!(!html.contains("Ritiro presso Laboratorio"));
    assert!(html.contains("Via dei Dolci 1"));
    assert!(html.contains("name=\"email_marketing\" value=\"on\">"), "unticked: {html}");
    assert!(html.contains("name=\"sms_marketing\" value=\"on\">"));
    let pickup = attribute_after(&html, "id=\"Pickup-1\" type=\"radio\" name=\"fulfillment\" value=\"").unwrap();
    assert!(pickup.starts_with("pickup:"));
    let token = attribute_after(&html, "name=\"authenticity_token\" value=\"").unwrap();

    // Nothing to reach the shopper by: the form comes back with what to fix.
    let refused = b.post_form(
        "/checkout",
        &[("authenticity_token", &token), ("fulfillment", &pickup), ("payment", "pay-at-pickup")],
    );
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("Inserisci un indirizzo e-mail o un numero di telefono"));
    assert!(h.orders().unwrap().is_empty());

    let placed = b.post_form(
        "/checkout",
        &[
            ("authenticity_token", &token),
            ("email", "giulia@example.com"),
            ("name", "Giulia Rossi"),
            ("email_marketing", "on"),
            ("fulfillment", &pickup),
            ("payment", "pay-at-pickup"),
        ],
    );
    assert_eq!(placed.status, 303, "{}", placed.text());
    let location = placed.header("location").unwrap().to_string();
    assert!(location.starts_with("/orders/") && location.ends_with("?placed=1"), "{location}");

    let orders = h.orders().unwrap();
    assert_eq!(orders.len(), 1);
    let order = &orders[0];
    assert_eq!(order.total.amount_minor, quoted, "the order costs what the cart quoted");
    assert_eq!(order.lines.len(), 2);
    assert_eq!(b.cart()["item_count"], 0, "a new cart after the order");

    let status = b.get(&location);
    assert_eq!(status.status, 200, "{}", status.text());
    let html = status.text();
    assert_page_basics(&html);
    assert!(html.contains(&order.number.to_string()), "{html}");
    assert!(html.contains("Grazie!"));
    assert!(html.contains("Ritiro presso Negozio"));

    // The link without its token, or with another, shows nothing.
    let path = location.trim_end_matches("?placed=1");
    let (prefix, token) = path.rsplit_once('/').unwrap();
    let mut forged = token.to_string();
    forged.replace_range(0..1, if token.starts_with('0') { "1" } else { "0" });
    assert_eq!(b.get(&format!("{prefix}/{forged}")).status, 404);
    assert_eq!(b.get(&format!("{prefix}/")).status, 404);
    assert_eq!(Browser::new(&h).get(path).status, 200, "whoever holds the link sees the order");
}

#[test]
fn stock_that_ran_out_meanwhile_gives_a_clear_page_and_no_order() {
    let h = shop();
    let mut b = Browser::new(&h);
    fill_cart(&mut b, CASSATA, "10 porzioni", "2");
    let page = b.get("/checkout").text();
    let pickup = attribute_after(&page, "id=\"Pickup-1\" type=\"radio\" name=\"fulfillment\" value=\"").unwrap();
    let token = attribute_after(&page, "name=\"authenticity_token\" value=\"").unwrap();

    // Someone else buys the whole stock in the meantime.
    let mut other = Browser::new(&h);
    fill_cart(&mut other, CASSATA, "10 porzioni", "6");
    let other_page = other.get("/checkout").text();
    let other_token = attribute_after(&other_page, "name=\"authenticity_token\" value=\"").unwrap();
    let parcel = [
        ("authenticity_token", other_token.as_str()),
        ("phone", "+393331234567"),
        ("fulfillment", "ship"),
        ("payment", "manual"),
        ("address1", "Via Roma 1"),
        ("zip", "80100"),
        ("city", "Napoli"),
        ("country", "IT"),
    ];
    // A parcel needs someone to receive it: said by the form, nothing placed.
    let nameless = other.post_form("/checkout", &parcel);
    assert_eq!(nameless.status, 422, "{}", nameless.text());
    assert!(nameless.text().contains("Inserisci il nome di chi riceve la spedizione."), "{}", nameless.text());
    assert_eq!(h.orders().unwrap().len(), 0);
    let sold = other.post_form("/checkout", &[&parcel[..], &[("name", "Anna Esposito")]].concat());
    assert_eq!(sold.status, 303, "{}", sold.text());
    let before = h.orders().unwrap().len();

    let late = b.post_form(
        "/checkout",
        &[
            ("authenticity_token", &token),
            ("email", "late@example.com"),
            ("fulfillment", &pickup),
            ("payment", "pay-at-pickup"),
        ],
    );
    assert!(late.status == 409 || late.status == 422, "{} {}", late.status, late.text());
    let html = late.text();
    assert_page_basics(&html);
    assert_eq!(h.orders().unwrap().len(), before, "no oversell");
    assert_eq!(b.cart()["item_count"], 2, "the cart is kept");
}

#[test]
fn a_visitor_s_touchpoints_join_her_timeline_with_their_source() {
    let h = shop();
    let mut b = Browser::new(&h);
    let landing = b.get(&format!("/products/{CANNOLO}?utm_source=instagram&utm_medium=social&utm_campaign=spring"));
    assert_eq!(landing.status, 200);
    fill_cart(&mut b, CANNOLO, "Mignon", "3");
    let page = b.get("/checkout").text();
    let pickup = attribute_after(&page, "id=\"Pickup-1\" type=\"radio\" name=\"fulfillment\" value=\"").unwrap();
    let token = attribute_after(&page, "name=\"authenticity_token\" value=\"").unwrap();
    let placed = b.post_form(
        "/checkout",
        &[
            ("authenticity_token", &token),
            ("email", "sara@example.com"),
            ("fulfillment", &pickup),
            ("payment", "manual"),
        ],
    );
    assert_eq!(placed.status, 303, "{}", placed.text());
    let order = h.orders().unwrap().pop().unwrap();
    let customer = order.customer_id.clone().expect("the order has a customer");
    let timeline = h.core().timeline(h.tenant(), &customer, 0, i64::MAX, 100).unwrap();
    let touchpoints: Vec<_> = timeline
        .iter()
        .filter_map(|e| match e {
            TimelineEntry::Touchpoint(t) => Some(t),
            _ => None,
        })
        .collect();
    let kinds: Vec<&str> = touchpoints.iter().map(|t| t.kind.as_str()).collect();
    for kind in ["view", "add-to-cart", "checkout-start"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let view = touchpoints.iter().find(|t| t.kind == "view").unwrap();
    let source = view.source.as_ref().expect("the view has its source");
    assert_eq!((source.source.as_str(), source.medium.as_deref()), ("instagram", Some("social")));
    assert_eq!(source.campaign.as_deref(), Some("spring"));
    let add = touchpoints.iter().find(|t| t.kind == "add-to-cart").unwrap();
    assert_eq!(add.source.as_ref().map(|s| s.source.as_str()), Some("instagram"), "the landing's source is remembered");
}

/// The id of the location named `name`.
fn location(h: &omnistore_sdk_harness::Harness, name: &str) -> omnistore_core::LocationId {
    let locations = h.core().list_locations(h.tenant()).unwrap();
    locations.into_iter().find(|l| l.name == name).unwrap_or_else(|| panic!("no location {name}")).id
}

#[test]
fn a_cart_the_shop_cannot_hand_over_today_ships_to_the_shop_for_pickup() {
    let h = shop();
    let mut b = Browser::new(&h);
    let cassata = variant_id(&mut b, CASSATA, "6 porzioni");
    let negozio = location(&h, "Negozio");
    // The shop sold its last cassate: only the lab holds them.
    let variant = omnistore_core::VariantId::new(&cassata);
    h.core().set_stock(h.tenant(), &variant, &negozio, 0, Some("sold at the counter"), h.now_ms()).unwrap();
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");

    let html = b.get("/checkout").text();
    assert!(!html.contains("id=\"Pickup-1\""), "no pickup where the stock is not: {html}");
    assert!(html.contains("Spedizione a Negozio e ritiro lì"), "{html}");
    let value = attribute_after(&html, "id=\"ShipToStore-1\" type=\"radio\" name=\"fulfillment\" value=\"").unwrap();
    assert_eq!(value, format!("ship-to-store:{negozio}"));
    let token = attribute_after(&html, "name=\"authenticity_token\" value=\"").unwrap();

    let placed = b.post_form(
        "/checkout",
        &[
            ("authenticity_token", &token),
            ("phone", "+393331112222"),
            ("fulfillment", &value),
            ("payment", "pay-at-pickup"),
        ],
    );
    assert_eq!(placed.status, 303, "{}", placed.text());
    let order = h.orders().unwrap().pop().unwrap();
    assert_eq!(order.fulfilment, omnistore_core::Fulfilment::ShipToStore { location_id: negozio });
    let status = b.get(placed.header("location").unwrap()).text();
    assert!(status.contains("Spedizione a Negozio e ritiro lì"), "{status}");
    assert!(status.contains("Via dei Dolci 1"), "the shop's address: {status}");
}

#[test]
fn bank_transfer_instructions_show_at_checkout_and_on_orders_paid_that_way() {
    let instructions = "Dolce Vita Srl\nIBAN IT60 X054 2811 1010 0000 0123 456\nCausale: numero d'ordine";
    let h = omnistore_sdk_harness::Harness::for_plugin("web-storefront")
        .setting("bank_transfer_instructions", instructions)
        .start()
        .unwrap();
    let mut b = Browser::new(&h);
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    let page = b.get("/checkout").text();
    assert!(page.contains("IBAN IT60 X054 2811 1010 0000 0123 456"), "{page}");
    assert!(page.contains("Causale: numero d&#39;ordine") || page.contains("Causale: numero d&#x27;ordine"), "escaped");
    let token = attribute_after(&page, "name=\"authenticity_token\" value=\"").unwrap();
    let pickup = attribute_after(&page, "id=\"Pickup-1\" type=\"radio\" name=\"fulfillment\" value=\"").unwrap();
    let place = |b: &mut Browser<'_>, payment: &str| {
        let placed = b.post_form(
            "/checkout",
            &[
                ("authenticity_token", &token),
                ("email", "anna@example.com"),
                ("fulfillment", &pickup),
                ("payment", payment),
            ],
        );
        assert_eq!(placed.status, 303, "{}", placed.text());
        b.get(placed.header("location").unwrap()).text()
    };
    let manual = place(&mut b, "manual");
    assert!(manual.contains("Bonifico bancario"), "{manual}");
    assert!(manual.contains("IBAN IT60 X054 2811 1010 0000 0123 456<br"), "the instructions, line by line: {manual}");
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    let at_pickup = place(&mut b, "pay-at-pickup");
    assert!(!at_pickup.contains("IBAN"), "no bank details for an order paid at pickup");
    assert_eq!(h.orders().unwrap().len(), 2);
}
