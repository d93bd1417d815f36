//! The plugin host end to end: a well-behaved plugin answering HTTP through
//! the server, and hostile guests that must each fail alone, with the right
//! error, while the well-behaved plugin keeps serving.
//!
//! The components come from `cargo xtask build-plugins` (target/plugins).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use http_body_util::BodyExt;
use omnistore_runtime::types::Request;
use omnistore_runtime::{
    CallError, Capability, Grants, Installation, Limits, LoadError, Manifest, MemoryChecks, Plugin, PoolReuse, Runtime,
    RuntimeConfig, TenantId,
};
use omnistore_server::{AppState, Mounted, PathRouting, Registry};
use omnistore_services::commerce::CoreServices;
use tower::ServiceExt;

#[path = "plugins/boundary.rs"]
mod boundary;
#[path = "plugins/calls.rs"]
mod calls;
#[path = "plugins/campaigns.rs"]
mod campaigns;
#[path = "plugins/contract.rs"]
mod contract;
#[path = "plugins/isolation.rs"]
mod isolation;
#[path = "plugins/storefront.rs"]
mod storefront;
#[path = "plugins/storefront_judged.rs"]
mod storefront_judged;
#[path = "plugins/tidy.rs"]
mod tidy;
#[path = "plugins/warm.rs"]
mod warm;
#[path = "plugins/whole_host.rs"]
mod whole_host;

use omnistore_storage::testing::TestDatabase;

fn package(id: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins").join(id);
    assert!(
        dir.join("plugin.wasm").exists(),
        "{} is missing: run `cargo xtask build-plugins` (or `cargo xtask test`) first",
        dir.display()
    );
    dir
}

fn tenant(id: &str) -> TenantId {
    TenantId::new(id).unwrap()
}

/// Limits small enough that hostile guests hit them quickly.
fn test_limits() -> Limits {
    Limits {
        request_deadline: Duration::from_millis(500),
        memory_bytes: 32 << 20,
        response_bytes: 1 << 20,
        ..Limits::default()
    }
}

/// A runtime on the real commerce core over the memory store.
struct Host {
    runtime: Runtime,
    services: Arc<CoreServices>,
}

const T0: i64 = 1_760_000_000_000;

impl Host {
    fn new(allow_private_network: bool) -> Host {
        Host::with_config(RuntimeConfig { limits: test_limits(), allow_private_network, ..RuntimeConfig::default() })
    }

    fn with_config(config: RuntimeConfig) -> Host {
        Host::on_store(config, Arc::new(omnistore_storage::MemoryStore::new()))
    }

    /// A host on an existing store (a restart keeps what was stored).
    fn on_store(config: RuntimeConfig, kv: Arc<dyn omnistore_storage::KvStore>) -> Host {
        let core = omnistore_core::Core::new(kv);
        let services = Arc::new(CoreServices::new(core.clone()));
        let runtime = Runtime::new(config, core.store().clone(), services.clone()).unwrap();
        Host { runtime, services }
    }

    fn core(&self) -> &omnistore_core::Core {
        self.services.core()
    }

    async fn load(&self, id: &str) -> Arc<Plugin> {
        self.runtime.load_dir(&package(id)).await.unwrap_or_else(|e| panic!("loading {id}: {e}"))
    }

    /// Install `plugin` as a channel of `tenant_id` in the core, as the server does.
    fn install(&self, tenant_id: &str, plugin: &Plugin) -> Installation {
        let plan = omnistore_services::installer::InstallationBuilder::new(&plugin.manifest);
        omnistore_services::dev::install(self.core(), &tenant(tenant_id), plan, T0).unwrap()
    }

    /// The demo pastry shop's catalog in `tenant_id`.
    fn seed_demo(&self, tenant_id: &str) {
        omnistore_core::seed_demo_into(self.core(), &tenant(tenant_id), T0).unwrap();
    }

    /// Mail handed to the host by `tenant_id`'s plugins.
    async fn mail(&self, tenant_id: &str) -> usize {
        self.services.mail_outbox(&tenant(tenant_id), None, 1000).await.unwrap().len()
    }
}

fn installation(tenant_id: &str, id: &str, plugin: &Plugin) -> Installation {
    Installation {
        tenant: tenant(tenant_id),
        id: id.into(),
        grants: Grants::from_manifest(&plugin.manifest),
        settings: Default::default(),
        secrets: Default::default(),
    }
}

