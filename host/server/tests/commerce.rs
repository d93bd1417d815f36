//! The commerce imports over the real core, and event delivery.
//!
//! Every scenario runs twice through `per_backend!`: on the in-memory store
//! and on a redb file in a temporary directory. Calls go through
//! `HostServices` exactly as the runtime makes them, with a `CallContext`
//! naming the tenant and installation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use omnistore_core::{
    ChannelId, ChannelPatch, CollectionId, Core, CoreError, DeliveryState, DiscountValue, DomainEventKind, LocationId,
    LocationKind, Money, NewChannel, NewCollection, NewLocation, NewProduct, NewPromotion, NewVariant, ProductId,
    ProductStatus, PromotionConditions, PromotionScope, RetryPolicy, TenantId, VariantId,
};
use omnistore_runtime::types::{self as wit, HostError};
use omnistore_runtime::{CallContext, HostServices, TenantUsage};
use omnistore_server::commerce::{Clock, CoreServices, host_error};
use omnistore_server::dispatcher::{DeliveryFailure, Dispatcher, DispatcherConfig, EventSink, RoundStats};
use omnistore_storage::{KeyRange, KvStore, ReadTxn, StorageError, Txn};

const T0: i64 = 1_700_000_000_000;

// ---- fixtures ----------------------------------------------------------------------------

struct Backend {
    core: Core,
    store: Arc<dyn KvStore>,
    // Dropped after the store: the file outlives it.
    _dir: Option<tempfile::TempDir>,
}

fn memory() -> Backend {
    let store = omnistore_storage::open("memory:").expect("memory store");
    Backend { core: Core::new(store.clone()), store, _dir: None }
}

fn redb() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("redb:{}", dir.path().join("core.redb").display());
    let store = omnistore_storage::open(&spec).expect("redb store");
    Backend { core: Core::new(store.clone()), store, _dir: Some(dir) }
}

macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$name(super::memory()).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redb() {
                    super::$name(super::redb()).await
                }
            }
        )*
    };
}

per_backend!(
    catalog_visibility_per_channel,
    same_cart_same_total_on_two_channels,
    checkout_takes_stock_once,
    no_oversell_under_concurrent_checkouts,
    ingest_twice_gives_one_order,
    tenant_fencing,
    channels_reach_only_their_own_records,
    host_error_mapping,
    customers_touchpoints_and_mail,
    delivery_at_least_once_with_stable_ids,
    retry_later_is_honoured,
    asking_to_be_called_later_never_dead_letters_an_event,
    an_event_deferred_for_a_week_is_a_dead_letter,
    dead_letter_after_max_attempts_and_replay,
    only_subscribed_enabled_channels_receive,
    spawned_dispatcher_wakes_and_stops,
    a_stuck_tenant_does_not_delay_another,
    host_faults_do_not_count_as_attempts,
    mail_queue_is_bounded_per_tenant,
    mail_counts_against_the_tenant_storage_quota,
    customer_list_pages_without_decoding_the_whole_table,
    queued_mail_reaches_the_relay_and_failures_are_kept,
    mail_settings_are_checked_before_use,
    messages_waiting_to_retry_do_not_hold_back_newer_ones,
);

#[path = "commerce/fairness.rs"]
mod fairness;
#[path = "commerce/mail_delivery.rs"]
mod mail_delivery;
#[path = "commerce/storage_limits.rs"]
mod storage_limits;
use fairness::{a_stuck_tenant_does_not_delay_another, host_faults_do_not_count_as_attempts};
use mail_delivery::{
    mail_settings_are_checked_before_use, messages_waiting_to_retry_do_not_hold_back_newer_ones,
    queued_mail_reaches_the_relay_and_failures_are_kept,
};
use storage_limits::{
    customer_list_pages_without_decoding_the_whole_table, mail_counts_against_the_tenant_storage_quota,
    mail_queue_is_bounded_per_tenant,
};

#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new(at: i64) -> Self {
        TestClock(Arc::new(AtomicI64::new(at)))
    }
    fn clock(&self) -> Clock {
        let now = self.0.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    }
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    fn set(&self, at: i64) {
        self.0.store(at, Ordering::SeqCst);
    }
}

fn eur(cents: i64) -> Money {
    Money::new(cents, "EUR").unwrap()
}

fn wit_eur(cents: i64) -> wit::Money {
    wit::Money { amount_minor: cents, currency: "EUR".into() }
}

/// A pastry shop: a warehouse and a shop, three channels and a few products.
struct Shop {
    t: TenantId,
    lab: LocationId,
    negozio: LocationId,
    /// Subscribed to `order.*`; no safety buffer.
    web: ChannelId,
    /// Subscribed to product and stock changes; keeps 2 units back.
    insta: ChannelId,
    /// Subscribed to everything, but switched off.
    pins: ChannelId,
    cannoli: CollectionId,
    /// 3.50, cannoli collection (20% off automatically), 10 at the lab; web + insta.
    cannolo: (ProductId, VariantId),
    /// 4.00, cannoli collection, 5 at the lab; web only.
    pistacchio: (ProductId, VariantId),
    /// 28.00, 3 at the lab; web + insta.
    cassata: (ProductId, VariantId),
    /// 2.20, 3 at the lab; web + insta.
    sfogliatella: (ProductId, VariantId),
    /// 40.00, made to order (backorderable), no stock; web + insta.
    torta: (ProductId, VariantId),
    /// A draft in the cannoli collection, published but not on sale.
    bozza: (ProductId, VariantId),
}

fn shop(core: &Core, tenant: &str) -> Shop {
    let t = TenantId::new(tenant).unwrap();
    core.create_tenant(&t, "Pasticceria Dolce Vita", "EUR", T0).unwrap();
    let location = |name: &str, kind, pickup| {
        core.create_location(&t, NewLocation { name: name.into(), kind, pickup_enabled: pickup, address: None }, T0)
            .unwrap()
            .id
    };
    let lab = location("Laboratorio", LocationKind::Warehouse, false);
    let negozio = location("Negozio", LocationKind::Shop, true);
    let channel = |plugin: &str, subs: &[&str], enabled: bool, buffer: i64| {
        core.install_channel(
            &t,
            NewChannel {
                plugin_id: plugin.into(),
                version: "1.0.0".into(),
                name: plugin.into(),
                subscriptions: subs.iter().map(|s| s.to_string()).collect(),
                enabled,
                safety_buffer: buffer,
                ..Default::default()
            },
            T0,
        )
        .unwrap()
        .id
    };
    let web = channel("web-storefront", &["order.*"], true, 0);
    let insta = channel("instagram", &["product.changed", "stock.changed"], true, 2);
    let pins = channel("pinterest", &["*"], false, 0);
    let cannoli = core
        .create_collection(
            &t,
            NewCollection { handle: "cannoli".into(), title: "Cannoli".into(), description: String::new() },
            T0,
        )
        .unwrap()
        .id;
    core.create_collection(
        &t,
        NewCollection { handle: "torte".into(), title: "Torte".into(), description: String::new() },
        T0,
    )
    .unwrap();
    struct P<'a> {
        handle: &'a str,
        sku: &'a str,
        cents: i64,
        collection: bool,
        stock: i64,
        channels: &'a [&'a ChannelId],
        status: ProductStatus,
        backorderable: bool,
    }
    let product = |p: P<'_>| {
        let d = core
            .create_product(
                &t,
                NewProduct {
                    handle: p.handle.into(),
                    title: p.handle.into(),
                    description: format!("{} fresco", p.handle),
                    brand: Some("Dolce Vita".into()),
                    tags: vec![],
                    collections: if p.collection { vec![cannoli.clone()] } else { vec![] },
                    images: vec![],
                    status: p.status,
                    variants: vec![NewVariant {
                        sku: p.sku.into(),
                        title: "Standard".into(),
                        options: BTreeMap::from([("Formato".to_string(), "Normale".to_string())]),
                        gtin: None,
                        weight_grams: Some(120),
                        price: eur(p.cents),
                        compare_at: None,
                        backorderable: p.backorderable,
                    }],
                },
                T0,
            )
            .unwrap();
        let v = d.variants[0].id.clone();
        if p.stock > 0 {
            core.receive_stock(&t, &v, &lab, p.stock, None, T0).unwrap();
        }
        for ch in p.channels {
            core.publish_product(&t, &d.product.id, ch, T0).unwrap();
        }
        (d.product.id, v)
    };
    let both: &[&ChannelId] = &[&web, &insta];
    let active = ProductStatus::Active;
    let cannolo = product(P {
        handle: "cannolo",
        sku: "CAN-1",
        cents: 350,
        collection: true,
        stock: 10,
        channels: both,
        status: active,
        backorderable: false,
    });
    let pistacchio = product(P {
        handle: "cannolo-pistacchio",
        sku: "CAN-P",
        cents: 400,
        collection: true,
        stock: 5,
        channels: &[&web],
        status: active,
        backorderable: false,
    });
    let cassata = product(P {
        handle: "cassata",
        sku: "CAS-1",
        cents: 2800,
        collection: false,
        stock: 3,
        channels: both,
        status: active,
        backorderable: false,
    });
    let sfogliatella = product(P {
        handle: "sfogliatella",
        sku: "SFO-1",
        cents: 220,
        collection: false,
        stock: 3,
        channels: both,
        status: active,
        backorderable: false,
    });
    let torta = product(P {
        handle: "torta-su-ordinazione",
        sku: "TOR-1",
        cents: 4000,
        collection: false,
        stock: 0,
        channels: both,
        status: active,
        backorderable: true,
    });
    let bozza = product(P {
        handle: "bozza",
        sku: "BOZ-1",
        cents: 100,
        collection: true,
        stock: 1,
        channels: both,
        status: ProductStatus::Draft,
        backorderable: false,
    });
    let promo = |name: &str, scope, value, conditions, code: Option<&str>| {
        core.create_promotion(
            &t,
            NewPromotion { name: name.into(), scope, value, conditions, code: code.map(Into::into), usage_limit: None },
            T0,
        )
        .unwrap();
    };
    promo(
        "20% off cannoli",
        PromotionScope::Line,
        DiscountValue::Percent { bps: 2000 },
        PromotionConditions { collections: vec![cannoli.clone()], ..Default::default() },
        None,
    );
    promo("Dolce 10", PromotionScope::Order, DiscountValue::Percent { bps: 1000 }, Default::default(), Some("DOLCE10"));
    promo(
        "Big spender",
        PromotionScope::Order,
        DiscountValue::AmountOff { amount_minor: 500 },
        PromotionConditions { min_subtotal_minor: Some(1_000_000), ..Default::default() },
        Some("BIG"),
    );
    Shop { t, lab, negozio, web, insta, pins, cannoli, cannolo, pistacchio, cassata, sfogliatella, torta, bozza }
}

