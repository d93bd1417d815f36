//! Contract versions side by side: a plugin built against 0.1.0 (kept as
//! built in tests/fixtures) keeps loading and serving on this host, and what
//! 0.2.0 added works through real components.

use omnistore_runtime::{Limits, RuntimeConfig};

use super::*;

/// hello-channel as built against contract 0.1.0; never rebuilt.
fn fixture_0_1_0() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hello-channel-0.1.0")
}

/// A server with `plugin` installed for tenant `demo` (the demo shop) at `/`.
fn server_for(host: &Host, plugin: Arc<Plugin>) -> (axum::Router, Installation) {
    host.seed_demo("demo");
    let mut inst = host.install("demo", &plugin);
    inst.settings.insert("greeting".into(), "Benvenuti".into());
    (serve_installation(host, plugin, inst.clone()), inst)
}

/// A server with `plugin` mounted at `/` as the existing installation `inst`.
fn serve_installation(host: &Host, plugin: Arc<Plugin>, inst: Installation) -> axum::Router {
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant("demo"), &[]);
    registry.mount(Mounted { mount: "/".into(), installation: inst, plugin });
    omnistore_server::router(AppState::new(host.runtime.clone(), registry).with_path_routing(dev_routing()))
}

async fn visits(app: &axum::Router) -> serde_json::Value {
    let response = app.clone().oneshot(dev_get("/t/demo/api/visits").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_str::<serde_json::Value>(&body_text(response).await).unwrap()["visits"].clone()
}

#[tokio::test]
async fn a_plugin_built_against_0_1_0_keeps_loading_and_serving() {
    let host = Host::new(false);
    let old = host.runtime.load_dir(&fixture_0_1_0()).await.expect("the 0.1.0 fixture loads");
    assert_eq!(old.contract.to_string(), "0.1.0");
    // The current build of the same plugin, against 0.2.0, loads in the same runtime.
    let current = host.load("hello-channel").await;
    assert_eq!(current.contract.to_string(), "0.2.0");

    let (app, inst) = server_for(&host, old.clone());
    for _ in 0..2 {
        let page = app.clone().oneshot(dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let page = body_text(page).await;
        assert!(page.contains("Benvenuti") && page.contains("Cannolo siciliano"), "{page}");
    }
    assert_eq!(visits(&app).await, 2, "the 0.1.0 counter (storage get/set) works");

    bulk_catalog(host.core(), "demo", &inst.id, 250);
    let feed = app.clone().oneshot(dev_get("/t/demo/feed.csv").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let csv = body_text(feed).await;
    for sku in ["DV-01-", "BULK-00000", "BULK-00249"] {
        assert!(csv.contains(sku), "{sku} in the 0.1.0 feed");
    }
    let first = host.runtime.handle_request(&old, &inst, get("/feed.csv")).await.unwrap();
    assert!(first.continuation.is_some(), "the 0.1.0 feed still streams in pages");

    // Upgrading the installation to the 0.2.0 build keeps its data: the
    // counter 0.1.0 kept as JSON is the decimal integer `increment` counts on.
    let upgraded = serve_installation(&host, current, inst.clone());
    let page = upgraded.clone().oneshot(dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(visits(&upgraded).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_visits_are_all_counted() {
    const VISITS: usize = 50;
    let host = Host::with_config(RuntimeConfig {
        // Room for every visit at once, and time for them on a busy machine.
        limits: Limits { request_deadline: Duration::from_secs(30), ..test_limits() },
        max_instances_per_tenant: Some(VISITS as u32),
        ..RuntimeConfig::default()
    });
    let plugin = host.load("hello-channel").await;
    let (app, _) = server_for(&host, plugin);
    let barrier = Arc::new(tokio::sync::Barrier::new(VISITS));
    let tasks: Vec<_> = (0..VISITS)
        .map(|_| {
            let (app, barrier) = (app.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let response = app.oneshot(dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{}", body_text(response).await);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(visits(&app).await, VISITS, "a read-modify-write counter would have lost some");
}

async fn call(host: &Host, plugin: &Plugin, inst: &Installation, path: &str) -> (u16, String) {
    let r = host.runtime.handle_request(plugin, inst, get(path)).await.unwrap();
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

#[tokio::test]
async fn compare_and_set_and_increment_through_a_component() {
    let host = Host::new(false);
    let plugin = host.load("atomic").await;
    assert_eq!(plugin.contract.to_string(), "0.2.0");
    let inst = installation("alice", "atomic", &plugin);
    let ok = |s: &str| (200, s.to_string());
    assert_eq!(call(&host, &plugin, &inst, "/cas?key=k&new=a").await, ok("true"));
    assert_eq!(call(&host, &plugin, &inst, "/cas?key=k&new=b").await, ok("false"), "not absent any more");
    assert_eq!(call(&host, &plugin, &inst, "/cas?key=k&expected=x&new=b").await, ok("false"));
    assert_eq!(call(&host, &plugin, &inst, "/read?key=k").await, ok("a"));
    assert_eq!(call(&host, &plugin, &inst, "/cas?key=k&expected=a&new=b").await, ok("true"));
    assert_eq!(call(&host, &plugin, &inst, "/cas?key=k&expected=b").await, ok("true"), "deleted");
    assert_eq!(call(&host, &plugin, &inst, "/read?key=k").await.0, 404);

    assert_eq!(call(&host, &plugin, &inst, "/increment?key=n&delta=5").await, ok("5"));
    assert_eq!(call(&host, &plugin, &inst, "/increment?key=n&delta=-7").await, ok("-2"));
    assert_eq!(call(&host, &plugin, &inst, "/read?key=n").await, ok("-2"));
    let (status, body) = call(&host, &plugin, &inst, "/increment?key=n&delta=9223372036854775807").await;
    assert_eq!((status, body.as_str()), (200, "9223372036854775805"));
    let (status, body) = call(&host, &plugin, &inst, "/increment?key=n&delta=3").await;
    assert!(status == 400 && body.contains("Invalid") && body.contains("overflow"), "{body}");
    call(&host, &plugin, &inst, "/cas?key=text&new=hello").await;
    let (status, body) = call(&host, &plugin, &inst, "/increment?key=text").await;
    assert!(status == 400 && body.contains("Invalid"), "{body}");
    // Another installation counts on its own.
    let other = installation("alice", "atomic-two", &plugin);
    assert_eq!(call(&host, &plugin, &other, "/increment?key=n").await, ok("1"));
}

#[tokio::test]
async fn each_installation_has_one_lasting_cookie_key() {
    let kv: Arc<dyn omnistore_storage::KvStore> = Arc::new(omnistore_storage::MemoryStore::new());
    let start = || Host::on_store(RuntimeConfig { limits: test_limits(), ..RuntimeConfig::default() }, kv.clone());
    let host = start();
    let plugin = host.load("atomic").await;
    let inst = installation("alice", "atomic", &plugin);
    let (status, signed) = call(&host, &plugin, &inst, "/sign?value=v").await;
    assert_eq!(status, 200);
    assert_eq!(call(&host, &plugin, &inst, "/sign?value=v").await.1, signed, "stable across calls");
    let other = installation("alice", "atomic-two", &plugin);
    assert_ne!(call(&host, &plugin, &other, "/sign?value=v").await.1, signed, "another installation");
    let elsewhere = installation("bob", "atomic", &plugin);
    assert_ne!(call(&host, &plugin, &elsewhere, "/sign?value=v").await.1, signed, "another tenant");
    // A restarted host (a new runtime on the same store) hands out the same key.
    drop(host);
    let restarted = start();
    let plugin = restarted.load("atomic").await;
    assert_eq!(call(&restarted, &plugin, &inst, "/sign?value=v").await.1, signed, "stable across restarts");
    // Without the settings grant, the key is refused like any setting.
    let mut denied = installation("alice", "atomic", &plugin);
    denied.grants = Grants::from_manifest(&plugin.manifest).without(Capability::Settings);
    let err = restarted.runtime.handle_request(&plugin, &denied, get("/sign?value=v")).await.unwrap_err();
    assert!(matches!(err, CallError::Denied { .. }), "{err:?}");
}
