//! Sync through the Catalog Batch API: what is sent and when, coalescing,
//! Graph's errors, the sync state, idempotence.

use std::time::{Duration, Instant};

use omnistore_core::ProductPatch;
use omnistore_sdk_harness::Error as CallError;
use omnistore_sdk_harness::types::PluginError;
use serde_json::Value;

use crate::meta::{Answer, EXPIRED_TOKEN, INVALID_PARAMETER, Meta, RATE_LIMITED};
use crate::shop::{
    CATALOG_ID, NOW, SHOP_URL, TOKEN, builder, installed_event, pending_events, retry_after, shop, skus, start,
    stock_event, stored, stored_keys,
};

const CANNOLO: &str = "cannolo-siciliano-classico";

fn product_id(h: &omnistore_sdk_harness::Harness, handle: &str) -> omnistore_core::ProductId {
    h.core().product_by_handle(h.tenant(), handle).unwrap().product.id
}

/// Change the product's description and deliver the event(s) it makes.
fn change_description(
    h: &omnistore_sdk_harness::Harness,
    handle: &str,
    description: &str,
) -> Vec<omnistore_sdk_harness::types::Event> {
    let id = product_id(h, handle);
    let patch = ProductPatch { description: Some(description.into()), ..ProductPatch::default() };
    h.core().update_product(h.tenant(), &id, patch, h.now_ms()).unwrap();
    let events = pending_events(h);
    assert!(events.iter().any(|e| e.kind == "product.changed"), "{events:?}");
    events
}

fn request_for<'a>(requests: &'a [Value], sku: &str) -> &'a Value {
    requests.iter().find(|r| r["data"]["id"] == sku).unwrap_or_else(|| panic!("no request for {sku}: {requests:#?}"))
}

#[test]
fn a_changed_product_is_created_then_updated_and_each_event_is_sent_once() {
    let meta = Meta::start();
    let h = shop(&meta);
    let events = change_description(&h, CANNOLO, "<p>Crisp shell &amp; <b>ricotta</b></p>");
    for e in &events {
        deliver(&h, e);
    }
    let batches = meta.batches();
    assert_eq!(batches.len(), 1, "{batches:#?}");
    let call = &batches[0];
    assert_eq!(call.path, format!("/v21.0/{CATALOG_ID}/items_batch"));
    assert_eq!(call.param("access_token"), Some(TOKEN));
    assert_eq!(call.param("item_type"), Some("PRODUCT_ITEM"));
    let requests = call.requests();
    let pid = product_id(&h, CANNOLO);
    let grande = request_for(&requests, "DV-01-GRA");
    assert_eq!(grande["method"], "CREATE");
    let d = &grande["data"];
    assert_eq!(d["description"], "Crisp shell & ricotta");
    assert_eq!(d["link"], format!("{SHOP_URL}/products/{CANNOLO}"));
    assert_eq!(d["image_link"], format!("{SHOP_URL}/demo/images/{CANNOLO}.jpg"));
    assert_eq!(d["item_group_id"], pid.as_str());
    assert_eq!(d["size"], "Grande");
    assert_eq!(d["brand"], "Dolce Vita");
    assert_eq!(d["availability"], "in stock");
    assert_eq!(d["google_product_category"], "5750");
    assert!(d["inventory"].as_i64().unwrap() > 0);
    // Cannoli are 20% off: the channel's price is the promotion's.
    let (price, sale) = (d["price"].as_str().unwrap(), d.get("sale_price").and_then(Value::as_str));
    if let Some(sale) = sale {
        assert_ne!(price, sale, "the sale price is under the regular price");
    }

    let state = stored(&h, &format!("sync/product/{pid}")).unwrap();
    assert_eq!(state["status"], "synced", "{state}");
    assert_eq!(state["product_id"], pid.as_str());
    assert_eq!(state["last_synced_ms"], NOW);
    assert_eq!(state["errors"], Value::Array(vec![]));
    assert_eq!(stored(&h, "sync/channel").unwrap()["status"], "ok");
    // The admin's own reader takes what the plugin wrote.
    use omnistore_services::sync_state::{self, ChannelSyncStatus, ProductSyncStatus, Reported};
    let kv = h.core().store().as_ref();
    let channel = sync_state::channel_state(kv, h.tenant(), h.channel().as_str()).unwrap();
    assert!(matches!(&channel, Some(Reported::Read(c)) if c.status == ChannelSyncStatus::Ok), "{channel:?}");
    let products = sync_state::product_states(kv, h.tenant(), h.channel().as_str(), None, 100).unwrap();
    assert!(
        products.iter().any(
            |p| matches!(p, Reported::Read(s) if s.product_id == pid.as_str() && s.status == ProductSyncStatus::Synced)
        ),
        "{products:?}"
    );

    // The same events again: nothing is sent twice.
    for e in &events {
        deliver(&h, e);
    }
    assert_eq!(meta.batches().len(), 1, "a redelivered event sends nothing");

    // A later change is an update, and reads the batch's status first.
    h.advance(Duration::from_secs(2));
    for e in change_description(&h, CANNOLO, "Crisp") {
        deliver(&h, &e);
    }
    let batches = meta.batches();
    assert_eq!(batches.len(), 2);
    assert_eq!(request_for(&batches[1].requests(), "DV-01-GRA")["method"], "UPDATE");
    assert!(meta.calls().iter().any(|c| c.path.ends_with("/check_batch_request_status")));
    meta.assert_conformant();
}