fn cx(tenant: &TenantId, channel: &ChannelId, plugin: &str) -> CallContext {
    CallContext {
        tenant: omnistore_runtime::TenantId::new(tenant.as_str()).unwrap(),
        installation: channel.to_string(),
        plugin: plugin.into(),
        preview: false,
    }
}

impl Shop {
    fn web(&self) -> CallContext {
        cx(&self.t, &self.web, "web-storefront")
    }
    fn insta(&self) -> CallContext {
        cx(&self.t, &self.insta, "instagram")
    }
}

fn address() -> wit::Address {
    wit::Address {
        name: "Giulia Rossi".into(),
        line1: "Via Toledo 10".into(),
        line2: None,
        city: "Napoli".into(),
        region: Some("NA".into()),
        postal_code: "80134".into(),
        country: "IT".into(),
        phone: None,
    }
}

fn ship() -> wit::Fulfillment {
    wit::Fulfillment::Ship(address())
}

fn services(b: &Backend) -> CoreServices {
    CoreServices::new(b.core.clone())
}

#[track_caller]
fn expect_not_found<T>(r: Result<T, HostError>) {
    match r {
        Err(HostError::NotFound(_)) => {}
        Err(e) => panic!("expected not-found, got {e:?}"),
        Ok(_) => panic!("expected not-found, got a value"),
    }
}

#[track_caller]
fn expect_invalid<T>(r: Result<T, HostError>) -> String {
    match r {
        Err(HostError::Invalid(m)) => m,
        Err(e) => panic!("expected invalid, got {e:?}"),
        Ok(_) => panic!("expected invalid, got a value"),
    }
}

#[track_caller]
fn expect_conflict<T>(r: Result<T, HostError>) -> String {
    match r {
        Err(HostError::Conflict(m)) => m,
        Err(e) => panic!("expected conflict, got {e:?}"),
        Ok(_) => panic!("expected conflict, got a value"),
    }
}

#[track_caller]
fn expect_unavailable<T>(r: Result<T, HostError>) -> String {
    match r {
        Err(HostError::Unavailable(m)) => m,
        Err(e) => panic!("expected unavailable, got {e:?}"),
        Ok(_) => panic!("expected unavailable, got a value"),
    }
}

fn handles(page: &wit::ProductPage) -> Vec<String> {
    page.products.iter().map(|p| p.handle.clone()).collect()
}

/// Every key and value of a tenant in the store.
fn tenant_snapshot(store: &Arc<dyn KvStore>, tenant: &TenantId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut txn = store.begin().unwrap();
    txn.scan(&KeyRange::prefix(format!("t/{tenant}/").as_bytes()), usize::MAX).unwrap()
}

// ---- the commerce imports ---------------------------------------------------------

async fn catalog_visibility_per_channel(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = services(&b);

    let web = svc.list_products(&s.web(), None, 100).await.unwrap();
    assert_eq!(handles(&web), ["cannolo", "cannolo-pistacchio", "cassata", "sfogliatella", "torta-su-ordinazione"]);
    assert_eq!(web.next, None);
    let insta = svc.list_products(&s.insta(), None, 100).await.unwrap();
    assert_eq!(handles(&insta), ["cannolo", "cassata", "sfogliatella", "torta-su-ordinazione"]);

    // Not published on insta: invisible by id, handle and SKU.
    let pid = s.pistacchio.0.to_string();
    assert!(svc.get_product(&s.insta(), &pid).await.unwrap().is_none());
    assert!(svc.get_product_by_handle(&s.insta(), "cannolo-pistacchio").await.unwrap().is_none());
    assert!(svc.find_sku(&s.insta(), "CAN-P").await.unwrap().is_none());
    assert!(svc.get_product(&s.web(), &pid).await.unwrap().is_some());
    assert!(svc.get_product_by_handle(&s.web(), "cannolo-pistacchio").await.unwrap().is_some());
    // A draft is invisible everywhere, although published.
    assert!(svc.get_product(&s.web(), s.bozza.0.as_str()).await.unwrap().is_none());
    assert!(svc.find_sku(&s.web(), "BOZ-1").await.unwrap().is_none());
    // Unknown ids are `none`, not errors.
    assert!(svc.get_product(&s.web(), "prd-nope").await.unwrap().is_none());
    assert!(svc.get_product_by_handle(&s.web(), "nope").await.unwrap().is_none());
    assert!(svc.find_sku(&s.web(), "NOPE").await.unwrap().is_none());

    // Price after the automatic promotion, struck-through base price.
    let cannolo = svc.get_product(&s.web(), s.cannolo.0.as_str()).await.unwrap().unwrap();
    let v = &cannolo.variants[0];
    assert_eq!((v.price.amount_minor, v.price.currency.as_str()), (280, "EUR"));
    assert_eq!(v.compare_at.as_ref().map(|m| m.amount_minor), Some(350));
    assert_eq!(v.sku, "CAN-1");
    assert_eq!(v.weight_grams, Some(120));
    assert_eq!(v.options.len(), 1);
    assert_eq!(cannolo.collections, [s.cannoli.to_string()]);
    let (p, v) = svc.find_sku(&s.insta(), "CAS-1").await.unwrap().unwrap();
    assert_eq!((p.handle.as_str(), v.price.amount_minor), ("cassata", 2800));
    assert!(v.compare_at.is_none());

    // Availability after the channel's safety buffer.
    let on = |page: &wit::ProductPage, handle: &str| {
        let p = page.products.iter().find(|p| p.handle == handle).unwrap();
        (p.variants[0].available, p.variants[0].backorderable)
    };
    assert_eq!(on(&web, "cannolo"), (10, false));
    assert_eq!(on(&insta, "cannolo"), (8, false));
    assert_eq!(on(&insta, "cassata"), (1, false));
    assert_eq!(on(&web, "torta-su-ordinazione"), (0, true));
    // Made to order: sold although there is no stock.
    let cart = svc.create_cart(&s.insta(), None).await.unwrap();
    let cart = svc.set_cart_quantity(&s.insta(), &cart.id, s.torta.1.as_str(), 2).await.unwrap();
    assert_eq!(cart.total.amount_minor, 8000);

    // Cursor paging: every product once, in order, then no cursor.
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = svc.list_products(&s.web(), cursor.clone(), 2).await.unwrap();
        assert!(page.products.len() <= 2);
        seen.extend(handles(&page));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, handles(&web));
    assert_eq!(cursor, None);
    // Limit 0 is treated as 1, never as "everything".
    assert_eq!(svc.list_products(&s.web(), None, 0).await.unwrap().products.len(), 1);

    // Collections: only what the channel shows, paged.
    let cid = s.cannoli.to_string();
    let c_insta = svc.list_collection_products(&s.insta(), &cid, None, 10).await.unwrap();
    assert_eq!(handles(&c_insta), ["cannolo"]);
    assert_eq!(c_insta.next, None);
    let first = svc.list_collection_products(&s.web(), &cid, None, 1).await.unwrap();
    assert_eq!(handles(&first), ["cannolo"]);
    let second = svc.list_collection_products(&s.web(), &cid, first.next.clone(), 1).await.unwrap();
    assert_eq!(handles(&second), ["cannolo-pistacchio"]);
    assert_eq!(second.next, None, "the draft after it is not shown, so there is no next page");
    expect_not_found(svc.list_collection_products(&s.web(), "col-nope", None, 10).await);
    let collections = svc.list_collections(&s.insta()).await.unwrap();
    assert_eq!(collections.iter().map(|c| c.handle.as_str()).collect::<Vec<_>>(), ["cannoli", "torte"]);

    // A cursor the host never issued.
    expect_invalid(svc.list_products(&s.web(), Some("x".repeat(1000)), 10).await);
}

