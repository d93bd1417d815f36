//! `cargo xtask bench`: storefront pages through the whole stack — HTTP,
//! tenancy, routing, plugin instance, host imports, core, response — loaded
//! by a real load generator (`wrk`) over TCP.
//!
//! The host is started in this process the way `omnistore serve` starts it,
//! on the embedded store with the demo shop, the web storefront mounted at
//! `/` and the hello example at `/hello` (the baseline: one small plugin
//! page). Every page is measured with the server on one worker thread and
//! then on every core, so the table shows requests/s per core, p50 and p99,
//! and how throughput grows with cores. A worker is not a core: host calls
//! into the store run on the blocking pool, so one worker's server uses
//! more than one core; requests per CPU-second (the server's CPU time, not
//! wrk's) is the per-core figure. The storefront's pages are measured
//! twice: with warm instances, as its manifest asks, and with a fresh
//! instance per request (its manifest without `instances = "warm"`), the
//! baseline. Compare rows as ratios within one run, not as absolute numbers
//! across machines.

#[path = "packages.rs"]
mod packages;
#[path = "report.rs"]
#[allow(dead_code)] // the percentiles are wrk's here; only the table is shared
mod report;

/// As the server binary allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use omnistore_core::{ProductQuery, TenantId};
use omnistore_server::admin::InstallRequest;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host, HostOptions};

const OPERATOR: &str = "operator-token-for-the-benchmark-0123";

/// One load run: what wrk reported.
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    /// CPU seconds the server (this process, not wrk) used per request.
    cpu_per_request: f64,
}

fn now_ms() -> i64 {
    omnistore_runtime::WallClock::now_ms(None)
}

/// How the storefront's instances are made in a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instances {
    /// As its manifest asks: warm per installation.
    Warm,
    /// A fresh instance per request: the manifest without its opt-in.
    Fresh,
}

/// The storefront package to install: as built, or copied into `scratch`
/// with a manifest that keeps the default of a fresh instance per call.
fn storefront_package(instances: Instances, scratch: &Path) -> anyhow::Result<PathBuf> {
    if instances == Instances::Warm {
        return Ok(packages::built("web-storefront"));
    }
    packages::with_manifest("web-storefront", &scratch.join("web-storefront-fresh"), |manifest| {
        manifest.replace("instances = \"warm\"\n", "")
    })
}

async fn start_host(data: &Path, instances: Instances) -> anyhow::Result<(Host, TenantId, String, String)> {
    let host = Host::start(HostOptions {
        data_dir: data.to_path_buf(),
        store: None,
        allow_private_network: false,
        operator_token: OPERATOR.into(),
        http: HttpSettings::development(),
        secrets: None,
        development_origins: Vec::new(),
    })
    .await
    .context("starting the host")?;
    let core = host.core.clone();
    let (tenant, product, collection) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let seeded = omnistore_core::seed_demo(&core, now_ms()).context("seeding the demo shop")?;
        let products = core.list_products(&seeded.tenant, &ProductQuery::default()).context("listing products")?;
        let product = products.first().context("the demo shop has no product")?.handle.clone();
        let collections = core.list_collections(&seeded.tenant).context("listing collections")?;
        let collection = collections.first().context("the demo shop has no collection")?.handle.clone();
        Ok((seeded.tenant, product, collection))
    })
    .await??;
    let storefront = storefront_package(instances, data)?;
    for (plugin, mount, dir) in
        [("web-storefront", "/", storefront), ("hello-channel", "/hello", packages::built("hello-channel"))]
    {
        let request = InstallRequest {
            package: Some(dir),
            mount: Some(mount.into()),
            enabled: true,
            by_operator: true,
            ..InstallRequest::default()
        };
        let channel = host
            .install(&tenant, request)
            .await
            .map_err(|e| anyhow::anyhow!("installing {plugin}: {}; run `cargo xtask build-plugins`", e.message))?;
        // Each channel sells the whole catalog, as in the demo.
        let (core, t) = (host.core.clone(), tenant.clone());
        tokio::task::spawn_blocking(move || core.publish_all_active(&t, &channel.id, now_ms()))
            .await?
            .with_context(|| format!("publishing the catalog to {plugin}"))?;
    }
    Ok((host, tenant, product, collection))
}

fn parse_ms(value: &str) -> Option<f64> {
    let (number, factor) = if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(output: &str) -> anyhow::Result<Load> {
    let mut load =
        Load { requests_per_second: 0.0, p50_ms: f64::NAN, p99_ms: f64::NAN, non_2xx: 0, cpu_per_request: f64::NAN };
    for line in output.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", v] => load.requests_per_second = v.parse().context("requests/s")?,
            ["50%", v] => load.p50_ms = parse_ms(v).context("p50")?,
            ["99%", v] => load.p99_ms = parse_ms(v).context("p99")?,
            ["Non-2xx", "or", "3xx", "responses:", v] => load.non_2xx = v.parse().context("non-2xx")?,
            _ => {}
        }
    }
    if load.requests_per_second == 0.0 {
        bail!("wrk printed no throughput:\n{output}");
    }
    Ok(load)
}