#[test]
fn a_thousand_stock_changes_make_at_most_three_calls_with_each_skus_last_figure() {
    let meta = Meta::start();
    let h = shop(&meta);
    let skus = skus(&h);
    assert!(skus.len() > 20, "{skus:?}");
    let mut last = std::collections::BTreeMap::new();
    let events: Vec<_> = (0..1000)
        .map(|i| {
            let sku = &skus[i % skus.len()];
            // Some SKUs end sold out, the others with a figure of their own.
            let available = if i % 7 == 0 { 0 } else { (i % 13) as i64 + 1 };
            last.insert(sku.clone(), available);
            stock_event(&h, &format!("evt-stock-{i}"), sku, available, NOW + i as i64)
        })
        .collect();

    let started = Instant::now();
    // The host delivers them one after another; those the plugin asks to
    // retry come again a second later.
    // The event that sent a batch stays to read it back (30 s); one does at a time.
    let mut retried = Vec::new();
    let mut reading = Vec::new();
    for e in &events {
        match retry_after(h.event(e.clone())) {
            None => {}
            Some(30) => reading.push(e.clone()),
            Some(after) => {
                assert!(after <= 2, "a short retry: {after} s");
                retried.push(e.clone());
            }
        }
    }
    assert_eq!(reading.len(), 1, "one event reads the batches back");
    let first_pass = started.elapsed();
    h.advance(Duration::from_secs(1));
    for e in &retried {
        assert_eq!(retry_after(h.event(e.clone())), None, "the redelivery is sent or finds its change sent");
    }
    for e in &reading {
        deliver(&h, e);
    }
    assert!(stored_keys(&h, "batch/").is_empty(), "every batch was read back");
    let elapsed = started.elapsed();
    let batches = meta.batches();
    eprintln!(
        "1000 stock changes: {} items_batch calls, {} retried, first pass {first_pass:?}, all {elapsed:?}",
        batches.len(),
        retried.len()
    );
    assert!(batches.len() <= 3, "{} calls", batches.len());
    // The last request naming each SKU carries its last figure.
    let mut sent = std::collections::BTreeMap::new();
    for call in &batches {
        for r in call.requests() {
            sent.insert(r["data"]["id"].as_str().unwrap().to_string(), r["data"].clone());
        }
    }
    for (sku, available) in &last {
        let d = &sent[sku];
        assert_eq!(d["inventory"], *available, "{sku}: {d}");
        let expected = if *available > 0 {
            "in stock"
        } else if sku.starts_with("DV-") && d["availability"] == "available for order" {
            "available for order"
        } else {
            "out of stock"
        };
        assert_eq!(d["availability"], expected, "{sku}: {d}");
    }
    assert!(stored(&h, "pending/DV-01-GRA").is_none(), "nothing is left waiting");
    meta.assert_conformant();
}