async fn same_cart_same_total_on_two_channels(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = services(&b);

    let cart = svc.create_cart(&s.web(), None).await.unwrap();
    assert_eq!(cart.total.amount_minor, 0);
    assert_eq!(cart.total.currency, "EUR");
    svc.set_cart_quantity(&s.web(), &cart.id, s.cannolo.1.as_str(), 3).await.unwrap();
    let on_web = svc.set_cart_quantity(&s.web(), &cart.id, s.cassata.1.as_str(), 1).await.unwrap();
    // 3 × 3.50 − 20% = 8.40, plus 28.00.
    assert_eq!(on_web.subtotal.amount_minor, 3850);
    assert_eq!(on_web.total.amount_minor, 3640);
    assert_eq!(on_web.discount.amount_minor, 210);
    assert_eq!(on_web.promotions, ["20% off cannoli"]);
    assert_eq!(on_web.lines.iter().map(|l| l.total.amount_minor).sum::<i64>(), on_web.total.amount_minor);
    assert!(on_web.expires_at > T0);

    // A channel reaches only its own carts: the other channel is told it does not exist.
    expect_not_found(svc.get_cart(&s.insta(), &cart.id).await);

    // Identical carts built on each channel.
    let on_insta = svc.create_cart(&s.insta(), None).await.unwrap();
    let insta_total = svc.set_cart_quantity(&s.insta(), &on_insta.id, s.cannolo.1.as_str(), 3).await.unwrap().total;
    let on_web = svc.create_cart(&s.web(), None).await.unwrap();
    let web_total = svc.set_cart_quantity(&s.web(), &on_web.id, s.cannolo.1.as_str(), 3).await.unwrap().total;
    assert_eq!((insta_total.amount_minor, web_total.amount_minor), (840, 840));
    // Insta keeps 2 cassate back and web's cart holds one of 3: none left for insta.
    let msg = expect_conflict(svc.set_cart_quantity(&s.insta(), &on_insta.id, s.cassata.1.as_str(), 1).await);
    assert!(msg.contains("insufficient stock"), "{msg}");
    assert_eq!(svc.get_cart(&s.insta(), &on_insta.id).await.unwrap().lines.len(), 1);

    // A code: the same discount whichever channel reads the cart.
    let coded = svc.apply_code(&s.web(), &cart.id, " dolce10 ").await.unwrap();
    assert_eq!(coded.codes, ["DOLCE10"]);
    assert_eq!(coded.total.amount_minor, 3640 - 364);
    assert_eq!(svc.get_cart(&s.web(), &cart.id).await.unwrap().total.amount_minor, coded.total.amount_minor);
    // A code whose conditions are not met, and one that does not exist.
    expect_invalid(svc.apply_code(&s.web(), &cart.id, "BIG").await);
    expect_invalid(svc.apply_code(&s.web(), &cart.id, "NOPE").await);
    assert_eq!(svc.get_cart(&s.web(), &cart.id).await.unwrap().codes, ["DOLCE10"]);
    expect_not_found(svc.remove_code(&s.insta(), &cart.id, "DOLCE10").await);
    let removed = svc.remove_code(&s.web(), &cart.id, "DOLCE10").await.unwrap();
    assert_eq!(removed.total.amount_minor, 3640);

    // A line of a product the channel does not show cannot be added there.
    expect_not_found(svc.set_cart_quantity(&s.insta(), &on_insta.id, s.pistacchio.1.as_str(), 1).await);
    // Quantity 0 removes a line.
    let fewer = svc.set_cart_quantity(&s.web(), &cart.id, s.cassata.1.as_str(), 0).await.unwrap();
    assert_eq!(fewer.lines.len(), 1);
}

async fn checkout_takes_stock_once(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = services(&b);
    let (_, cassata) = &s.cassata;

    let cart = svc.create_cart(&s.web(), None).await.unwrap();
    svc.set_cart_quantity(&s.web(), &cart.id, cassata.as_str(), 2).await.unwrap();
    let order = svc.checkout(&s.web(), &cart.id, ship()).await.unwrap();
    assert_eq!(order.channel, s.web.to_string());
    assert_eq!(order.total.amount_minor, 5600);
    assert!(matches!(order.status, wit::OrderStatus::Placed));
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].quantity, 2);
    match &order.fulfillment {
        wit::Fulfillment::Ship(a) => assert_eq!(a.city, "Napoli, NA"),
        other => panic!("unexpected fulfillment {other:?}"),
    }
    assert_eq!(b.core.availability(&s.t, cassata, None, None, T0).unwrap(), 1);

    // Checking out again returns the same order and takes nothing more.
    let again = svc.checkout(&s.web(), &cart.id, ship()).await.unwrap();
    assert_eq!(again.id, order.id);
    assert_eq!(b.core.availability(&s.t, cassata, None, None, T0).unwrap(), 1);
    assert_eq!(b.core.list_orders(&s.t, &Default::default()).unwrap().len(), 1);

    // Orders are one list for the merchant; another channel reaches an order
    // only when it is handed one in an event.
    expect_not_found(svc.get_order(&s.insta(), &order.id).await);
    expect_not_found(svc.checkout(&s.insta(), &cart.id, ship()).await);
    // The cart is spent.
    expect_conflict(svc.set_cart_quantity(&s.web(), &cart.id, cassata.as_str(), 1).await);
    expect_conflict(svc.get_cart(&s.web(), &cart.id).await);

    // Pickup: at a shop with pickup, from that shop's stock.
    b.core.receive_stock(&s.t, &s.sfogliatella.1, &s.negozio, 2, None, T0).unwrap();
    let pickup = svc.create_cart(&s.web(), None).await.unwrap();
    svc.set_cart_quantity(&s.web(), &pickup.id, s.sfogliatella.1.as_str(), 2).await.unwrap();
    let order = svc.checkout(&s.web(), &pickup.id, wit::Fulfillment::Pickup(s.negozio.to_string())).await.unwrap();
    assert!(matches!(&order.fulfillment, wit::Fulfillment::Pickup(l) if *l == s.negozio.to_string()));
    let at_shop = b.core.stock_level(&s.t, &s.sfogliatella.1, &s.negozio).unwrap();
    assert_eq!(at_shop.available, 0);
    let at_lab = b.core.stock_level(&s.t, &s.sfogliatella.1, &s.lab).unwrap();
    assert_eq!(at_lab.available, 3);

    // An empty cart cannot be checked out.
    let empty = svc.create_cart(&s.web(), None).await.unwrap();
    expect_invalid(svc.checkout(&s.web(), &empty.id, ship()).await);
}

async fn no_oversell_under_concurrent_checkouts(b: Backend) {
    let s = Arc::new(shop(&b.core, "dolce-vita"));

    // Whole flows (cart, hold, checkout) racing from both channels. Without
    // a safety buffer every failure means all units were held by carts that
    // then check out, so exactly the stock is sold. (With insta's buffer, a
    // cart holding the unit insta may sell can still be refused at checkout:
    // the core releases the hold and applies the buffer again.)
    b.core.update_channel(&s.t, &s.insta, ChannelPatch { safety_buffer: Some(0), ..Default::default() }, T0).unwrap();
    let svc = Arc::new(services(&b));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (svc, s) = (svc.clone(), s.clone());
        tasks.push(tokio::spawn(async move {
            let c = if i % 2 == 0 { s.web() } else { s.insta() };
            let cart = svc.create_cart(&c, None).await?;
            svc.set_cart_quantity(&c, &cart.id, s.cassata.1.as_str(), 1).await?;
            svc.checkout(&c, &cart.id, ship()).await
        }));
    }
    let mut sold = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(order) => sold += order.lines[0].quantity,
            Err(HostError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(sold, 3, "exactly the stock is sold");
    assert_eq!(b.core.availability(&s.t, &s.cassata.1, None, None, T0).unwrap(), 0);
    for level in b.core.stock_levels(&s.t, &s.cassata.1).unwrap() {
        assert!(level.on_hand >= 0 && level.available >= 0, "{level:?}");
    }

    // Checkout itself as the contended step, with insta's buffer back: carts
    // filled while stock was free (their holds have expired since), then
    // checked out all at once. Web sells until none is left, insta only
    // while 3 remain, so again exactly the stock is sold.
    b.core.update_channel(&s.t, &s.insta, ChannelPatch { safety_buffer: Some(2), ..Default::default() }, T0).unwrap();
    let clock = TestClock::new(T0);
    let svc = Arc::new(services(&b).with_clock(clock.clock()).with_cart_ttl(Duration::from_secs(1)));
    let mut carts = Vec::new();
    for i in 0..8 {
        clock.set(T0 + 10_000 + i * 2_000);
        let c = if i % 2 == 0 { s.web() } else { s.insta() };
        let cart = svc.create_cart(&c, None).await.unwrap();
        svc.set_cart_quantity(&c, &cart.id, s.sfogliatella.1.as_str(), 1).await.unwrap();
        carts.push((c, cart.id));
    }
    clock.set(T0 + 100_000);
    let mut tasks = Vec::new();
    for (c, id) in carts {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move { svc.checkout(&c, &id, ship()).await }));
    }
    let mut sold = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(order) => sold += order.lines[0].quantity,
            Err(HostError::Conflict(m)) => assert!(m.contains("insufficient stock"), "{m}"),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(sold, 3);
    assert_eq!(b.core.availability(&s.t, &s.sfogliatella.1, None, None, clock.now()).unwrap(), 0);
}

