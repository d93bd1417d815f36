//! The demo pastry shop with the Instagram Shop channel installed and
//! pointed at the Meta stand-in; events built or taken from the core's
//! outbox as the host's dispatcher hands them over; the plugin's storage
//! read as the admin API reads the sync state.

use omnistore_core::VariantId;
use omnistore_sdk_harness::types::{Event, EventPayload, PluginError, StockChange};
use omnistore_sdk_harness::{Error as CallError, Harness, HarnessBuilder};
use serde_json::Value;

use crate::meta::Meta;

pub const CATALOG_ID: &str = "1234567890";
pub const TOKEN: &str = "EAAB-test-token";
pub const APP_SECRET: &str = "app-secret-0123";
pub const VERIFY_TOKEN: &str = "a phrase only we know";
pub const SHOP_URL: &str = "https://dolce-vita.example";
/// 2026-03-02 10:00 UTC.
pub const NOW: i64 = 1_772_445_600_000;

pub fn builder(meta: &Meta) -> HarnessBuilder {
    Harness::for_plugin("instagram-shop")
        .clock_at(NOW)
        .allow_origin(&meta.url())
        .setting("catalog_id", CATALOG_ID)
        .secret("access_token", TOKEN)
        .secret("app_secret", APP_SECRET)
        .secret("webhook_verify_token", VERIFY_TOKEN)
        .setting("shop_url", SHOP_URL)
        .setting("graph_api_base", &meta.url())
        .setting("google_product_category", "5750")
}

/// The shop with the plugin installed; the events of the installation
/// itself (the catalog published to the channel) are left undelivered.
pub fn shop(meta: &Meta) -> Harness {
    start(builder(meta))
}

pub fn start(builder: HarnessBuilder) -> Harness {
    let h = builder.start().expect("the built instagram-shop plugin loads: run `cargo xtask build-plugins` first");
    pending_events(&h);
    h
}

/// The events waiting for the plugin's channel, each taken off the queue.
pub fn pending_events(h: &Harness) -> Vec<Event> {
    h.pending_events().unwrap()
}

/// A `stock.changed` event for a SKU, as the host would send it.
pub fn stock_event(h: &Harness, id: &str, sku: &str, available: i64, at: i64) -> Event {
    let variant = h.core().variant_by_sku(h.tenant(), sku).unwrap();
    Event {
        id: id.into(),
        kind: "stock.changed".into(),
        occurred_at: at,
        attempt: 0,
        payload: EventPayload::StockChanged(StockChange {
            product_id: variant.product_id.to_string(),
            variant_id: variant.id.to_string(),
            sku: sku.into(),
            available,
        }),
    }
}

pub fn installed_event(id: &str, at: i64) -> Event {
    Event { id: id.into(), kind: "installed".into(), occurred_at: at, attempt: 0, payload: EventPayload::Installed }
}

/// The SKUs of the demo catalog.
pub fn skus(h: &Harness) -> Vec<String> {
    let products = h.core().list_products(h.tenant(), &Default::default()).unwrap();
    let mut skus = Vec::new();
    for p in products {
        for v in h.core().product_variants(h.tenant(), &p.id).unwrap() {
            skus.push(v.sku);
        }
    }
    skus
}

pub fn variant(h: &Harness, sku: &str) -> VariantId {
    h.core().variant_by_sku(h.tenant(), sku).unwrap().id
}

/// The plugin's storage keys starting with `prefix`, in order.
pub fn stored_keys(h: &Harness, prefix: &str) -> Vec<String> {
    h.stored_keys(prefix).unwrap()
}

/// What the plugin stored under `key`, as JSON.
pub fn stored(h: &Harness, key: &str) -> Option<Value> {
    h.stored(key).unwrap().map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

/// The retry the plugin asked for, if it did.
pub fn retry_after(result: Result<(), CallError>) -> Option<u32> {
    match result {
        Ok(()) => None,
        Err(CallError::Plugin(PluginError::RetryLater(s))) => Some(s),
        Err(e) => panic!("the event failed: {e}"),
    }
}
