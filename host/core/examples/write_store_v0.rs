//! Writes the migration fixture `tests/fixtures/store-v0.jsonl` and its
//! expectations `tests/fixtures/store-v0.expected.json`: a representative
//! tenant seeded by the core *before* stored records were versioned, dumped
//! key by key. Run once, at the last unversioned commit; see the README next
//! to the fixture.

use std::collections::BTreeMap;
use std::io::Write;

use omnistore_core::*;
use omnistore_storage::KeyRange;
use serde_json::json;

const T0: i64 = 1_700_000_000_000;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let core = Core::new(omnistore_storage::open("memory:").expect("memory store"));
    let seed = seed_demo(&core, T0).expect("seed");
    let t = seed.tenant.clone();
    let eur = |cents| Money::new(cents, "EUR").unwrap();

    let web = core
        .install_channel(
            &t,
            NewChannel {
                plugin_id: "web-storefront".into(),
                version: "1.2.0".into(),
                name: "Sito".into(),
                subscriptions: vec!["order.*".into(), "product.*".into()],
                enabled: true,
                safety_buffer: 1,
                settings: BTreeMap::from([("theme".into(), json!("rosa"))]),
                ..Default::default()
            },
            T0 + 1,
        )
        .unwrap();
    core.publish_all_active(&t, &web.id, T0 + 2).unwrap();

    // A product added by hand, with two variants, options and a compare-at price.
    let torta = core
        .create_product(
            &t,
            NewProduct {
                handle: "torta-caprese-grande".into(),
                title: "Torta caprese".into(),
                description: "Mandorle e cioccolato fondente.".into(),
                brand: Some("Dolce Vita".into()),
                tags: vec!["senza-glutine".into()],
                collections: vec![],
                images: vec![Image { url: "https://example.test/caprese.jpg".into(), alt: Some("Caprese".into()) }],
                status: ProductStatus::Active,
                variants: vec![
                    NewVariant {
                        sku: "CAP-6".into(),
                        title: "6 persone".into(),
                        options: BTreeMap::from([("Porzioni".into(), "6".into())]),
                        gtin: Some("8001234567897".into()),
                        weight_grams: Some(700),
                        price: eur(2400),
                        compare_at: Some(eur(2800)),
                        backorderable: false,
                    },
                    NewVariant {
                        sku: "CAP-12".into(),
                        title: "12 persone".into(),
                        options: BTreeMap::from([("Porzioni".into(), "12".into())]),
                        gtin: None,
                        weight_grams: Some(1400),
                        price: eur(4200),
                        compare_at: None,
                        backorderable: true,
                    },
                ],
            },
            T0 + 3,
        )
        .unwrap();
    core.publish_product(&t, &torta.product.id, &web.id, T0 + 3).unwrap();
    core.set_stock(&t, &torta.variants[0].id, &seed.warehouse, 4, Some("forno"), T0 + 4).unwrap();

    // A customer with an email identity, consent, a touchpoint and an order.
    let giulia = core
        .create_customer(
            &t,
            NewCustomer {
                name: Some("Giulia Rossi".into()),
                identities: vec![Identity::email("giulia@example.test").unwrap()],
            },
            T0 + 5,
        )
        .unwrap();
    core.set_consent(&t, &giulia.id, ConsentPurpose::EmailMarketing, true, Some(&web.id), "checkout box", T0 + 6)
        .unwrap();
    core.record_touchpoint(
        &t,
        NewTouchpoint {
            customer_id: giulia.id.clone(),
            kind: "view".into(),
            channel_id: Some(web.id.clone()),
            product_id: Some(torta.product.id.clone()),
            variant_id: None,
            campaign: None,
            detail: None,
            at_ms: T0 + 7,
        },
        T0 + 7,
    )
    .unwrap();
    let cart = core.create_cart(&t, NewCart { channel: Some(web.id.clone()), customer: Some(giulia.id.clone()) }, T0 + 8).unwrap();
    core.add_to_cart(&t, &cart.id, &torta.variants[0].id, 2, T0 + 8).unwrap();
    core.apply_code(&t, &cart.id, seed::DEMO_CODE, T0 + 8).unwrap();
    let address = Address {
        name: "Giulia Rossi".into(),
        line1: "Via Toledo 10".into(),
        line2: None,
        city: "Napoli".into(),
        postal_code: "80134".into(),
        country: "IT".into(),
        phone: None,
    };
    let order = core
        .checkout(
            &t,
            &cart.id,
            CheckoutRequest {
                channel: Some(web.id.clone()),
                fulfilment: Fulfilment::Ship { address },
                customer: Some(giulia.id.clone()),
                email: Some("giulia@example.test".into()),
                note: Some("Citofono Rossi".into()),
                expected_total_minor: None,
            },
            T0 + 9,
        )
        .unwrap();
    core.mark_shipped(&t, &order.id, Some("TRACK-1"), T0 + 10).unwrap();
    // A pickup order ingested from the channel, and an open cart with a hold.
    let ingested = core
        .ingest_order(
            &t,
            &web.id,
            IngestOrder {
                external_id: "web-1001".into(),
                lines: vec![IngestLine { sku: "CAP-12".into(), quantity: 1, unit_price: None }],
                customer: Some(Identity::email("marco@example.test").unwrap()),
                customer_name: Some("Marco".into()),
                email: Some("marco@example.test".into()),
                fulfilment: Fulfilment::Pickup { location_id: seed.shop.clone() },
                codes: vec![],
                note: None,
            },
            T0 + 11,
        )
        .unwrap();
    let open = core.create_cart(&t, NewCart { channel: Some(web.id.clone()), customer: None }, T0 + 12).unwrap();
    core.add_to_cart(&t, &open.id, &torta.variants[0].id, 1, T0 + 12).unwrap();
    core.hold_cart(&t, &open.id, 3_600_000, T0 + 12).unwrap();
    core.receive_return(
        &t,
        &order.id,
        ReturnRequest {
            location_id: seed.warehouse.clone(),
            lines: vec![ReturnLineRequest { line_no: 1, quantity: 1, disposition: Disposition::Restock }],
            reason: Some("arrivata rotta".into()),
        },
        T0 + 13,
    )
    .unwrap();
    core.fan_out(&t, T0 + 14, 1000).unwrap();

    // What the read API says now: the migrated store must say the same.
    let products = core.list_products(&t, &ProductQuery { limit: 1000, ..Default::default() }).unwrap();
    let details: Vec<_> = products.iter().map(|p| core.get_product(&t, &p.id).unwrap()).collect();
    let mut stock = BTreeMap::new();
    for d in &details {
        for v in &d.variants {
            stock.insert(v.sku.clone(), core.stock_levels(&t, &v.id).unwrap());
        }
    }
    let orders = core.list_orders(&t, &OrderQuery { limit: 1000, ..Default::default() }).unwrap();
    let customers = core.list_customers(&t, None, 1000).unwrap();
    let expected = json!({
        "tenant": core.get_tenant(&t).unwrap(),
        "channels": core.list_channels(&t).unwrap(),
        "locations": core.list_locations(&t).unwrap(),
        "collections": core.list_collections(&t).unwrap(),
        "products": details,
        "stock": stock,
        "promotions": core.list_promotions(&t).unwrap(),
        "orders": orders,
        "returns": core.order_returns(&t, &order.id).unwrap(),
        "customers": customers,
        "consent_history": core.consent_history(&t, &giulia.id).unwrap(),
        "timeline": core.timeline(&t, &giulia.id, 0, i64::MAX, 0).unwrap(),
        "open_cart": core.get_cart(&t, &open.id).unwrap(),
        "cart_holds": core.cart_holds(&t, &open.id).unwrap(),
        "events": core.list_events(&t, None, 1000).unwrap(),
        "channel_catalog": core.channel_catalog(&t, &web.id, None, 1000, T0 + 14).unwrap(),
        "ids": {
            "channel": web.id, "customer": giulia.id, "order": order.id,
            "ingested_order": ingested.order.id, "open_cart": open.id, "torta": torta.product.id,
            "warehouse": seed.warehouse, "shop": seed.shop,
        },
    });
    std::fs::write(dir.join("store-v0.expected.json"), serde_json::to_string_pretty(&expected).unwrap() + "\n")
        .unwrap();

    let mut txn = core.store().begin_read().unwrap();
    let mut out = std::fs::File::create(dir.join("store-v0.jsonl")).unwrap();
    for (key, value) in txn.scan(&KeyRange::all(), usize::MAX).unwrap() {
        let line = json!({
            "key": String::from_utf8(key).expect("core keys are UTF-8"),
            "value": String::from_utf8(value).expect("core values are JSON"),
        });
        writeln!(out, "{line}").unwrap();
    }
}
