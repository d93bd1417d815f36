//! Domain tests of the commerce core.
//!
//! The invariant tests (no oversell, same price everywhere, idempotent
//! ingestion, hold expiry, returns, tenant isolation, bad input) run once per
//! storage backend through `per_backend!`: in memory, on a redb file, and on a
//! fresh PostgreSQL database (created on `DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, and dropped afterwards). An
//! unreachable PostgreSQL fails those tests; they are never skipped.

use std::collections::BTreeMap;
use std::sync::Arc;

use omnistore_core::*;
use omnistore_storage::{KeyRange, KvStore};

mod support {
    use super::*;

    /// A core over one backend, with whatever keeps the backend alive.
    pub struct Backend {
        pub core: Core,
        // Dropped after `core`: the database or directory outlives the store.
        _guard: Guard,
    }

    enum Guard {
        None,
        Dir(#[allow(dead_code)] tempfile::TempDir),
        Postgres(#[allow(dead_code)] omnistore_storage::testing::TestDatabase),
    }

    pub fn memory() -> Backend {
        Backend { core: Core::new(omnistore_storage::open("memory:").expect("memory store")), _guard: Guard::None }
    }

    pub fn redb() -> Backend {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = format!("redb:{}", dir.path().join("core.redb").display());
        let store = omnistore_storage::open(&spec).expect("open redb store");
        Backend { core: Core::new(store), _guard: Guard::Dir(dir) }
    }

    #[cfg(feature = "sled")]
    pub fn sled() -> Backend {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = format!("sled:{}", dir.path().join("core.sled").display());
        let store = omnistore_storage::open(&spec).expect("open sled store");
        Backend { core: Core::new(store), _guard: Guard::Dir(dir) }
    }

    pub fn postgres() -> Backend {
        let database = omnistore_storage::testing::TestDatabase::create();
        let store =
            omnistore_storage::open(&database.url).unwrap_or_else(|e| panic!("cannot open PostgreSQL store: {e}"));
        Backend { core: Core::new(store), _guard: Guard::Postgres(database) }
    }

    /// Every key and value in the store.
    pub fn snapshot(store: &Arc<dyn KvStore>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut txn = store.begin().expect("begin");
        txn.scan(&KeyRange::all(), usize::MAX).expect("scan")
    }

    pub const T0: i64 = 1_700_000_000_000;

    pub fn eur(cents: i64) -> Money {
        Money::new(cents, "EUR").unwrap()
    }

    pub fn address() -> Address {
        Address {
            name: "Giulia Rossi".into(),
            line1: "Via Toledo 10".into(),
            line2: None,
            city: "Napoli".into(),
            postal_code: "80134".into(),
            country: "IT".into(),
            phone: None,
        }
    }

    pub fn ship() -> Fulfilment {
        Fulfilment::Ship { address: address() }
    }

    /// A small pastry shop: a warehouse and a shop, three channels, three
    /// products published everywhere and two promotions.
    pub struct Shop {
        pub core: Core,
        pub t: TenantId,
        pub lab: LocationId,
        pub negozio: LocationId,
        pub web: ChannelId,
        pub insta: ChannelId,
        pub pins: ChannelId,
        pub channels: Vec<ChannelId>,
        /// Cannolo grande: 3.50, in the cannoli collection (20% off).
        pub cannolo: VariantId,
        /// Cassata: 28.00, stock 3 at lab and 2 at the shop.
        pub cassata: VariantId,
        /// Cantucci: 6.50, stock 20 at lab only.
        pub cantucci: VariantId,
        /// Sfogliatella: 2.20, stock 0 everywhere.
        pub sfogliatella: VariantId,
    }

    pub fn shop(core: &Core, tenant: &str) -> Shop {
        let t = TenantId::new(tenant).unwrap();
        core.create_tenant(&t, "Pasticceria", "EUR", T0).unwrap();
        let lab = core
            .create_location(
                &t,
                NewLocation {
                    name: "Laboratorio".into(),
                    kind: LocationKind::Warehouse,
                    pickup_enabled: false,
                    address: None,
                },
                T0,
            )
            .unwrap()
            .id;
        let negozio = core
            .create_location(
                &t,
                NewLocation { name: "Negozio".into(), kind: LocationKind::Shop, pickup_enabled: true, address: None },
                T0,
            )
            .unwrap()
            .id;
        let channel = |plugin: &str, subs: &[&str]| {
            core.install_channel(
                &t,
                NewChannel {
                    plugin_id: plugin.into(),
                    version: "1.0.0".into(),
                    name: plugin.into(),
                    subscriptions: subs.iter().map(|s| s.to_string()).collect(),
                    enabled: true,
                    ..Default::default()
                },
                T0,
            )
            .unwrap()
            .id
        };
        let web = channel("web-storefront", &["order.*"]);
        let insta = channel("instagram", &["product.changed", "stock.changed"]);
        let pins = channel("pinterest", &["product.*"]);
        let cannoli = core
            .create_collection(
                &t,
                NewCollection { handle: "cannoli".into(), title: "Cannoli".into(), description: String::new() },
                T0,
            )
            .unwrap()
            .id;
        let torte = core
            .create_collection(
                &t,
                NewCollection { handle: "torte".into(), title: "Torte".into(), description: String::new() },
                T0,
            )
            .unwrap()
            .id;
        let product = |handle: &str, collection: Option<&CollectionId>, sku: &str, cents: i64| {
            let d = core
                .create_product(
                    &t,
                    NewProduct {
                        handle: handle.into(),
                        title: handle.into(),
                        description: String::new(),
                        brand: Some("Dolce Vita".into()),
                        tags: vec![],
                        collections: collection.into_iter().cloned().collect(),
                        images: vec![],
                        status: ProductStatus::Active,
                        variants: vec![NewVariant {
                            sku: sku.into(),
                            title: "Standard".into(),
                            options: BTreeMap::new(),
                            gtin: None,
                            weight_grams: None,
                            price: eur(cents),
                            compare_at: None,
                            backorderable: false,
                        }],
                    },
                    T0,
                )
                .unwrap();
            for ch in [&web, &insta, &pins] {
                core.publish_product(&t, &d.product.id, ch, T0).unwrap();
            }
            d.variants[0].id.clone()
        };
        let cannolo = product("cannolo", Some(&cannoli), "CAN-1", 350);
        let cassata = product("cassata", Some(&torte), "CAS-1", 2800);
        let cantucci = product("cantucci", None, "BIS-1", 650);
        let sfogliatella = product("sfogliatella", None, "SFO-1", 220);
        core.set_stock(&t, &cannolo, &lab, 50, None, T0).unwrap();
        core.set_stock(&t, &cassata, &lab, 3, None, T0).unwrap();
        core.set_stock(&t, &cassata, &negozio, 2, None, T0).unwrap();
        core.set_stock(&t, &cantucci, &lab, 20, None, T0).unwrap();
        core.create_promotion(
            &t,
            NewPromotion {
                name: "20% off cannoli".into(),
                scope: PromotionScope::Line,
                value: DiscountValue::Percent { bps: 2000 },
                conditions: PromotionConditions { collections: vec![cannoli], ..Default::default() },
                code: None,
                usage_limit: None,
            },
            T0,
        )
        .unwrap();
        core.create_promotion(
            &t,
            NewPromotion {
                name: "DOLCE10".into(),
                scope: PromotionScope::Order,
                value: DiscountValue::Percent { bps: 1000 },
                conditions: PromotionConditions { min_subtotal_minor: Some(2000), ..Default::default() },
                code: Some("DOLCE10".into()),
                usage_limit: None,
            },
            T0,
        )
        .unwrap();
        Shop {
            core: core.clone(),
            t,
            lab,
            negozio,
            channels: vec![web.clone(), insta.clone(), pins.clone()],
            web,
            insta,
            pins,
            cannolo,
            cassata,
            cantucci,
            sfogliatella,
        }
    }

    impl Shop {
        /// A cart on `channel` with `lines`, checked out with `fulfilment`.
        pub fn buy(
            &self,
            channel: Option<&ChannelId>,
            lines: &[(&VariantId, i64)],
            fulfilment: Fulfilment,
            now: i64,
        ) -> CoreResult<Order> {
            let cart = self.core.create_cart(&self.t, NewCart { channel: channel.cloned(), customer: None }, now)?;
            for (v, q) in lines {
                self.core.add_to_cart(&self.t, &cart.id, v, *q, now)?;
            }
            self.core.checkout(
                &self.t,
                &cart.id,
                CheckoutRequest {
                    channel: channel.cloned(),
                    fulfilment,
                    customer: None,
                    email: None,
                    note: None,
                    expected_total_minor: None,
                },
                now,
            )
        }

        pub fn level(&self, v: &VariantId, l: &LocationId) -> StockLevelView {
            self.core.stock_level(&self.t, v, l).unwrap()
        }

        /// Counters equal the sum of the ledger, and never show oversell for
        /// non-backorderable variants.
        pub fn assert_ledger(&self, v: &VariantId) {
            for level in self.core.stock_levels(&self.t, v).unwrap() {
                let ms = self.core.movements(&self.t, v, &level.location_id, 0, 10_000).unwrap();
                let on_hand: i64 = ms.iter().map(|m| m.on_hand_delta).sum();
                let reserved: i64 = ms.iter().map(|m| m.reserved_delta).sum();
                assert_eq!(
                    (on_hand, reserved),
                    (level.on_hand, level.reserved),
                    "ledger of {v} at {}",
                    level.location_id
                );
                for (i, m) in ms.iter().enumerate() {
                    assert_eq!(m.seq, i as u64 + 1, "ledger sequence has no gaps");
                }
                let backorderable = self.core.get_variant(&self.t, v).unwrap().backorderable;
                if !backorderable {
                    assert!(level.on_hand >= 0 && level.available >= 0, "stock below zero: {level:?}");
                }
            }
        }
    }
}

use support::*;

/// Run each named invariant test against every backend.
macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[test]
                fn memory() {
                    super::$test(&super::support::memory());
                }
                #[test]
                fn redb() {
                    super::$test(&super::support::redb());
                }
                #[test]
                fn postgres() {
                    super::$test(&super::support::postgres());
                }
                #[cfg(feature = "sled")]
                #[test]
                fn sled() {
                    super::$test(&super::support::sled());
                }
            }
        )*
    };
}

