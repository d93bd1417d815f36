//! `cargo xtask bench`: the memory a catalog feed takes while it streams.
//!
//! Meta and Pinterest fetch a merchant's whole catalog as one feed file, so
//! a feed must stream page by page: its memory must not grow with the
//! catalog. This starts the host in process (memory store, so the catalog's
//! own size is resident before the feed starts and does not move during it),
//! creates N products with two variants each, installs the Instagram channel
//! and reads `/instagram/feed.csv` through the whole HTTP stack, sampling the
//! process's heap (a counting allocator) and resident memory at every chunk. The table shows, per catalog
//! size, the rows and bytes streamed, the time, and how far resident memory
//! rose above where it stood when the request began; compare 10k with 100k
//! within one run.

#[path = "report.rs"]
#[allow(dead_code)] // only the table is shared
mod report;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use omnistore_core::{ChannelPatch, Money, NewProduct, NewVariant, ProductStatus, TenantId};
use omnistore_server::admin::InstallRequest;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host, HostOptions};
use tower::ServiceExt;

const OPERATOR: &str = "operator-token-for-the-benchmark-0123";

fn package(id: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins").join(id)
}

fn now_ms() -> i64 {
    omnistore_runtime::WallClock::now_ms(None)
}

/// Counts the bytes the host holds on its heap, so the feed's own peak can
/// be read apart from memory the allocator kept from seeding (resident
/// memory alone hides a feed that reuses freed pages).
struct CountingAlloc;

static HEAP_NOW: AtomicUsize = AtomicUsize::new(0);
static HEAP_PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters only observe sizes.
#[allow(unsafe_code)] // a global allocator cannot be written without it
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = HEAP_NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        HEAP_NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = HEAP_NOW.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                HEAP_NOW.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Row {
    products: usize,
    rows: usize,
    bytes: usize,
    seconds: f64,
    before_kib: u64,
    rise_kib: u64,
    heap_before: usize,
    heap_rise: usize,
}

fn product(i: usize) -> anyhow::Result<NewProduct> {
    let variant = |size: &str, cents: i64| -> anyhow::Result<NewVariant> {
        Ok(NewVariant {
            sku: format!("FEED-{i:06}-{size}"),
            title: size.into(),
            options: [("Size".to_string(), size.to_string())].into_iter().collect(),
            gtin: None,
            weight_grams: Some(250),
            price: Money::new(cents, "EUR")?,
            compare_at: None,
            backorderable: false,
        })
    };
    Ok(NewProduct {
        handle: format!("feed-product-{i:06}"),
        title: format!("Biscotti assortiti n. {i}"),
        description: "<p>Biscotti di mandorla, <b>fatti a mano</b> ogni mattina.</p>".into(),
        brand: Some("Dolce Vita".into()),
        tags: vec!["biscotti".into()],
        collections: vec![],
        images: vec![],
        status: ProductStatus::Active,
        variants: vec![variant("S", 650)?, variant("L", 1200)?],
    })
}

