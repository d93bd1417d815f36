//! One instance's resources are bounded as a whole, and one tenant cannot
//! take the host's instance slots from the others.
//!
//! The hostile components wrap a real built guest: the outer component
//! instantiates the guest and re-exports its handler, and also instantiates
//! extra core modules that own memories, the way a hand-written component
//! could.

use wasm_encoder::{
    Alias, Component, ComponentAliasSection, ComponentExportKind, ComponentExportSection, ComponentInstanceSection,
    ComponentSectionId, InstanceSection, MemorySection, MemoryType, Module, ModuleArg, ModuleSection, RawSection,
};
use wasmparser::{ComponentTypeRef, Parser, Payload};

use super::*;

const HANDLER: &str = "omnistore:plugin/handler@0.2.0";

/// A core module that owns one memory of `pages` 64 KiB pages.
fn module_with_memory(pages: u64) -> Module {
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: pages, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut module = Module::new();
    module.section(&memories);
    module
}

/// `inner` (a built guest) re-exported by an outer component that also makes
/// `copies` instances of `extra`.
fn wrap(inner: &[u8], extra: &Module, copies: u32) -> Vec<u8> {
    let mut outer = Component::new();
    // The guest imports the contract's type-only interface; import the same
    // instances by copying the guest's leading type, import and alias sections.
    let mut imports = Vec::new();
    for payload in Parser::new(0).parse_all(inner) {
        let (id, range) = match payload.unwrap() {
            Payload::ComponentTypeSection(r) => (ComponentSectionId::Type, r.range()),
            Payload::ComponentAliasSection(r) => (ComponentSectionId::Alias, r.range()),
            Payload::ComponentImportSection(r) => {
                for import in r.clone() {
                    let import = import.unwrap();
                    assert!(matches!(import.ty, ComponentTypeRef::Instance(_)), "only instance imports are expected");
                    imports.push(import.name.name.to_string());
                }
                (ComponentSectionId::Import, r.range())
            }
            Payload::Version { .. } | Payload::CustomSection(_) => continue,
            _ => break,
        };
        outer.section(&RawSection { id: id as u8, data: &inner[range] });
    }
    let imported = imports.len() as u32;
    outer.section(&RawSection { id: ComponentSectionId::Component as u8, data: inner });
    outer.section(&ModuleSection(extra));
    let mut core = InstanceSection::new();
    for _ in 0..copies {
        core.instantiate(0, Vec::<(&str, ModuleArg)>::new());
    }
    outer.section(&core);
    let mut instances = ComponentInstanceSection::new();
    let args = imports.iter().enumerate().map(|(i, name)| (name.as_str(), ComponentExportKind::Instance, i as u32));
    instances.instantiate(0, args.collect::<Vec<_>>());
    outer.section(&instances);
    let mut aliases = ComponentAliasSection::new();
    aliases.alias(Alias::InstanceExport { instance: imported, kind: ComponentExportKind::Instance, name: HANDLER });
    outer.section(&aliases);
    let mut exports = ComponentExportSection::new();
    exports.export(HANDLER, ComponentExportKind::Instance, imported + 1, None);
    outer.section(&exports);
    let bytes = outer.finish();
    wasmparser::Validator::new().validate_all(&bytes).expect("the wrapper is a valid component");
    bytes
}

fn guest(id: &str) -> (Manifest, Vec<u8>) {
    let dir = package(id);
    (Manifest::load(&dir.join("plugin.toml")).unwrap(), std::fs::read(dir.join("plugin.wasm")).unwrap())
}

fn host_with(config: RuntimeConfig) -> Host {
    Host::with_config(config)
}