async fn ingest_twice_gives_one_order(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = services(&b);
    let incoming = |external: &str, quantity: u32, total: i64| wit::IncomingOrder {
        external_id: external.into(),
        customer: Some(wit::Identity { kind: wit::IdentityKind::SocialHandle, value: "@Giulia.R".into() }),
        customer_name: Some("Giulia".into()),
        lines: vec![wit::IncomingOrderLine { sku: "CAN-1".into(), quantity, unit_price: wit_eur(300) }],
        fulfillment: ship(),
        total: wit_eur(total),
    };
    let before = b.core.availability(&s.t, &s.cannolo.1, None, None, T0).unwrap();
    let first = svc.ingest_order(&s.insta(), incoming("IG-1001", 2, 600)).await.unwrap();
    let second = svc.ingest_order(&s.insta(), incoming("IG-1001", 2, 600)).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(first.external_id.as_deref(), Some("IG-1001"));
    assert_eq!(first.channel, s.insta.to_string());
    assert_eq!(first.total.amount_minor, 600, "at the channel's prices");
    assert_eq!(b.core.availability(&s.t, &s.cannolo.1, None, None, T0).unwrap(), before - 2, "one stock movement");
    let orders = b.core.list_orders(&s.t, &Default::default()).unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].note, None, "the lines add up to the channel's total");

    // Found by external id on its channel only.
    let found = svc.find_order_by_external_id(&s.insta(), "IG-1001").await.unwrap().unwrap();
    assert_eq!(found.id, first.id);
    assert!(svc.find_order_by_external_id(&s.web(), "IG-1001").await.unwrap().is_none());

    // The customer came with the order, known by the handle on that network.
    // Known to the channel that ingested it; the others are handed it only in an event.
    let customer = svc.get_customer(&s.insta(), first.customer_id.as_deref().unwrap()).await.unwrap();
    expect_not_found(svc.get_customer(&s.web(), first.customer_id.as_deref().unwrap()).await);
    assert!(matches!(customer.identities[0].kind, wit::IdentityKind::SocialHandle));
    assert_eq!(customer.identities[0].value, "giulia.r");
    let again = svc
        .identify_customer(
            &s.insta(),
            wit::Identity { kind: wit::IdentityKind::SocialHandle, value: "giulia.r".into() },
            None,
        )
        .await
        .unwrap();
    assert_eq!(again.id, customer.id);

    // A channel total beyond the lines (shipping) is kept on the order.
    let shipped = svc.ingest_order(&s.insta(), incoming("IG-1002", 1, 790)).await.unwrap();
    let note = b.core.get_order(&s.t, &shipped.id.as_str().into()).unwrap().note.unwrap_or_default();
    assert!(note.contains("790"), "{note}");

    // Bad orders change nothing.
    let before = b.core.availability(&s.t, &s.cannolo.1, None, None, T0).unwrap();
    let mut unknown = incoming("IG-2", 1, 300);
    unknown.lines[0].sku = "NOPE".into();
    expect_not_found(svc.ingest_order(&s.insta(), unknown).await);
    expect_invalid(svc.ingest_order(&s.insta(), incoming("IG-3", 0, 0)).await);
    let msg = expect_conflict(svc.ingest_order(&s.insta(), incoming("IG-4", 1000, 300_000)).await);
    assert!(msg.contains("insufficient stock"), "{msg}");
    assert_eq!(b.core.availability(&s.t, &s.cannolo.1, None, None, T0).unwrap(), before);
    assert_eq!(b.core.list_orders(&s.t, &Default::default()).unwrap().len(), 2);
}

async fn tenant_fencing(b: Backend) {
    let a = shop(&b.core, "dolce-vita");
    let svc = services(&b);
    let tb = TenantId::new("altro").unwrap();
    b.core.create_tenant(&tb, "Altro", "EUR", T0).unwrap();
    let web_b = b
        .core
        .install_channel(
            &tb,
            NewChannel {
                plugin_id: "web-storefront".into(),
                version: "1.0.0".into(),
                name: "web".into(),
                enabled: true,
                ..Default::default()
            },
            T0,
        )
        .unwrap()
        .id;
    let bcx = cx(&tb, &web_b, "web-storefront");

    // Tenant A's records.
    let customer = svc
        .identify_customer(
            &a.web(),
            wit::Identity { kind: wit::IdentityKind::Email, value: "giulia@example.com".into() },
            None,
        )
        .await
        .unwrap();
    let cart = svc.create_cart(&a.web(), Some(customer.id.clone())).await.unwrap();
    svc.set_cart_quantity(&a.web(), &cart.id, a.cannolo.1.as_str(), 1).await.unwrap();
    let spent = svc.create_cart(&a.web(), None).await.unwrap();
    svc.set_cart_quantity(&a.web(), &spent.id, a.cannolo.1.as_str(), 1).await.unwrap();
    let order = svc.checkout(&a.web(), &spent.id, ship()).await.unwrap();
    let ingested = svc
        .ingest_order(
            &a.web(),
            wit::IncomingOrder {
                external_id: "EXT-1".into(),
                customer: None,
                customer_name: None,
                lines: vec![wit::IncomingOrderLine { sku: "CAN-1".into(), quantity: 1, unit_price: wit_eur(350) }],
                fulfillment: ship(),
                total: wit_eur(350),
            },
        )
        .await
        .unwrap();
    let snapshot = tenant_snapshot(&b.store, &a.t);

    // Tenant B's context reaches none of it by id.
    expect_not_found(svc.get_cart(&bcx, &cart.id).await);
    expect_not_found(svc.set_cart_quantity(&bcx, &cart.id, a.cannolo.1.as_str(), 2).await);
    expect_not_found(svc.set_cart_quantity(&bcx, &cart.id, a.cannolo.1.as_str(), 0).await);
    expect_not_found(svc.apply_code(&bcx, &cart.id, "DOLCE10").await);
    expect_not_found(svc.remove_code(&bcx, &cart.id, "DOLCE10").await);
    expect_not_found(svc.set_cart_customer(&bcx, &cart.id, &customer.id).await);
    expect_not_found(svc.checkout(&bcx, &cart.id, ship()).await);
    expect_not_found(svc.get_order(&bcx, &order.id).await);
    expect_not_found(svc.get_customer(&bcx, &customer.id).await);
    expect_not_found(svc.set_consent(&bcx, &customer.id, wit::ConsentPurpose::EmailMarketing, true).await);
    let touch = wit::Touchpoint {
        kind: "view".into(),
        visitor_id: None,
        source: None,
        customer_id: Some(customer.id.clone()),
        product_id: None,
        variant_id: None,
        campaign_id: None,
        detail: None,
    };
    expect_not_found(svc.record_touchpoint(&bcx, touch).await);
    assert!(svc.get_product(&bcx, a.cannolo.0.as_str()).await.unwrap().is_none());
    assert!(svc.find_sku(&bcx, "CAN-1").await.unwrap().is_none());
    assert!(svc.get_product_by_handle(&bcx, "cannolo").await.unwrap().is_none());
    assert!(svc.find_order_by_external_id(&bcx, "EXT-1").await.unwrap().is_none());
    assert!(svc.list_products(&bcx, None, 100).await.unwrap().products.is_empty());
    assert!(svc.list_collections(&bcx).await.unwrap().is_empty());
    expect_not_found(svc.list_collection_products(&bcx, a.cannoli.as_str(), None, 10).await);
    // B's own cart cannot take A's variant either.
    let b_cart = svc.create_cart(&bcx, None).await.unwrap();
    expect_not_found(svc.set_cart_quantity(&bcx, &b_cart.id, a.cannolo.1.as_str(), 1).await);
    expect_not_found(svc.create_cart(&bcx, Some(customer.id.clone())).await);

    // Naming A's installation from B's tenant (or B's from A's) reaches
    // nothing either: the installation is resolved inside the context's tenant.
    let crossed = cx(&tb, &a.web, "web-storefront");
    expect_unavailable(svc.get_cart(&crossed, &cart.id).await);
    expect_unavailable(svc.checkout(&crossed, &cart.id, ship()).await);
    expect_unavailable(svc.list_products(&crossed, None, 10).await);
    let crossed = cx(&a.t, &web_b, "web-storefront");
    expect_unavailable(svc.list_products(&crossed, None, 10).await);

    assert!(tenant_snapshot(&b.store, &a.t) == snapshot, "tenant A's data changed");
    // And A still sees all of it.
    assert_eq!(svc.get_order(&a.web(), &ingested.id).await.unwrap().external_id.as_deref(), Some("EXT-1"));
    assert_eq!(svc.get_cart(&a.web(), &cart.id).await.unwrap().lines.len(), 1);
}