async fn measure(products: usize) -> anyhow::Result<Row> {
    let data = tempfile::tempdir()?;
    let host = Host::start(HostOptions {
        data_dir: data.path().to_path_buf(),
        store: Some("memory:".into()),
        allow_private_network: false,
        operator_token: OPERATOR.into(),
        http: HttpSettings::development(),
        secrets: None,
        development_origins: Vec::new(),
    })
    .await
    .context("starting the host")?;
    let tenant = TenantId::new("feed")?;
    let core = host.core.clone();
    let t = tenant.clone();
    let started = Instant::now();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        core.create_tenant(&t, "Feed", "EUR", now_ms())?;
        for i in 0..products {
            core.create_product(&t, product(i)?, now_ms()).with_context(|| format!("creating product {i}"))?;
        }
        Ok(())
    })
    .await??;
    eprintln!("    {products} products created in {:.1} s", started.elapsed().as_secs_f64());
    let settings: BTreeMap<String, serde_json::Value> =
        [("catalog_id", "1234567890"), ("shop_url", "https://feed.example")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.into())))
            .collect();
    let request = InstallRequest {
        package: Some(package("instagram-shop")),
        mount: Some("/instagram".into()),
        settings,
        withhold: vec!["http".into()],
        enabled: true,
        by_operator: true,
        ..InstallRequest::default()
    };
    let channel = host
        .install(&tenant, request)
        .await
        .map_err(|e| anyhow::anyhow!("installing instagram-shop: {}; run `cargo xtask build-plugins`", e.message))?;
    // Only the feed is measured: the channel gets no events (no sync work
    // beside the feed) and no network.
    let (core, t) = (host.core.clone(), tenant.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let quiet = ChannelPatch { subscriptions: Some(Vec::new()), ..ChannelPatch::default() };
        core.update_channel(&t, &channel.id, quiet, now_ms())?;
        core.publish_all_active(&t, &channel.id, now_ms())?;
        // The memory store copies its map when a write commits under a
        // reader, so the seeding's events are fanned out before the feed
        // starts: what is measured is the feed, not the dispatcher.
        while core.fan_out(&t, now_ms(), 0)? > 0 {}
        Ok(())
    })
    .await??;

    let router = host.router();
    let request = Request::get("/t/feed/instagram/feed.csv").header("host", "127.0.0.1").body(Body::empty())?;
    let before_kib = resident_kib();
    let heap_before = HEAP_NOW.load(Ordering::Relaxed);
    HEAP_PEAK.store(heap_before, Ordering::Relaxed);
    let started = Instant::now();
    let response = router.oneshot(request).await?;
    if !response.status().is_success() {
        bail!("the feed answered {}", response.status());
    }
    let mut body = response.into_body();
    let (mut bytes, mut rows, mut peak) = (0usize, 0usize, before_kib);
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading the feed")?;
        if let Some(chunk) = frame.data_ref() {
            bytes += chunk.len();
            rows += chunk.iter().filter(|&&b| b == b'\n').count();
        }
        peak = peak.max(resident_kib());
    }
    let seconds = started.elapsed().as_secs_f64();
    let heap_rise = HEAP_PEAK.load(Ordering::Relaxed).saturating_sub(heap_before);
    host.stop().await;
    Ok(Row {
        products,
        rows,
        bytes,
        seconds,
        before_kib,
        rise_kib: peak.saturating_sub(before_kib),
        heap_before,
        heap_rise,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = match std::env::var("OMNISTORE_BENCH_FEED_SIZES") {
        Ok(v) => {
            v.split(',').map(|s| s.trim().parse()).collect::<Result<_, _>>().context("OMNISTORE_BENCH_FEED_SIZES")?
        }
        Err(_) => vec![10_000, 100_000],
    };
    let mut rows = Vec::new();
    for n in sizes {
        eprintln!("==> feed of {n} products");
        rows.push(measure(n).await?);
    }
    println!();
    println!("Instagram feed.csv streamed through the host (2 variants per product)");
    println!(
        "| products | rows | MiB streamed | seconds | heap before (MiB) | heap peak rise while streaming (MiB) | RSS before (MiB) | RSS rise (MiB) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.0} | {:.1} |",
            r.products,
            r.rows,
            r.bytes as f64 / 1_048_576.0,
            r.seconds,
            r.heap_before as f64 / 1_048_576.0,
            r.heap_rise as f64 / 1_048_576.0,
            r.before_kib as f64 / 1024.0,
            r.rise_kib as f64 / 1024.0
        );
    }
    if let [small, .., large] = rows.as_slice() {
        println!(
            "\n{}× the products, {:.2}× the heap peak rise while streaming (bounded memory: close to 1×; \
             resident memory also counts pages the allocator kept from seeding)",
            large.products / small.products.max(1),
            large.heap_rise as f64 / small.heap_rise.max(1) as f64
        );
    }
    Ok(())
}
