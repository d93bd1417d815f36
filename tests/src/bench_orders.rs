//! `cargo xtask bench` (second part): durable order placement through the
//! commerce core, on redb and on PostgreSQL.
//!
//! - sequential placements (create cart, add a line, check out): p50, p99, orders/s;
//! - contention: many threads from several channels checking out one scarce SKU at
//!   once; reports orders/s and verifies nothing was oversold;
//! - checkouts alone and while another thread pages through a large customer
//!   list, with the ratio of the two ([`reads`]);
//! - page views (a visitor's touchpoint each) from 16 threads at once, each
//!   committed alone and then gathered into shared commits, with the ratio.

#[path = "bench_reads.rs"]
mod reads;
#[path = "report.rs"]
mod report;

/// As the server binary allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use omnistore_core::{
    CheckoutRequest, Core, Fulfilment, LocationId, LocationKind, Money, NewCart, NewChannel, NewLocation, NewProduct,
    NewVariant, ProductStatus, TenantId, VariantId,
};
use omnistore_runtime::system_now_ms as now;

struct Shop {
    core: Core,
    tenant: TenantId,
    location: LocationId,
    variant: VariantId,
    scarce: VariantId,
    channels: Vec<omnistore_core::ChannelId>,
}

fn setup(store: Arc<dyn omnistore_storage::KvStore>, scarce_units: i64) -> anyhow::Result<Shop> {
    let core = Core::new(store);
    let tenant = TenantId::new("bench")?;
    let t = now();
    core.create_tenant(&tenant, "Bench", "EUR", t)?;
    let location = core
        .create_location(
            &tenant,
            NewLocation { name: "Shop".into(), kind: LocationKind::Shop, pickup_enabled: true, address: None },
            t,
        )?
        .id;
    let mut channels = Vec::new();
    for name in ["web", "instagram", "pinterest"] {
        let c = core.install_channel(
            &tenant,
            NewChannel {
                plugin_id: name.into(),
                version: "1.0.0".into(),
                name: name.into(),
                enabled: true,
                ..Default::default()
            },
            t,
        )?;
        channels.push(c.id);
    }
    let mut variant_ids = Vec::new();
    for (handle, sku) in [("cake", "CAKE"), ("last-cannolo", "LAST")] {
        let p = core.create_product(
            &tenant,
            NewProduct {
                handle: handle.into(),
                title: handle.into(),
                description: String::new(),
                brand: None,
                tags: vec![],
                collections: vec![],
                images: vec![],
                status: ProductStatus::Active,
                variants: vec![NewVariant {
                    sku: sku.into(),
                    title: "Standard".into(),
                    options: Default::default(),
                    gtin: None,
                    weight_grams: None,
                    price: Money::new(1250, "EUR")?,
                    compare_at: None,
                    backorderable: false,
                }],
            },
            t,
        )?;
        for c in &channels {
            core.publish_product(&tenant, &p.product.id, c, t)?;
        }
        variant_ids.push(p.variants[0].id.clone());
    }
    core.receive_stock(&tenant, &variant_ids[0], &location, 1_000_000, None, t)?;
    core.receive_stock(&tenant, &variant_ids[1], &location, scarce_units, None, t)?;
    let scarce = variant_ids.pop().context("scarce variant")?;
    let variant = variant_ids.pop().context("variant")?;
    Ok(Shop { core, tenant, location, variant, scarce, channels })
}