/// Inside one tenant a channel reaches its own carts and orders, the customers
/// it identified, and what it was handed in an event; ids are not guessable.
async fn channels_reach_only_their_own_records(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = services(&b);
    let mail = b
        .core
        .install_channel(
            &s.t,
            NewChannel {
                plugin_id: "email".into(),
                version: "1.0.0".into(),
                name: "email".into(),
                subscriptions: vec!["order.placed".into()],
                enabled: true,
                ..Default::default()
            },
            T0,
        )
        .unwrap()
        .id;
    let mail_cx = cx(&s.t, &mail, "email");
    let giulia = wit::Identity { kind: wit::IdentityKind::Email, value: "giulia@example.com".into() };
    let customer = svc.identify_customer(&s.web(), giulia, Some("Giulia".into())).await.unwrap();
    let cart = svc.create_cart(&s.web(), Some(customer.id.clone())).await.unwrap();
    svc.set_cart_quantity(&s.web(), &cart.id, s.cannolo.1.as_str(), 1).await.unwrap();
    let order = svc.checkout(&s.web(), &cart.id, ship()).await.unwrap();

    // Issued ids end in 128 random bits: the next id cannot be derived from this one.
    let secret = order.id.rsplit('-').next().unwrap();
    assert_eq!(secret.len(), 32, "{}", order.id);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{}", order.id);
    let other = svc.create_cart(&s.web(), None).await.unwrap();
    assert_ne!(other.id.rsplit('-').next(), cart.id.rsplit('-').next());

    // Another channel of the same tenant reaches none of it and can change none of it.
    let snapshot = tenant_snapshot(&b.store, &s.t);
    let insta = s.insta();
    expect_not_found(svc.get_cart(&insta, &cart.id).await);
    expect_not_found(svc.get_cart(&insta, &other.id).await);
    expect_not_found(svc.set_cart_quantity(&insta, &other.id, s.cannolo.1.as_str(), 1).await);
    expect_not_found(svc.apply_code(&insta, &other.id, "DOLCE10").await);
    expect_not_found(svc.set_cart_customer(&insta, &other.id, &customer.id).await);
    expect_not_found(svc.checkout(&insta, &other.id, ship()).await);
    expect_not_found(svc.get_order(&insta, &order.id).await);
    expect_not_found(svc.get_customer(&insta, &customer.id).await);
    expect_not_found(svc.create_cart(&insta, Some(customer.id.clone())).await);
    // No forged consent, no touchpoints on someone else's customer.
    expect_not_found(svc.set_consent(&insta, &customer.id, wit::ConsentPurpose::EmailMarketing, true).await);
    expect_not_found(svc.set_consent(&insta, &customer.id, wit::ConsentPurpose::EmailMarketing, false).await);
    let touch = wit::Touchpoint {
        kind: "view".into(),
        visitor_id: None,
        source: None,
        customer_id: Some(customer.id.clone()),
        product_id: None,
        variant_id: None,
        campaign_id: None,
        detail: None,
    };
    expect_not_found(svc.record_touchpoint(&insta, touch.clone()).await);
    let handle = wit::Identity { kind: wit::IdentityKind::SocialHandle, value: "giulia.dolci".into() };
    expect_not_found(svc.add_identity(&insta, &customer.id, handle.clone()).await);
    assert!(tenant_snapshot(&b.store, &s.t) == snapshot, "a refused call changed the tenant's data");

    // The channel that identified the customer reaches them fully.
    assert_eq!(svc.get_customer(&s.web(), &customer.id).await.unwrap().id, customer.id);
    svc.set_consent(&s.web(), &customer.id, wit::ConsentPurpose::EmailMarketing, true).await.unwrap();
    svc.record_touchpoint(&s.web(), touch).await.unwrap();

    // The e-mail channel is handed the order in an event: it may then read the
    // order and its customer and record an opt-out, but not an opt-in.
    expect_not_found(svc.get_order(&mail_cx, &order.id).await);
    while b.core.fan_out(&s.t, T0, 0).unwrap() > 0 {}
    assert_eq!(svc.get_order(&mail_cx, &order.id).await.unwrap().id, order.id);
    assert_eq!(svc.get_customer(&mail_cx, &customer.id).await.unwrap().id, customer.id);
    expect_not_found(svc.set_consent(&mail_cx, &customer.id, wit::ConsentPurpose::SmsMarketing, true).await);
    let withdrawn = svc.set_consent(&mail_cx, &customer.id, wit::ConsentPurpose::EmailMarketing, false).await.unwrap();
    assert!(withdrawn.consents.iter().all(|c| !c.granted));
    // Handed a customer, a channel may not vouch for who they are elsewhere.
    let phone = wit::Identity { kind: wit::IdentityKind::Phone, value: "+39 333 1234567".into() };
    expect_not_found(svc.add_identity(&mail_cx, &customer.id, phone.clone()).await);
    // The channel that identified them may, once; a second time changes nothing.
    let added = svc.add_identity(&s.web(), &customer.id, phone.clone()).await.unwrap();
    assert_eq!(added.identities.len(), 2, "{:?}", added.identities);
    assert_eq!(svc.add_identity(&s.web(), &customer.id, phone.clone()).await.unwrap().identities.len(), 2);
    // An identity of another profile is a conflict that names no one.
    let marco = wit::Identity { kind: wit::IdentityKind::Email, value: "marco@example.com".into() };
    let other = svc.identify_customer(&s.web(), marco.clone(), None).await.unwrap();
    match svc.add_identity(&s.web(), &customer.id, marco).await {
        Err(wit::HostError::Conflict(message)) => assert!(!message.contains(&other.id), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let handle_added = svc.add_identity(&s.web(), &customer.id, handle).await.unwrap();
    assert!(handle_added.identities.iter().any(|i| i.value == "giulia.dolci"), "{:?}", handle_added.identities);
    // Instagram was not subscribed to orders, so it still reaches nothing.
    expect_not_found(svc.get_order(&insta, &order.id).await);
    expect_not_found(svc.get_customer(&insta, &customer.id).await);
}

/// A store that fails every transaction while `fail` is set.
struct FlakyStore {
    inner: Arc<dyn KvStore>,
    fail: Arc<AtomicBool>,
}

impl KvStore for FlakyStore {
    fn backend(&self) -> &'static str {
        "flaky"
    }
    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StorageError::backend("flaky", "disk on fire at /secret/path"));
        }
        self.inner.begin()
    }
    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StorageError::backend("flaky", "disk on fire at /secret/path"));
        }
        self.inner.begin_read()
    }
}

async fn host_error_mapping(b: Backend) {
    // The mapping itself.
    let nf = CoreError::NotFound { kind: "cart", id: "crt-1".into() };
    assert!(matches!(host_error(&nf), HostError::NotFound(m) if m.contains("crt-1")));
    assert!(matches!(host_error(&CoreError::Invalid("bad".into())), HostError::Invalid(_)));
    assert!(matches!(host_error(&CoreError::Conflict("taken".into())), HostError::Conflict(m) if m.contains("taken")));
    let short = CoreError::InsufficientStock { sku: "CAS-1".into(), requested: 5, available: 1 };
    assert!(
        matches!(host_error(&short), HostError::Conflict(m) if m.contains("CAS-1") && m.contains("insufficient stock"))
    );
    let storage = CoreError::Storage(StorageError::backend("redb", "/var/lib/secret: EIO"));
    assert!(matches!(host_error(&storage), HostError::Unavailable(m) if !m.contains("secret")));
    let tenant = CoreError::NotFound { kind: "tenant", id: "x".into() };
    assert!(matches!(host_error(&tenant), HostError::Unavailable(_)));

    // Through the imports.
    let s = shop(&b.core, "dolce-vita");
    let svc = services(&b);
    expect_not_found(svc.get_cart(&s.web(), "crt-nope").await);
    expect_not_found(svc.get_order(&s.web(), "ord-nope").await);
    expect_not_found(svc.get_customer(&s.web(), "cus-nope").await);
    expect_not_found(svc.create_cart(&s.web(), Some("cus-nope".into())).await);
    let cart = svc.create_cart(&s.web(), None).await.unwrap();
    expect_not_found(svc.set_cart_quantity(&s.web(), &cart.id, "var-nope", 1).await);
    let msg = expect_conflict(svc.set_cart_quantity(&s.web(), &cart.id, s.cassata.1.as_str(), 4).await);
    assert!(msg.contains("CAS-1"), "{msg}");
    assert!(svc.get_cart(&s.web(), &cart.id).await.unwrap().lines.is_empty(), "a refused change is undone");
    svc.set_cart_quantity(&s.web(), &cart.id, s.cassata.1.as_str(), 1).await.unwrap();
    expect_conflict(svc.set_cart_quantity(&s.web(), &cart.id, s.cassata.1.as_str(), 5).await);
    let kept = svc.get_cart(&s.web(), &cart.id).await.unwrap();
    assert_eq!(kept.lines[0].quantity, 1, "the earlier quantity and its hold stay");
    assert_eq!(b.core.cart_holds(&s.t, &cart.id.as_str().into()).unwrap().iter().map(|h| h.quantity).sum::<i64>(), 1);
    expect_invalid(svc.set_cart_quantity(&s.web(), &cart.id, s.cassata.1.as_str(), 2_000_000).await);
    expect_invalid(
        svc.identify_customer(
            &s.web(),
            wit::Identity { kind: wit::IdentityKind::Email, value: "not-an-email".into() },
            None,
        )
        .await,
    );
    expect_invalid(
        svc.identify_customer(&s.web(), wit::Identity { kind: wit::IdentityKind::Phone, value: "123".into() }, None)
            .await,
    );
    // Pickup at a location without pickup, and at no location at all.
    let r = svc.checkout(&s.web(), &cart.id, wit::Fulfillment::Pickup(s.lab.to_string())).await;
    assert!(matches!(r, Err(HostError::Invalid(_) | HostError::Conflict(_))), "{r:?}");
    expect_not_found(svc.checkout(&s.web(), &cart.id, wit::Fulfillment::Pickup("loc-nope".into())).await);

    // An installation or tenant the core does not know.
    let ghost = cx(&s.t, &ChannelId::new("chn-ghost"), "ghost");
    expect_unavailable(svc.get_cart(&ghost, &cart.id).await);
    expect_unavailable(svc.get_product(&ghost, s.cannolo.0.as_str()).await);
    let nobody = cx(&TenantId::new("nobody").unwrap(), &s.web, "web-storefront");
    expect_unavailable(svc.list_products(&nobody, None, 10).await);

    // A failing store: unavailable, without the backend's details.
    let fail = Arc::new(AtomicBool::new(false));
    let flaky: Arc<dyn KvStore> = Arc::new(FlakyStore { inner: b.store.clone(), fail: fail.clone() });
    let svc = CoreServices::new(Core::new(flaky));
    assert!(svc.get_cart(&s.web(), &cart.id).await.is_ok());
    fail.store(true, Ordering::SeqCst);
    let msg = expect_unavailable(svc.get_cart(&s.web(), &cart.id).await);
    assert!(!msg.contains("secret"), "{msg}");
    expect_unavailable(svc.checkout(&s.web(), &cart.id, ship()).await);
    fail.store(false, Ordering::SeqCst);
    assert_eq!(svc.get_cart(&s.web(), &cart.id).await.unwrap().lines.len(), 1);
}

