//! Warm instances: a plugin that asks for them (`instances = "warm"`) keeps
//! its instance between the requests of one installation, and only of that
//! installation as it is now; an instance that failed is never used again,
//! and idle ones never keep a call from running.

use super::*;
use omnistore_runtime::WarmInstances;

/// An installation of the `warm` guest with its `greeting` setting.
fn warm_installation(tenant_id: &str, id: &str, plugin: &Plugin) -> Installation {
    let mut inst = installation(tenant_id, id, plugin);
    inst.settings.insert("greeting".into(), "hello".into());
    inst
}

async fn text(host: &Host, plugin: &Plugin, inst: &Installation, path: &str) -> String {
    let response = host.runtime.handle_request(plugin, inst, get(path)).await.unwrap_or_else(|e| panic!("{path}: {e}"));
    String::from_utf8_lossy(&response.body).into_owned()
}

async fn counts(host: &Host, plugin: &Plugin, inst: &Installation, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(text(host, plugin, inst, "/count").await);
    }
    seen
}

#[tokio::test]
async fn a_warm_instance_serves_only_its_own_installation() {
    let host = Host::new(false);
    let plugin = host.load("warm").await;
    let alice = warm_installation("alice", "w", &plugin);
    let alice_other = warm_installation("alice", "w2", &plugin);
    // Another tenant, same channel id.
    let mallory = warm_installation("mallory", "w", &plugin);
    assert_eq!(counts(&host, &plugin, &alice, 3).await, ["1 hello", "2 hello", "3 hello"]);
    assert_eq!(text(&host, &plugin, &mallory, "/count").await, "1 hello");
    assert_eq!(text(&host, &plugin, &alice_other, "/count").await, "1 hello");
    assert_eq!(text(&host, &plugin, &alice, "/count").await, "4 hello");

    // What one installation's instance keeps, no other installation sees.
    assert_eq!(text(&host, &plugin, &alice, "/keep?value=alice-secret").await, "");
    assert_eq!(text(&host, &plugin, &mallory, "/keep?value=mallory").await, "");
    assert_eq!(text(&host, &plugin, &alice_other, "/keep?value=x").await, "");
    assert_eq!(text(&host, &plugin, &alice, "/keep?value=again").await, "alice-secret");
    assert_eq!(text(&host, &plugin, &mallory, "/keep?value=").await, "mallory");
    assert_eq!(host.runtime.warm_stats().idle, 3);
}

#[tokio::test]
async fn an_instance_that_trapped_hit_a_limit_or_timed_out_is_never_used_again() {
    let host = Host::new(false);
    let plugin = host.load("warm").await;
    let inst = warm_installation("alice", "w", &plugin);
    assert_eq!(counts(&host, &plugin, &inst, 2).await, ["1 hello", "2 hello"]);
    // A plugin error is a normal return: the instance stays.
    let failed = host.runtime.handle_request(&plugin, &inst, get("/fail")).await.unwrap_err();
    assert!(matches!(failed, CallError::Plugin(_)), "{failed:?}");
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "4 hello");

    let trapped = host.runtime.handle_request(&plugin, &inst, get("/trap")).await.unwrap_err();
    assert!(matches!(trapped, CallError::Trap(_)), "{trapped:?}");
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello", "a trapped instance was reused");

    let spun = host.runtime.handle_request(&plugin, &inst, get("/spin")).await.unwrap_err();
    assert!(matches!(spun, CallError::Timeout(_)), "{spun:?}");
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello", "an interrupted instance was reused");

    // Refused memory: the call still answers, but the instance goes.
    assert_eq!(text(&host, &plugin, &inst, "/grow?mib=64").await, "refused");
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello", "an instance over its limit was reused");
}

#[tokio::test]
async fn changed_settings_an_uninstall_or_a_deleted_tenant_start_afresh() {
    let host = Host::new(false);
    let plugin = host.load("warm").await;
    let inst = warm_installation("alice", "w", &plugin);
    assert_eq!(counts(&host, &plugin, &inst, 2).await, ["1 hello", "2 hello"]);
    let mut changed = inst.clone();
    changed.settings.insert("greeting".into(), "ciao".into());
    assert_eq!(counts(&host, &plugin, &changed, 2).await, ["1 ciao", "2 ciao"]);
    // The instance made with the old settings went when it no longer fit.
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello");
    let mut fewer_grants = inst.clone();
    fewer_grants.grants = Grants::none();
    let refused = host.runtime.handle_request(&plugin, &fewer_grants, get("/count")).await.unwrap_err();
    assert!(matches!(refused, CallError::Denied { .. }), "{refused:?}");

    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello");
    host.runtime.forget_installation(&tenant("alice"), "w");
    assert_eq!(host.runtime.warm_stats().idle, 0);
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello", "an uninstalled channel's instance was kept");
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "2 hello");
    host.runtime.forget_tenant(&tenant("alice"));
    assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello", "a deleted tenant's instance was kept");
}

