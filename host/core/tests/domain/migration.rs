//! A store written by the previous storage format (version 0: plain JSON
//! values, see `tests/fixtures/README.md`) is read, written and migrated by
//! this core on every backend.

use std::io::BufReader;

use omnistore_storage::keyspace;
use serde_json::{Value, json};

use super::support;
use super::*;

per_backend!(a_store_written_by_the_previous_version_reads_writes_and_migrates);

const STORE_V0: &str = include_str!("../fixtures/store-v0.jsonl");
const EXPECTED_V0: &str = include_str!("../fixtures/store-v0.expected.json");
/// The time the fixture was last written at.
const FIXTURE_NOW: i64 = T0 + 14;

/// Put every key and value of the fixture into the store, byte for byte.
fn load_fixture(core: &Core) {
    let mut txn = core.store().begin().unwrap();
    for line in STORE_V0.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let (key, value) = (entry["key"].as_str().unwrap(), entry["value"].as_str().unwrap());
        txn.put(key.as_bytes(), value.as_bytes()).unwrap();
    }
    txn.commit().unwrap();
}

fn raw(core: &Core, key: &str) -> String {
    let value = core.store().begin_read().unwrap().get(key.as_bytes()).unwrap().expect("key present");
    String::from_utf8(value).unwrap()
}

fn id<T: serde::de::DeserializeOwned>(expected: &Value, name: &str) -> T {
    serde_json::from_value(expected["ids"][name].clone()).unwrap()
}

/// Everything the fixture's expectations hold, read through the API now.
fn read_all(core: &Core, t: &TenantId, expected: &Value) -> Value {
    let products = core.list_products(t, &ProductQuery { limit: 1000, ..Default::default() }).unwrap();
    let details: Vec<_> = products.iter().map(|p| core.get_product(t, &p.id).unwrap()).collect();
    let mut stock = BTreeMap::new();
    for d in &details {
        for v in &d.variants {
            stock.insert(v.sku.clone(), core.stock_levels(t, &v.id).unwrap());
        }
    }
    let (web, giulia): (ChannelId, CustomerId) = (id(expected, "channel"), id(expected, "customer"));
    let (order, open): (OrderId, CartId) = (id(expected, "order"), id(expected, "open_cart"));
    json!({
        "tenant": core.get_tenant(t).unwrap(),
        "channels": core.list_channels(t).unwrap(),
        "locations": core.list_locations(t).unwrap(),
        "collections": core.list_collections(t).unwrap(),
        "products": details,
        "stock": stock,
        "promotions": core.list_promotions(t).unwrap(),
        "orders": core.list_orders(t, &OrderQuery { limit: 1000, ..Default::default() }).unwrap(),
        "returns": core.order_returns(t, &order).unwrap(),
        "customers": core.list_customers(t, None, 1000).unwrap(),
        "consent_history": core.consent_history(t, &giulia).unwrap(),
        "timeline": core.timeline(t, &giulia, 0, i64::MAX, 0).unwrap(),
        "open_cart": core.get_cart(t, &open).unwrap(),
        "cart_holds": core.cart_holds(t, &open).unwrap(),
        "events": core.list_events(t, None, 1000).unwrap(),
        "channel_catalog": core.channel_catalog(t, &web, None, 1000, FIXTURE_NOW).unwrap(),
        "ids": expected["ids"],
    })
}

fn assert_reads_as_before(core: &Core, t: &TenantId, expected: &Value, when: &str) {
    let now = read_all(core, t, expected);
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&now[field], value, "`{field}` reads differently {when}");
    }
}

