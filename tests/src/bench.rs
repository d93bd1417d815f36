//! `cargo xtask bench`: what a plugin call costs, with the pooling allocator.
//!
//! Measures, on the machine it runs on:
//! - fresh instance + trivial call (`describe`) from the pre-instantiated template: p50, p99;
//! - a storefront-like call (hello-channel `GET /`: settings, storage, catalog, HTML);
//! - calls per second on one core (current-thread executor) and on all cores;
//! - resident memory per idle instance.
//!
//! Figures are medians and percentiles of many runs; compare them as ratios
//! within one run rather than as absolute numbers across machines.

#[path = "report.rs"]
mod report;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use omnistore_runtime::types::Request;
use omnistore_runtime::{Installation, Plugin, Runtime, RuntimeConfig, TenantId};
use omnistore_services::dev::DevShop;
use omnistore_services::installer::InstallationBuilder;

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn home() -> Request {
    Request { method: "GET".into(), path: "/".into(), query: String::new(), headers: vec![], body: vec![] }
}

struct Setup {
    runtime: Runtime,
    plugin: Arc<Plugin>,
    inst: Installation,
}

async fn setup(max_instances: u32) -> anyhow::Result<Setup> {
    let tenant = TenantId::new("bench").context("tenant id")?;
    // The real core over the memory store, with the demo catalog, as `omnistore plugin run` has.
    let shop = DevShop::empty(&tenant)?.with_demo_catalog()?;
    let runtime = Runtime::new(
        RuntimeConfig { max_concurrent_instances: max_instances, ..RuntimeConfig::default() },
        shop.core.store().clone(),
        shop.services.clone(),
    )?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/hello-channel");
    let plugin = runtime
        .load_dir(&dir)
        .await
        .with_context(|| format!("loading {}; run `cargo xtask build-plugins`", dir.display()))?;
    let inst = shop.install(InstallationBuilder::new(&plugin.manifest))?;
    Ok(Setup { runtime, plugin, inst })
}

async fn latencies(s: &Setup, n: usize, storefront: bool) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        if storefront {
            s.runtime.handle_request(&s.plugin, &s.inst, home()).await?;
        } else {
            s.runtime.describe(&s.plugin).await?;
        }
        out.push(t.elapsed());
    }
    out.sort();
    Ok(out)
}

async fn throughput(s: Arc<Setup>, tasks: usize, for_how_long: Duration) -> anyhow::Result<f64> {
    let end = Instant::now() + for_how_long;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < end {
                s.runtime.describe(&s.plugin).await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await??;
    }
    Ok(total as f64 / for_how_long.as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut rows: Vec<(String, String)> = Vec::new();

    let single = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let s = Arc::new(single.block_on(setup(256))?);
    single.block_on(latencies(&s, 500, false))?; // warm-up
    let trivial = single.block_on(latencies(&s, 20_000, false))?;
    rows.push(("instantiate + trivial call, p50".into(), micros(report::percentile(&trivial, 0.5))));
    rows.push(("instantiate + trivial call, p99".into(), micros(report::percentile(&trivial, 0.99))));
    let page = single.block_on(latencies(&s, 5_000, true))?;
    rows.push(("storefront page (hello GET /), p50".into(), micros(report::percentile(&page, 0.5))));
    rows.push(("storefront page (hello GET /), p99".into(), micros(report::percentile(&page, 0.99))));
    let per_core = single.block_on(throughput(s.clone(), 1, Duration::from_secs(3)))?;
    rows.push(("trivial calls/s, one core".into(), format!("{per_core:.0}")));
    drop(single);

    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    let all = multi.block_on(throughput(s.clone(), cores * 4, Duration::from_secs(3)))?;
    rows.push((format!("trivial calls/s, {cores} cores"), format!("{all:.0} ({:.0} per core)", all / cores as f64)));

    let idle = 200;
    let s2 = multi.block_on(setup(idle + 8))?;
    let parked_first = multi.block_on(s2.runtime.park_instance(&s2.plugin, &s2.inst))?;
    let before = rss_bytes();
    let mut parked = Vec::new();
    for _ in 0..idle {
        parked.push(multi.block_on(s2.runtime.park_instance(&s2.plugin, &s2.inst))?);
    }
    let after = rss_bytes();
    rows.push((
        format!("resident memory per idle instance ({idle} instances)"),
        format!("{:.1} KiB", (after.saturating_sub(before)) as f64 / idle as f64 / 1024.0),
    ));
    drop((parked, parked_first));

    report::print_table(&rows);
    Ok(())
}
