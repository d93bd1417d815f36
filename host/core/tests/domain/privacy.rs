//! A tenant's data as one unit (export, delete, import) and a customer's
//! rights of access and erasure: afterwards nothing of them is left.

use std::io::BufReader;

use omnistore_storage::keyspace::{self, IdempotencyScope};

use super::support::*;
use super::*;

per_backend!(
    a_deleted_tenant_leaves_nothing_and_its_export_brings_it_back,
    an_erased_customer_leaves_no_trace,
    an_erased_customers_id_names_no_key_of_the_tenant,
);

/// Entries in every namespace for `t`, as the host's other owners write them.
fn fill_every_namespace(core: &Core, t: &TenantId) {
    let store = core.store();
    let mut txn = store.begin().unwrap();
    let hash = [t.as_str().len() as u8; 32];
    let token = format!(r#"{{"id":"tok_1","tenant":"{t}","label":"api","created_ms":1}}"#);
    txn.put(&keyspace::token_key(&hash), token.as_bytes()).unwrap();
    let hash_hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    txn.put(&keyspace::token_index_key(t, "tok_1"), hash_hex.as_bytes()).unwrap();
    txn.put(&keyspace::idempotency_key(IdempotencyScope::Tenant(t), &[9; 32]), b"{}").unwrap();
    txn.put(&keyspace::mount_key(t, "chn_1"), b"\"/\"").unwrap();
    txn.put(&keyspace::mail_queue_key(t, "m1"), b"{\"to\":\"giulia@example.com\"}").unwrap();
    txn.put(&keyspace::mail_count_key(t), b"1").unwrap();
    txn.put(&[keyspace::plugin_data_prefix(t, "chn_1"), b"visits".to_vec()].concat(), b"7").unwrap();
    txn.put(&keyspace::plugin_usage_key(t, "chn_1"), b"80").unwrap();
    txn.put(&keyspace::tenant_usage_key(t), b"80").unwrap();
    txn.commit().unwrap();
}

/// Every entry that is `t`'s: in its ranges, or a token naming it.
fn entries_of(core: &Core, t: &TenantId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let ranges = keyspace::tenant_ranges(t);
    let needle = format!("\"tenant\":\"{t}\"");
    snapshot(core.store())
        .into_iter()
        .filter(|(k, v)| {
            ranges.iter().any(|r| r.contains(k))
                || (keyspace::Namespace::of(k) == Some(keyspace::Namespace::Tokens)
                    && String::from_utf8_lossy(v).contains(&needle))
        })
        .collect()
}

fn a_deleted_tenant_leaves_nothing_and_its_export_brings_it_back(b: &Backend) {
    let a = shop(&b.core, "alpha");
    let other = shop(&b.core, "alphabet");
    fill_every_namespace(&b.core, &a.t);
    fill_every_namespace(&b.core, &other.t);
    let cart = a.core.create_cart(&a.t, NewCart { channel: Some(a.web.clone()), customer: None }, T0).unwrap();
    a.core.set_cart_line(&a.t, &cart.id, &a.cantucci, 2, T0).unwrap();

    let before_a = entries_of(&b.core, &a.t);
    let before_other = entries_of(&b.core, &other.t);
    assert!(before_a.len() > 30, "the tenant has data in every namespace");

    let mut export = Vec::new();
    let mut seen = Vec::new();
    let report = b.core.export_tenant(&a.t, &mut export, &mut |n| seen.push(n)).unwrap();
    assert_eq!(report.entries as usize, before_a.len(), "every entry is exported");
    assert_eq!(seen.last().copied(), Some(report.entries), "progress reaches the total");

    let deleted = b.core.delete_tenant(&a.t, &mut |_| {}).unwrap();
    assert_eq!(deleted.entries as usize, before_a.len());
    assert!(entries_of(&b.core, &a.t).is_empty(), "nothing of the tenant is left");
    assert!(matches!(b.core.get_tenant(&a.t), Err(CoreError::NotFound { .. })));
    assert_eq!(entries_of(&b.core, &other.t), before_other, "the tenant whose id extends it is untouched");
    assert_eq!(b.core.delete_tenant(&a.t, &mut |_| {}).unwrap().entries, 0, "deleting again is harmless");

    let imported = b.core.import_tenant(&mut BufReader::new(&export[..]), &mut |_| {}).unwrap();
    assert_eq!(imported, a.t);
    assert_eq!(entries_of(&b.core, &a.t), before_a, "the import restores every entry exactly");
    assert_eq!(entries_of(&b.core, &other.t), before_other);
    let again = b.core.import_tenant(&mut BufReader::new(&export[..]), &mut |_| {});
    assert!(matches!(again, Err(CoreError::Conflict(_))), "an existing tenant is not overwritten: {again:?}");
}

fn an_erased_customer_leaves_no_trace(b: &Backend) {
    let s = shop(&b.core, "pasticceria");
    let email = "giulia.rossi@example.com";
    let phone = "+393331234567";
    let giulia = s
        .core
        .create_customer(
            &s.t,
            NewCustomer {
                name: Some("Giulia Rossi".into()),
                identities: vec![Identity::email(email).unwrap(), Identity::phone(phone).unwrap()],
            },
            T0,
        )
        .unwrap();
    let marco = s
        .core
        .create_customer(
            &s.t,
            NewCustomer {
                name: Some("Marco Bianchi".into()),
                identities: vec![Identity::email("marco@example.com").unwrap()],
            },
            T0,
        )
        .unwrap();
    for c in [&giulia, &marco] {
        s.core.set_consent(&s.t, &c.id, ConsentPurpose::EmailMarketing, true, None, "checkout", T0).unwrap();
        s.core
            .record_touchpoint(
                &s.t,
                NewTouchpoint {
                    customer_id: c.id.clone(),
                    kind: "view".into(),
                    channel_id: Some(s.web.clone()),
                    product_id: None,
                    variant_id: None,
                    campaign: None,
                    detail: Some(format!("viewed by {}", c.name.clone().unwrap())),
                    at_ms: T0,
                    visitor_id: None,
                    source: None,
                },
                T0,
            )
            .unwrap();
        let cart = s.core.create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: None }, T0).unwrap();
        s.core.set_cart_line(&s.t, &cart.id, &s.cantucci, 1, T0).unwrap();
        s.core
            .checkout(
                &s.t,
                &cart.id,
                CheckoutRequest {
                    channel: Some(s.web.clone()),
                    fulfilment: if c.id == giulia.id {
                        ship()
                    } else {
                        Fulfilment::Ship {
                            address: Address { name: "Marco Bianchi".into(), line1: "Via Roma 1".into(), ..address() },
                        }
                    },
                    customer: Some(c.id.clone()),
                    email: None,
                    note: Some(format!("ring {}", c.name.clone().unwrap())),
                    expected_total_minor: None,
                },
                T0,
            )
            .unwrap();
    }
    let open = s
        .core
        .create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: Some(giulia.id.clone()) }, T0)
        .unwrap();

    let export = s.core.export_customer(&s.t, &giulia.id, T0 + 1).unwrap();
    assert_eq!(export.customer.id, giulia.id);
    assert_eq!(export.orders.len(), 1);
    assert!(export.touchpoints.iter().any(|t| t.kind == "view"), "{:?}", export.touchpoints);
    assert!(!export.consent_history.is_empty());
    assert!(export.carts.iter().any(|c| c.id == open.id));
    let marco_before = s.core.export_customer(&s.t, &marco.id, T0 + 1).unwrap();

    let report = s.core.erase_customer(&s.t, &giulia.id, T0 + 2).unwrap();
    assert_eq!((report.profiles, report.identities, report.orders_anonymised), (1, 2, 1));
    assert!(report.events_redacted > 0, "events that named her were redacted");

    assert!(matches!(s.core.get_customer(&s.t, &giulia.id), Err(CoreError::NotFound { .. })));
    assert!(s.core.find_customer(&s.t, &Identity::email(email).unwrap()).unwrap().is_none());
    let order = s.core.get_order(&s.t, &export.orders[0].id).unwrap();
    assert_eq!((order.customer_id.clone(), order.email.clone(), order.note.clone()), (None, None, None));
    let Fulfilment::Ship { address } = &order.fulfilment else { panic!("a shipped order") };
    assert_eq!(address.country, "IT", "the country stays for VAT");
    assert_eq!(order.total, export.orders[0].total, "the sale itself is kept");
    // Not one stored byte of the tenant still names her.
    let t_prefix = keyspace::core_prefix(&s.t);
    for (key, value) in snapshot(s.core.store()) {
        let (key, value) = (String::from_utf8_lossy(&key), String::from_utf8_lossy(&value));
        if !key.starts_with(&t_prefix) {
            continue;
        }
        // Her id stays only as the subject of past events and in the erasure
        // log: it points at nothing any more.
        for trace in [email, phone, "Giulia", "Rossi", "Via Toledo"] {
            assert!(!key.contains(trace) && !value.contains(trace), "`{trace}` left in {key}: {value}");
        }
    }
    // Marco is untouched; the erasure log says what was done, without her data.
    assert_eq!(
        serde_json::to_value(s.core.export_customer(&s.t, &marco.id, T0 + 1).unwrap()).unwrap(),
        serde_json::to_value(marco_before).unwrap()
    );
    let log = s.core.erasure_log(&s.t).unwrap();
    assert_eq!(log, vec![report]);
    assert!(matches!(s.core.erase_customer(&s.t, &giulia.id, T0 + 3), Err(CoreError::NotFound { .. })));
}