async fn hello_ok(app: &axum::Router) -> StatusCode {
    app.clone().oneshot(super::dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap().status()
}

#[tokio::test]
async fn a_component_with_more_memories_or_instances_than_allowed_is_refused_at_load() {
    // Four slots share eight memories; a component holding all eight while it
    // spins would leave every other tenant `busy`.
    let host =
        host_with(RuntimeConfig { limits: test_limits(), max_concurrent_instances: 4, ..RuntimeConfig::default() });
    let (app, _, _) = hello_server(&host).await;
    let (manifest, inner) = guest("loop");
    let hoarder = wrap(&inner, &module_with_memory(1), 7);
    let err = host.runtime.load(manifest.clone(), hoarder).await.expect_err("eight memories in one instance");
    assert!(matches!(err, LoadError::Compile(_)), "{err:?}");
    assert!(err.to_string().contains("Wasm linear memories"), "{err}");

    let (manifest, inner) = guest("big-response");
    let sprawl = wrap(&inner, &Module::new(), 40);
    let err = host.runtime.load(manifest, sprawl).await.expect_err("forty core instances in one instance");
    assert!(err.to_string().contains("core module instances"), "{err}");

    // Within the limits the same wrapping loads and serves.
    let (manifest, inner) = guest("big-response");
    let plugin = host.runtime.load(manifest, wrap(&inner, &Module::new(), 2)).await.expect("a modest component loads");
    let inst = installation("mallory", "wrapped", &plugin);
    let response = host.runtime.handle_request(&plugin, &inst, get("/?bytes=10")).await.unwrap();
    assert_eq!(response.body, b"xxxxxxxxxx");
    assert_eq!(hello_ok(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn the_memory_limit_counts_every_memory_of_an_instance_together() {
    let host = Host::new(false);
    let limit = test_limits().memory_bytes;
    let (manifest, inner) = guest("big-response");
    // One extra memory just under the limit: fine alone, too much together
    // with the guest's own memory.
    let pages = limit / 65536 - 1;
    let err = host
        .runtime
        .load(manifest, wrap(&inner, &module_with_memory(pages), 1))
        .await
        .expect_err("two memories together over the limit");
    assert!(
        matches!(&err, LoadError::Describe(CallError::MemoryExceeded { limit_bytes }) if *limit_bytes == limit),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_flooding_calls_is_busy_while_other_tenants_are_served() {
    // Eight slots, two per tenant. The deadline outlasts spawning the whole
    // flood on a loaded machine, so no slot frees before the last call asks.
    let limits = Limits { request_deadline: Duration::from_secs(3), ..test_limits() };
    let host = host_with(RuntimeConfig { limits, max_concurrent_instances: 8, ..RuntimeConfig::default() });
    assert_eq!(host.runtime.config().instances_per_tenant(), 2);
    let (app, _, _) = hello_server(&host).await;
    let spinner = host.load("loop").await;
    let inst = installation("mallory", "loop", &spinner);
    let flood: Vec<_> = (0..8)
        .map(|_| {
            let (runtime, plugin, inst) = (host.runtime.clone(), spinner.clone(), inst.clone());
            tokio::spawn(async move { runtime.handle_request(&plugin, &inst, get("/")).await })
        })
        .collect();
    // Let the flood take what it can, then serve another tenant while it spins.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(hello_ok(&app).await, StatusCode::OK, "another tenant is served during the flood");
    assert!(flood.iter().any(|h| !h.is_finished()), "the flood is still running while others are served");
    let mut outcomes = Vec::new();
    for h in flood {
        outcomes.push(h.await.unwrap().expect_err("the loop never answers"));
    }
    let busy = outcomes.iter().filter(|e| matches!(e, CallError::Busy(2))).count();
    let timed_out = outcomes.iter().filter(|e| matches!(e, CallError::Timeout(_))).count();
    assert_eq!((busy, timed_out), (6, 2), "{outcomes:?}");
    assert_eq!(hello_ok(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn a_reused_slot_shows_no_trace_of_the_previous_call() {
    // One slot, so every call reuses it: with the defaults (memory kept
    // resident and reset in place, explicit bounds checks), with guard pages,
    // and with every page given back at once.
    let ways = [
        (MemoryChecks::Explicit, PoolReuse::default()),
        (MemoryChecks::GuardPages, PoolReuse::default()),
        (MemoryChecks::Explicit, PoolReuse::GIVE_BACK_AT_ONCE),
    ];
    for (memory_checks, pool_reuse) in ways {
        let host = host_with(RuntimeConfig {
            limits: test_limits(),
            max_concurrent_instances: 1,
            pool_reuse,
            memory_checks,
            ..RuntimeConfig::default()
        });
        let plugin = host.load("snoop").await;
        let alice = installation("alice", "snoop", &plugin);
        let mallory = installation("mallory", "snoop", &plugin);
        for _ in 0..3 {
            let left = host.runtime.handle_request(&plugin, &alice, get("/leave-residue")).await.unwrap();
            assert_eq!(left.body, b"left");
            let found = host.runtime.handle_request(&plugin, &mallory, get("/find-residue")).await.unwrap();
            let way = format!("{memory_checks:?}, {pool_reuse:?}");
            assert_eq!(String::from_utf8_lossy(&found.body), "0", "{way}: the next call saw the last one's heap");
        }
    }
}

/// The slots are shared out among the runtime's engines (one per core); a
/// call whose thread's engine has none free runs in another that has, so the
/// runtime serves as many calls at once as it has slots.
#[tokio::test]
async fn a_call_whose_engine_is_full_runs_in_an_engine_with_a_free_slot() {
    let host = host_with(RuntimeConfig {
        limits: test_limits(),
        max_concurrent_instances: 2,
        engines: 2,
        warm: omnistore_runtime::WarmInstances::OFF,
        ..RuntimeConfig::default()
    });
    let spinner = host.load("loop").await;
    let plugin = host.load("warm").await;
    let mut inst = installation("alice", "w", &plugin);
    inst.settings.insert("greeting".into(), "hello".into());
    // On this one thread, the spinning call takes the slot of the thread's engine.
    let spinning = {
        let (runtime, spinner) = (host.runtime.clone(), spinner.clone());
        let inst = installation("mallory", "loop", &spinner);
        tokio::spawn(async move { runtime.handle_request(&spinner, &inst, get("/")).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!spinning.is_finished());
    let response =
        host.runtime.handle_request(&plugin, &inst, get("/count")).await.expect("a slot of the other engine");
    assert_eq!(String::from_utf8_lossy(&response.body), "1 hello");
    assert!(matches!(spinning.await.unwrap(), Err(CallError::Timeout(_))));
}
