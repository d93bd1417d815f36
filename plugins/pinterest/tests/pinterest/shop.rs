//! The demo pastry shop with the Pinterest channel installed and pointed at
//! the stand-in; events as the host delivers them; the plugin's storage
//! read as the admin API reads it.

use omnistore_core::{Money, NewProduct, NewVariant, ProductStatus};
use omnistore_sdk_harness::types::{Event, EventPayload, Image, PluginError, Product, StockChange, Variant};
use omnistore_sdk_harness::{Error, Harness, HarnessBuilder};
use serde_json::Value;

use crate::stand_in::Pinterest;

pub const ACCESS: &str = "pina_tenant_a";
pub const REFRESH: &str = "pinr_tenant_a";
pub const BOARD: &str = "549755885175";
pub const SHOP_URL: &str = "https://dolce-vita.example";
/// 2026-03-02 10:00 UTC.
pub const NOW: i64 = 1_772_445_600_000;

/// The plugin installed with the standard settings, `extra` on top.
pub fn builder(pinterest: &Pinterest, tenant: &str, access: &str, extra: &[(&str, &str)]) -> HarnessBuilder {
    let mut b = Harness::for_plugin("pinterest")
        .tenant(tenant)
        .clock_at(NOW)
        .allow_origin(&pinterest.url())
        .secret("access_token", access)
        .secret("refresh_token", REFRESH)
        .setting("app_id", "app-1")
        .secret("app_secret", "app-secret")
        .setting("country", "IT")
        .setting("language", "it")
        .setting("shop_url", SHOP_URL)
        .setting("board_id", BOARD)
        .setting("api_base_url", &pinterest.url());
    for (k, v) in extra {
        b = if k.contains("token") || k.contains("secret") { b.secret(k, v) } else { b.setting(k, v) };
    }
    b
}

pub fn shop(pinterest: &Pinterest, extra: &[(&str, &str)]) -> Harness {
    pinterest.issue(ACCESS, REFRESH);
    builder(pinterest, "test-tenant", ACCESS, extra)
        .start()
        .expect("the built pinterest plugin loads: run `cargo xtask build-plugins` first")
}

pub fn eur(minor: i64) -> omnistore_sdk_harness::types::Money {
    omnistore_sdk_harness::types::Money { amount_minor: minor, currency: "EUR".into() }
}

/// A product as the channel sees it, one variant per SKU.
pub fn product(id: &str, title: &str, skus: &[&str]) -> Product {
    Product {
        id: id.into(),
        handle: title.to_lowercase().replace(' ', "-"),
        title: title.into(),
        description: format!("<p>{title} <b>fresco</b> &amp; croccante</p>"),
        brand: Some("Dolce Vita".into()),
        tags: vec![],
        collections: vec![],
        images: vec![Image { url: format!("/media/{id}/photo.jpg"), alt: Some(format!("{title} on a plate")) }],
        variants: skus
            .iter()
            .map(|sku| Variant {
                id: format!("v-{sku}"),
                sku: (*sku).into(),
                title: format!("Size {sku}"),
                options: vec![],
                gtin: None,
                weight_grams: Some(120),
                price: eur(350),
                compare_at: None,
                available: 5,
                backorderable: false,
                price_valid_until: None,
            })
            .collect(),
        updated_at: NOW,
        created_at: NOW,
    }
}

pub fn event(id: &str, kind: &str, at: i64, payload: EventPayload) -> Event {
    Event { id: id.into(), kind: kind.into(), occurred_at: at, attempt: 0, payload }
}

pub fn changed(id: &str, p: &Product) -> Event {
    event(id, "product.changed", NOW, EventPayload::ProductChanged(p.clone()))
}

pub fn removed(id: &str, product_id: &str) -> Event {
    event(id, "product.removed", NOW, EventPayload::ProductRemoved(product_id.into()))
}

pub fn stock(id: &str, at: i64, product_id: &str, variant_id: &str, sku: &str, available: i64) -> Event {
    let change =
        StockChange { product_id: product_id.into(), variant_id: variant_id.into(), sku: sku.into(), available };
    event(id, "stock.changed", at, EventPayload::StockChanged(change))
}

/// The plugin asked to be called again later: after how many seconds.
pub fn retry_later(result: Result<(), Error>) -> Option<u32> {
    match result {
        Ok(()) => None,
        Err(Error::Plugin(PluginError::RetryLater(s))) => Some(s),
        Err(e) => panic!("expected success or retry-later, got {e}"),
    }
}

/// Deliver `event` as the host does: again after each retry-later (the
/// clock moved on by the wait), until it is handled.
pub fn deliver(h: &Harness, event: &Event) {
    for _ in 0..10 {
        match retry_later(h.event(event.clone())) {
            None => return,
            Some(s) => h.advance(std::time::Duration::from_secs(u64::from(s))),
        }
    }
    panic!("event {} still asks to be retried after 10 deliveries", event.id);
}

/// The plugin's storage keys starting with `prefix`, in order.
pub fn stored_keys(h: &Harness, prefix: &str) -> Vec<String> {
    h.stored_keys(prefix).unwrap()
}

/// A stored JSON value of the plugin, as the admin API reads it.
pub fn stored(h: &Harness, key: &str) -> Option<Value> {
    h.stored(key).unwrap().map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

/// `n` products with one variant each, active and published to the channel.
/// Returns (product id, variant id, sku).
pub fn many_products(h: &Harness, n: usize) -> Vec<(String, String, String)> {
    let (core, tenant, now) = (h.core(), h.tenant(), h.now_ms());
    (0..n)
        .map(|i| {
            let sku = format!("BULK-{i:04}");
            let detail = core
                .create_product(
                    tenant,
                    NewProduct {
                        handle: format!("bulk-{i:04}"),
                        title: format!("Biscotto {i}"),
                        description: "Biscotto di mandorla".into(),
                        brand: None,
                        tags: vec![],
                        collections: vec![],
                        images: vec![],
                        status: ProductStatus::Active,
                        variants: vec![NewVariant {
                            sku: sku.clone(),
                            title: "Default".into(),
                            options: Default::default(),
                            gtin: None,
                            weight_grams: None,
                            price: Money { amount_minor: 150, currency: "EUR".into() },
                            compare_at: None,
                            backorderable: false,
                        }],
                    },
                    now,
                )
                .unwrap();
            core.publish_product(tenant, &detail.product.id, &h.channel(), now).unwrap();
            (detail.product.id.as_str().to_string(), detail.variants[0].id.as_str().to_string(), sku)
        })
        .collect()
}