#[test]
fn rate_limits_back_off_and_an_expired_token_stops_sending_until_a_new_one_is_saved() {
    let meta = Meta::start();
    let h = shop(&meta);
    meta.then(RATE_LIMITED);
    let wait = retry_after(h.event(stock_event(&h, "e1", "DV-01-GRA", 5, NOW))).expect("a rate limit is retried later");
    assert!(wait >= 60, "{wait}");
    let channel = stored(&h, "sync/channel").unwrap();
    assert_eq!(channel["status"], "rate_limited", "{channel}");
    assert!(channel["message"].as_str().unwrap().contains("seconds"));
    // During the wait, events make no calls.
    h.advance(Duration::from_secs(2));
    assert!(retry_after(h.event(stock_event(&h, "e2", "DV-01-MIG", 4, NOW + 1))).is_some());
    assert_eq!(meta.batches().len(), 1);
    // After it, the redelivery sends both, and stays to read the batch back.
    h.advance(Duration::from_secs(u64::from(wait)));
    assert_eq!(retry_after(h.event(stock_event(&h, "e1", "DV-01-GRA", 5, NOW))), Some(30));
    deliver(&h, &stock_event(&h, "e1", "DV-01-GRA", 5, NOW));
    assert!(stored_keys(&h, "batch/").is_empty(), "the batch was read back");
    let batches = meta.batches();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[1].requests().len(), 2);
    assert_eq!(stored(&h, "sync/channel").unwrap()["status"], "ok");

    // An expired token: the merchant is told, the change waits, nothing retries.
    h.advance(Duration::from_secs(2));
    meta.then(EXPIRED_TOKEN);
    deliver(&h, &stock_event(&h, "e3", "DV-01-GRA", 1, NOW + 10));
    let channel = stored(&h, "sync/channel").unwrap();
    assert_eq!(channel["status"], "needs_reauthorization", "{channel}");
    assert!(channel["message"].as_str().unwrap().contains("access_token"));
    for i in 0..5 {
        h.advance(Duration::from_secs(2));
        deliver(&h, &stock_event(&h, &format!("e4-{i}"), "DV-02-MIG", i, NOW + 20 + i));
    }
    assert_eq!(meta.batches().len(), 3, "no call while the token is refused");
    // Saving a new token (the `installed` event) sends what waited.
    h.advance(Duration::from_secs(2));
    deliver(&h, &installed_event("settings-1", NOW + 100));
    let batches = meta.batches();
    assert_eq!(batches.len(), 4);
    let skus: Vec<_> = batches[3].requests().iter().map(|r| r["data"]["id"].as_str().unwrap().to_string()).collect();
    assert!(skus.contains(&"DV-01-GRA".to_string()) && skus.contains(&"DV-02-MIG".to_string()), "{skus:?}");
    assert_eq!(stored(&h, "sync/channel").unwrap()["status"], "ok");
    meta.assert_conformant();
}

#[test]
fn other_refusals_and_validation_problems_are_recorded_on_the_products() {
    let meta = Meta::start();
    let h = shop(&meta);
    let cannolo = product_id(&h, CANNOLO);
    meta.then(INVALID_PARAMETER);
    deliver(&h, &stock_event(&h, "e1", "DV-01-GRA", 5, NOW));
    let state = stored(&h, &format!("sync/product/{cannolo}")).unwrap();
    assert_eq!(state["status"], "error", "{state}");
    assert_eq!(state["errors"][0]["code"], "100/2310068");
    assert!(state["errors"][0]["message"].as_str().unwrap().starts_with("DV-01-GRA: "), "{state}");
    assert!(stored(&h, "pending/DV-01-GRA").is_none(), "a refused change is not resent by itself");

    // A later change clears it; Meta's validation keeps an item's problem.
    h.advance(Duration::from_secs(2));
    deliver(&h, &stock_event(&h, "e2", "DV-01-GRA", 4, NOW + 1));
    h.advance(Duration::from_secs(2));
    meta.then(Answer::Accept { invalid: vec![("DV-01-MIG", "Invalid image: the image could not be downloaded")] });
    deliver(&h, &stock_event(&h, "e3", "DV-01-MIG", 4, NOW + 2));
    let state = stored(&h, &format!("sync/product/{cannolo}")).unwrap();
    assert_eq!(state["status"], "error", "{state}");
    let errors = state["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{state}");
    assert_eq!(errors[0]["message"], "DV-01-MIG: Invalid image: the image could not be downloaded");

    // The batch status, read back by the event that sent it 30 seconds on
    // (no later change needed), adds its warnings.
    let sfoglia = h.core().variant_by_sku(h.tenant(), "DV-02-MIG").unwrap().product_id;
    meta.report_on_status("DV-02-MIG", &[], &["The brand is longer than 100 characters"]);
    h.advance(Duration::from_secs(2));
    let e4 = stock_event(&h, "e4", "DV-02-MIG", 3, NOW + 3);
    assert_eq!(retry_after(h.event(e4.clone())), Some(30), "sent; it stays to read the batch back");
    let statuses = || meta.calls().iter().filter(|c| c.path.ends_with("/check_batch_request_status")).count();
    let before = statuses();
    h.advance(Duration::from_secs(30));
    assert_eq!(retry_after(h.event(e4)), None, "read back, done");
    assert_eq!(statuses(), before + 1, "one status call for the open batch");
    assert!(stored_keys(&h, "batch/").is_empty());
    let state = stored(&h, &format!("sync/product/{sfoglia}")).unwrap();
    assert_eq!(state["status"], "synced", "{state}");
    assert_eq!(state["warnings"][0]["message"], "DV-02-MIG: The brand is longer than 100 characters", "{state}");
    meta.assert_conformant();
}