/// Add `n` active products to a tenant's catalog, published to `channel`,
/// enough for a feed to span several pages.
fn bulk_catalog(core: &omnistore_core::Core, tenant_id: &str, channel: &str, n: usize) {
    use omnistore_core::{ChannelId, Money, NewProduct, NewVariant, ProductStatus};
    let t = tenant(tenant_id);
    for i in 0..n {
        core.create_product(
            &t,
            NewProduct {
                handle: format!("bulk-{i}"),
                title: format!("Bulk item {i}"),
                description: String::new(),
                brand: None,
                tags: vec![],
                collections: vec![],
                images: vec![],
                status: ProductStatus::Active,
                variants: vec![NewVariant {
                    sku: format!("BULK-{i:05}"),
                    title: "Standard".into(),
                    options: Default::default(),
                    gtin: None,
                    weight_grams: None,
                    price: Money::new(100, "EUR").unwrap(),
                    compare_at: None,
                    backorderable: false,
                }],
            },
            T0,
        )
        .unwrap();
    }
    core.publish_all_active(&t, &ChannelId::new(channel), T0).unwrap();
}

fn get(path: &str) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request { method: "GET".into(), path: path.into(), query: query.into(), headers: vec![], body: vec![] }
}

async fn body_text(response: axum::response::Response) -> String {
    String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned()
}

/// Path routing (`/t/{tenant}/…`) on the host's own name, as in development.
fn dev_routing() -> PathRouting {
    PathRouting::on(["localhost"])
}

/// A request for `path` on the host's own name, where path routing answers.
fn dev_get(path: &str) -> axum::http::request::Builder {
    HttpRequest::get(path).header(header::HOST, "localhost")
}

/// A server with hello-channel installed for tenant `demo` at `/` and on `demo.localhost`.
async fn hello_server(host: &Host) -> (axum::Router, Arc<Plugin>, Installation) {
    let plugin = host.load("hello-channel").await;
    host.seed_demo("demo");
    let mut inst = host.install("demo", &plugin);
    inst.settings.insert("greeting".into(), "Benvenuti".into());
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant("demo"), &["demo.localhost".to_string()]);
    registry.mount(Mounted { mount: "/".into(), installation: inst.clone(), plugin: plugin.clone() });
    (
        omnistore_server::router(AppState::new(host.runtime.clone(), registry).with_path_routing(dev_routing())),
        plugin,
        inst,
    )
}