fn place(shop: &Shop, variant: &VariantId, channel: usize) -> Result<(), omnistore_core::CoreError> {
    let t = now();
    let channel = Some(shop.channels[channel % shop.channels.len()].clone());
    let cart = shop.core.create_cart(&shop.tenant, NewCart { channel: channel.clone(), customer: None }, t)?;
    shop.core.add_to_cart(&shop.tenant, &cart.id, variant, 1, t)?;
    shop.core.checkout(
        &shop.tenant,
        &cart.id,
        CheckoutRequest {
            channel,
            fulfilment: Fulfilment::Pickup { location_id: shop.location.clone() },
            customer: None,
            email: None,
            note: None,
            expected_total_minor: None,
        },
        t,
    )?;
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn measure(
    name: &str,
    store: Arc<dyn omnistore_storage::KvStore>,
    orders: usize,
    rows: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let scarce_units = 50;
    let shop = Arc::new(setup(store, scarce_units)?);
    for i in 0..20 {
        place(&shop, &shop.variant, i)?; // warm-up
    }
    let mut times = Vec::with_capacity(orders);
    let started = Instant::now();
    for i in 0..orders {
        let t = Instant::now();
        place(&shop, &shop.variant, i)?;
        times.push(t.elapsed());
    }
    let total = started.elapsed();
    times.sort();
    rows.push((format!("{name}: order placement p50"), ms(report::percentile(&times, 0.5))));
    rows.push((format!("{name}: order placement p99"), ms(report::percentile(&times, 0.99))));
    rows.push((format!("{name}: orders/s, one thread"), format!("{:.0}", orders as f64 / total.as_secs_f64())));

    // Contention: 8 threads on 3 channels race for 50 units.
    let sold = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|th| {
            let (shop, sold, refused) = (shop.clone(), sold.clone(), refused.clone());
            std::thread::spawn(move || {
                for i in 0..15 {
                    match place(&shop, &shop.scarce, th + i) {
                        Ok(()) => sold.fetch_add(1, Ordering::Relaxed),
                        Err(_) => refused.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("a checkout thread panicked"))?;
    }
    let elapsed = started.elapsed();
    let sold = sold.load(Ordering::Relaxed);
    let level = shop.core.stock_level(&shop.tenant, &shop.scarce, &shop.location)?;
    if sold > scarce_units as u64 || level.available < 0 {
        bail!("{name}: OVERSOLD: {sold} sold of {scarce_units}, available {}", level.available);
    }
    rows.push((
        format!("{name}: 8 threads × 15 checkouts of a 50-unit SKU"),
        format!(
            "{sold} sold, {} refused, {:.0} attempts/s, none oversold",
            refused.load(Ordering::Relaxed),
            120.0 / elapsed.as_secs_f64()
        ),
    ));

    page_views(name, &shop, rows)?;

    reads::add_customers(&shop.core, &shop.tenant, now())?;
    let place_one = |i: usize| place(&shop, &shop.variant, i).map_err(anyhow::Error::from);
    reads::checkout_while_listing(name, &shop.core, &shop.tenant, orders / 2, &place_one, rows)?;
    Ok(())
}

/// 16 threads record page views as fast as they can: first each view in
/// its own transaction, then through the core's group commit, which a
/// storefront uses. Views/s of each and the ratio.
fn page_views(name: &str, shop: &Arc<Shop>, rows: &mut Vec<(String, String)>) -> anyhow::Result<()> {
    const THREADS: usize = 16;
    const VIEWS: usize = 100;
    let view = |th: usize, i: usize| omnistore_core::VisitorTouchpoint {
        visitor_id: format!("bench-visitor-{th}-{i}"),
        kind: "view".into(),
        channel_id: Some(shop.channels[0].clone()),
        product_id: None,
        variant_id: None,
        campaign: None,
        detail: None,
        source: None,
        at_ms: now(),
    };
    let mut rates = Vec::new();
    for grouped in [false, true] {
        let started = Instant::now();
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let handles: Vec<_> = (0..THREADS)
                .map(|th| {
                    scope.spawn(move || -> anyhow::Result<()> {
                        for i in 0..VIEWS {
                            let t = view(th, i);
                            if grouped {
                                shop.core.record_visitor_touchpoint(&shop.tenant, t, now())?;
                            } else {
                                let answers = shop.core.record_visitor_touchpoints(&shop.tenant, vec![t], now())?;
                                answers.into_iter().try_for_each(|a| a.map(drop))?;
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join().map_err(|_| anyhow::anyhow!("a page-view thread panicked"))??;
            }
            Ok(())
        })?;
        let rate = (THREADS * VIEWS) as f64 / started.elapsed().as_secs_f64();
        let how = if grouped { "gathered into shared commits" } else { "one commit each (baseline)" };
        rows.push((format!("{name}: page views/s, {THREADS} threads, {how}"), format!("{rate:.0}")));
        rates.push(rate);
    }
    rows.push((format!("{name}: page views, shared ÷ one each"), format!("{:.2}×", rates[1] / rates[0])));
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let dir = tempfile_dir()?;
    let redb = omnistore_storage::open(&format!("redb:{}", dir.join("bench.redb").display()))?;
    measure("redb", redb, 1000, &mut rows)?;
    let _ = std::fs::remove_dir_all(&dir);

    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let db = format!("omnistore_bench_{}", std::process::id());
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).context("connecting to DATABASE_URL")?;
            admin.batch_execute(&format!("CREATE DATABASE {db}"))?;
            let db_url = replace_database(&url, &db);
            let result = omnistore_storage::open(&db_url)
                .map_err(anyhow::Error::from)
                .and_then(|pg| measure("postgres", pg, 500, &mut rows));
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
            result?;
        }
        Err(_) => rows.push(("postgres".into(), "skipped: set DATABASE_URL (cargo xtask bench does)".into())),
    }

    report::print_table(&rows);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("omnistore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The same URL with another database name.
fn replace_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{db}")
}