/// Every key of `t`, read through the store range by range as the tenant's
/// export reads them.
fn keys_of(core: &Core, t: &TenantId) -> Vec<String> {
    let mut txn = core.store().begin().expect("begin");
    let mut keys = Vec::new();
    for range in keyspace::tenant_ranges(t) {
        for (key, _) in txn.scan(&range, usize::MAX).expect("scan") {
            keys.push(String::from_utf8_lossy(&key).into_owned());
        }
    }
    keys
}

fn touch(s: &Shop, customer: &CustomerId, at_ms: i64) {
    let touchpoint = NewTouchpoint {
        customer_id: customer.clone(),
        kind: "view".into(),
        channel_id: Some(s.web.clone()),
        product_id: None,
        variant_id: None,
        campaign: None,
        detail: None,
        at_ms,
        visitor_id: None,
        source: None,
    };
    s.core.record_touchpoint(&s.t, touchpoint, at_ms).unwrap();
}

/// Not even the names of the counters that numbered a customer's touchpoints
/// and consent decisions keep the id of someone erased — nor of a profile
/// merged into theirs, whose counters a merge leaves behind.
fn an_erased_customers_id_names_no_key_of_the_tenant(b: &Backend) {
    let s = shop(&b.core, "keys-forget");
    let new = |email: &str| NewCustomer { name: None, identities: vec![Identity::email(email).unwrap()] };
    let giulia = s.core.create_customer(&s.t, new("giulia@example.com"), T0).unwrap();
    let guest = s.core.create_customer(&s.t, new("giulia.guest@example.com"), T0).unwrap();
    let marco = s.core.create_customer(&s.t, new("marco@example.com"), T0).unwrap();
    for (i, c) in [&giulia, &guest, &marco].into_iter().enumerate() {
        let at = T0 + i as i64;
        touch(&s, &c.id, at);
        touch(&s, &c.id, at + 10);
        for (purpose, granted) in [(ConsentPurpose::EmailMarketing, true), (ConsentPurpose::SmsMarketing, false)] {
            s.core.set_consent(&s.t, &c.id, purpose, granted, Some(&s.web), "checkout", at).unwrap();
        }
        s.core.set_consent(&s.t, &c.id, ConsentPurpose::EmailMarketing, false, None, "unsubscribe link", at).unwrap();
    }
    s.core.merge_customers(&s.t, &giulia.id, &guest.id, T0 + 20).unwrap();
    let named = |id: &CustomerId| keys_of(&s.core, &s.t).into_iter().filter(|k| k.contains(id.as_str())).count();
    assert!(named(&giulia.id) > 0 && named(&guest.id) > 0, "the keys are read where they are");

    s.core.erase_customer(&s.t, &giulia.id, T0 + 30).unwrap();
    for id in [&giulia.id, &guest.id] {
        let left: Vec<String> = keys_of(&s.core, &s.t).into_iter().filter(|k| k.contains(id.as_str())).collect();
        assert!(left.is_empty(), "`{id}` still names {left:?}");
    }
    // Marco's counters go on where they were: his next decision is his fourth.
    assert!(named(&marco.id) > 0);
    s.core.set_consent(&s.t, &marco.id, ConsentPurpose::SmsMarketing, true, None, "shop counter", T0 + 40).unwrap();
    assert_eq!(s.core.consent_history(&s.t, &marco.id).unwrap().len(), 4);
}