per_backend!(
    no_oversell_across_channels,
    multi_line_requests_are_checked_together,
    same_cart_same_price_on_every_channel,
    ingesting_twice_creates_one_order,
    concurrent_ingestion_creates_one_order,
    expired_holds_return_stock,
    return_restocks_the_receiving_location,
    tenants_are_isolated,
    bad_input_is_refused_and_changes_nothing,
);

#[path = "domain/campaigns.rs"]
mod campaigns;
#[path = "domain/drift.rs"]
mod drift;
#[path = "domain/funnel.rs"]
mod funnel;
#[path = "domain/images.rs"]
mod images;
#[path = "domain/ledger_properties.rs"]
mod ledger_properties;
#[path = "domain/migration.rs"]
mod migration;
#[path = "domain/privacy.rs"]
mod privacy;
#[path = "domain/satisfaction.rs"]
mod satisfaction;
#[path = "domain/segments.rs"]
mod segments;
#[path = "domain/storefront.rs"]
mod storefront;

// ---------------------------------------------------------------- invariants

fn no_oversell_across_channels(b: &Backend) {
    let s = shop(&b.core, "oversell");
    // 5 cassate: 3 in the lab, 2 in the shop. 8 threads on 3 channels (and
    // some pickups at the shop) try to buy 16+ units at once.
    let results: Vec<Vec<Result<Order, CoreError>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let channel = s.channels[i % 3].clone();
                    let qty = 1 + (i as i64 % 2);
                    (0..2)
                        .map(|_| {
                            let fulfilment =
                                if i % 4 == 3 { Fulfilment::Pickup { location_id: s.negozio.clone() } } else { ship() };
                            s.buy(Some(&channel), &[(&s.cassata, qty)], fulfilment, T0 + 1)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sold = 0;
    let mut orders = 0;
    for r in results.into_iter().flatten() {
        match r {
            Ok(o) => {
                sold += o.lines[0].quantity;
                orders += 1;
            }
            Err(CoreError::InsufficientStock { sku, .. }) => assert_eq!(sku, "CAS-1"),
            Err(e) => panic!("only InsufficientStock may fail a checkout here, got {e}"),
        }
    }
    assert!(sold <= 5, "sold {sold} of 5");
    assert!(sold >= 4, "with 24 units wanted, at most one unit can be left over; sold {sold}");
    let lab = s.level(&s.cassata, &s.lab);
    let shop = s.level(&s.cassata, &s.negozio);
    assert_eq!(lab.on_hand + shop.on_hand, 5);
    assert_eq!(lab.reserved + shop.reserved, sold);
    assert!(lab.available >= 0 && shop.available >= 0);
    assert!(s.core.availability(&s.t, &s.cassata, None, None, T0 + 2).unwrap() == 5 - sold);
    let listed = s.core.list_orders(&s.t, &OrderQuery::default()).unwrap();
    assert_eq!(listed.len(), orders);
    s.assert_ledger(&s.cassata);
    // Fulfilling everything takes stock to exactly 5 - sold, never below zero.
    for o in &listed {
        match o.fulfilment {
            Fulfilment::Pickup { .. } => {
                s.core.mark_ready_for_pickup(&s.t, &o.id, T0 + 3).unwrap();
                s.core.mark_completed(&s.t, &o.id, T0 + 3).unwrap();
            }
            _ => {
                s.core.mark_shipped(&s.t, &o.id, None, T0 + 3).unwrap();
            }
        }
    }
    let lab = s.level(&s.cassata, &s.lab);
    let shop = s.level(&s.cassata, &s.negozio);
    assert_eq!(lab.on_hand + shop.on_hand, 5 - sold);
    assert_eq!(lab.reserved + shop.reserved, 0);
    s.assert_ledger(&s.cassata);
}

fn multi_line_requests_are_checked_together(b: &Backend) {
    let s = shop(&b.core, "multiline");
    // A request whose second line cannot be covered reserves nothing.
    let before = snapshot(b.core.store());
    let cart = s.core.create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: None }, T0).unwrap();
    s.core.add_to_cart(&s.t, &cart.id, &s.cantucci, 2, T0).unwrap();
    s.core.add_to_cart(&s.t, &cart.id, &s.sfogliatella, 1, T0).unwrap();
    let mid = snapshot(b.core.store());
    let err = s
        .core
        .checkout(
            &s.t,
            &cart.id,
            CheckoutRequest {
                channel: None,
                fulfilment: ship(),
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            },
            T0,
        )
        .unwrap_err();
    assert!(
        matches!(err, CoreError::InsufficientStock { ref sku, requested: 1, available: 0 } if sku == "SFO-1"),
        "{err}"
    );
    assert_eq!(snapshot(b.core.store()), mid, "a failed checkout must change nothing");
    assert_ne!(before, mid);
    assert_eq!(s.level(&s.cantucci, &s.lab).reserved, 0);

    // Concurrent two-line orders, lines in opposite orders: each order gets
    // both lines or none, and neither variant is oversold.
    s.core.set_stock(&s.t, &s.sfogliatella, &s.lab, 3, None, T0).unwrap();
    s.core.set_stock(&s.t, &s.cantucci, &s.lab, 4, None, T0).unwrap();
    let outcomes: Vec<Result<Order, CoreError>> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..6)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let lines: Vec<(&VariantId, i64)> = if i % 2 == 0 {
                        vec![(&s.sfogliatella, 1), (&s.cantucci, 1)]
                    } else {
                        vec![(&s.cantucci, 1), (&s.sfogliatella, 1)]
                    };
                    s.buy(Some(&s.channels[i % 3]), &lines, ship(), T0 + 1)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: Vec<Order> = outcomes
        .into_iter()
        .filter_map(|r| match r {
            Ok(o) => Some(o),
            Err(CoreError::InsufficientStock { .. }) => None,
            Err(e) => panic!("unexpected error {e}"),
        })
        .collect();
    assert_eq!(ok.len(), 3, "exactly the 3 sfogliatelle can be sold");
    for o in &ok {
        assert_eq!(o.lines.len(), 2);
    }
    assert_eq!(s.level(&s.sfogliatella, &s.lab).reserved, 3);
    assert_eq!(s.level(&s.sfogliatella, &s.lab).available, 0);
    assert_eq!(s.level(&s.cantucci, &s.lab).reserved, 3, "no cantucci reserved for orders that failed");
    s.assert_ledger(&s.sfogliatella);
    s.assert_ledger(&s.cantucci);
}

fn same_cart_same_price_on_every_channel(b: &Backend) {
    let s = shop(&b.core, "oneprice");
    let cart = s.core.create_cart(&s.t, NewCart::default(), T0).unwrap();
    s.core.add_to_cart(&s.t, &cart.id, &s.cannolo, 3, T0).unwrap();
    s.core.add_to_cart(&s.t, &cart.id, &s.cassata, 1, T0).unwrap();
    s.core.apply_code(&s.t, &cart.id, "dolce10", T0).unwrap();
    // cannoli 3 x 3.50 = 10.50, 20% off -> 8.40; cassata 28.00; subtotal
    // after lines 36.40; DOLCE10 -> -3.64; total 32.76.
    let mut totals = Vec::new();
    for ch in s.channels.iter().map(Some).chain([None]) {
        let q = s.core.quote_cart(&s.t, &cart.id, ch, T0).unwrap();
        assert_eq!(q.subtotal, eur(3850));
        assert_eq!(q.line_discounts, eur(210));
        assert_eq!(q.order_discount, eur(364));
        assert_eq!(q.total, eur(3276));
        assert_eq!(q.codes_applied, vec!["DOLCE10".to_string()]);
        assert_eq!(q.lines.iter().map(|l| l.total.amount_minor).sum::<i64>(), 3276);
        totals.push(q);
    }
    for q in &totals[1..] {
        assert_eq!(q.lines, totals[0].lines, "line prices are the same everywhere");
    }
    for ch in &s.channels {
        let product = s.core.get_variant(&s.t, &s.cannolo).unwrap().product_id;
        let view = s.core.channel_product(&s.t, ch, &product, T0).unwrap();
        assert_eq!(view.variants[0].price, eur(280));
        assert_eq!(view.variants[0].compare_at, Some(eur(350)));
        assert_eq!(view.variants[0].available, Some(50));
    }
    // Check out on Instagram at the quoted price.
    let order = s.core.checkout(
        &s.t,
        &cart.id,
        CheckoutRequest {
            channel: Some(s.insta.clone()),
            fulfilment: Fulfilment::Pickup { location_id: s.negozio.clone() },
            customer: None,
            email: Some("Giulia@Example.it".into()),
            note: None,
            expected_total_minor: Some(3276),
        },
        T0,
    );
    // The cannoli are all in the lab, so pickup at the shop cannot be served…
    assert!(matches!(order, Err(CoreError::InsufficientStock { .. })), "{order:?}");
    let order = s
        .core
        .checkout(
            &s.t,
            &cart.id,
            CheckoutRequest {
                channel: Some(s.insta.clone()),
                fulfilment: Fulfilment::ShipToStore { location_id: s.negozio.clone() },
                customer: None,
                email: Some("Giulia@Example.it".into()),
                note: None,
                expected_total_minor: Some(3276),
            },
            T0,
        )
        .unwrap();
    assert_eq!(order.total, eur(3276));
    assert_eq!(order.channel_id.as_ref(), Some(&s.insta));
    assert_eq!(order.lines[0].unit_price, eur(350));
    assert_eq!(order.lines[0].line_discount, eur(210));
    assert_eq!(order.email.as_deref(), Some("giulia@example.it"));
    // Checking out again returns the same order.
    let again = s
        .core
        .checkout(
            &s.t,
            &cart.id,
            CheckoutRequest {
                channel: None,
                fulfilment: ship(),
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            },
            T0,
        )
        .unwrap();
    assert_eq!(again.id, order.id);
}