#[tokio::test]
async fn hello_channel_answers_http_by_path_and_by_host_name() {
    let host = Host::new(false);
    let (app, _, _) = hello_server(&host).await;

    let by_path = app.clone().oneshot(dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(by_path.status(), StatusCode::OK);
    let page = body_text(by_path).await;
    assert!(page.contains("Benvenuti"), "greeting setting shown: {page}");
    assert!(page.contains("Cannolo siciliano"), "catalog shown: {page}");

    let by_host = app
        .clone()
        .oneshot(HttpRequest::get("/").header(header::HOST, "demo.localhost:8080").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(by_host.status(), StatusCode::OK);

    // The visit counter lives in plugin storage: two visits so far.
    let visits = app.clone().oneshot(dev_get("/t/demo/api/visits").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(visits.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body_text(visits).await).unwrap();
    assert_eq!(json["visits"], 2, "{json}");

    let missing = app.clone().oneshot(dev_get("/t/demo/no-such-page").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let unknown = app.clone().oneshot(dev_get("/t/nobody/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let json: serde_json::Value = serde_json::from_str(&body_text(unknown).await).unwrap();
    assert_eq!(json["error"]["code"], "not_found");

    let unknown_host = app
        .oneshot(HttpRequest::get("/").header(header::HOST, "elsewhere.test").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(unknown_host.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_feed_streams_in_pages_through_the_server() {
    let host = Host::new(false);
    let (app, plugin, inst) = hello_server(&host).await;
    bulk_catalog(host.core(), "demo", &inst.id, 250);
    let response = app.oneshot(dev_get("/t/demo/feed.csv").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csv = body_text(response).await;
    for sku in ["DV-01-", "DV-05-", "BULK-00000", "BULK-00123", "BULK-00249"] {
        assert!(csv.contains(sku), "{sku} in feed: {csv}");
    }
    // The first response really continues in pages rather than carrying everything.
    let first = host.runtime.handle_request(&plugin, &inst, get("/feed.csv")).await.unwrap();
    assert!(first.continuation.is_some(), "the feed should continue in pages");
}

/// Run a hostile call while the well-behaved plugin serves; both outcomes are returned.
async fn hostile_alongside_hello(host: &Host, hostile: &str, path: &str) -> CallError {
    let (app, _, _) = hello_server(host).await;
    let plugin = host.load(hostile).await;
    let inst = installation("mallory", hostile, &plugin);
    let runtime = host.runtime.clone();
    let path = path.to_string();
    let bad = tokio::spawn(async move { runtime.handle_request(&plugin, &inst, get(&path)).await });
    // The good plugin keeps answering while the hostile call runs and after it failed.
    for _ in 0..10 {
        let ok = app.clone().oneshot(dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
    let err = bad.await.unwrap().expect_err("the hostile call must fail");
    let ok = app.oneshot(dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK, "still serving after {err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_times_out_and_others_keep_serving() {
    let host = Host::new(false);
    let started = std::time::Instant::now();
    let err = hostile_alongside_hello(&host, "loop", "/").await;
    assert!(matches!(err, CallError::Timeout(_)), "{err:?}");
    // Generous bound: the point is that the loop was stopped, not the exact latency.
    assert!(started.elapsed() < Duration::from_secs(20), "the loop was stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_allocation_hits_the_memory_limit() {
    let host = Host::new(false);
    let err = hostile_alongside_hello(&host, "alloc", "/").await;
    assert!(matches!(err, CallError::MemoryExceeded { limit_bytes } if limit_bytes == 32 << 20), "{err:?}");
}

/// A plugin starts with memory for its heap (`omnistore-build`'s
/// `INITIAL_MEMORY_BYTES`), and the SDK's allocator uses it before it grows
/// any: behind guard pages, every growth changes page protections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_allocates_from_the_memory_it_starts_with() {
    let host = Host::new(false);
    let plugin = host.load("alloc").await;
    let inst = installation("demo", "alloc", &plugin);
    let response = host.runtime.handle_request(&plugin, &inst, get("/within-initial-memory")).await.unwrap();
    let text = String::from_utf8(response.body).unwrap();
    let pages: Vec<u64> = text.split(' ').map(|p| p.parse().unwrap()).collect();
    assert_eq!(pages[0] * 65536, omnistore_build::INITIAL_MEMORY_BYTES, "{text}");
    assert_eq!(pages[0], pages[1], "2 MiB were allocated by growing memory: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_fail_the_call_with_a_trap_error() {
    let host = Host::new(false);
    for kind in ["panic", "unreachable", "oob", "div"] {
        let err = hostile_alongside_hello(&host, "trap", &format!("/?kind={kind}")).await;
        assert!(matches!(err, CallError::Trap(_)), "{kind}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_response_is_refused() {
    let host = Host::new(false);
    // 2 MiB fits in guest memory but exceeds the 1 MiB response limit.
    let err = hostile_alongside_hello(&host, "big-response", "/?bytes=2097152").await;
    assert!(
        matches!(err, CallError::ResponseTooLarge { size, limit } if size >= 2 << 20 && limit == 1 << 20),
        "{err:?}"
    );
    // The server turns it into a 502 with a stable code.
    let plugin = host.load("big-response").await;
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant("mallory"), &[]);
    registry.mount(Mounted { mount: "/".into(), installation: installation("mallory", "big", &plugin), plugin });
    let app = omnistore_server::router(AppState::new(host.runtime.clone(), registry).with_path_routing(dev_routing()));
    let response = app.oneshot(dev_get("/t/mallory/?bytes=2097152").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let json: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(json["error"]["code"], "plugin_response_too_large");
}

#[tokio::test]
async fn an_import_not_granted_is_denied_and_nothing_happens() {
    let host = Host::new(false);
    let plugin = host.load("ungranted").await;
    let mut inst = host.install("mallory", &plugin);
    inst.grants = Grants::from_manifest(&plugin.manifest).without(Capability::Mail);
    let response = host.runtime.handle_request(&plugin, &inst, get("/")).await.unwrap();
    let text = String::from_utf8_lossy(&response.body);
    assert!(text.contains("Denied") && text.contains("mail"), "{text}");
    assert_eq!(host.mail("mallory").await, 0, "no mail was sent");
    // The granted capability still works in the same installation.
    let stored = host.runtime.handle_request(&plugin, &inst, get("/storage")).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&stored.body), "stored: ok");
    // With mail granted, the same call sends.
    let granted = Installation { grants: Grants::from_manifest(&plugin.manifest), ..inst };
    let sent = host.runtime.handle_request(&plugin, &granted, get("/")).await.unwrap();
    assert!(String::from_utf8_lossy(&sent.body).starts_with("sent: "));
    assert_eq!(host.mail("mallory").await, 1);
}

/// A local HTTP server for the outbound tests, on loopback.
async fn local_server() -> std::net::SocketAddr {
    let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello from upstream" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn fetch(host: &Host, url: &str) -> (u16, String) {
    let plugin = host.load("http-client").await;
    let inst = installation("mallory", "http", &plugin);
    let r = host.runtime.handle_request(&plugin, &inst, get(&format!("/?url={url}"))).await.unwrap();
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

#[tokio::test]
async fn outbound_calls_reach_only_allow_listed_public_origins() {
    let addr = local_server().await;
    let strict = Host::new(false);
    // Not on the allow-list at all.
    let (status, body) = fetch(&strict, "https://not-allowed.example/x").await;
    assert_eq!(status, 502);
    assert!(body.contains("Denied") && body.contains("allow-list"), "{body}");
    // Allow-listed, but a loopback address in a deployment that refuses private addresses.
    let (status, body) = fetch(&strict, &format!("http://127.0.0.1:{}/hello", addr.port())).await;
    assert_eq!(status, 502);
    assert!(body.contains("Denied") && body.contains("127.0.0.1"), "{body}");
    // A host name that resolves to loopback is refused at resolution time.
    let (status, body) = fetch(&strict, &format!("http://localhost:{}/hello", addr.port())).await;
    assert_eq!(status, 502);
    assert!(body.contains("Denied"), "{body}");
    // The same request in a deployment that allows private addresses goes through.
    let open = Host::new(true);
    let (status, body) = fetch(&open, &format!("http://127.0.0.1:{}/hello", addr.port())).await;
    assert_eq!((status, body.as_str()), (200, "hello from upstream"));
}

#[tokio::test]
async fn plugin_storage_is_fenced_per_tenant_and_installation() {
    let host = Host::new(false);
    let plugin = host.load("snoop").await;
    let alice = installation("alice", "snoop", &plugin);
    let bob = installation("bob", "snoop", &plugin);
    let alice_other = installation("alice", "snoop-two", &plugin);
    let w = host.runtime.handle_request(&plugin, &alice, get("/write?key=secret&value=alice-data")).await.unwrap();
    assert_eq!(w.status, 200);
    let mine = host.runtime.handle_request(&plugin, &alice, get("/read?key=secret")).await.unwrap();
    assert_eq!(mine.body, b"alice-data");
    for (who, inst) in [("another tenant", &bob), ("another installation", &alice_other)] {
        let r = host.runtime.handle_request(&plugin, inst, get("/read?key=secret")).await.unwrap();
        assert_eq!(r.status, 404, "{who} must not read alice's data");
        let list = host.runtime.handle_request(&plugin, inst, get("/list")).await.unwrap();
        assert!(list.body.is_empty(), "{who} lists nothing: {}", String::from_utf8_lossy(&list.body));
    }
    // Keys that look like paths into another tenant stay inside bob's own space.
    let probe = host.runtime.handle_request(&plugin, &bob, get("/probe")).await.unwrap();
    let report = String::from_utf8_lossy(&probe.body);
    assert!(report.contains("too-long-513: set=Err(HostError::Invalid"), "{report}");
    assert!(report.contains("empty: set=Err(HostError::Invalid"), "{report}");
    assert!(report.contains("parent: set=Ok(())"), "{report}");
    let after = host.runtime.handle_request(&plugin, &alice, get("/list")).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&after.body), "secret", "alice's space is untouched by bob's probe");
}

#[tokio::test]
async fn a_manifest_that_lies_about_its_imports_is_refused_at_load() {
    let host = Host::new(false);
    let dir = package("http-client");
    let wasm = std::fs::read(dir.join("plugin.wasm")).unwrap();
    let honest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    // The same component, with a manifest that hides its use of http.
    let lying = honest
        .lines()
        .map(|l| {
            if l.starts_with("imports") {
                "imports = []"
            } else if l.starts_with("http") {
                "http = []"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let manifest = Manifest::parse(&lying).unwrap();
    let err = host.runtime.load(manifest, wasm.clone()).await.expect_err("a lying manifest must be refused");
    let message = err.to_string();
    assert!(matches!(err, LoadError::Manifest(_)), "{err:?}");
    assert!(message.contains("omnistore:plugin/http@0.2.0") && message.contains("does not request"), "{message}");

    // A manifest whose version differs from what the component says of itself.
    let wrong_version = honest.replace("version = \"0.1.0\"", "version = \"9.9.9\"");
    let err = host.runtime.load(Manifest::parse(&wrong_version).unwrap(), wasm).await.expect_err("refused");
    assert!(matches!(err, LoadError::DescribeMismatch { field: "version", .. }), "{err:?}");

    // Something that is not a component at all.
    let err = host.runtime.load(Manifest::parse(&honest).unwrap(), b"\0asm\x01\0\0\0".to_vec()).await.unwrap_err();
    assert!(err.to_string().contains("core module"), "{err}");
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk_and_reused() {
    let cache = tempfile::tempdir().unwrap();
    let start = || {
        Host::with_config(RuntimeConfig { cache_dir: Some(cache.path().to_path_buf()), ..RuntimeConfig::default() })
            .runtime
    };
    let first = start().load_dir(&package("hello-channel")).await.unwrap();
    let artifacts: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    assert!(artifacts[0].starts_with(&first.digest), "named by content digest: {artifacts:?}");
    // A new runtime (a restarted host) loads the artifact instead of compiling.
    let again = start().load_dir(&package("hello-channel")).await.unwrap();
    assert_eq!(again.digest, first.digest);
    // A corrupt artifact is discarded and recompiled, not trusted.
    let path = cache.path().join(&artifacts[0]);
    std::fs::write(&path, b"not a compiled component").unwrap();
    let recovered = start().load_dir(&package("hello-channel")).await.unwrap();
    assert_eq!(recovered.digest, first.digest);
    assert!(std::fs::read(&path).unwrap().len() > 1000, "the artifact was rewritten");
}

#[test]
fn the_sdk_harness_runs_a_built_plugin() {
    let h = omnistore_sdk_harness::Harness::for_package(package("hello-channel"))
        .setting("greeting", "Ciao")
        .start()
        .unwrap();
    let page = h.get("/").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Ciao"));
    bulk_catalog(h.core(), h.tenant().as_str(), h.channel().as_str(), 250);
    let feed = h.get("/feed.csv").unwrap();
    assert!(feed.pages > 1, "the harness joins streamed pages ({} pages)", feed.pages);
    assert!(feed.text().contains("DV-05-") && feed.text().contains("BULK-00249"));
}

#[test]
fn the_harness_controls_the_clock_of_plugin_and_core() {
    let h = omnistore_sdk_harness::Harness::for_package(package("hello-channel")).clock_at(T0).start().unwrap();
    assert_eq!(h.now_ms(), T0);
    assert!(h.get("/").unwrap().text().contains(&format!("Rendered at {T0} ms")));
    h.advance(Duration::from_secs(5));
    assert!(h.get("/").unwrap().text().contains(&format!("Rendered at {} ms", T0 + 5000)));
}

#[test]
fn the_harness_stubs_a_remote_api_and_records_what_the_plugin_sent() {
    use omnistore_sdk_harness::{StubHttp, StubResponse};
    let stub = StubHttp::start(|req| {
        if req.uri.starts_with("/v1/items") {
            StubResponse::json(&serde_json::json!({ "items": [1, 2, 3] }))
        } else {
            StubResponse::status_json(404, &serde_json::json!({ "error": { "code": 100 } }))
        }
    })
    .unwrap();
    let h =
        omnistore_sdk_harness::Harness::for_package(package("http-client")).allow_origin(&stub.url()).start().unwrap();
    let ok = h.get(&format!("/?url={}/v1/items?page=2", stub.url())).unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), r#"{"items":[1,2,3]}"#);
    let missing = h.get(&format!("/?url={}/v2/other", stub.url())).unwrap();
    assert_eq!(missing.status, 404, "the API's own error reaches the plugin");
    let sent = stub.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].method.as_str(), sent[0].uri.as_str()), ("GET", "/v1/items?page=2"));
}

#[test]
fn the_harness_refuses_a_build_older_than_the_plugins_sources() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("my-channel");
    let package_dir = dir.path().join("target/plugins/my-channel");
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    std::fs::create_dir_all(&package_dir).unwrap();
    std::fs::write(package_dir.join("plugin.wasm"), b"built").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(package_dir.join("plugin.wasm")).unwrap().set_modified(old).unwrap();
    std::fs::write(crate_dir.join("src/lib.rs"), "// edited after the build").unwrap();
    let err = omnistore_sdk_harness::check_fresh("my-channel", &crate_dir, &package_dir).unwrap_err();
    assert!(err.to_string().contains("src/lib.rs") && err.to_string().contains("rebuild"), "{err}");
    // Rebuilt: fresh again.
    std::fs::write(package_dir.join("plugin.wasm"), b"rebuilt").unwrap();
    omnistore_sdk_harness::check_fresh("my-channel", &crate_dir, &package_dir).unwrap();
}

/// Every hostile guest under tests/guests must be exercised by a test in this file or its modules.
#[test]
fn every_test_guest_has_a_test() {
    // The streaming caps are exercised through the server's own tests.
    let source = [
        include_str!("plugins.rs"),
        include_str!("plugins/boundary.rs"),
        include_str!("plugins/contract.rs"),
        include_str!("plugins/isolation.rs"),
        include_str!("plugins/whole_host.rs"),
        include_str!("plugins/storefront.rs"),
        include_str!("plugins/warm.rs"),
        include_str!("../../host/server/tests/admin/streaming.rs"),
    ]
    .concat();
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests");
    for entry in std::fs::read_dir(&guests).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("plugin.toml").exists() {
            continue;
        }
        let manifest = Manifest::load(&dir.join("plugin.toml")).unwrap();
        let quoted = format!("\"{}\"", manifest.id);
        let uses = source.matches(&quoted).count();
        assert!(
            uses >= 1,
            "test guest {} (id {}) is not used by any test in plugins.rs or its modules",
            dir.display(),
            manifest.id
        );
    }
}

/// The Liquid engine gives the same page inside a plugin as natively: the
/// benchmark compares their speed on this page, so they must do the same work.
#[tokio::test]
async fn a_liquid_page_renders_the_same_in_a_plugin_as_natively() {
    let template = include_str!("../src/fixtures/render_product.liquid");
    let data: serde_json::Value = serde_json::from_str(include_str!("../src/fixtures/render_product.json")).unwrap();
    let native = omnistore_liquid::Template::parse(template, &omnistore_liquid::ParseOptions::default())
        .unwrap()
        .render_json(&data, &omnistore_liquid::RenderOptions::default())
        .unwrap();
    assert!(native.contains("Torta al pistacchio &lt;di Bronte&gt;"), "{native}");
    let host = Host::new(false);
    let plugin = host.load("render").await;
    let inst = installation("bench", "render", &plugin);
    let body = serde_json::to_vec(&serde_json::json!({ "template": template, "data": data })).unwrap();
    let request = Request { method: "POST".into(), path: "/".into(), query: String::new(), headers: vec![], body };
    let response = host.runtime.handle_request(&plugin, &inst, request).await.unwrap();
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(String::from_utf8(response.body).unwrap(), native);
    assert!(response.headers.iter().any(|(name, value)| name == "x-render-ns" && value.parse::<u64>().is_ok()));
    // A template that does not parse is the plugin's clear 400, not a trap.
    let body = serde_json::to_vec(&serde_json::json!({ "template": "{% for x in %}", "data": {} })).unwrap();
    let bad = Request { method: "POST".into(), path: "/".into(), query: String::new(), headers: vec![], body };
    let response = host.runtime.handle_request(&plugin, &inst, bad).await.unwrap();
    assert_eq!(response.status, 400);
    assert!(String::from_utf8_lossy(&response.body).contains("parse"), "{}", String::from_utf8_lossy(&response.body));
}