#[tokio::test]
async fn only_plugins_that_ask_get_warm_instances_and_each_serves_a_bounded_number_of_calls() {
    let host = Host::new(false);
    let dir = package("warm");
    let manifest_text = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let wasm = std::fs::read(dir.join("plugin.wasm")).unwrap();
    let fresh_manifest = Manifest::parse(&manifest_text.replace("instances = \"warm\"\n", "")).unwrap();
    let fresh = host.runtime.load(fresh_manifest, wasm).await.unwrap();
    let inst = warm_installation("alice", "w", &fresh);
    assert_eq!(counts(&host, &fresh, &inst, 3).await, ["1 hello", "1 hello", "1 hello"]);
    assert_eq!(host.runtime.warm_stats().idle, 0);

    // A deployment that keeps none.
    let off =
        Host::with_config(RuntimeConfig { limits: test_limits(), warm: WarmInstances::OFF, ..Default::default() });
    let plugin = off.load("warm").await;
    assert_eq!(counts(&off, &plugin, &inst, 2).await, ["1 hello", "1 hello"]);

    let recycled = Host::with_config(RuntimeConfig {
        limits: test_limits(),
        warm: WarmInstances { max_calls: 3, ..WarmInstances::default() },
        ..Default::default()
    });
    let plugin = recycled.load("warm").await;
    assert_eq!(counts(&recycled, &plugin, &inst, 5).await, ["1 hello", "2 hello", "3 hello", "1 hello", "2 hello"]);
}

#[tokio::test]
async fn idle_warm_instances_give_up_their_slots_to_calls_that_need_one() {
    // Four slots: at most two idle.
    let host = Host::with_config(RuntimeConfig {
        limits: test_limits(),
        max_concurrent_instances: 4,
        max_instances_per_tenant: Some(4),
        ..Default::default()
    });
    let plugin = host.load("warm").await;
    for id in ["a", "b", "c"] {
        let inst = warm_installation("alice", id, &plugin);
        assert_eq!(text(&host, &plugin, &inst, "/count").await, "1 hello");
    }
    assert_eq!(host.runtime.warm_stats().idle, 2, "more idle instances than half the slots");
    // Two calls hold two slots while two idle instances hold the rest: a
    // fifth call must still run, in a slot an idle instance gave up.
    let spinner = host.load("loop").await;
    let busy: Vec<_> = (0..2)
        .map(|i| {
            let runtime = host.runtime.clone();
            let spinner = spinner.clone();
            let inst = installation("bob", &format!("loop{i}"), &spinner);
            tokio::spawn(async move { runtime.handle_request(&spinner, &inst, get("/")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let other = warm_installation("carol", "w", &plugin);
    assert_eq!(text(&host, &plugin, &other, "/count").await, "1 hello");
    for call in busy {
        assert!(matches!(call.await.unwrap(), Err(CallError::Timeout(_))));
    }
    assert!(host.runtime.warm_stats().idle <= 2);
}

/// Each worker thread keeps its idle instances apart (so cores do not pass
/// one lock back and forth); a call on any thread still finds the
/// installation's instance, and forgetting the installation reaches the
/// instances every thread keeps.
#[test]
fn a_call_on_any_thread_finds_the_idle_instance_and_an_uninstall_reaches_every_thread() {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let host = tokio.block_on(async { Host::new(false) });
    let plugin = tokio.block_on(host.load("warm"));
    let inst = warm_installation("alice", "w", &plugin);
    // A new thread each time: threads are spread over the pool's shards in
    // the order they first use it.
    let on_a_new_thread = |path: &str| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                tokio.block_on(text(&host, &plugin, &inst, path))
            })
            .join()
            .unwrap()
        })
    };
    let seen: Vec<String> = (0..6).map(|_| on_a_new_thread("/count")).collect();
    assert_eq!(seen, ["1 hello", "2 hello", "3 hello", "4 hello", "5 hello", "6 hello"]);
    assert_eq!(host.runtime.warm_stats().idle, 1);

    host.runtime.forget_installation(&inst.tenant, &inst.id);
    assert_eq!(host.runtime.warm_stats().idle, 0);
    assert_eq!(on_a_new_thread("/count"), "1 hello", "an uninstall leaves no instance behind on any thread");
}

/// Each thread makes its instances in its own engine of the runtime: the
/// plugin's template and the host's imports are there in every engine, and a
/// warm instance made in one engine serves calls on threads of the others.
#[test]
fn every_engine_makes_instances_and_a_warm_one_serves_calls_on_any_thread() {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let engines = 3;
    let config = |warm| RuntimeConfig { limits: test_limits(), engines, warm, ..RuntimeConfig::default() };
    let warm_host = tokio.block_on(async { Host::with_config(config(WarmInstances::default())) });
    let fresh_host = tokio.block_on(async { Host::with_config(config(WarmInstances::OFF)) });
    let plugin = tokio.block_on(warm_host.load("warm"));
    let fresh_plugin = tokio.block_on(fresh_host.load("warm"));
    let inst = warm_installation("alice", "w", &plugin);
    // Threads take engines in the order they first make a store, so new
    // threads go round every engine.
    let on_a_new_thread = |host: &Host, plugin: &Plugin| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                tokio.block_on(async {
                    let info = host.runtime.describe(plugin).await.expect("describe in a fresh instance");
                    assert_eq!(info.id, "warm");
                    text(host, plugin, &inst, "/count").await
                })
            })
            .join()
            .unwrap()
        })
    };
    let fresh: Vec<String> = (0..2 * engines).map(|_| on_a_new_thread(&fresh_host, &fresh_plugin)).collect();
    assert_eq!(fresh, vec!["1 hello"; 2 * engines], "a fresh instance in every engine");
    let warm: Vec<String> = (0..2 * engines).map(|_| on_a_new_thread(&warm_host, &plugin)).collect();
    assert_eq!(warm, ["1 hello", "2 hello", "3 hello", "4 hello", "5 hello", "6 hello"]);
    assert_eq!(warm_host.runtime.warm_stats().idle, 1);
}