fn ingesting_twice_creates_one_order(b: &Backend) {
    let s = shop(&b.core, "ingest");
    let incoming = IngestOrder {
        external_id: "IG-1001".into(),
        lines: vec![IngestLine { sku: "CAS-1".into(), quantity: 2, unit_price: None }],
        customer: Some(Identity::social("instagram", "@giulia.r").unwrap()),
        customer_name: Some("Giulia".into()),
        email: None,
        fulfilment: Fulfilment::Pickup { location_id: s.negozio.clone() },
        codes: vec![],
        note: None,
    };
    let first = s.core.ingest_order(&s.t, &s.insta, incoming.clone(), T0).unwrap();
    assert!(first.created);
    let movements_after_first = s.core.movements(&s.t, &s.cassata, &s.negozio, 0, 100).unwrap().len();
    let events_after_first = s.core.list_events(&s.t, None, 10_000).unwrap().len();
    let store_after_first = snapshot(b.core.store());
    let second = s.core.ingest_order(&s.t, &s.insta, incoming.clone(), T0 + 5).unwrap();
    assert!(!second.created);
    assert_eq!(second.order, first.order);
    assert_eq!(snapshot(b.core.store()), store_after_first, "a repeated ingestion writes nothing");
    assert_eq!(s.core.movements(&s.t, &s.cassata, &s.negozio, 0, 100).unwrap().len(), movements_after_first);
    assert_eq!(s.core.list_events(&s.t, None, 10_000).unwrap().len(), events_after_first);
    let orders = s.core.list_orders(&s.t, &OrderQuery::default()).unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(s.level(&s.cassata, &s.negozio).reserved, 2);
    assert_eq!(s.core.order_by_external_id(&s.t, &s.insta, "IG-1001").unwrap().id, first.order.id);
    // The same external id on another channel is another order.
    let other = s.core.ingest_order(&s.t, &s.pins, IngestOrder { fulfilment: ship(), ..incoming }, T0).unwrap();
    assert!(other.created);
    assert_ne!(other.order.id, first.order.id);
    s.assert_ledger(&s.cassata);
}

fn concurrent_ingestion_creates_one_order(b: &Backend) {
    let s = shop(&b.core, "ingestrace");
    let results: Vec<Ingested> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..6)
            .map(|_| {
                let s = &s;
                scope.spawn(move || {
                    let o = IngestOrder {
                        external_id: "IG-7".into(),
                        lines: vec![IngestLine { sku: "BIS-1".into(), quantity: 3, unit_price: Some(eur(600)) }],
                        customer: None,
                        customer_name: None,
                        email: Some("anna@example.it".into()),
                        fulfilment: ship(),
                        codes: vec![],
                        note: None,
                    };
                    s.core.ingest_order(&s.t, &s.insta, o, T0).unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    assert!(results.iter().all(|r| r.order.id == results[0].order.id));
    assert_eq!(results[0].order.total, eur(1800), "the channel's prices are kept");
    assert_eq!(s.level(&s.cantucci, &s.lab).reserved, 3);
    assert_eq!(
        s.core
            .movements(&s.t, &s.cantucci, &s.lab, 0, 100)
            .unwrap()
            .iter()
            .filter(|m| m.kind == MovementKind::Allocated)
            .count(),
        1
    );
    assert_eq!(s.core.list_orders(&s.t, &OrderQuery::default()).unwrap().len(), 1);
    let customers = s.core.list_customers(&s.t, None, 100).unwrap();
    assert_eq!(customers.len(), 1, "one customer profile for the email");
}

fn expired_holds_return_stock(b: &Backend) {
    let s = shop(&b.core, "holds");
    s.core.set_stock(&s.t, &s.sfogliatella, &s.lab, 2, None, T0).unwrap();
    let cart = s.core.create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: None }, T0).unwrap();
    s.core.add_to_cart(&s.t, &cart.id, &s.sfogliatella, 2, T0).unwrap();
    let holds = s.core.hold_cart(&s.t, &cart.id, 60_000, T0).unwrap();
    assert_eq!(holds.iter().map(|h| h.quantity).sum::<i64>(), 2);
    assert_eq!(s.level(&s.sfogliatella, &s.lab).available, 0);
    // While held, nobody else can buy them.
    let err = s.buy(Some(&s.insta), &[(&s.sfogliatella, 1)], ship(), T0 + 30_000).unwrap_err();
    assert!(matches!(err, CoreError::InsufficientStock { .. }));
    // Nothing is released before the expiry.
    assert_eq!(s.core.release_expired(&s.t, T0 + 59_999, 0).unwrap(), 0);
    // At expiry, reads already ignore the hold…
    assert_eq!(s.core.availability(&s.t, &s.sfogliatella, None, None, T0 + 60_000).unwrap(), 2);
    // …and the sweep gives the stock back in the counters.
    assert_eq!(s.core.release_expired(&s.t, T0 + 60_000, 0).unwrap(), 1);
    let lvl = s.level(&s.sfogliatella, &s.lab);
    assert_eq!((lvl.on_hand, lvl.reserved, lvl.available), (2, 0, 2));
    assert!(s.core.cart_holds(&s.t, &cart.id).unwrap().is_empty());

    // Lazy expiry: without any sweep, a checkout after expiry gets the units.
    s.core.hold_cart(&s.t, &cart.id, 1_000, T0 + 70_000).unwrap();
    assert_eq!(s.level(&s.sfogliatella, &s.lab).reserved, 2);
    let order = s.buy(Some(&s.insta), &[(&s.sfogliatella, 2)], ship(), T0 + 71_000).unwrap();
    assert_eq!(order.lines[0].quantity, 2);
    let lvl = s.level(&s.sfogliatella, &s.lab);
    assert_eq!((lvl.on_hand, lvl.reserved, lvl.available), (2, 2, 0));
    assert!(s.core.cart_holds(&s.t, &cart.id).unwrap().is_empty());
    let kinds: Vec<MovementKind> =
        s.core.movements(&s.t, &s.sfogliatella, &s.lab, 0, 100).unwrap().iter().map(|m| m.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == MovementKind::HoldExpired).count(), 2);
    // The cart that held them can no longer get them.
    let err = s
        .core
        .checkout(
            &s.t,
            &cart.id,
            CheckoutRequest {
                channel: None,
                fulfilment: ship(),
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            },
            T0 + 72_000,
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::InsufficientStock { .. }));
    s.assert_ledger(&s.sfogliatella);
}

fn return_restocks_the_receiving_location(b: &Backend) {
    let s = shop(&b.core, "returns");
    // An online order shipped from the lab…
    let order = s.buy(Some(&s.web), &[(&s.cantucci, 3)], ship(), T0).unwrap();
    assert_eq!(order.lines[0].allocations[0].location_id, s.lab);
    s.core.mark_shipped(&s.t, &order.id, Some("BRT-123"), T0 + 1).unwrap();
    s.core.mark_completed(&s.t, &order.id, T0 + 2).unwrap();
    assert_eq!(s.level(&s.cantucci, &s.lab).on_hand, 17);
    // …returned in the shop: one unit back on the shelf there, one written off.
    let ret = s
        .core
        .receive_return(
            &s.t,
            &order.id,
            ReturnRequest {
                location_id: s.negozio.clone(),
                lines: vec![ReturnLineRequest { line_no: 1, quantity: 1, disposition: Disposition::Restock }],
                reason: Some("regalo doppio".into()),
            },
            T0 + 3,
        )
        .unwrap();
    assert_eq!(ret.refund_total, eur(650));
    assert_eq!(s.level(&s.cantucci, &s.negozio).on_hand, 1, "restocked where it was received");
    assert_eq!(s.level(&s.cantucci, &s.lab).on_hand, 17, "the shipping location is untouched");
    let ret2 = s
        .core
        .receive_return(
            &s.t,
            &order.id,
            ReturnRequest {
                location_id: s.negozio.clone(),
                lines: vec![ReturnLineRequest { line_no: 1, quantity: 2, disposition: Disposition::WriteOff }],
                reason: None,
            },
            T0 + 4,
        )
        .unwrap();
    assert_eq!(ret2.refund_total, eur(1300));
    assert_eq!(s.level(&s.cantucci, &s.negozio).on_hand, 1, "written-off units are not restocked");
    let o = s.core.get_order(&s.t, &order.id).unwrap();
    assert_eq!(o.status, OrderStatus::Refunded);
    assert_eq!(o.refunded, o.total);
    // Nothing more to return.
    let err = s
        .core
        .receive_return(
            &s.t,
            &order.id,
            ReturnRequest {
                location_id: s.negozio.clone(),
                lines: vec![ReturnLineRequest { line_no: 1, quantity: 1, disposition: Disposition::Restock }],
                reason: None,
            },
            T0 + 5,
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(_)), "{err}");
    assert_eq!(s.core.order_returns(&s.t, &order.id).unwrap().len(), 2);
    let kinds: Vec<_> =
        s.core.movements(&s.t, &s.cantucci, &s.negozio, 0, 10).unwrap().into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, vec![MovementKind::Restocked, MovementKind::WrittenOff]);
    s.assert_ledger(&s.cantucci);
}