#[test]
fn a_removed_product_is_deleted_and_one_never_sent_needs_no_call() {
    let meta = Meta::start();
    let h = shop(&meta);
    let remove = |id: &str, event: &str| omnistore_sdk_harness::types::Event {
        id: event.into(),
        kind: "product.removed".into(),
        occurred_at: h.now_ms(),
        attempt: 0,
        payload: omnistore_sdk_harness::types::EventPayload::ProductRemoved(id.into()),
    };
    let never_sent = product_id(&h, "cannolo-al-cioccolato");
    deliver(&h, &remove(never_sent.as_str(), "r0"));
    assert!(meta.calls().is_empty(), "nothing to delete");
    assert_eq!(stored(&h, &format!("sync/product/{never_sent}")).unwrap()["status"], "removed");

    for e in change_description(&h, CANNOLO, "Crisp") {
        deliver(&h, &e);
    }
    h.advance(Duration::from_secs(2));
    let cannolo = product_id(&h, CANNOLO);
    deliver(&h, &remove(cannolo.as_str(), "r1"));
    let batches = meta.batches();
    assert_eq!(batches.len(), 2);
    let requests = batches[1].requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests.iter().all(|r| r["method"] == "DELETE" && r["data"].as_object().unwrap().len() == 1));
    assert_eq!(stored(&h, &format!("sync/product/{cannolo}")).unwrap()["status"], "removed");
    meta.assert_conformant();
}

#[test]
fn a_missing_setting_fails_the_event_and_names_the_setting() {
    let meta = Meta::start();
    let h = start(builder(&meta).setting("shop_url", ""));
    let err = h.event(stock_event(&h, "e1", "DV-01-GRA", 5, NOW)).unwrap_err();
    let CallError::Plugin(PluginError::Internal(message)) = &err else { panic!("{err:?}") };
    assert!(message.contains("`shop_url`"), "{message}");
    let channel = stored(&h, "sync/channel").unwrap();
    assert_eq!(channel["status"], "misconfigured");
    assert!(channel["message"].as_str().unwrap().contains("`shop_url`"), "{channel}");
    assert!(meta.calls().is_empty());
}

/// Event ids as the core issues them: they sort in commit order.
fn id(n: usize) -> String {
    format!("e-{n:04}")
}

/// Deliver as the host does: again after each retry-later.
fn deliver(h: &omnistore_sdk_harness::Harness, event: &omnistore_sdk_harness::types::Event) {
    for _ in 0..10 {
        match retry_after(h.event(event.clone())) {
            None => return,
            Some(s) => h.advance(Duration::from_secs(u64::from(s))),
        }
    }
    panic!("event {} still asks to be retried", event.id);
}

