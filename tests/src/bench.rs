//! `cargo xtask bench`: what a plugin call costs, with the pooling allocator.
//!
//! Measures, on the machine it runs on:
//! - fresh instance + trivial call (`describe`) from the pre-instantiated template: p50, p99;
//! - a storefront-like call (hello-channel `GET /`: settings, storage, catalog, HTML);
//! - calls per second on one core (current-thread executor) and on all cores,
//!   with wasmtime's defaults (guard pages, every page given back at once, one
//!   engine) as the baseline beside the runtime's [`MemoryChecks`],
//!   [`PoolReuse`] and engines (one per core, or one for all),
//!   in fresh instances and in warm ones, beside a native baseline (a small
//!   Liquid render, no plugin) taken the same way: the ratio the machine allows;
//! - the same Liquid product page parsed and rendered natively and inside a
//!   plugin (the render alone, timed in the instance, and the whole call);
//! - resident memory per idle instance.
//!
//! Figures are medians and percentiles of many runs; compare them as ratios
//! within one run rather than as absolute numbers across machines.

#[path = "packages.rs"]
mod packages;
#[path = "report.rs"]
mod report;

/// As the server binary allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use omnistore_runtime::types::Request;
use omnistore_runtime::{Installation, MemoryChecks, Plugin, PoolReuse, Runtime, RuntimeConfig, TenantId};
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

async fn setup(max_instances: u32, variant: Variant) -> anyhow::Result<Setup> {
    let Variant { memory_checks, pool_reuse, engines } = variant;
    let config = RuntimeConfig {
        max_concurrent_instances: max_instances,
        pool_reuse,
        memory_checks,
        engines,
        ..RuntimeConfig::default()
    };
    setup_plugin(&packages::built("hello-channel"), config, true).await
}

/// How the runtime under measurement is set up.
#[derive(Clone, Copy)]
struct Variant {
    memory_checks: MemoryChecks,
    pool_reuse: PoolReuse,
    engines: usize,
}

impl Default for Variant {
    /// The runtime's defaults.
    fn default() -> Self {
        let config = RuntimeConfig::default();
        Variant { memory_checks: config.memory_checks, pool_reuse: config.pool_reuse, engines: config.engines }
    }
}