fn tenants_are_isolated(b: &Backend) {
    let a = shop(&b.core, "tenant-a");
    let bb = shop(&b.core, "tenant-b");
    // Same SKUs and handles in both tenants are fine.
    assert_eq!(a.core.variant_by_sku(&a.t, "CAS-1").unwrap().id, a.cassata);
    assert_eq!(bb.core.variant_by_sku(&bb.t, "CAS-1").unwrap().id, bb.cassata);
    assert_ne!(a.cassata, bb.cassata, "ids differ across tenants");
    let customer = bb.core.identify(&bb.t, &Identity::email("b@example.it").unwrap(), None, T0).unwrap();
    let b_order = bb.buy(Some(&bb.web), &[(&bb.cassata, 1)], ship(), T0).unwrap();
    let b_cart =
        bb.core.create_cart(&bb.t, NewCart { channel: None, customer: Some(customer.id.clone()) }, T0).unwrap();
    bb.core.add_to_cart(&bb.t, &b_cart.id, &bb.cantucci, 1, T0).unwrap();
    let b_product = bb.core.get_variant(&bb.t, &bb.cassata).unwrap().product_id;

    let before = snapshot(b.core.store());
    let nf = |r: Result<(), CoreError>, what: &str| match r {
        Err(CoreError::NotFound { .. }) => {}
        other => panic!("{what}: tenant A reached tenant B's record: {other:?}"),
    };
    let c = &a.core;
    let t = &a.t;
    nf(c.get_order(t, &b_order.id).map(drop), "get_order");
    nf(c.get_product(t, &b_product).map(drop), "get_product");
    nf(c.get_variant(t, &bb.cassata).map(drop), "get_variant");
    nf(c.get_cart(t, &b_cart.id).map(drop), "get_cart");
    nf(c.get_customer(t, &customer.id).map(drop), "get_customer");
    nf(c.get_location(t, &bb.lab).map(drop), "get_location");
    nf(c.get_channel(t, &bb.web).map(drop), "get_channel");
    nf(c.stock_level(t, &bb.cassata, &bb.lab).map(drop), "stock_level");
    nf(c.cancel_order(t, &b_order.id, None, T0).map(drop), "cancel_order");
    nf(c.mark_shipped(t, &b_order.id, None, T0).map(drop), "mark_shipped");
    nf(c.add_to_cart(t, &b_cart.id, &a.cantucci, 1, T0).map(drop), "add_to_cart on B's cart");
    nf(
        c.checkout(
            t,
            &b_cart.id,
            CheckoutRequest {
                channel: None,
                fulfilment: ship(),
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            },
            T0,
        )
        .map(drop),
        "checkout B's cart",
    );
    nf(c.receive_stock(t, &bb.cassata, &a.lab, 5, None, T0).map(drop), "receive B's variant");
    nf(c.receive_stock(t, &a.cassata, &bb.lab, 5, None, T0).map(drop), "receive at B's location");
    nf(c.publish_product(t, &b_product, &a.web, T0).map(drop), "publish B's product");
    nf(c.set_consent(t, &customer.id, ConsentPurpose::EmailMarketing, true, None, "test", T0).map(drop), "consent");
    nf(
        c.receive_return(
            t,
            &b_order.id,
            ReturnRequest {
                location_id: a.negozio.clone(),
                lines: vec![ReturnLineRequest { line_no: 1, quantity: 1, disposition: Disposition::Restock }],
                reason: None,
            },
            T0,
        )
        .map(drop),
        "return of B's order",
    );
    assert_eq!(snapshot(b.core.store()), before, "failed cross-tenant calls change nothing");
    let a_cart = c.create_cart(t, NewCart::default(), T0).unwrap();
    let before_cart_change = snapshot(b.core.store());
    nf(c.add_to_cart(t, &a_cart.id, &bb.cassata, 1, T0).map(drop), "add B's variant to A's cart");
    nf(c.merge_customers(t, &customer.id, &customer.id, T0).map(drop), "merge B's customers");
    nf(c.get_delivery(t, &DeliveryId::new(format!("{}.{}", b_order.id, bb.web))).map(drop), "delivery");
    assert_eq!(snapshot(b.core.store()), before_cart_change, "failed cross-tenant calls change nothing");
    // Lists and lookups by value see only A's records.
    assert!(c.list_orders(t, &OrderQuery::default()).unwrap().is_empty());
    assert!(c.find_customer(t, &Identity::email("b@example.it").unwrap()).unwrap().is_none());
    assert!(c.list_customers(t, None, 100).unwrap().is_empty());
    assert!(c.list_events(t, None, 10_000).unwrap().iter().all(|e| e.tenant == a.t));
    assert!(matches!(c.order_by_external_id(t, &bb.web, "x"), Err(CoreError::NotFound { .. })));
    // B's data is as B left it.
    assert_eq!(bb.level(&bb.cassata, &bb.lab).reserved, 1);
    assert_eq!(bb.core.get_order(&bb.t, &b_order.id).unwrap().status, OrderStatus::Placed);
    // An unknown tenant is NotFound, not an empty store.
    let ghost = TenantId::new("ghost").unwrap();
    assert!(matches!(c.list_orders(&ghost, &OrderQuery::default()), Err(CoreError::NotFound { .. })));
    assert!(matches!(c.create_cart(&ghost, NewCart::default(), T0), Err(CoreError::NotFound { .. })));
    // Tenant ids cannot smuggle key separators.
    assert!(TenantId::new("tenant-b/ord").is_err());
    assert_eq!(c.list_tenants().unwrap().len(), 2);
}

fn bad_input_is_refused_and_changes_nothing(b: &Backend) {
    let s = shop(&b.core, "badinput");
    let order = s.buy(Some(&s.web), &[(&s.cantucci, 1)], ship(), T0).unwrap();
    let cart = s.core.create_cart(&s.t, NewCart::default(), T0).unwrap();
    s.core.add_to_cart(&s.t, &cart.id, &s.cantucci, 1, T0).unwrap();
    let before = snapshot(b.core.store());
    let c = &s.core;
    let t = &s.t;
    let invalid = |r: Result<(), CoreError>, what: &str| match r {
        Err(CoreError::Invalid(msg)) => assert!(!msg.is_empty()),
        other => panic!("{what}: expected Invalid, got {other:?}"),
    };
    let not_found = |r: Result<(), CoreError>, what: &str| match r {
        Err(e @ CoreError::NotFound { .. }) => assert!(e.to_string().contains("not found"), "{e}"),
        other => panic!("{what}: expected NotFound, got {other:?}"),
    };
    invalid(c.add_to_cart(t, &cart.id, &s.cantucci, 0, T0).map(drop), "zero quantity");
    invalid(c.add_to_cart(t, &cart.id, &s.cantucci, -3, T0).map(drop), "negative quantity");
    invalid(c.set_cart_line(t, &cart.id, &s.cantucci, -1, T0).map(drop), "negative line");
    invalid(c.receive_stock(t, &s.cantucci, &s.lab, 0, None, T0).map(drop), "receive zero");
    invalid(c.receive_stock(t, &s.cantucci, &s.lab, -5, None, T0).map(drop), "receive negative");
    invalid(c.adjust_stock(t, &s.cantucci, &s.lab, 0, None, T0).map(drop), "adjust zero");
    invalid(c.set_stock(t, &s.cantucci, &s.lab, -1, None, T0).map(drop), "negative count");
    invalid(c.transfer_stock(t, &s.cantucci, &s.lab, &s.negozio, 0, None, T0).map(drop), "transfer zero");
    invalid(c.transfer_stock(t, &s.cantucci, &s.lab, &s.lab, 1, None, T0).map(drop), "transfer to itself");
    invalid(c.hold_cart(t, &cart.id, 0, T0).map(drop), "zero hold");
    invalid(c.release_expired(t, -1, 0).map(drop), "negative time");
    invalid(Money::new(100, "eur").map(drop), "lower-case currency");
    invalid(Money::new(100, "EURO").map(drop), "four-letter currency");
    invalid(c.create_tenant(&TenantId::new("other").unwrap(), "X", "XXX", T0).map(drop), "bad tenant currency");
    let usd_variant = NewVariant {
        sku: "USD-1".into(),
        title: "x".into(),
        options: BTreeMap::new(),
        gtin: None,
        weight_grams: None,
        price: Money { amount_minor: 100, currency: "USD".into() },
        compare_at: None,
        backorderable: false,
    };
    let product = |variants: Vec<NewVariant>| NewProduct {
        handle: "nuovo".into(),
        title: "Nuovo".into(),
        description: String::new(),
        brand: None,
        tags: vec![],
        collections: vec![],
        images: vec![],
        status: ProductStatus::Active,
        variants,
    };
    invalid(c.create_product(t, product(vec![usd_variant.clone()]), T0).map(drop), "price in another currency");
    invalid(
        c.create_product(
            t,
            product(vec![NewVariant {
                price: Money { amount_minor: 100, currency: "eur".into() },
                ..usd_variant.clone()
            }]),
            T0,
        )
        .map(drop),
        "malformed currency",
    );
    invalid(
        c.create_product(t, product(vec![NewVariant { price: eur(-1), ..usd_variant.clone() }]), T0).map(drop),
        "negative price",
    );
    invalid(
        c.create_product(
            t,
            product(vec![NewVariant { gtin: Some("123".into()), price: eur(1), ..usd_variant.clone() }]),
            T0,
        )
        .map(drop),
        "bad GTIN",
    );
    invalid(
        c.create_product(t, NewProduct { handle: "Bad Handle!".into(), ..product(vec![]) }, T0).map(drop),
        "bad handle",
    );
    match c.create_product(
        t,
        product(vec![NewVariant { sku: "CAS-1".into(), price: eur(1), ..usd_variant.clone() }]),
        T0,
    ) {
        Err(CoreError::Conflict(msg)) => assert!(msg.contains("CAS-1")),
        other => panic!("duplicate SKU: expected Conflict, got {other:?}"),
    }
    invalid(
        c.create_promotion(
            t,
            NewPromotion {
                name: "x".into(),
                scope: PromotionScope::Line,
                value: DiscountValue::Percent { bps: 0 },
                conditions: Default::default(),
                code: None,
                usage_limit: None,
            },
            T0,
        )
        .map(drop),
        "zero percent",
    );
    invalid(c.apply_code(t, &cart.id, "NOPE", T0).map(drop), "unknown code");
    invalid(
        c.identify(t, &Identity { kind: IdentityKind::Email, value: "not-an-email".into() }, None, T0).map(drop),
        "bad email",
    );
    invalid(
        c.identify(t, &Identity { kind: IdentityKind::Phone, value: "333 12".into() }, None, T0).map(drop),
        "bad phone",
    );
    let checkout = |fulfilment| CheckoutRequest {
        channel: None,
        fulfilment,
        customer: None,
        email: None,
        note: None,
        expected_total_minor: None,
    };
    invalid(
        c.checkout(t, &cart.id, checkout(Fulfilment::Pickup { location_id: s.lab.clone() }), T0).map(drop),
        "pickup where pickup is off",
    );
    invalid(
        c.checkout(
            t,
            &cart.id,
            checkout(Fulfilment::Ship { address: Address { country: "Italia".into(), ..address() } }),
            T0,
        )
        .map(drop),
        "bad country",
    );
    invalid(
        c.checkout(t, &cart.id, CheckoutRequest { email: Some("x".into()), ..checkout(ship()) }, T0).map(drop),
        "bad email at checkout",
    );
    match c.checkout(t, &cart.id, CheckoutRequest { expected_total_minor: Some(1), ..checkout(ship()) }, T0) {
        Err(CoreError::Conflict(msg)) => assert!(msg.contains("changed")),
        other => panic!("stale total: expected Conflict, got {other:?}"),
    }
    let ingest = |lines: Vec<IngestLine>| IngestOrder {
        external_id: "E-1".into(),
        lines,
        customer: None,
        customer_name: None,
        email: None,
        fulfilment: ship(),
        codes: vec![],
        note: None,
    };
    invalid(
        c.ingest_order(
            t,
            &s.insta,
            ingest(vec![IngestLine { sku: "BIS-1".into(), quantity: 0, unit_price: None }]),
            T0,
        )
        .map(drop),
        "ingest zero",
    );
    invalid(c.ingest_order(t, &s.insta, ingest(vec![]), T0).map(drop), "ingest no lines");
    invalid(
        c.ingest_order(
            t,
            &s.insta,
            ingest(vec![IngestLine {
                sku: "BIS-1".into(),
                quantity: 1,
                unit_price: Some(Money { amount_minor: 5, currency: "GBP".into() }),
            }]),
            T0,
        )
        .map(drop),
        "ingest in another currency",
    );
    not_found(
        c.ingest_order(t, &s.insta, ingest(vec![IngestLine { sku: "NOPE".into(), quantity: 1, unit_price: None }]), T0)
            .map(drop),
        "unknown SKU",
    );
    not_found(
        c.ingest_order(
            t,
            &ChannelId::new("chn-nope"),
            ingest(vec![IngestLine { sku: "BIS-1".into(), quantity: 1, unit_price: None }]),
            T0,
        )
        .map(drop),
        "unknown channel",
    );
    not_found(c.checkout(t, &CartId::new("crt-nope"), checkout(ship()), T0).map(drop), "unknown cart");
    not_found(c.add_to_cart(t, &cart.id, &VariantId::new("var-nope"), 1, T0).map(drop), "unknown variant");
    not_found(c.get_order(t, &OrderId::new("ord-nope")).map(drop), "unknown order");
    not_found(c.get_order(t, &OrderId::new("../../sys/tenants/x")).map(drop), "path-like id");
    not_found(c.get_order(t, &OrderId::new("x".repeat(5000))).map(drop), "huge id");
    not_found(c.cancel_order(t, &OrderId::new("ord-nope"), None, T0).map(drop), "cancel unknown");
    not_found(c.receive_stock(t, &s.cantucci, &LocationId::new("loc-nope"), 1, None, T0).map(drop), "unknown location");
    not_found(
        c.quote(
            t,
            &QuoteRequest {
                lines: vec![QuoteLineRequest { variant_id: VariantId::new("var-x"), quantity: 1 }],
                channel: None,
                codes: vec![],
            },
            T0,
        )
        .map(drop),
        "quote unknown variant",
    );
    invalid(
        c.quote(
            t,
            &QuoteRequest {
                lines: vec![QuoteLineRequest { variant_id: s.cantucci.clone(), quantity: -1 }],
                channel: None,
                codes: vec![],
            },
            T0,
        )
        .map(drop),
        "quote negative",
    );
    invalid(
        c.receive_return(
            t,
            &order.id,
            ReturnRequest {
                location_id: s.negozio.clone(),
                lines: vec![ReturnLineRequest { line_no: 1, quantity: 0, disposition: Disposition::Restock }],
                reason: None,
            },
            T0,
        )
        .map(drop),
        "return zero",
    );
    invalid(c.refund_order(t, &order.id, Some(-5), None, T0).map(drop), "negative refund");
    invalid(c.refund_order(t, &order.id, Some(order.total.amount_minor + 1), None, T0).map(drop), "refund above total");
    match c.transfer_stock(t, &s.cantucci, &s.lab, &s.negozio, 1000, None, T0) {
        Err(CoreError::InsufficientStock { sku, requested: 1000, available: 19 }) => assert_eq!(sku, "BIS-1"),
        other => panic!("transfer beyond stock: {other:?}"),
    }
    match c.adjust_stock(t, &s.cantucci, &s.lab, -20, None, T0) {
        Err(CoreError::InsufficientStock { .. }) => {}
        other => panic!("adjusting below what is reserved: {other:?}"),
    }
    match c.mark_completed(t, &order.id, T0) {
        Err(CoreError::Conflict(_)) => {}
        other => panic!("completing an unshipped order: {other:?}"),
    }
    assert_eq!(snapshot(b.core.store()), before, "refused calls must leave the store exactly as it was");
    // Messages say what to do.
    let msg = CoreError::InsufficientStock { sku: "A".into(), requested: 2, available: 1 }.to_string();
    assert!(msg.contains("requested 2") && msg.contains("available 1") && msg.contains("lower the quantity"));
}