async fn customers_touchpoints_and_mail(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let clock = TestClock::new(T0 + 1_000);
    let svc = services(&b).with_clock(clock.clock());
    let email = |v: &str| wit::Identity { kind: wit::IdentityKind::Email, value: v.into() };

    let c = svc.identify_customer(&s.web(), email(" Giulia@Example.com "), Some("Giulia".into())).await.unwrap();
    assert_eq!(c.identities[0].value, "giulia@example.com");
    assert_eq!(c.name.as_deref(), Some("Giulia"));
    let same = svc.identify_customer(&s.insta(), email("giulia@example.com"), None).await.unwrap();
    assert_eq!(same.id, c.id);
    let phone = svc
        .identify_customer(
            &s.web(),
            wit::Identity { kind: wit::IdentityKind::Phone, value: "+39 333 123 4567".into() },
            None,
        )
        .await
        .unwrap();
    assert_eq!(phone.identities[0].value, "+393331234567");

    // Consent, recorded with the channel that took it.
    let granted = svc.set_consent(&s.web(), &c.id, wit::ConsentPurpose::EmailMarketing, true).await.unwrap();
    assert!(granted.consents.iter().any(|k| matches!(k.purpose, wit::ConsentPurpose::EmailMarketing) && k.granted));
    clock.advance(1_000);
    let stopped = svc.set_consent(&s.insta(), &c.id, wit::ConsentPurpose::EmailMarketing, false).await.unwrap();
    assert!(stopped.consents.iter().all(|k| !k.granted));
    assert_eq!(stopped.consents[0].updated_at, T0 + 2_000);
    let history = b.core.consent_history(&s.t, &c.id.as_str().into()).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].channel_id.as_ref(), Some(&s.insta));
    assert_eq!(history[1].source, "plugin instagram");

    // A cart that follows the customer across channels.
    let cart = svc.create_cart(&s.insta(), None).await.unwrap();
    svc.set_cart_quantity(&s.insta(), &cart.id, s.cannolo.1.as_str(), 1).await.unwrap();
    let theirs = svc.set_cart_customer(&s.insta(), &cart.id, &c.id).await.unwrap();
    assert_eq!(theirs.customer_id.as_deref(), Some(c.id.as_str()));
    let on_web = svc.create_cart(&s.web(), Some(c.id.clone())).await.unwrap();
    assert_eq!(on_web.id, theirs.id, "the customer's open cart, whichever channel asks");

    // Touchpoints: stored per customer, anonymous ones accepted and dropped.
    let touch = |customer: Option<String>, detail: Option<String>| wit::Touchpoint {
        kind: "add-to-cart".into(),
        visitor_id: None,
        source: None,
        customer_id: customer,
        product_id: Some(s.cannolo.0.to_string()),
        variant_id: Some(s.cannolo.1.to_string()),
        campaign_id: Some("black-friday".into()),
        detail,
    };
    svc.record_touchpoint(&s.insta(), touch(Some(c.id.clone()), Some("story".into()))).await.unwrap();
    svc.record_touchpoint(&s.insta(), touch(None, None)).await.unwrap();
    expect_invalid(svc.record_touchpoint(&s.insta(), touch(Some(c.id.clone()), Some("x".repeat(1025)))).await);
    expect_not_found(svc.record_touchpoint(&s.insta(), touch(Some("cus-nope".into()), None)).await);
    let timeline = b.core.timeline(&s.t, &c.id.as_str().into(), 0, i64::MAX, 100).unwrap();
    let touchpoints: Vec<_> = timeline
        .iter()
        .filter_map(|e| match e {
            omnistore_core::TimelineEntry::Touchpoint(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(touchpoints.len(), 1);
    assert_eq!(touchpoints[0].channel_id.as_ref(), Some(&s.insta));
    assert_eq!(touchpoints[0].campaign.as_ref().map(|c| c.as_str()), Some("black-friday"));

    // Mail: queued durably for the transport.
    let message = |to: &str| wit::MailMessage {
        to: vec![to.into()],
        subject: "La tua ricevuta".into(),
        text: "Grazie!".into(),
        html: Some("<p>Grazie!</p>".into()),
        headers: vec![("List-Unsubscribe".into(), "<https://example.com/u>".into())],
    };
    let first = svc.send_mail(&s.web(), message("Giulia@Example.com")).await.unwrap();
    let second = svc.send_mail(&s.insta(), message("marco@example.com")).await.unwrap();
    assert_ne!(first, second);
    let outbox = svc.mail_outbox(&s.t, None, 0).await.unwrap();
    assert_eq!(outbox.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [first.as_str(), second.as_str()]);
    assert_eq!(outbox[0].to, ["giulia@example.com"]);
    assert_eq!(outbox[0].channel, s.web.to_string());
    assert_eq!(outbox[0].plugin, "web-storefront");
    assert_eq!(outbox[0].html.as_deref(), Some("<p>Grazie!</p>"));
    assert_eq!(svc.mail_outbox(&s.t, Some(&first), 10).await.unwrap().len(), 1);
    assert!(svc.remove_mail(&s.t, &first).await.unwrap());
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap().len(), 1);

    expect_invalid(svc.send_mail(&s.web(), message("not-an-address")).await);
    expect_invalid(svc.send_mail(&s.web(), wit::MailMessage { to: vec![], ..message("a@example.com") }).await);
    let mut spoof = message("a@example.com");
    spoof.headers = vec![("From".into(), "ceo@bank.example".into())];
    expect_invalid(svc.send_mail(&s.web(), spoof).await);
    let mut injected = message("a@example.com");
    injected.headers = vec![("X-Note".into(), "hi\r\nBcc: victim@example.com".into())];
    expect_invalid(svc.send_mail(&s.web(), injected).await);
    let mut subject = message("a@example.com");
    subject.subject = "Hi\nBcc: victim@example.com".into();
    expect_invalid(svc.send_mail(&s.web(), subject).await);
    let mut huge = message("a@example.com");
    huge.text = "x".repeat(3 << 20);
    assert!(matches!(svc.send_mail(&s.web(), huge).await, Err(HostError::QuotaExceeded(_))));
    let ghost = cx(&s.t, &ChannelId::new("chn-ghost"), "ghost");
    expect_unavailable(svc.send_mail(&ghost, message("a@example.com")).await);
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap().len(), 1, "refused mail is not queued");

    // Another tenant's outbox is its own.
    let other = TenantId::new("altro").unwrap();
    assert!(svc.mail_outbox(&other, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn queued_mail_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("redb:{}", dir.path().join("core.redb").display());
    let (t, id) = {
        let core = Core::new(omnistore_storage::open(&spec).unwrap());
        let s = shop(&core, "dolce-vita");
        let svc = CoreServices::new(core);
        let id = svc
            .send_mail(
                &s.web(),
                wit::MailMessage {
                    to: vec!["giulia@example.com".into()],
                    subject: "Pronto per il ritiro".into(),
                    text: "Il tuo ordine ti aspetta in negozio.".into(),
                    html: None,
                    headers: vec![],
                },
            )
            .await
            .unwrap();
        (s.t, id)
    };
    let svc = CoreServices::new(Core::new(omnistore_storage::open(&spec).unwrap()));
    let outbox = svc.mail_outbox(&t, None, 10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].id, id);
    assert_eq!(outbox[0].subject, "Pronto per il ritiro");
}

/// A store like `inner` whose reads, it says, may wait.
struct ReadsMayWait(Arc<dyn KvStore>);

impl KvStore for ReadsMayWait {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        self.0.begin()
    }
    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        self.0.begin_read()
    }
}