/// `package` (a folder of target/plugins) installed on the real core over the
/// memory store, with the demo catalog when asked, as `omnistore plugin run` has.
async fn setup_plugin(dir: &Path, config: RuntimeConfig, demo_catalog: bool) -> anyhow::Result<Setup> {
    let tenant = TenantId::new("bench").context("tenant id")?;
    let shop = DevShop::empty(&tenant)?;
    let shop = if demo_catalog { shop.with_demo_catalog()? } else { shop };
    let runtime = Runtime::new(config, shop.core.store().clone(), shop.services.clone())?;
    let plugin = runtime
        .load_dir(dir)
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

/// What one trivial call is.
#[derive(Clone, Copy)]
enum Trivial {
    /// `describe` in a fresh instance from the pre-instantiated template.
    Fresh,
    /// `GET /count` of the `warm` test guest (one setting read), in a warm
    /// instance of its installation, as the storefront's pages are served.
    Warm,
    /// No plugin: a small Liquid template parsed and rendered natively, work
    /// of about a warm call's size that shares nothing between cores. Its
    /// ratio is what the machine and the executor allow, the ceiling the
    /// plugin calls' ratios are read against.
    Native,
}

async fn throughput(s: Arc<Setup>, call: Trivial, tasks: usize, for_how_long: Duration) -> anyhow::Result<f64> {
    let end = Instant::now() + for_how_long;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < end {
                match call {
                    Trivial::Fresh => drop(s.runtime.describe(&s.plugin).await?),
                    Trivial::Warm => {
                        let count = Request { path: "/count".into(), ..home() };
                        let response = s.runtime.handle_request(&s.plugin, &s.inst, count).await?;
                        anyhow::ensure!(response.status == 200, "the warm guest answered {}", response.status);
                    }
                    Trivial::Native => {
                        use omnistore_liquid::{ParseOptions, RenderOptions, Template};
                        let template = Template::parse(NATIVE_TEMPLATE, &ParseOptions::default())?;
                        let data = serde_json::json!({ "name": "Biscotti", "count": n });
                        std::hint::black_box(template.render_json(&data, &RenderOptions::default())?);
                    }
                }
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

/// Calls per second with one worker and with `cores` workers (four callers
/// per worker), of each the median of [`TURNS`] short runs taken in turns,
/// and the median of the turns' ratios. Taken in turns, a machine that speeds
/// up or slows down meanwhile (a shared virtual machine does) moves both
/// figures of a turn alike, where one long run of each would compare two
/// different machines.
struct Scaling {
    one: f64,
    all: f64,
    ratio: f64,
    ratios: (f64, f64),
}

const TURNS: usize = 7;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn in_turns(cores: usize, s: &Arc<Setup>, call: Trivial) -> anyhow::Result<Scaling> {
    let executor = |workers| tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
    let (one, all) = (executor(1)?, executor(cores)?);
    let turn = Duration::from_millis(600);
    for (executor, workers) in [(&one, 1), (&all, cores)] {
        executor.block_on(throughput(s.clone(), call, workers * 4, turn / 2))?; // warm-up
    }
    let (mut ones, mut alls, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..TURNS {
        let a = one.block_on(throughput(s.clone(), call, 4, turn))?;
        let b = all.block_on(throughput(s.clone(), call, cores * 4, turn))?;
        ones.push(a);
        alls.push(b);
        ratios.push(b / a);
    }
    let ratios_range = (ratios.iter().copied().fold(f64::MAX, f64::min), ratios.iter().copied().fold(0.0, f64::max));
    Ok(Scaling { one: median(ones), all: median(alls), ratio: median(ratios), ratios: ratios_range })
}

/// Trivial calls per second in fresh instances: on the single-threaded
/// executor, then in turns with one worker and with `cores`. The ratio is
/// what more cores add; the first figure shows what the multi-threaded
/// executor costs on one core.
fn calls_per_second(cores: usize, variant: Variant) -> anyhow::Result<(f64, Scaling)> {
    let single = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let s = Arc::new(single.block_on(setup(256, variant))?);
    single.block_on(latencies(&s, 500, false))?; // warm-up
    let current_thread = single.block_on(throughput(s.clone(), Trivial::Fresh, 1, Duration::from_secs(3)))?;
    drop(single);
    Ok((current_thread, in_turns(cores, &s, Trivial::Fresh)?))
}

/// The native baseline's work: about as long as a warm call.
const NATIVE_TEMPLATE: &str = "{% for i in (1..3) %}<p>{{ name | upcase }} {{ count | plus: i }}</p>{% endfor %}";

/// `call`s per second beside the `warm` test guest's installation (warm
/// instances of it, or the native baseline, which ignores it), in turns with
/// one worker and with `cores`.
fn beside_warm_guest(cores: usize, call: Trivial) -> anyhow::Result<Scaling> {
    let single = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let s = Arc::new(single.block_on(setup_plugin(&packages::built("warm"), RuntimeConfig::default(), false))?);
    drop(single);
    in_turns(cores, &s, call)
}

/// How a scaling reads in the table: `all` per second, per core, and its
/// ratio to one worker with the turns' range.
fn scaled(cores: usize, scaling: &Scaling) -> String {
    let Scaling { all, ratio, ratios: (low, high), .. } = scaling;
    format!(
        "{all:.0} ({:.0} per core, {ratio:.2}× one worker: median of {TURNS} turns, {low:.2}–{high:.2})",
        all / cores as f64
    )
}

const RENDER_TEMPLATE: &str = include_str!("fixtures/render_product.liquid");
const RENDER_DATA: &str = include_str!("fixtures/render_product.json");

/// Parse and render the fixture page natively once.
fn native_render() -> anyhow::Result<(Duration, String)> {
    use omnistore_liquid::{ParseOptions, RenderOptions, Template};
    let data: serde_json::Value = serde_json::from_str(RENDER_DATA)?;
    let t = Instant::now();
    let template = Template::parse(RENDER_TEMPLATE, &ParseOptions::default())?;
    let page = template.render_json(&data, &RenderOptions::default())?;
    Ok((t.elapsed(), page))
}

/// The `render` test guest, which parses and renders the same page and
/// times that inside the instance.
struct RenderGuest {
    setup: Setup,
    request: Request,
    _scratch: tempfile::TempDir,
}

impl RenderGuest {
    /// `warm`: the guest's manifest asks for warm instances, as the
    /// storefront's does, so its heap has grown and its allocator holds
    /// free memory from the calls before, as a native process's has.
    async fn new(memory_checks: MemoryChecks, warm: bool) -> anyhow::Result<RenderGuest> {
        let scratch = tempfile::tempdir()?;
        let dir = if warm {
            packages::with_manifest("render", scratch.path(), |manifest| {
                manifest.replacen("[plugin]\n", "[plugin]\ninstances = \"warm\"\n", 1)
            })?
        } else {
            packages::built("render")
        };
        let setup = setup_plugin(&dir, RuntimeConfig { memory_checks, ..RuntimeConfig::default() }, false).await?;
        let data: serde_json::Value = serde_json::from_str(RENDER_DATA)?;
        let body = serde_json::to_vec(&serde_json::json!({ "template": RENDER_TEMPLATE, "data": data }))?;
        let request = Request { method: "POST".into(), path: "/".into(), query: String::new(), headers: vec![], body };
        Ok(RenderGuest { setup, request, _scratch: scratch })
    }

    /// One call: how long it took, the render alone as the instance timed it, and the page.
    async fn render(&self) -> anyhow::Result<(Duration, Duration, String)> {
        let Setup { runtime, plugin, inst } = &self.setup;
        let t = Instant::now();
        let response = runtime.handle_request(plugin, inst, self.request.clone()).await?;
        let call = t.elapsed();
        if response.status != 200 {
            anyhow::bail!("the render guest answered {}: {}", response.status, String::from_utf8_lossy(&response.body));
        }
        let ns = response
            .headers
            .iter()
            .find(|(name, _)| name == "x-render-ns")
            .and_then(|(_, v)| v.parse().ok())
            .context("the render guest did not time its render")?;
        Ok((call, Duration::from_nanos(ns), String::from_utf8(response.body)?))
    }
}

/// Renders of the fixture page, natively and in the guest (fresh instances
/// with guard pages and with explicit checks, warm instances), taken in
/// turn so that a machine whose speed drifts tilts none of them.
struct RenderRuns {
    native: Vec<Duration>,
    fresh: Vec<Duration>,
    fresh_calls: Vec<Duration>,
    explicit: Vec<Duration>,
    warm: Vec<Duration>,
    warm_calls: Vec<Duration>,
}

async fn render_runs(n: usize) -> anyhow::Result<RenderRuns> {
    let fresh = RenderGuest::new(MemoryChecks::default(), false).await?;
    let explicit = RenderGuest::new(MemoryChecks::Explicit, false).await?;
    let warm = RenderGuest::new(MemoryChecks::default(), true).await?;
    let mut runs = RenderRuns {
        native: Vec::with_capacity(n),
        fresh: Vec::with_capacity(n),
        fresh_calls: Vec::with_capacity(n),
        explicit: Vec::with_capacity(n),
        warm: Vec::with_capacity(n),
        warm_calls: Vec::with_capacity(n),
    };
    for _ in 0..n {
        let (native, native_page) = native_render()?;
        runs.native.push(native);
        for (guest, calls, renders) in [
            (&fresh, Some(&mut runs.fresh_calls), &mut runs.fresh),
            (&explicit, None, &mut runs.explicit),
            (&warm, Some(&mut runs.warm_calls), &mut runs.warm),
        ] {
            let (call, render, page) = guest.render().await?;
            if page != native_page {
                anyhow::bail!("the product page rendered differently natively and in wasm");
            }
            renders.push(render);
            if let Some(calls) = calls {
                calls.push(call);
            }
        }
    }
    for list in [
        &mut runs.native,
        &mut runs.fresh,
        &mut runs.fresh_calls,
        &mut runs.explicit,
        &mut runs.warm,
        &mut runs.warm_calls,
    ] {
        list.sort();
    }
    Ok(runs)
}

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut rows: Vec<(String, String)> = Vec::new();

    let single = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let s = Arc::new(single.block_on(setup(256, Variant::default()))?);
    single.block_on(latencies(&s, 500, false))?; // warm-up
    let trivial = single.block_on(latencies(&s, 20_000, false))?;
    rows.push(("instantiate + trivial call, p50".into(), micros(report::percentile(&trivial, 0.5))));
    rows.push(("instantiate + trivial call, p99".into(), micros(report::percentile(&trivial, 0.99))));
    let page = single.block_on(latencies(&s, 5_000, true))?;
    rows.push(("storefront page (hello GET /), p50".into(), micros(report::percentile(&page, 0.5))));
    rows.push(("storefront page (hello GET /), p99".into(), micros(report::percentile(&page, 0.99))));
    let runs = single.block_on(render_runs(2_000))?;
    let (_, page) = native_render()?;
    let native_p50 = report::percentile(&runs.native, 0.5);
    let p50 = |list: &[Duration]| report::percentile(list, 0.5);
    let p99 = |list: &[Duration]| report::percentile(list, 0.99);
    let versus = |d: Duration| format!("{} ({:.2}× native)", micros(d), d.as_secs_f64() / native_p50.as_secs_f64());
    rows.push((format!("product page render ({} KiB), native, p50", page.len() / 1024), micros(native_p50)));
    rows.push(("same render in wasm (timed in the instance), p50".into(), versus(p50(&runs.fresh))));
    rows.push(("same render in wasm with explicit bounds checks, p50".into(), versus(p50(&runs.explicit))));
    rows.push((
        "same render as a whole plugin call, p50 / p99".into(),
        format!("{} / {}", micros(p50(&runs.fresh_calls)), micros(p99(&runs.fresh_calls))),
    ));
    rows.push(("same render in a warm instance (as the storefront runs), p50".into(), versus(p50(&runs.warm))));
    rows.push((
        "same render in a warm instance, whole plugin call, p50 / p99".into(),
        format!("{} / {}", micros(p50(&runs.warm_calls)), micros(p99(&runs.warm_calls))),
    ));
    drop(single);

    let defaults = Variant::default();
    let one_engine = Variant { engines: 1, ..defaults };
    let give_back = Variant { pool_reuse: PoolReuse::GIVE_BACK_AT_ONCE, ..one_engine };
    let explicit = Variant { memory_checks: MemoryChecks::Explicit, ..defaults };
    let variants = [
        ("guard pages, pages given back at once, one engine (wasmtime's defaults: baseline)", give_back),
        ("guard pages, default slot reuse, one engine", one_engine),
        ("guard pages, default slot reuse, an engine per core (default)", defaults),
        ("explicit checks, pages given back at once", Variant { pool_reuse: PoolReuse::GIVE_BACK_AT_ONCE, ..explicit }),
        ("explicit checks, default slot reuse", explicit),
    ];
    for (name, variant) in variants {
        let (current_thread, scaling) = calls_per_second(cores, variant)?;
        rows.push((
            format!("trivial calls/s, one core, single-threaded executor, {name}"),
            format!("{current_thread:.0}"),
        ));
        rows.push((format!("trivial calls/s, one worker, {name}"), format!("{:.0}", scaling.one)));
        rows.push((format!("trivial calls/s, {cores} workers, {name}"), scaled(cores, &scaling)));
    }

    let scaling = beside_warm_guest(cores, Trivial::Warm)?;
    rows.push(("trivial calls/s in warm instances, one worker".into(), format!("{:.0}", scaling.one)));
    rows.push((format!("trivial calls/s in warm instances, {cores} workers"), scaled(cores, &scaling)));

    let scaling = beside_warm_guest(cores, Trivial::Native)?;
    rows.push(("native baseline (small Liquid render)/s, one worker".into(), format!("{:.0}", scaling.one)));
    rows.push((format!("native baseline (small Liquid render)/s, {cores} workers"), scaled(cores, &scaling)));

    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    let idle = 200;
    let s2 = multi.block_on(setup(idle + 8, Variant::default()))?;
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