// ------------------------------------------------------------ memory-only tests

fn mem_shop(name: &str) -> Shop {
    shop(&memory_core(), name)
}

fn memory_core() -> Core {
    Core::new(omnistore_storage::open("memory:").unwrap())
}

mod pricing {
    use super::*;

    fn promo(s: &Shop, new: NewPromotion) -> Promotion {
        s.core.create_promotion(&s.t, new, T0).unwrap()
    }

    fn quote(s: &Shop, lines: &[(&VariantId, i64)], channel: Option<&ChannelId>, codes: &[&str], now: i64) -> Quote {
        s.core
            .quote(
                &s.t,
                &QuoteRequest {
                    lines: lines
                        .iter()
                        .map(|(v, q)| QuoteLineRequest { variant_id: (*v).clone(), quantity: *q })
                        .collect(),
                    channel: channel.cloned(),
                    codes: codes.iter().map(|c| c.to_string()).collect(),
                },
                now,
            )
            .unwrap()
    }

    #[test]
    fn best_line_promotion_per_line_plus_best_order_promotion() {
        let s = mem_shop("stack");
        // A second, better line promotion for cannoli does not stack with the 20%.
        promo(
            &s,
            NewPromotion {
                name: "1 EUR off each cannolo".into(),
                scope: PromotionScope::Line,
                value: DiscountValue::AmountOff { amount_minor: 100 },
                conditions: PromotionConditions {
                    tags: vec![],
                    brands: vec!["dolce vita".into()],
                    ..Default::default()
                },
                code: None,
                usage_limit: None,
            },
        );
        // A worse order promotion loses to DOLCE10.
        promo(
            &s,
            NewPromotion {
                name: "2 EUR off".into(),
                scope: PromotionScope::Order,
                value: DiscountValue::AmountOff { amount_minor: 200 },
                conditions: Default::default(),
                code: None,
                usage_limit: None,
            },
        );
        let q = quote(&s, &[(&s.cannolo, 2), (&s.cassata, 1)], None, &["DOLCE10"], T0);
        // cannoli 700: 20% = 140 vs 1 EUR x 2 = 200 -> 200. cassata 2800: 100 (1 EUR brand promo).
        assert_eq!(q.lines[0].line_discount, eur(200));
        assert_eq!(q.lines[0].line_promotion.as_ref().unwrap().name, "1 EUR off each cannolo");
        assert_eq!(q.lines[1].line_discount, eur(100));
        // After lines: 500 + 2700 = 3200; DOLCE10 = 320 beats 200.
        assert_eq!(q.order_discount, eur(320));
        assert_eq!(q.order_promotion.as_ref().unwrap().code.as_deref(), Some("DOLCE10"));
        assert_eq!(q.total, eur(2880));
        assert_eq!(q.lines.iter().map(|l| l.order_discount_share.amount_minor).sum::<i64>(), 320);
        assert_eq!(q.lines[0].order_discount_share, eur(50));
    }

    #[test]
    fn conditions_windows_channels_minimums_and_limits() {
        let s = mem_shop("conditions");
        promo(
            &s,
            NewPromotion {
                name: "instagram week".into(),
                scope: PromotionScope::Line,
                value: DiscountValue::Percent { bps: 5000 },
                conditions: PromotionConditions {
                    products: vec![s.core.get_variant(&s.t, &s.cantucci).unwrap().product_id],
                    channels: vec![s.insta.clone()],
                    starts_ms: Some(T0 + 1000),
                    ends_ms: Some(T0 + 2000),
                    ..Default::default()
                },
                code: None,
                usage_limit: Some(1),
            },
        );
        let line = |ch: Option<&ChannelId>, now| quote(&s, &[(&s.cantucci, 1)], ch, &[], now).total.amount_minor;
        assert_eq!(line(Some(&s.insta), T0), 650, "before the window");
        assert_eq!(line(Some(&s.insta), T0 + 1000), 325, "in the window");
        assert_eq!(line(Some(&s.web), T0 + 1000), 650, "another channel");
        assert_eq!(line(None, T0 + 1000), 650, "no channel");
        assert_eq!(line(Some(&s.insta), T0 + 2000), 650, "window end is exclusive");
        // DOLCE10 needs 20 EUR.
        let q = quote(&s, &[(&s.cantucci, 3)], None, &["DOLCE10"], T0);
        assert_eq!(q.order_discount, eur(0));
        assert_eq!(q.codes_not_applied, vec!["DOLCE10".to_string()]);
        let q = quote(&s, &[(&s.cantucci, 4)], None, &["DOLCE10"], T0);
        assert_eq!(q.order_discount, eur(260));
        // Usage limit: the first order on Instagram uses it, the second pays full price.
        let o1 = s.buy(Some(&s.insta), &[(&s.cantucci, 1)], ship(), T0 + 1500).unwrap();
        assert_eq!(o1.total, eur(325));
        assert_eq!(o1.promotions.len(), 1);
        let o2 = s.buy(Some(&s.insta), &[(&s.cantucci, 1)], ship(), T0 + 1500).unwrap();
        assert_eq!(o2.total, eur(650));
    }

    #[test]
    fn fixed_amounts_never_go_below_zero_and_unpublished_products_are_refused() {
        let s = mem_shop("fixed");
        promo(
            &s,
            NewPromotion {
                name: "50 EUR off".into(),
                scope: PromotionScope::Order,
                value: DiscountValue::AmountOff { amount_minor: 5000 },
                conditions: Default::default(),
                code: Some("BIG".into()),
                usage_limit: None,
            },
        );
        let q = quote(&s, &[(&s.cantucci, 1), (&s.cannolo, 1)], None, &["big"], T0);
        assert_eq!(q.total, eur(0));
        assert!(q.lines.iter().all(|l| l.total.amount_minor == 0));
        let product = s.core.get_variant(&s.t, &s.cantucci).unwrap().product_id;
        s.core.unpublish_product(&s.t, &product, &s.pins, T0).unwrap();
        let r = s.core.quote(
            &s.t,
            &QuoteRequest {
                lines: vec![QuoteLineRequest { variant_id: s.cantucci.clone(), quantity: 1 }],
                channel: Some(s.pins.clone()),
                codes: vec![],
            },
            T0,
        );
        assert!(matches!(r, Err(CoreError::Invalid(_))));
        assert!(matches!(s.core.channel_product(&s.t, &s.pins, &product, T0), Err(CoreError::NotFound { .. })));
        assert_eq!(s.core.channel_catalog(&s.t, &s.pins, None, 10, T0).unwrap().len(), 3);
        assert_eq!(s.core.channel_catalog(&s.t, &s.web, None, 10, T0).unwrap().len(), 4);
        let page1 = s.core.channel_catalog(&s.t, &s.web, None, 3, T0).unwrap();
        let page2 = s.core.channel_catalog(&s.t, &s.web, Some(&page1[2].product.id), 3, T0).unwrap();
        assert_eq!(page1.len() + page2.len(), 4);
    }
}