/// Whether a product page's read answers while the blocking pool's only
/// thread is taken.
fn read_answers_with_the_pool_taken(web: &CallContext, store: Arc<dyn KvStore>) -> bool {
    let services = CoreServices::new(Core::new(store));
    let rt = tokio::runtime::Builder::new_current_thread().max_blocking_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let taken = tokio::task::spawn_blocking(move || hold.recv().is_ok());
        let read =
            tokio::time::timeout(Duration::from_millis(500), services.get_product_by_handle(web, "cannolo")).await;
        release.send(()).unwrap();
        assert!(taken.await.unwrap());
        match read {
            Ok(answer) => {
                assert_eq!(answer.unwrap().expect("published on the web").handle, "cannolo");
                true
            }
            Err(_) => {
                // Once the pool is free, the same read answers.
                assert!(services.get_product_by_handle(web, "cannolo").await.unwrap().is_some());
                false
            }
        }
    })
}

/// Reads of a store whose reads never wait (memory, redb) run in place, not
/// on the blocking pool: a hand-off costs two thread wake-ups, more than
/// the read. A store that says its reads may wait keeps the pool.
#[test]
fn reads_of_a_local_store_do_not_wait_for_the_blocking_pool() {
    for b in [memory(), redb()] {
        let web = shop(&b.core, "dolce-vita").web();
        assert!(read_answers_with_the_pool_taken(&web, b.store.clone()), "{}", b.store.backend());
        assert!(
            !read_answers_with_the_pool_taken(&web, Arc::new(ReadsMayWait(b.store.clone()))),
            "{}",
            b.store.backend()
        );
    }
}

// ---- event delivery ----------------------------------------------------------------------

/// One delivery the sink saw.
struct Got {
    tenant: String,
    channel: String,
    event: wit::Event,
}

/// Records every delivery; answers from a per-channel script, then `Ok`.
#[derive(Default)]
struct RecordingSink {
    got: Mutex<Vec<Got>>,
    script: Mutex<HashMap<String, VecDeque<Result<(), DeliveryFailure>>>>,
}

impl RecordingSink {
    fn script(&self, channel: &ChannelId, outcomes: Vec<Result<(), DeliveryFailure>>) {
        self.script.lock().unwrap().entry(channel.to_string()).or_default().extend(outcomes);
    }

    fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

#[async_trait]
impl EventSink for RecordingSink {
    async fn deliver(&self, tenant: &TenantId, channel: &ChannelId, event: wit::Event) -> Result<(), DeliveryFailure> {
        let outcome =
            self.script.lock().unwrap().get_mut(channel.as_str()).and_then(VecDeque::pop_front).unwrap_or(Ok(()));
        self.got.lock().unwrap().push(Got { tenant: tenant.to_string(), channel: channel.to_string(), event });
        outcome
    }
}

fn of<'a>(got: &'a [Got], channel: &ChannelId) -> Vec<&'a Got> {
    got.iter().filter(|g| g.channel == channel.as_str()).collect()
}

fn kinds(got: &[&Got]) -> Vec<String> {
    got.iter().map(|g| g.event.kind.clone()).collect()
}

struct Rig {
    s: Shop,
    svc: CoreServices,
    sink: Arc<RecordingSink>,
    dispatcher: Dispatcher,
    clock: TestClock,
}

/// A shop with a dispatcher whose core retries after 1 s, 2 s, … and gives
/// up after 3 failures. Events of the setup are delivered and forgotten.
async fn rig(b: &Backend) -> Rig {
    let s = shop(&b.core, "dolce-vita");
    let clock = TestClock::new(T0 + 1_000);
    let policy = RetryPolicy { base_ms: 1_000, cap_ms: 60_000, max_attempts: 3, max_retry_after_ms: 3_600_000 };
    let sink = Arc::new(RecordingSink::default());
    let dispatcher = Dispatcher::new(b.core.clone().with_retry_policy(policy), sink.clone()).with_clock(clock.clock());
    let first = dispatcher.run_once().await.unwrap();
    assert!(first.fanned_out > 0);
    assert_eq!(first.errors, 0);
    sink.take();
    let svc = services(b).with_clock(clock.clock());
    Rig { s, svc, sink, dispatcher, clock }
}

impl Rig {
    /// A web order of one cassata; returns the order id.
    async fn order(&self) -> String {
        let web = self.s.web();
        let cart = self.svc.create_cart(&web, None).await.unwrap();
        self.svc.set_cart_quantity(&web, &cart.id, self.s.cassata.1.as_str(), 1).await.unwrap();
        self.svc.checkout(&web, &cart.id, ship()).await.unwrap().id
    }

    async fn round(&self) -> RoundStats {
        let stats = self.dispatcher.run_once().await.unwrap();
        assert_eq!(stats.errors, 0);
        stats
    }
}

fn order_placed_id(core: &Core, t: &TenantId) -> String {
    core.list_events(t, None, 10_000)
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.kind == DomainEventKind::OrderPlaced)
        .unwrap()
        .id
        .to_string()
}

async fn delivery_at_least_once_with_stable_ids(b: Backend) {
    let r = rig(&b).await;
    r.sink.script(&r.s.web, vec![Err(DeliveryFailure::new("smtp relay down"))]);
    let order_id = r.order().await;
    let event_id = order_placed_id(&b.core, &r.s.t);

    let stats = r.round().await;
    assert_eq!(stats.failed, 1);
    let got = r.sink.take();
    let web = of(&got, &r.s.web);
    assert_eq!(kinds(&web), ["order.placed"]);
    assert_eq!(web[0].event.id, event_id, "the event id is the core's");
    assert_eq!(web[0].event.attempt, 0);
    assert_eq!(web[0].tenant, "dolce-vita");
    match &web[0].event.payload {
        wit::EventPayload::OrderPlaced(o) => {
            assert_eq!(o.id, order_id);
            assert_eq!(o.channel, r.s.web.to_string());
        }
        _ => panic!("expected order-placed"),
    }
    // The cassata's stock moved: insta hears of it, as it sees it (3 − 1 − buffer 2).
    let insta = of(&got, &r.s.insta);
    assert_eq!(kinds(&insta), ["stock.changed"]);
    match &insta[0].event.payload {
        wit::EventPayload::StockChanged(c) => {
            assert_eq!((c.sku.as_str(), c.available), ("CAS-1", 0));
            assert_eq!(c.variant_id, r.s.cassata.1.to_string());
        }
        _ => panic!("expected stock-changed"),
    }
    assert!(of(&got, &r.s.pins).is_empty(), "a disabled channel receives nothing");

    // Not due yet: nothing.
    r.round().await;
    assert!(r.sink.take().is_empty());
    // Due after the backoff: the same event again, one attempt later.
    r.clock.advance(1_000);
    let stats = r.round().await;
    assert_eq!(stats.delivered, 1);
    let got = r.sink.take();
    let web = of(&got, &r.s.web);
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].event.id, event_id);
    assert_eq!(web[0].event.attempt, 1);
    let deliveries = b.core.event_deliveries(&r.s.t, &event_id.as_str().into()).unwrap();
    assert_eq!(deliveries.len(), 1, "one delivery: to the one enabled subscriber");
    assert_eq!(deliveries[0].state, DeliveryState::Delivered);
    assert_eq!(deliveries[0].attempts, 1);

    // Delivered means done.
    r.clock.advance(3_600_000);
    r.round().await;
    assert!(r.sink.take().is_empty());
}

async fn retry_later_is_honoured(b: Backend) {
    let r = rig(&b).await;
    r.sink.script(&r.s.web, vec![Err(DeliveryFailure::retry_after(Duration::from_secs(120), "rate limited"))]);
    r.order().await;
    let event_id = order_placed_id(&b.core, &r.s.t);
    let asked_at = r.clock.now();
    assert_eq!(r.round().await.deferred, 1);
    assert_eq!(of(&r.sink.take(), &r.s.web).len(), 1);
    let d = &b.core.event_deliveries(&r.s.t, &event_id.as_str().into()).unwrap()[0];
    assert_eq!(d.next_attempt_ms, asked_at + 120_000, "the plugin's wait, not the 1 s backoff");
    assert_eq!(d.last_error.as_deref(), Some("rate limited"));

    r.clock.advance(60_000);
    r.round().await;
    assert!(of(&r.sink.take(), &r.s.web).is_empty(), "not before the plugin asked");
    r.clock.advance(60_000);
    assert_eq!(r.round().await.delivered, 1);
    let got = r.sink.take();
    let web = of(&got, &r.s.web);
    assert_eq!((web[0].event.id.as_str(), web[0].event.attempt), (event_id.as_str(), 0), "asking later is no failure");
}