#[test]
fn handled_event_markers_stay_bounded_and_a_recent_redelivery_is_still_recognised() {
    let meta = Meta::start();
    let h = start(builder(&meta).setting("handled_events_kept", "5"));
    let all = skus(&h);
    let (sku, other) = (&all[0], &all[1]);
    for n in 1..=12 {
        deliver(&h, &stock_event(&h, &id(n), sku, n as i64, h.now_ms()));
        h.advance(Duration::from_secs(2));
    }
    let markers = [stored_keys(&h, "handled/"), stored_keys(&h, "seen/")].concat();
    let newest: Vec<String> = (8..=12).map(|n| format!("handled/{}", id(n))).collect();
    assert_eq!(markers, newest, "only the newest markers are kept, the oldest went first");
    assert_eq!(stored(&h, "handled.count"), Some(Value::from(5)));

    // A redelivery of a recent event is recognised by its id alone: even
    // with a payload never seen, nothing of it is queued or sent.
    let sent = meta.batches().len();
    deliver(&h, &stock_event(&h, &id(12), other, 0, h.now_ms()));
    assert_eq!(stored(&h, &format!("pending/{other}")), None);
    h.advance(Duration::from_secs(2));
    deliver(&h, &stock_event(&h, &id(13), sku, 99, h.now_ms()));
    let batches = meta.batches();
    assert_eq!(batches.len(), sent + 1);
    let requests = batches.last().unwrap().requests();
    assert!(requests.iter().all(|r| r["data"]["id"] == sku.as_str()), "{requests:?}");
    assert_eq!(stored_keys(&h, "handled/").len(), 5);
    meta.assert_conformant();
}

#[test]
fn markers_of_the_earlier_layout_are_recognised_and_drained() {
    let meta = Meta::start();
    let h = shop(&meta);
    let sku = skus(&h)[0].clone();
    // As an earlier version left them: `seen/{id}` with the SKUs, never deleted.
    let base = omnistore_storage::keyspace::plugin_data_prefix(h.tenant(), h.channel().as_str());
    let mut txn = h.core().store().begin().unwrap();
    for n in 1..=40 {
        let mut k = base.clone();
        k.extend_from_slice(format!("seen/{}", id(n)).as_bytes());
        txn.put(&k, b"[]").unwrap();
    }
    txn.commit().unwrap();
    deliver(&h, &stock_event(&h, &id(40), &sku, 1, h.now_ms()));
    assert!(meta.batches().is_empty(), "an event an earlier version handled is not handled again");
    for n in 41..=43 {
        deliver(&h, &stock_event(&h, &id(n), &sku, n as i64, h.now_ms()));
        h.advance(Duration::from_secs(2));
    }
    assert!(stored_keys(&h, "seen/").is_empty(), "drained a batch per new event");
    assert_eq!(stored_keys(&h, "handled/").len(), 3);
}

#[test]
fn a_removed_products_keys_go_once_its_deletion_is_sent() {
    let meta = Meta::start();
    let h = shop(&meta);
    for e in change_description(&h, CANNOLO, "Crisp") {
        deliver(&h, &e);
    }
    h.advance(Duration::from_secs(2));
    let cannolo = product_id(&h, CANNOLO);
    let skus: Vec<String> = serde_json::from_value(stored(&h, &format!("skus/{cannolo}")).unwrap()).unwrap();
    assert!(!skus.is_empty());
    for sku in &skus {
        assert!(stored(&h, &format!("sent/{sku}")).is_some());
    }
    let removal = omnistore_sdk_harness::types::Event {
        id: "r1".into(),
        kind: "product.removed".into(),
        occurred_at: h.now_ms(),
        attempt: 0,
        payload: omnistore_sdk_harness::types::EventPayload::ProductRemoved(cannolo.as_str().into()),
    };
    deliver(&h, &removal);
    assert!(meta.batches().last().unwrap().requests().iter().all(|r| r["method"] == "DELETE"));
    assert_eq!(stored(&h, &format!("skus/{cannolo}")), None);
    for sku in &skus {
        assert_eq!(stored(&h, &format!("sent/{sku}")), None, "sent/{sku} is gone with the product");
        assert_eq!(stored(&h, &format!("pending/{sku}")), None);
    }
    assert_eq!(stored(&h, &format!("sync/product/{cannolo}")).unwrap()["status"], "removed");
    meta.assert_conformant();
}