/// A tenant's files in memory, checked as a media store checks them.
#[derive(Default)]
struct MemoryFiles(std::sync::Mutex<BTreeMap<(String, String), Vec<u8>>>);

impl TenantFiles for MemoryFiles {
    fn list(&self, tenant: &TenantId) -> std::io::Result<Vec<String>> {
        let files = self.0.lock().unwrap();
        Ok(files.keys().filter(|(t, _)| t == tenant.as_str()).map(|(_, n)| n.clone()).collect())
    }

    fn read(&self, tenant: &TenantId, name: &str) -> std::io::Result<Vec<u8>> {
        let files = self.0.lock().unwrap();
        files.get(&(tenant.to_string(), name.to_string())).cloned().ok_or(std::io::ErrorKind::NotFound.into())
    }

    fn write(&self, tenant: &TenantId, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        if !name.starts_with("media/") || bytes.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not an image file"));
        }
        self.0.lock().unwrap().insert((tenant.to_string(), name.to_string()), bytes.to_vec());
        Ok(())
    }

    fn remove_all(&self, tenant: &TenantId) -> std::io::Result<()> {
        self.0.lock().unwrap().retain(|(t, _), _| t != tenant.as_str());
        Ok(())
    }
}

#[test]
fn a_tenants_images_travel_with_its_export_and_a_refused_import_keeps_none() {
    let b = support::memory();
    let a = shop(&b.core, "alpha");
    let here = MemoryFiles::default();
    here.write(&a.t, "media/aa.png", b"png bytes").unwrap();
    here.write(&a.t, "media/bb.jpg", b"jpeg bytes").unwrap();
    here.write(&TenantId::new("beta").unwrap(), "media/cc.png", b"beta's").unwrap();
    let mut export = Vec::new();
    let report = b.core.export_tenant_with(&a.t, &mut export, &here, &mut |_| {}).unwrap();
    assert_eq!(report.files, 2, "the tenant's files and no other's");
    let text = String::from_utf8(export.clone()).unwrap();
    assert!(text.lines().next().unwrap().contains(r#""version":2"#), "{}", text.lines().next().unwrap());
    assert!(text.lines().last().unwrap().contains(r#""files":2"#));

    let elsewhere = support::memory();
    let there = MemoryFiles::default();
    elsewhere.core.import_tenant_with(&mut BufReader::new(&export[..]), &there, &mut |_| {}).unwrap();
    assert_eq!(there.list(&a.t).unwrap(), ["media/aa.png", "media/bb.jpg"]);
    assert_eq!(there.read(&a.t, "media/bb.jpg").unwrap(), b"jpeg bytes");

    // A file the target refuses, or a file missing from the count: no tenant, no files.
    for damaged in [
        text.replace(r#""file":"media/bb.jpg""#, r#""file":"../bb.jpg""#),
        text.lines().filter(|l| !l.contains("media/aa.png")).collect::<Vec<_>>().join("\n"),
    ] {
        let (core, files) = (support::memory(), MemoryFiles::default());
        let err = core.core.import_tenant_with(&mut BufReader::new(damaged.as_bytes()), &files, &mut |_| {});
        assert!(matches!(err, Err(CoreError::Invalid(_))), "{err:?}");
        assert!(files.list(&a.t).unwrap().is_empty(), "a refused import keeps no file");
        assert!(matches!(core.core.get_tenant(&a.t), Err(CoreError::NotFound { .. })));
    }

    // An export of version 1 (no files) still imports.
    let mut v1 = Vec::new();
    b.core.export_tenant(&a.t, &mut v1, &mut |_| {}).unwrap();
    let v1 = String::from_utf8(v1).unwrap().replace(r#""version":2"#, r#""version":1"#).replace(r#","files":0"#, "");
    let old = support::memory();
    assert_eq!(old.core.import_tenant(&mut BufReader::new(v1.as_bytes()), &mut |_| {}).unwrap(), a.t);
}