mod inventory {
    use super::*;

    #[test]
    fn safety_buffer_keeps_units_from_a_channel() {
        let s = mem_shop("buffer");
        s.core
            .update_channel(&s.t, &s.insta, ChannelPatch { safety_buffer: Some(3), ..Default::default() }, T0)
            .unwrap();
        // 5 cassate; Instagram may sell only 2.
        assert_eq!(s.core.availability(&s.t, &s.cassata, Some(&s.insta), None, T0).unwrap(), 2);
        assert_eq!(s.core.availability(&s.t, &s.cassata, Some(&s.web), None, T0).unwrap(), 5);
        let err = s.buy(Some(&s.insta), &[(&s.cassata, 3)], ship(), T0).unwrap_err();
        assert!(matches!(err, CoreError::InsufficientStock { available: 2, .. }), "{err}");
        s.buy(Some(&s.insta), &[(&s.cassata, 2)], ship(), T0).unwrap();
        assert_eq!(s.core.availability(&s.t, &s.cassata, Some(&s.insta), None, T0).unwrap(), 0);
        s.buy(Some(&s.web), &[(&s.cassata, 3)], ship(), T0).unwrap();
        assert_eq!(s.core.availability(&s.t, &s.cassata, None, None, T0).unwrap(), 0);
    }

    #[test]
    fn allocation_prefers_warehouses_and_splits_across_locations() {
        let s = mem_shop("split");
        let o = s.buy(None, &[(&s.cassata, 4)], ship(), T0).unwrap();
        let a = &o.lines[0].allocations;
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].location_id.clone(), a[0].quantity), (s.lab.clone(), 3));
        assert_eq!((a[1].location_id.clone(), a[1].quantity), (s.negozio.clone(), 1));
        s.core.mark_shipped(&s.t, &o.id, None, T0).unwrap();
        assert_eq!(s.level(&s.cassata, &s.lab).on_hand, 0);
        assert_eq!(s.level(&s.cassata, &s.negozio).on_hand, 1);
        s.assert_ledger(&s.cassata);
    }

    #[test]
    fn pickup_takes_stock_at_the_shop_only() {
        let s = mem_shop("pickup");
        let err =
            s.buy(None, &[(&s.cassata, 3)], Fulfilment::Pickup { location_id: s.negozio.clone() }, T0).unwrap_err();
        assert!(matches!(err, CoreError::InsufficientStock { available: 2, .. }));
        s.core.transfer_stock(&s.t, &s.cassata, &s.lab, &s.negozio, 1, Some("for pickup"), T0).unwrap();
        let o = s.buy(None, &[(&s.cassata, 3)], Fulfilment::Pickup { location_id: s.negozio.clone() }, T0).unwrap();
        assert_eq!(o.lines[0].allocations[0].location_id, s.negozio);
        s.core.mark_ready_for_pickup(&s.t, &o.id, T0).unwrap();
        assert_eq!(s.level(&s.cassata, &s.negozio).on_hand, 3, "still on the shelf until collected");
        s.core.mark_completed(&s.t, &o.id, T0).unwrap();
        let shop = s.level(&s.cassata, &s.negozio);
        assert_eq!((shop.on_hand, shop.reserved), (0, 0));
        assert_eq!(s.level(&s.cassata, &s.lab).on_hand, 2);
        s.assert_ledger(&s.cassata);
    }

    #[test]
    fn backorderable_variants_sell_beyond_stock() {
        let s = mem_shop("backorder");
        s.core
            .update_variant(&s.t, &s.sfogliatella, VariantPatch { backorderable: Some(true), ..Default::default() }, T0)
            .unwrap();
        let o = s.buy(Some(&s.web), &[(&s.sfogliatella, 4)], ship(), T0).unwrap();
        assert_eq!(o.lines[0].allocations[0].backordered, 4);
        assert_eq!(s.level(&s.sfogliatella, &s.lab).available, -4);
        s.core.receive_stock(&s.t, &s.sfogliatella, &s.lab, 10, None, T0).unwrap();
        s.core.mark_shipped(&s.t, &o.id, None, T0).unwrap();
        let l = s.level(&s.sfogliatella, &s.lab);
        assert_eq!((l.on_hand, l.reserved), (6, 0));
        s.assert_ledger(&s.sfogliatella);
    }

    #[test]
    fn cancel_releases_and_ship_to_store_cancel_restocks_at_the_store() {
        let s = mem_shop("cancel");
        let o = s.buy(None, &[(&s.cantucci, 2)], ship(), T0).unwrap();
        s.core.cancel_order(&s.t, &o.id, Some("changed mind"), T0).unwrap();
        assert_eq!(s.level(&s.cantucci, &s.lab).reserved, 0);
        assert_eq!(s.level(&s.cantucci, &s.lab).on_hand, 20);
        let o =
            s.buy(None, &[(&s.cantucci, 2)], Fulfilment::ShipToStore { location_id: s.negozio.clone() }, T0).unwrap();
        s.core.mark_shipped(&s.t, &o.id, None, T0).unwrap();
        assert!(matches!(s.core.cancel_order(&s.t, &o.id, None, T0), Err(CoreError::Conflict(_))));
        s.core.mark_ready_for_pickup(&s.t, &o.id, T0).unwrap();
        let cancelled = s.core.cancel_order(&s.t, &o.id, Some("never collected"), T0).unwrap();
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
        assert_eq!(s.level(&s.cantucci, &s.lab).on_hand, 18);
        assert_eq!(s.level(&s.cantucci, &s.negozio).on_hand, 2, "the goods are at the store now");
        let refunded = s.core.refund_order(&s.t, &o.id, None, Some("cancelled"), T0).unwrap();
        assert_eq!(refunded.status, OrderStatus::Refunded);
        s.assert_ledger(&s.cantucci);
    }

    #[test]
    fn order_status_flow_is_enforced() {
        let s = mem_shop("flow");
        let ship_order = s.buy(None, &[(&s.cantucci, 1)], ship(), T0).unwrap();
        assert!(matches!(s.core.mark_ready_for_pickup(&s.t, &ship_order.id, T0), Err(CoreError::Conflict(_))));
        assert!(matches!(s.core.mark_completed(&s.t, &ship_order.id, T0), Err(CoreError::Conflict(_))));
        let shipped = s.core.mark_shipped(&s.t, &ship_order.id, Some("TRK1"), T0).unwrap();
        assert_eq!(shipped.tracking.as_deref(), Some("TRK1"));
        // Idempotent: shipping twice consumes once.
        s.core.mark_shipped(&s.t, &ship_order.id, None, T0).unwrap();
        assert_eq!(s.level(&s.cantucci, &s.lab).on_hand, 19);
        let done = s.core.mark_completed(&s.t, &ship_order.id, T0).unwrap();
        let statuses: Vec<_> = done.history.iter().map(|h| h.status).collect();
        assert_eq!(statuses, vec![OrderStatus::Placed, OrderStatus::Shipped, OrderStatus::Completed]);
        assert!(matches!(s.core.cancel_order(&s.t, &ship_order.id, None, T0), Err(CoreError::Conflict(_))));
        // A full refund of an order still holding stock must be preceded by a cancel.
        let held = s.buy(None, &[(&s.cantucci, 1)], ship(), T0).unwrap();
        assert!(matches!(s.core.refund_order(&s.t, &held.id, None, None, T0), Err(CoreError::Conflict(_))));
        let partial = s.core.refund_order(&s.t, &held.id, Some(100), None, T0).unwrap();
        assert_eq!((partial.status, partial.refunded.amount_minor), (OrderStatus::Placed, 100));
    }

    #[test]
    fn every_change_is_in_the_ledger() {
        let s = mem_shop("ledger");
        let id = s.core.transfer_stock(&s.t, &s.cantucci, &s.lab, &s.negozio, 5, None, T0).unwrap();
        s.core.adjust_stock(&s.t, &s.cantucci, &s.negozio, -1, Some("dropped"), T0).unwrap();
        s.core.set_stock(&s.t, &s.cantucci, &s.lab, 10, Some("count"), T0).unwrap();
        let lab = s.core.movements(&s.t, &s.cantucci, &s.lab, 0, 100).unwrap();
        let kinds: Vec<_> = lab.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, vec![MovementKind::Counted, MovementKind::TransferOut, MovementKind::Counted]);
        assert_eq!(lab[1].reference.as_deref(), Some(id.as_str()));
        assert_eq!(lab[2].on_hand_delta, -5);
        let page = s.core.movements(&s.t, &s.cantucci, &s.lab, 1, 1).unwrap();
        assert_eq!(page[0].seq, 2);
        assert_eq!(s.level(&s.cantucci, &s.negozio).on_hand, 4);
        s.assert_ledger(&s.cantucci);
    }
}

mod carts_and_customers {
    use super::*;