/// A plugin that asks to be called later (a batch being gathered, a rate
/// limit, quiet hours) has not failed: however often it asks, the event is
/// not moved towards the dead letters, and the attempt it sees stays the same.
async fn asking_to_be_called_later_never_dead_letters_an_event(b: Backend) {
    let r = rig(&b).await;
    let later = || Err(DeliveryFailure::retry_after(Duration::from_secs(1), "gathering a batch"));
    r.sink.script(&r.s.web, (0..20).map(|_| later()).collect());
    r.order().await;
    let event_id = order_placed_id(&b.core, &r.s.t);
    for _ in 0..20 {
        let stats = r.round().await;
        assert_eq!((stats.dead, stats.failed), (0, 0), "{stats:?}");
        r.clock.advance(1_000);
    }
    assert_eq!(r.round().await.delivered, 1);
    let attempts: Vec<u32> = of(&r.sink.take(), &r.s.web).iter().map(|g| g.event.attempt).collect();
    assert_eq!(attempts, vec![0; 21], "a deferral is not a failed attempt");
    let d = &b.core.event_deliveries(&r.s.t, &event_id.as_str().into()).unwrap()[0];
    assert_eq!((d.state, d.attempts, d.deferrals), (DeliveryState::Delivered, 0, 20));
    assert!(b.core.dead_letters(&r.s.t, 0).unwrap().is_empty());
}

/// …but not forever: an event still deferred a week after it was first
/// due is a dead letter, with the plugin's last reason.
async fn an_event_deferred_for_a_week_is_a_dead_letter(b: Backend) {
    let r = rig(&b).await;
    let later = || Err(DeliveryFailure::retry_after(Duration::from_secs(24 * 3600), "the platform is down"));
    r.sink.script(&r.s.web, (0..9).map(|_| later()).collect());
    r.order().await;
    let mut dead = 0;
    for _ in 0..9 {
        dead += r.round().await.dead;
        r.clock.advance(24 * 3_600_000);
    }
    assert_eq!(dead, 1);
    let letters = b.core.dead_letters(&r.s.t, 0).unwrap();
    assert_eq!(letters.len(), 1);
    let why = letters[0].last_error.as_deref().unwrap();
    assert!(why.contains("the platform is down") && why.contains("called later"), "{why}");
}

async fn dead_letter_after_max_attempts_and_replay(b: Backend) {
    let r = rig(&b).await;
    let fail = || Err(DeliveryFailure::new("plugin trapped"));
    r.sink.script(&r.s.web, vec![fail(), fail(), fail()]);
    r.order().await;
    let event_id = order_placed_id(&b.core, &r.s.t);

    assert_eq!(r.round().await.failed, 1);
    r.clock.advance(1_000);
    assert_eq!(r.round().await.failed, 1);
    r.clock.advance(2_000);
    let stats = r.round().await;
    assert_eq!((stats.failed, stats.dead), (0, 1));
    let attempts: Vec<u32> = of(&r.sink.take(), &r.s.web).iter().map(|g| g.event.attempt).collect();
    assert_eq!(attempts, [0, 1, 2]);

    let dead = b.core.dead_letters(&r.s.t, 0).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_id.as_str(), event_id);
    assert_eq!(dead[0].channel_id, r.s.web);
    assert_eq!(dead[0].last_error.as_deref(), Some("plugin trapped"));
    // Dead letters are not retried.
    r.clock.advance(3_600_000);
    r.round().await;
    assert!(of(&r.sink.take(), &r.s.web).is_empty());

    // The operator replays it: delivered, same id, attempts counted afresh.
    b.core.replay_dead_letter(&r.s.t, &dead[0].id, r.clock.now()).unwrap();
    assert_eq!(r.round().await.delivered, 1);
    let got = r.sink.take();
    let web = of(&got, &r.s.web);
    assert_eq!((web[0].event.id.as_str(), web[0].event.attempt), (event_id.as_str(), 0));
    assert!(b.core.dead_letters(&r.s.t, 0).unwrap().is_empty());
}

async fn only_subscribed_enabled_channels_receive(b: Backend) {
    let r = rig(&b).await;
    let now = r.clock.now();

    // A product change: insta (product.changed) gets the product as it sees
    // it; web (order.*) and pins (switched off) get nothing.
    b.core
        .update_variant(
            &r.s.t,
            &r.s.cannolo.1,
            omnistore_core::VariantPatch { price: Some(eur(400)), ..Default::default() },
            now,
        )
        .unwrap();
    let stats = r.round().await;
    assert_eq!(stats.errors, 0);
    let got = r.sink.take();
    assert!(got.iter().all(|g| g.channel == r.s.insta.as_str()), "only insta subscribes to products");
    let insta = of(&got, &r.s.insta);
    assert_eq!(kinds(&insta), ["product.changed"]);
    match &insta[0].event.payload {
        wit::EventPayload::ProductChanged(p) => {
            assert_eq!(p.id, r.s.cannolo.0.to_string());
            assert_eq!(p.variants[0].price.amount_minor, 320, "4.00 − 20%");
            assert_eq!(p.variants[0].available, 8, "after insta's buffer");
        }
        _ => panic!("expected product-changed"),
    }

    // Unpublished from insta: it hears that the product is gone.
    b.core.unpublish_product(&r.s.t, &r.s.cannolo.0, &r.s.insta, now).unwrap();
    r.round().await;
    let got = r.sink.take();
    let insta = of(&got, &r.s.insta);
    assert_eq!(insta.len(), 1);
    assert!(
        matches!(&insta[0].event.payload, wit::EventPayload::ProductRemoved(id) if *id == r.s.cannolo.0.to_string())
    );

    // Stock of a product insta does not show: acknowledged, not delivered.
    b.core.receive_stock(&r.s.t, &r.s.pistacchio.1, &r.s.lab, 5, None, now).unwrap();
    let stats = r.round().await;
    assert!(stats.skipped >= 1);
    assert!(r.sink.take().is_empty());

    // Events from while pins was off are not replayed to it when it is
    // switched on; later ones reach it.
    b.core.update_channel(&r.s.t, &r.s.pins, ChannelPatch { enabled: Some(true), ..Default::default() }, now).unwrap();
    r.round().await;
    let got = r.sink.take();
    let pins = of(&got, &r.s.pins);
    // Sent as the contract's `installed`, the kind a manifest subscribes to.
    assert_eq!(kinds(&pins), ["installed"]);
    assert!(matches!(pins[0].event.payload, wit::EventPayload::Installed), "its own settings changed");
    r.order().await;
    r.round().await;
    let got = r.sink.take();
    // Pins takes `*`, but the contract has nothing for `cart.checked_out`,
    // and the cassata's stock is no news on a channel that does not show it.
    assert_eq!(kinds(&of(&got, &r.s.pins)), ["order.placed"]);
    assert_eq!(kinds(&of(&got, &r.s.web)), ["order.placed"]);
}

async fn spawned_dispatcher_wakes_and_stops(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let sink = Arc::new(RecordingSink::default());
    let config = DispatcherConfig { poll_interval: Duration::from_secs(3600), ..Default::default() };
    let handle = Dispatcher::new(b.core.clone(), sink.clone()).with_config(config).spawn();
    let svc = services(&b);

    let wait_for = |what: &'static str, channel: ChannelId| {
        let sink = sink.clone();
        async move {
            for _ in 0..200 {
                if sink.got.lock().unwrap().iter().any(|g| g.channel == channel.as_str() && g.event.kind == what) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("{what} never reached {channel}");
        }
    };
    // The first round runs at start.
    wait_for("product.changed", s.insta.clone()).await;

    // Placed after the first round: delivered once someone wakes it.
    let cart = svc.create_cart(&s.web(), None).await.unwrap();
    svc.set_cart_quantity(&s.web(), &cart.id, s.cannolo.1.as_str(), 1).await.unwrap();
    svc.checkout(&s.web(), &cart.id, ship()).await.unwrap();
    handle.waker().wake();
    wait_for("order.placed", s.web.clone()).await;

    tokio::time::timeout(Duration::from_secs(10), handle.stop()).await.expect("stops promptly");
    sink.take();
    let cart = svc.create_cart(&s.web(), None).await.unwrap();
    svc.set_cart_quantity(&s.web(), &cart.id, s.cannolo.1.as_str(), 1).await.unwrap();
    svc.checkout(&s.web(), &cart.id, ship()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.take().is_empty(), "a stopped dispatcher delivers nothing");
}

#[tokio::test]
async fn runtime_sink_reports_a_missing_plugin() {
    use omnistore_server::dispatcher::RuntimeSink;
    let kv = omnistore_storage::open("memory:").unwrap();
    let config = omnistore_runtime::RuntimeConfig { max_concurrent_instances: 2, ..Default::default() };
    let services = Arc::new(CoreServices::new(omnistore_core::Core::new(kv.clone())));
    let runtime = omnistore_runtime::Runtime::new(config, kv, services).unwrap();
    let sink = RuntimeSink::new(runtime, Arc::new(|_, _| None));
    let event = wit::Event {
        id: "evt-1".into(),
        kind: "order.placed".into(),
        occurred_at: T0,
        attempt: 0,
        payload: wit::EventPayload::Installed,
    };
    let t = TenantId::new("dolce-vita").unwrap();
    let failure = sink.deliver(&t, &ChannelId::new("chn-1"), event).await.unwrap_err();
    assert!(failure.message.contains("no plugin is loaded"), "{}", failure.message);
    assert_eq!(failure.retry_after, None);
    // The host's fault, not the plugin's: it is not counted as a delivery attempt.
    assert_eq!(failure.blame, omnistore_server::dispatcher::FailureBlame::Host);
}