fn wrk(url: &str, seconds: u32) -> anyhow::Result<Load> {
    let cpu_before = report::cpu_seconds();
    let output = Command::new("wrk")
        .args(["-t1", "-c16", &format!("-d{seconds}s"), "--latency", url])
        .output()
        .context("running wrk; `cargo xtask bench` installs it (Debian package wrk)")?;
    if !output.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let cpu = report::cpu_seconds() - cpu_before;
    let mut load = parse_wrk(&String::from_utf8_lossy(&output.stdout))?;
    load.cpu_per_request = cpu / (load.requests_per_second * f64::from(seconds));
    Ok(load)
}

/// Serve the host's router on `workers` threads and load each page.
fn measure(
    workers: usize,
    instances: Instances,
    pages: &[(String, String)],
    rows: &mut Vec<(String, String)>,
) -> anyhow::Result<Vec<f64>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()?;
    let data = tempfile::tempdir()?;
    let (host, _tenant, _, _) = runtime.block_on(start_host(data.path(), instances))?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr: SocketAddr = listener.local_addr()?;
    let router = host.router();
    runtime.spawn(async move { axum::serve(listener, router).await });
    let mut throughputs = Vec::new();
    for (name, path) in pages {
        let url = format!("http://{addr}{path}");
        wrk(&url, 2)?; // warm-up: compiled templates, caches, pooled instances
        let load = wrk(&url, 8)?;
        if load.non_2xx > 0 {
            bail!("{name}: {} answers were not 2xx/3xx ({url})", load.non_2xx);
        }
        let how = match instances {
            Instances::Warm => "",
            Instances::Fresh => ", fresh instances",
        };
        rows.push((
            format!("{name}{how}, {workers} worker(s)"),
            format!(
                "{:.0} req/s ({:.0} per worker, {:.0} per CPU-second), p50 {:.2} ms, p99 {:.2} ms",
                load.requests_per_second,
                load.requests_per_second / workers as f64,
                1.0 / load.cpu_per_request,
                load.p50_ms,
                load.p99_ms
            ),
        ));
        throughputs.push(load.requests_per_second);
    }
    runtime.block_on(host.stop());
    Ok(throughputs)
}

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // Handles of the demo catalog, read once from a throwaway host.
    let probe = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let data = tempfile::tempdir()?;
    let (host, tenant, product, collection) = probe.block_on(start_host(data.path(), Instances::Warm))?;
    probe.block_on(host.stop());
    drop(probe);

    let base = format!("/t/{tenant}");
    let pages = vec![
        ("hello page (baseline)".to_string(), format!("{base}/hello/")),
        ("product page".to_string(), format!("{base}/products/{product}")),
        ("collection page".to_string(), format!("{base}/collections/{collection}")),
    ];
    // `bench-storefront product` measures only the pages whose name says so
    // (for a profiler's run).
    let pages: Vec<_> = match std::env::args().nth(1) {
        Some(only) => pages.into_iter().filter(|(name, _)| name.contains(only.as_str())).collect(),
        None => pages,
    };
    let mut rows = Vec::new();
    // `bench-storefront product warm` measures only warm instances, on one
    // worker (for a profiler's run).
    if std::env::args().nth(2).as_deref() == Some("warm") {
        measure(1, Instances::Warm, &pages, &mut rows)?;
        report::print_table(&rows);
        return Ok(());
    }
    // Baseline and warm alternate, so a machine whose speed drifts during
    // the run tilts neither.
    let fresh_one = measure(1, Instances::Fresh, &pages, &mut rows)?;
    let one = measure(1, Instances::Warm, &pages, &mut rows)?;
    let fresh_all = measure(cores, Instances::Fresh, &pages, &mut rows)?;
    let all = measure(cores, Instances::Warm, &pages, &mut rows)?;
    for (i, (name, _)) in pages.iter().enumerate() {
        rows.push((format!("{name}: {cores} workers ÷ 1 worker"), format!("{:.2}×", all[i] / one[i])));
        if !name.contains("baseline") {
            rows.push((format!("{name}: warm ÷ fresh instances, 1 worker"), format!("{:.2}×", one[i] / fresh_one[i])));
            rows.push((
                format!("{name}: warm ÷ fresh instances, {cores} workers"),
                format!("{:.2}×", all[i] / fresh_all[i]),
            ));
        }
    }
    report::print_table(&rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_latency_and_throughput() {
        let out = "  Latency Distribution\n     50%    1.25ms\n     75%    2.00ms\n     90%    3.00ms\n     99%  850.00us\nRequests/sec:   1234.56\n";
        let load = parse_wrk(out).unwrap();
        assert_eq!(load.requests_per_second, 1234.56);
        assert_eq!(load.p50_ms, 1.25);
        assert!((load.p99_ms - 0.85).abs() < 1e-9);
        assert!(parse_wrk("nothing").is_err());
    }
}