    #[test]
    fn a_customer_cart_follows_them_across_channels() {
        let s = mem_shop("crosscart");
        let giulia =
            s.core.identify(&s.t, &Identity::social("instagram", "@Giulia.R").unwrap(), Some("Giulia"), T0).unwrap();
        let on_insta = s
            .core
            .create_cart(&s.t, NewCart { channel: Some(s.insta.clone()), customer: Some(giulia.id.clone()) }, T0)
            .unwrap();
        s.core.add_to_cart(&s.t, &on_insta.id, &s.cassata, 1, T0).unwrap();
        // Later she browses the web shop anonymously, adds cannoli, then logs in.
        let anon = s.core.create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: None }, T0 + 1).unwrap();
        s.core.add_to_cart(&s.t, &anon.id, &s.cannolo, 2, T0 + 1).unwrap();
        s.core.add_identity(&s.t, &giulia.id, &Identity::email("giulia@example.it").unwrap(), T0 + 2).unwrap();
        let merged = s.core.attach_customer(&s.t, &anon.id, &giulia.id, Some(&s.web), T0 + 2).unwrap();
        assert_eq!(merged.id, on_insta.id);
        assert_eq!(merged.lines.len(), 2);
        // The web shop, where she is now, carries on with the cart.
        assert_eq!(merged.channel_id.as_ref(), Some(&s.web));
        assert_eq!(s.core.cart_for_channel(&s.t, &s.web, &merged.id).unwrap().lines.len(), 2);
        assert!(matches!(s.core.get_cart(&s.t, &anon.id).unwrap().status, CartStatus::Merged { .. }));
        let again = s
            .core
            .create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: Some(giulia.id.clone()) }, T0 + 3)
            .unwrap();
        assert_eq!(again.id, on_insta.id);
        assert_eq!(again.channel_id.as_ref(), Some(&s.web));
        let order = s.core.checkout(
            &s.t,
            &again.id,
            CheckoutRequest {
                channel: Some(s.web.clone()),
                fulfilment: Fulfilment::Pickup { location_id: s.negozio.clone() },
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            },
            T0 + 4,
        );
        // Cannoli are only in the lab: ship-to-store instead.
        assert!(order.is_err());
        let order = s
            .core
            .checkout(
                &s.t,
                &again.id,
                CheckoutRequest {
                    channel: Some(s.web.clone()),
                    fulfilment: Fulfilment::ShipToStore { location_id: s.negozio.clone() },
                    customer: None,
                    email: None,
                    note: None,
                    expected_total_minor: None,
                },
                T0 + 4,
            )
            .unwrap();
        assert_eq!(order.customer_id.as_ref(), Some(&giulia.id));
        assert!(s.core.customer_open_cart(&s.t, &giulia.id).unwrap().is_none());
        let orders =
            s.core.list_orders(&s.t, &OrderQuery { customer: Some(giulia.id.clone()), ..Default::default() }).unwrap();
        assert_eq!(orders.len(), 1);
    }

    #[test]
    fn identities_merge_consent_and_timeline() {
        let s = mem_shop("customers");
        let by_email = s.core.identify(&s.t, &Identity::email("Marco@Example.IT").unwrap(), Some("Marco"), T0).unwrap();
        let same = s
            .core
            .identify(&s.t, &Identity { kind: IdentityKind::Email, value: " marco@example.it ".into() }, None, T0)
            .unwrap();
        assert_eq!(by_email.id, same.id, "identities are normalised");
        let by_phone = s.core.identify(&s.t, &Identity::phone("+39 333 765 4321").unwrap(), None, T0).unwrap();
        assert_ne!(by_email.id, by_phone.id);
        s.core
            .set_consent(
                &s.t,
                &by_email.id,
                ConsentPurpose::EmailMarketing,
                true,
                Some(&s.web),
                "checkout checkbox",
                T0 + 10,
            )
            .unwrap();
        s.core.set_consent(&s.t, &by_phone.id, ConsentPurpose::SmsMarketing, true, None, "shop form", T0 + 20).unwrap();
        s.core
            .set_consent(&s.t, &by_phone.id, ConsentPurpose::SmsMarketing, false, None, "STOP reply", T0 + 30)
            .unwrap();
        s.core
            .record_touchpoint(
                &s.t,
                NewTouchpoint {
                    customer_id: by_phone.id.clone(),
                    kind: "click".into(),
                    channel_id: Some(s.web.clone()),
                    product_id: None,
                    variant_id: Some(s.cannolo.clone()),
                    campaign: Some(CampaignRef::new("black-friday")),
                    detail: Some("sms link".into()),
                    at_ms: T0 + 40,
                    visitor_id: None,
                    source: None,
                },
                T0 + 40,
            )
            .unwrap();
        // Adding the phone to the email profile is a conflict: merge instead.
        assert!(matches!(
            s.core.add_identity(&s.t, &by_email.id, &Identity::phone("0039 333 7654321").unwrap(), T0),
            Err(CoreError::Conflict(_))
        ));
        let merged = s.core.merge_customers(&s.t, &by_email.id, &by_phone.id, T0 + 50).unwrap();
        assert_eq!(merged.identities.len(), 2);
        assert!(merged.has_consent(ConsentPurpose::EmailMarketing));
        assert!(!merged.has_consent(ConsentPurpose::SmsMarketing), "the STOP stays in force");
        assert_eq!(
            s.core.get_customer(&s.t, &by_phone.id).unwrap().id,
            by_email.id,
            "the old id leads to the survivor"
        );
        assert_eq!(
            s.core.find_customer(&s.t, &Identity::phone("+393337654321").unwrap()).unwrap().unwrap().id,
            by_email.id
        );
        assert_eq!(s.core.consent_history(&s.t, &by_email.id).unwrap().len(), 3);
        assert_eq!(s.core.list_customers(&s.t, None, 10).unwrap().len(), 1);
        assert_eq!(s.core.customers_with_consent(&s.t, ConsentPurpose::EmailMarketing).unwrap().len(), 1);
        assert!(s.core.customers_with_consent(&s.t, ConsentPurpose::SmsMarketing).unwrap().is_empty());
        // An order after the campaign click is attributed to it.
        let cart = s
            .core
            .create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: Some(by_email.id.clone()) }, T0 + 60)
            .unwrap();
        s.core.add_to_cart(&s.t, &cart.id, &s.cannolo, 1, T0 + 60).unwrap();
        let order = s
            .core
            .checkout(
                &s.t,
                &cart.id,
                CheckoutRequest {
                    channel: None,
                    fulfilment: ship(),
                    customer: None,
                    email: None,
                    note: None,
                    expected_total_minor: None,
                },
                T0 + 70,
            )
            .unwrap();
        assert_eq!(order.attributed_campaign, Some(CampaignRef::new("black-friday")));
        let timeline = s.core.timeline(&s.t, &by_email.id, T0, T0 + 1000, 100).unwrap();
        let kinds: Vec<String> = timeline
            .iter()
            .map(|e| match e {
                TimelineEntry::Touchpoint(t) => t.kind.clone(),
                TimelineEntry::OrderPlaced { .. } => "order".into(),
                TimelineEntry::Consent(c) => format!("consent:{}", c.granted),
            })
            .collect();
        assert_eq!(kinds, vec!["consent:true", "consent:true", "consent:false", "click", "order", "purchase"]);
        assert!(timeline.windows(2).all(|w| w[0].at_ms() <= w[1].at_ms()));
    }
}

mod events {
    use super::*;

    fn kinds(core: &Core, t: &TenantId) -> Vec<String> {
        core.list_events(t, None, 10_000).unwrap().into_iter().map(|e| e.kind.as_str().to_owned()).collect()
    }

    #[test]
    fn events_commit_with_their_change_only() {
        let s = mem_shop("outbox");
        let before = kinds(&s.core, &s.t).len();
        let _ = s.buy(None, &[(&s.sfogliatella, 1)], ship(), T0).unwrap_err();
        let after_failure = kinds(&s.core, &s.t);
        assert!(!after_failure[before..].iter().any(|k| k == "order.placed" || k == "stock.changed"));
        let order = s.buy(None, &[(&s.cassata, 1)], ship(), T0).unwrap();
        let events = s.core.list_events(&s.t, None, 10_000).unwrap();
        let placed: Vec<_> = events.iter().filter(|e| e.kind.as_str() == "order.placed").collect();
        assert_eq!(placed.len(), 1);
        assert_eq!(placed[0].subject, order.id.as_str());
        assert_eq!(placed[0].payload["order"]["total"]["amount_minor"], 2800);
        let stock: Vec<_> =
            events.iter().filter(|e| e.kind.as_str() == "stock.changed" && e.subject == s.cassata.as_str()).collect();
        assert_eq!(stock.last().unwrap().payload["available"], 4);
        // Ids are stable and ordered.
        assert_eq!(s.core.get_event(&s.t, &placed[0].id).unwrap(), *placed[0]);
        assert!(events.windows(2).all(|w| w[0].id < w[1].id));
        let before = kinds(&s.core, &s.t).len();
        s.core.mark_shipped(&s.t, &order.id, None, T0).unwrap();
        let new = kinds(&s.core, &s.t)[before..].to_vec();
        assert_eq!(new, vec!["order.updated".to_string(), "stock.changed".to_string()]);
    }

    #[test]
    fn deliveries_fan_out_retry_with_backoff_die_and_replay() {
        let core = memory_core().with_retry_policy(RetryPolicy {
            base_ms: 1000,
            cap_ms: 4000,
            max_attempts: 4,
            max_retry_after_ms: 60_000,
        });
        let s = shop(&core, "dispatch");
        // Events before now are fanned out too, then the queue is drained.
        while core.fan_out(&s.t, T0, 100).unwrap() > 0 {}
        for d in core.claim_due(&s.t, T0, 10_000, 30_000).unwrap() {
            core.mark_delivered(&s.t, &d.delivery.id, T0).unwrap();
        }
        assert!(core.due_deliveries(&s.t, T0 + 1_000_000, 100).unwrap().is_empty());

        let order = s.buy(Some(&s.web), &[(&s.cantucci, 1)], ship(), T0 + 10).unwrap();
        assert!(core.fan_out(&s.t, T0 + 10, 100).unwrap() > 0);
        let due = core.claim_due(&s.t, T0 + 10, 100, 30_000).unwrap();
        // web wants order.*, instagram stock.changed: two deliveries.
        let web = due.iter().find(|d| d.delivery.channel_id == s.web).expect("web gets order.placed");
        assert_eq!(web.event.kind.as_str(), "order.placed");
        assert_eq!(web.event.subject, order.id.as_str());
        assert!(due.iter().any(|d| d.delivery.channel_id == s.insta && d.event.kind.as_str() == "stock.changed"));
        assert!(!due.iter().any(|d| d.delivery.channel_id == s.pins), "pinterest subscribed to product.* only");
        // Leased: a second dispatcher gets nothing.
        assert!(core.claim_due(&s.t, T0 + 10, 100, 30_000).unwrap().is_empty());
        let id = web.delivery.id.clone();
        let d = core.mark_failed(&s.t, &id, "timeout", None, T0 + 20).unwrap();
        assert_eq!((d.attempts, d.next_attempt_ms), (1, T0 + 1020));
        assert!(core.claim_due(&s.t, T0 + 1019, 100, 30_000).unwrap().iter().all(|x| x.delivery.id != id));
        assert!(core.claim_due(&s.t, T0 + 1020, 100, 30_000).unwrap().iter().any(|x| x.delivery.id == id));
        let d = core.mark_failed(&s.t, &id, "rate limited", Some(10_000), T0 + 1030).unwrap();
        assert_eq!(d.next_attempt_ms, T0 + 11_030, "retry-after beats a shorter backoff");
        let d = core.mark_failed(&s.t, &id, "500", None, T0 + 11_030).unwrap();
        assert_eq!(d.next_attempt_ms, T0 + 15_030, "backoff capped at 4 s");
        let d = core.mark_failed(&s.t, &id, "500", None, T0 + 15_030).unwrap();
        assert_eq!(d.state, DeliveryState::Dead);
        assert_eq!(
            core.dead_letters(&s.t, 10).unwrap().iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
            vec![id.clone()]
        );
        assert!(core.due_deliveries(&s.t, T0 + 10_000_000, 100).unwrap().iter().all(|x| x.id != id));
        let replayed = core.replay_dead_letter(&s.t, &id, T0 + 20_000).unwrap();
        assert_eq!((replayed.state, replayed.attempts), (DeliveryState::Pending, 0));
        assert!(core.dead_letters(&s.t, 10).unwrap().is_empty());
        let again = core.claim_due(&s.t, T0 + 20_000, 100, 30_000).unwrap();
        let again = again.iter().find(|x| x.delivery.id == id).unwrap();
        assert_eq!(again.event.id, web.event.id, "the same event id, for deduplication");
        core.mark_delivered(&s.t, &id, T0 + 20_001).unwrap();
        assert_eq!(core.get_delivery(&s.t, &id).unwrap().state, DeliveryState::Delivered);
        assert!(matches!(core.replay_dead_letter(&s.t, &id, T0), Err(CoreError::Conflict(_))));
        assert_eq!(core.event_deliveries(&s.t, &web.event.id).unwrap().len(), 1);
    }