fn a_store_written_by_the_previous_version_reads_writes_and_migrates(b: &support::Backend) {
    let core = &b.core;
    load_fixture(core);
    let expected: Value = serde_json::from_str(EXPECTED_V0).unwrap();
    let t = TenantId::new("dolce-vita").unwrap();
    let records = STORE_V0.lines().count() as u64;

    // Everything is version 0, and reads exactly as the old core read it.
    let versions = core.storage_versions(&t).unwrap();
    assert_eq!((versions.current, versions.counts.clone()), (1, BTreeMap::from([(0, records)])));
    assert_reads_as_before(core, &t, &expected, "on the old store");
    // A few hard facts, in case the expectations and the reader agreed on
    // something wrong.
    let torta = core.product_by_handle(&t, "torta-caprese-grande").unwrap();
    assert_eq!(torta.product.title, "Torta caprese");
    let cap6 = core.variant_by_sku(&t, "CAP-6").unwrap();
    assert_eq!(cap6.price, eur(2400));
    let level = &core.stock_levels(&t, &cap6.id).unwrap()[0];
    assert_eq!((level.on_hand, level.reserved, level.available), (3, 1, 2));
    let order = core.get_order(&t, &id(&expected, "order")).unwrap();
    assert_eq!(
        (order.total.clone(), order.codes.clone(), order.status),
        (eur(4320), vec!["DOLCE10".into()], OrderStatus::Shipped)
    );
    let giulia = core.get_customer(&t, &id(&expected, "customer")).unwrap();
    assert!(giulia.has_consent(ConsentPurpose::EmailMarketing));
    assert_eq!(core.customers_with_consent(&t, ConsentPurpose::EmailMarketing).unwrap().len(), 1);

    // An export of the old store imports elsewhere and reads the same.
    let mut export = Vec::new();
    core.export_tenant(&t, &mut export, &mut |_| {}).unwrap();
    let elsewhere = support::memory();
    elsewhere.core.import_tenant(&mut BufReader::new(&export[..]), &mut |_| {}).unwrap();
    assert_reads_as_before(&elsewhere.core, &t, &expected, "after an export and import");

    // Migrating rewrites everything once, in batches, and changes no reading.
    let mut reports = Vec::new();
    let report = core.migrate(&t, &mut |r| reports.push(*r)).unwrap();
    assert_eq!((report.scanned, report.upgraded), (records, records));
    assert!(reports.len() > 1 && reports.windows(2).all(|w| w[0].scanned < w[1].scanned), "{reports:?}");
    assert_eq!(core.storage_versions(&t).unwrap().counts, BTreeMap::from([(1, records)]));
    assert_eq!(core.storage_versions(&t).unwrap().outdated(), 0);
    assert_reads_as_before(core, &t, &expected, "after migrating");
    let product_key = format!("t/dolce-vita/prd/{}", torta.product.id);
    assert!(raw(core, &product_key).starts_with("v1:{"), "{}", raw(core, &product_key));

    // A second run is harmless: it writes nothing.
    let before = snapshot(core.store());
    let again = core.migrate(&t, &mut |_| {}).unwrap();
    assert_eq!((again.scanned, again.upgraded), (records, 0));
    assert_eq!(snapshot(core.store()), before, "a second migration writes nothing");

    // Writes work on the migrated store.
    core.update_variant(&t, &cap6.id, VariantPatch { price: Some(eur(2500)), ..Default::default() }, FIXTURE_NOW + 1)
        .unwrap();
    assert_eq!(core.variant_by_sku(&t, "CAP-6").unwrap().price, eur(2500));
    let cart =
        core.create_cart(&t, NewCart { channel: None, customer: Some(giulia.id.clone()) }, FIXTURE_NOW + 2).unwrap();
    core.add_to_cart(&t, &cart.id, &cap6.id, 1, FIXTURE_NOW + 2).unwrap();
    let sale = core
        .checkout(
            &t,
            &cart.id,
            CheckoutRequest {
                channel: None,
                fulfilment: ship(),
                customer: Some(giulia.id.clone()),
                email: None,
                note: None,
                expected_total_minor: Some(2500),
            },
            FIXTURE_NOW + 3,
        )
        .unwrap();
    assert_eq!(sale.number, 3, "order numbers continue from the old store");
    assert_eq!(core.stock_levels(&t, &cap6.id).unwrap()[0].available, 1);
    assert_eq!(core.storage_versions(&t).unwrap().outdated(), 0);
}

#[test]
fn old_records_are_rewritten_lazily_by_their_next_write() {
    let b = support::memory();
    load_fixture(&b.core);
    let t = TenantId::new("dolce-vita").unwrap();
    let before = b.core.storage_versions(&t).unwrap().counts[&0];
    let torta = b.core.product_by_handle(&t, "torta-caprese-grande").unwrap();
    assert_eq!(b.core.storage_versions(&t).unwrap().counts[&0], before, "reads write nothing");
    let patch = ProductPatch { title: Some("Torta caprese al cioccolato".into()), ..Default::default() };
    b.core.update_product(&t, &torta.product.id, patch, FIXTURE_NOW + 1).unwrap();
    assert!(raw(&b.core, &format!("t/dolce-vita/prd/{}", torta.product.id)).starts_with("v1:"));
    let variant_key = format!("t/dolce-vita/var/{}", torta.variants[0].id);
    assert!(raw(&b.core, &variant_key).starts_with('{'), "an untouched record stays as it was");
    let versions = b.core.storage_versions(&t).unwrap();
    assert!(versions.counts[&1] >= 1 && versions.outdated() < before, "{versions:?}");
}

#[test]
fn a_record_from_a_newer_version_is_refused_with_what_to_do() {
    let b = support::memory();
    load_fixture(&b.core);
    let t = TenantId::new("dolce-vita").unwrap();
    let torta = b.core.product_by_handle(&t, "torta-caprese-grande").unwrap();
    let key = format!("t/dolce-vita/prd/{}", torta.product.id);
    let mut txn = b.core.store().begin().unwrap();
    txn.put(key.as_bytes(), br#"v7:{"id":"whatever","shape":"of the future"}"#).unwrap();
    txn.commit().unwrap();

    let err = b.core.get_product(&t, &torta.product.id).unwrap_err().to_string();
    assert!(err.contains("storage format version 7") && err.contains("Upgrade this host"), "{err}");
    assert!(err.contains(&key), "the error names the record: {err}");
    assert_eq!(b.core.storage_versions(&t).unwrap().counts[&7], 1);
    let err = b.core.migrate(&t, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("storage format version 7"), "{err}");

    // A value that only looks versioned is named as damaged, not guessed at.
    let mut txn = b.core.store().begin().unwrap();
    txn.put(key.as_bytes(), b"vx:{}").unwrap();
    txn.commit().unwrap();
    let err = b.core.get_product(&t, &torta.product.id).unwrap_err().to_string();
    assert!(err.contains("no valid format version"), "{err}");
}

/// The registry copy of a tenant record is versioned and migrated too.
#[test]
fn the_tenant_registry_is_migrated_with_the_tenant() {
    let b = support::memory();
    load_fixture(&b.core);
    let t = TenantId::new("dolce-vita").unwrap();
    let registry = String::from_utf8(keyspace::registry_key(&t)).unwrap();
    assert!(raw(&b.core, &registry).starts_with('{'));
    b.core.migrate(&t, &mut |_| {}).unwrap();
    assert!(raw(&b.core, &registry).starts_with("v1:{"));
    assert_eq!(b.core.list_tenants().unwrap()[0].name, "Pasticceria Dolce Vita");
}