    #[test]
    fn product_change_bursts_are_coalesced() {
        let s = mem_shop("coalesce");
        while s.core.fan_out(&s.t, T0, 100).unwrap() > 0 {}
        for d in s.core.claim_due(&s.t, T0, 10_000, 30_000).unwrap() {
            s.core.mark_delivered(&s.t, &d.delivery.id, T0).unwrap();
        }
        let product = s.core.get_variant(&s.t, &s.cantucci).unwrap().product_id;
        for i in 0..5 {
            s.core
                .update_product(
                    &s.t,
                    &product,
                    ProductPatch { title: Some(format!("Cantucci {i}")), ..Default::default() },
                    T0 + 1,
                )
                .unwrap();
        }
        s.core.fan_out(&s.t, T0 + 1, 100).unwrap();
        let due = s.core.claim_due(&s.t, T0 + 1, 100, 30_000).unwrap();
        let to_pins: Vec<_> = due.iter().filter(|d| d.delivery.channel_id == s.pins).collect();
        assert_eq!(to_pins.len(), 1, "five changes, one delivery");
        assert_eq!(to_pins[0].delivery.coalesced, 4);
        assert_eq!(to_pins[0].event.payload["product_id"], product.as_str());
        let latest = s
            .core
            .list_events(&s.t, None, 10_000)
            .unwrap()
            .into_iter()
            .rfind(|e| e.kind.as_str() == "product.changed")
            .unwrap();
        assert_eq!(to_pins[0].event.id, latest.id, "the newest state is delivered");
    }

    /// Products announced as changed after the outbox's `mark`-th event.
    fn changed_since(s: &Shop, mark: usize) -> Vec<String> {
        let events = s.core.list_events(&s.t, None, 10_000).unwrap();
        let mut ids: Vec<String> =
            events[mark..].iter().filter(|e| e.kind.as_str() == "product.changed").map(|e| e.subject.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn outbox_len(s: &Shop) -> usize {
        s.core.list_events(&s.t, None, 10_000).unwrap().len()
    }

    fn product_of(s: &Shop, v: &VariantId) -> String {
        s.core.get_variant(&s.t, v).unwrap().product_id.as_str().to_owned()
    }

    fn line_promo(name: &str, products: Vec<ProductId>, code: Option<&str>) -> NewPromotion {
        NewPromotion {
            name: name.into(),
            scope: PromotionScope::Line,
            value: DiscountValue::Percent { bps: 1000 },
            conditions: PromotionConditions { products, ..Default::default() },
            code: code.map(str::to_owned),
            usage_limit: None,
        }
    }

    #[test]
    fn promotions_announce_the_products_whose_shown_price_they_change() {
        let s = mem_shop("reprice");
        let cantucci = ProductId::new(product_of(&s, &s.cantucci));
        let cassata = ProductId::new(product_of(&s, &s.cassata));

        let mark = outbox_len(&s);
        let promo =
            s.core.create_promotion(&s.t, line_promo("cantucci -10%", vec![cantucci.clone()], None), T0).unwrap();
        assert_eq!(changed_since(&s, mark), vec![cantucci.as_str().to_owned()], "only the product it reaches");

        let mark = outbox_len(&s);
        s.core.create_promotion(&s.t, line_promo("code only", vec![cassata.clone()], Some("CASSATA")), T0).unwrap();
        assert!(changed_since(&s, mark).is_empty(), "a code changes no shown price");

        // Moved to another product: the one it leaves gets its price back too.
        let mark = outbox_len(&s);
        let patch = PromotionPatch {
            conditions: Some(PromotionConditions { products: vec![cassata.clone()], ..Default::default() }),
            ..Default::default()
        };
        s.core.update_promotion(&s.t, &promo.id, patch, T0 + 1).unwrap();
        let mut both = vec![cantucci.as_str().to_owned(), cassata.as_str().to_owned()];
        both.sort();
        assert_eq!(changed_since(&s, mark), both);

        // The channels subscribed to product changes are sent the new state.
        while s.core.fan_out(&s.t, T0 + 1, 100).unwrap() > 0 {}
        let due = s.core.claim_due(&s.t, T0 + 1, 1000, 30_000).unwrap();
        assert!(due.iter().any(|d| d.delivery.channel_id == s.pins && d.event.subject == cassata.as_str()));
    }

    #[test]
    fn a_promotion_window_opening_or_closing_announces_its_products() {
        let s = mem_shop("windows");
        let cassata = ProductId::new(product_of(&s, &s.cassata));
        let mut new = line_promo("weekend", vec![cassata.clone()], None);
        new.conditions.starts_ms = Some(T0 + 10_000);
        new.conditions.ends_ms = Some(T0 + 20_000);
        s.core.create_promotion(&s.t, new, T0).unwrap();

        assert_eq!(s.core.announce_price_windows(&s.t, T0 + 1).unwrap(), 0, "the first call starts the clock");
        let mark = outbox_len(&s);
        assert_eq!(s.core.announce_price_windows(&s.t, T0 + 9_999).unwrap(), 0);
        assert_eq!(outbox_len(&s), mark, "nothing crossed, nothing written");
        assert_eq!(s.core.announce_price_windows(&s.t, T0 + 10_000).unwrap(), 1, "the window opens");
        assert_eq!(changed_since(&s, mark), vec![cassata.as_str().to_owned()]);
        let mark = outbox_len(&s);
        assert_eq!(s.core.announce_price_windows(&s.t, T0 + 10_001).unwrap(), 0, "announced once");
        assert_eq!(s.core.announce_price_windows(&s.t, T0 + 25_000).unwrap(), 1, "the window closes");
        assert_eq!(changed_since(&s, mark), vec![cassata.as_str().to_owned()]);
    }

    #[test]
    fn the_last_allowed_use_of_a_promotion_announces_its_products() {
        let s = mem_shop("last-use");
        let cantucci = ProductId::new(product_of(&s, &s.cantucci));
        let mut new = line_promo("first buyer", vec![cantucci.clone()], None);
        new.usage_limit = Some(1);
        s.core.create_promotion(&s.t, new, T0).unwrap();
        let mark = outbox_len(&s);
        s.buy(Some(&s.web), &[(&s.cantucci, 1)], ship(), T0 + 5).unwrap();
        assert_eq!(changed_since(&s, mark), vec![cantucci.as_str().to_owned()], "back to the full price");
    }
}

mod seed {
    use super::*;

    #[test]
    fn demo_seed_is_complete_and_idempotent() {
        let core = memory_core();
        let report = seed_demo(&core, T0).unwrap();
        assert_eq!(report.tenant.as_str(), "dolce-vita");
        assert_eq!(report.products_created, report.products_total);
        assert!((28..=32).contains(&report.products_total));
        let t = &report.tenant;
        assert_eq!(core.get_tenant(t).unwrap().currency, "EUR");
        let shop = core.get_location(t, &report.shop).unwrap();
        assert!(shop.pickup_enabled && shop.name == "Negozio");
        assert!(!core.get_location(t, &report.warehouse).unwrap().pickup_enabled);
        let handles: Vec<String> = core.list_collections(t).unwrap().into_iter().map(|c| c.handle).collect();
        assert_eq!(handles, vec!["cannoli", "sfogliatelle", "torte", "biscotti"]);
        let cannolo = core.product_by_handle(t, "cannolo-siciliano-classico").unwrap();
        assert_eq!(cannolo.variants.len(), 2);
        assert!(core.availability(t, &cannolo.variants[0].id, None, Some(&report.shop), T0).unwrap() > 0);
        assert!(core.availability(t, &cannolo.variants[0].id, None, Some(&report.warehouse), T0).unwrap() > 0);
        // 20% off cannoli is automatic; DOLCE10 needs the code.
        let q = core
            .quote(
                t,
                &QuoteRequest {
                    lines: vec![QuoteLineRequest { variant_id: cannolo.variants[1].id.clone(), quantity: 10 }],
                    channel: None,
                    codes: vec!["DOLCE10".into()],
                },
                T0,
            )
            .unwrap();
        assert_eq!(q.subtotal, eur(3500));
        assert_eq!(q.line_discounts, eur(700));
        assert_eq!(q.order_discount, eur(280));
        let before = snapshot(core.store());
        let again = seed_demo(&core, T0 + 1000).unwrap();
        assert_eq!(again.products_created, 0);
        assert_eq!(again.promotions, report.promotions);
        assert_eq!(snapshot(core.store()), before, "a second seed writes nothing");
        assert_eq!(
            core.list_products(t, &ProductQuery { limit: 1000, ..Default::default() }).unwrap().len(),
            report.products_total
        );
    }
}
