//! Test a plugin in a real omnistore host, without writing host code.
//!
//! The harness loads a built plugin package (`plugin.toml` + `plugin.wasm`,
//! as written by `omnistore plugin build`) into the same runtime the server
//! uses — same limits, same capability checks — on the real commerce core
//! over the in-memory store, through the same services the server gives
//! plugins, with the demo pastry shop's catalog (31 products, stock at two
//! locations, promotions) published to the plugin's channel. What a plugin
//! sees here is what it sees in production.
//!
//! ```no_run
//! use omnistore_sdk_harness::Harness;
//!
//! #[test]
//! fn home_page_greets() {
//!     let h = Harness::for_plugin("hello-channel").setting("greeting", "Ciao").start().unwrap();
//!     let page = h.get("/").unwrap();
//!     assert_eq!(page.status, 200);
//!     assert!(page.text().contains("Ciao"));
//! }
//! ```
//!
//! Calls are synchronous: the harness runs its own async runtime, so plain
//! `#[test]` functions work.
//!
//! - **Stale builds are refused**: run from the plugin's own crate,
//!   [`Harness::for_plugin`] fails when a source file is newer than the built
//!   package, so a test never passes against yesterday's build.
//! - **Time is yours**: [`HarnessBuilder::clock_at`] fixes the clock the plugin
//!   and the core read; [`Harness::advance`] moves it.
//! - **Remote APIs are stubbed** with [`StubHttp`], a local server that answers
//!   what the test says and records every request; point the plugin's base URL
//!   setting at [`StubHttp::url`] and allow it with [`HarnessBuilder::allow_origin`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;

mod stub;
pub use stub::{StubHttp, StubRequest, StubResponse};

use omnistore_core::{Core, Order, OrderQuery};
use omnistore_runtime::types::{Event, Request, Response};
use omnistore_runtime::{
    CallError, CallOptions, Installation, Limits, LoadError, Plugin, Runtime, RuntimeConfig, TenantId,
};
use omnistore_services::commerce::QueuedMail;
use omnistore_services::dev::DevShop;
use omnistore_services::files::FileStore;
use omnistore_services::installer::InstallationBuilder;

pub use omnistore_runtime::CallError as Error;
/// What [`HarnessBuilder::withhold`] takes: an import the merchant did not grant.
pub use omnistore_runtime::Capability;
pub use omnistore_runtime::types;

/// Why the harness could not start.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "no built plugin `{id}` under {searched}: build it first with `omnistore plugin build` or `cargo xtask build-plugins`"
    )]
    NotBuilt { id: String, searched: String },
    #[error("loading the plugin failed: {0}")]
    Load(#[from] LoadError),
    #[error("starting the harness failed: {0}")]
    Start(String),
    #[error("reading or changing the shop's data failed: {0}")]
    Storage(String),
    #[error(
        "the build of `{id}` is older than {newer}: rebuild it with `omnistore plugin build` (or `cargo xtask build-plugins`) before testing"
    )]
    Stale { id: String, newer: String },
}

/// Configures a [`Harness`].
#[derive(Debug)]
pub struct HarnessBuilder {
    package: Result<PathBuf, HarnessError>,
    tenant: String,
    settings: BTreeMap<String, String>,
    secrets: BTreeSet<String>,
    withheld: Vec<Capability>,
    limits: Limits,
    allow_private_network: bool,
    sample_catalog: bool,
    clock: Option<Arc<AtomicI64>>,
    origins: Vec<String>,
}

/// A plugin loaded in a real host, bound to one tenant and installation.
pub struct Harness {
    rt: tokio::runtime::Runtime,
    runtime: Runtime,
    plugin: Arc<Plugin>,
    installation: Installation,
    shop: DevShop,
    clock: Option<Arc<AtomicI64>>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").field("plugin", &self.plugin).field("installation", &self.installation).finish()
    }
}

/// A response, with streamed pages already joined.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How many body pages the plugin produced (1 when not streamed).
    pub pages: usize,
}

impl TestResponse {
    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Find `target/plugins/<id>` in the directory of the crate under test or above it.
/// When that crate is the plugin itself, its build must be newer than its sources.
fn find_package(id: &str) -> Result<PathBuf, HarnessError> {
    let start = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let found =
        start.ancestors().map(|a| a.join("target").join("plugins").join(id)).find(|p| p.join("plugin.wasm").exists());
    let package =
        found.ok_or_else(|| HarnessError::NotBuilt { id: id.to_string(), searched: start.display().to_string() })?;
    if plugin_id_of(&start).as_deref() == Some(id) {
        check_fresh(id, &start, &package)?;
    }
    Ok(package)
}

/// The `id` in a crate's `plugin.toml`, if it has one.
fn plugin_id_of(crate_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(crate_dir.join("plugin.toml")).ok()?;
    omnistore_runtime::Manifest::parse(&text).ok().map(|m| m.id)
}

/// Refuse a package built before the newest of the crate's sources.
pub fn check_fresh(id: &str, crate_dir: &Path, package: &Path) -> Result<(), HarnessError> {
    let built = std::fs::metadata(package.join("plugin.wasm"))
        .and_then(|m| m.modified())
        .map_err(|_| HarnessError::NotBuilt { id: id.to_string(), searched: package.display().to_string() })?;
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for source in ["src", "plugin.toml", "Cargo.toml", "templates", "theme"] {
        newest_file(&crate_dir.join(source), &mut newest);
    }
    match newest {
        Some((changed, path)) if changed > built => Err(HarnessError::Stale {
            id: id.to_string(),
            newer: path.strip_prefix(crate_dir).unwrap_or(&path).display().to_string(),
        }),
        _ => Ok(()),
    }
}

fn newest_file(path: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
    let Ok(meta) = std::fs::metadata(path) else { return };
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest_file(&entry.path(), newest);
        }
    } else if let Ok(changed) = meta.modified()
        && newest.as_ref().is_none_or(|(t, _)| changed > *t)
    {
        *newest = Some((changed, path.to_path_buf()));
    }
}

impl Harness {
    /// A harness for the built plugin with this id, found in `target/plugins/<id>`
    /// of the crate under test or a directory above it.
    pub fn for_plugin(id: &str) -> HarnessBuilder {
        Self::builder(find_package(id))
    }

    /// A harness for a plugin package directory.
    pub fn for_package(dir: impl AsRef<Path>) -> HarnessBuilder {
        Self::builder(Ok(dir.as_ref().to_path_buf()))
    }

    fn builder(package: Result<PathBuf, HarnessError>) -> HarnessBuilder {
        HarnessBuilder {
            package,
            tenant: "test-tenant".into(),
            settings: BTreeMap::new(),
            secrets: BTreeSet::new(),
            withheld: vec![],
            limits: Limits::default(),
            allow_private_network: true,
            sample_catalog: true,
            clock: None,
            origins: vec![],
        }
    }

    /// Send a request.
    pub fn request(&self, req: Request) -> Result<TestResponse, CallError> {
        self.request_with(req, CallOptions::default())
    }

    /// Send a request as the merchant's preview: the plugin's `files`
    /// imports read the draft files. Add the `x-omnistore-preview: 1` header
    /// to `req` as the server does.
    pub fn request_preview(&self, req: Request) -> Result<TestResponse, CallError> {
        self.request_with(req, CallOptions { preview: true })
    }

    fn request_with(&self, req: Request, options: CallOptions) -> Result<TestResponse, CallError> {
        self.rt.block_on(async {
            let first: Response =
                self.runtime.handle_request_with(&self.plugin, &self.installation, req, options).await?;
            let mut body = first.body;
            let mut pages = 1;
            let mut next = first.continuation;
            while let Some(cursor) = next {
                let page = self.runtime.next_page(&self.plugin, &self.installation, cursor).await?;
                body.extend_from_slice(&page.data);
                pages += 1;
                next = page.continuation;
            }
            Ok(TestResponse { status: first.status, headers: first.headers, body, pages })
        })
    }

    /// Idle warm instances the host keeps now: after a request, 1 when the
    /// plugin asks for warm instances (`instances = "warm"`) and its
    /// instance was kept, 0 otherwise.
    pub fn warm_instances(&self) -> usize {
        self.runtime.warm_stats().idle
    }

    /// `GET path` (the path may carry a query: `/search?q=x`).
    pub fn get(&self, path: &str) -> Result<TestResponse, CallError> {
        self.request(request("GET", path, vec![]))
    }

    /// `POST path` with a body.
    pub fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Result<TestResponse, CallError> {
        self.request(request("POST", path, body.into()))
    }

    /// Deliver an event.
    pub fn event(&self, event: Event) -> Result<(), CallError> {
        self.rt.block_on(self.runtime.on_event(&self.plugin, &self.installation, event))
    }

    /// Write a file of the installation (a theme override, say) into the
    /// draft, as the admin API's upload does: previews read it at once,
    /// other requests after [`Harness::publish_files`].
    pub fn put_draft_file(&self, path: &str, bytes: &[u8]) -> Result<(), HarnessError> {
        self.files()
            .put_draft(self.tenant(), &self.installation.id, path, bytes)
            .map_err(|e| HarnessError::Start(e.to_string()))
    }

    /// Publish the installation's draft files; how many changed.
    pub fn publish_files(&self) -> Result<u32, HarnessError> {
        self.files().publish(self.tenant(), &self.installation.id).map_err(|e| HarnessError::Start(e.to_string()))
    }

    fn files(&self) -> FileStore {
        FileStore::new(self.shop.core.store().clone())
    }

    /// The commerce core the plugin runs on: add products, look at orders,
    /// customers, consent and touchpoints as the merchant would.
    pub fn core(&self) -> &Core {
        &self.shop.core
    }

    /// The plugin's storage keys that start with `prefix`, in order: what
    /// its `storage.list-keys` would list, without a page limit.
    pub fn stored_keys(&self, prefix: &str) -> Result<Vec<String>, HarnessError> {
        let base = omnistore_storage::keyspace::plugin_data_prefix(self.tenant(), self.channel().as_str());
        let mut start = base.clone();
        start.extend_from_slice(prefix.as_bytes());
        let storage = |e: omnistore_storage::StorageError| HarnessError::Storage(e.to_string());
        let mut read = self.core().store().begin_read().map_err(storage)?;
        let entries = read.scan(&omnistore_storage::KeyRange::prefix(&start), usize::MAX).map_err(storage)?;
        Ok(entries.into_iter().map(|(key, _)| String::from_utf8_lossy(&key[base.len()..]).into_owned()).collect())
    }

    /// The plugin's stored value under `key`, as its `storage.get` reads it.
    pub fn stored(&self, key: &str) -> Result<Option<Vec<u8>>, HarnessError> {
        let mut full = omnistore_storage::keyspace::plugin_data_prefix(self.tenant(), self.channel().as_str());
        full.extend_from_slice(key.as_bytes());
        let storage = |e: omnistore_storage::StorageError| HarnessError::Storage(e.to_string());
        let mut read = self.core().store().begin_read().map_err(storage)?;
        read.get(&full).map_err(storage)
    }

    /// The events waiting for the plugin's channel, as the dispatcher would
    /// hand them over, each taken off the queue (deliver them with
    /// [`Harness::event`]).
    pub fn pending_events(&self) -> Result<Vec<Event>, HarnessError> {
        let (core, tenant, now) = (self.core(), self.tenant(), self.now_ms());
        let failed = |e: omnistore_core::CoreError| HarnessError::Storage(e.to_string());
        while core.fan_out(tenant, now, 0).map_err(failed)? > 0 {}
        let mut events = Vec::new();
        for due in core.claim_due(tenant, now, 1000, 60_000).map_err(failed)? {
            if due.delivery.channel_id != self.channel() {
                continue;
            }
            if let Some(event) = omnistore_services::dispatcher::wit_event(core, tenant, &due, now)
                .map_err(|e| HarnessError::Storage(e.to_string()))?
            {
                events.push(event);
            }
            core.mark_delivered(tenant, &due.delivery.id, now).map_err(failed)?;
        }
        Ok(events)
    }

    /// The shop's web channel, where shoppers place the orders a messaging
    /// or catalog channel then hears of: installed (and given the whole
    /// catalog) on first use.
    pub fn web_channel(&self) -> Result<omnistore_core::ChannelId, HarnessError> {
        let (core, tenant, now) = (self.core(), self.tenant(), self.now_ms());
        let failed = |e: omnistore_core::CoreError| HarnessError::Storage(e.to_string());
        let channels = core.list_channels(tenant).map_err(failed)?;
        if let Some(web) = channels.into_iter().find(|c| c.plugin_id == "web-storefront") {
            return Ok(web.id);
        }
        let new = omnistore_core::NewChannel {
            plugin_id: "web-storefront".into(),
            version: "0.1.0".into(),
            name: "Web".into(),
            enabled: true,
            ..omnistore_core::NewChannel::default()
        };
        let web = core.install_channel(tenant, new, now).map_err(failed)?;
        core.publish_all_active(tenant, &web.id, now).map_err(failed)?;
        Ok(web.id)
    }

    /// Orders placed in the shop, newest last.
    pub fn orders(&self) -> Result<Vec<Order>, HarnessError> {
        self.shop
            .core
            .list_orders(self.tenant(), &OrderQuery { limit: 1000, ..OrderQuery::default() })
            .map_err(|e| HarnessError::Start(e.to_string()))
    }

    /// Mail the plugin handed to the host, waiting for the transport.
    pub fn mail(&self) -> Result<Vec<QueuedMail>, HarnessError> {
        self.rt
            .block_on(self.shop.services.mail_outbox(self.tenant(), None, 1000))
            .map_err(|e| HarnessError::Start(e.to_string()))
    }

    /// Move the harness clock forward (it must have been fixed with
    /// [`HarnessBuilder::clock_at`]).
    pub fn advance(&self, by: std::time::Duration) {
        let clock = self.clock.as_ref().expect("advance needs a fixed clock: start the harness with .clock_at(ms)");
        clock.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    /// What the plugin and the core read as the time, in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.clock {
            Some(c) => c.load(Ordering::SeqCst),
            None => omnistore_runtime::WallClock::now_ms(None),
        }
    }

    /// The channel the plugin is installed as.
    pub fn channel(&self) -> omnistore_core::ChannelId {
        DevShop::channel(&self.installation)
    }

    /// The tenant the plugin is installed in.
    pub fn tenant(&self) -> &TenantId {
        &self.installation.tenant
    }

    /// The loaded plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }
}

/// A request for `path` (with an optional `?query`).
pub fn request(method: &str, path: &str, body: Vec<u8>) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request { method: method.into(), path: path.into(), query: query.into(), headers: vec![], body }
}

impl HarnessBuilder {
    /// Set a setting of the installation.
    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// Set a secret of the installation.
    pub fn secret(mut self, key: &str, value: &str) -> Self {
        self.secrets.insert(key.into());
        self.settings.insert(key.into(), value.into());
        self
    }

    /// Install with this capability withheld, to test the plugin's behaviour when denied.
    pub fn withhold(mut self, capability: Capability) -> Self {
        self.withheld.push(capability);
        self
    }

    /// Run under these limits instead of the defaults.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Tenant id to install into (default `test-tenant`).
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// Fix the time the plugin (`clock::now`) and the core (carts, holds,
    /// orders) read, in ms since the epoch; [`Harness::advance`] moves it.
    pub fn clock_at(mut self, ms: i64) -> Self {
        self.clock = Some(Arc::new(AtomicI64::new(ms)));
        self
    }

    /// Allow outbound HTTP to this origin (`http://127.0.0.1:PORT`, say a
    /// [`StubHttp`]) besides those in `plugin.toml`.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        self.origins.push(origin.to_string());
        self
    }

    /// Start without the sample catalog.
    pub fn empty_catalog(mut self) -> Self {
        self.sample_catalog = false;
        self
    }

    /// Refuse private and loopback addresses as production does (the harness
    /// allows them by default so tests can talk to local servers).
    pub fn deny_private_network(mut self) -> Self {
        self.allow_private_network = false;
        self
    }

    /// Load the plugin and install it.
    pub fn start(self) -> Result<Harness, HarnessError> {
        let package = self.package?;
        let tenant = TenantId::new(self.tenant.clone()).map_err(|e| HarnessError::Start(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| HarnessError::Start(e.to_string()))?;
        let start = |e: omnistore_core::CoreError| HarnessError::Start(e.to_string());
        let wall_clock = self
            .clock
            .clone()
            .map(|c| -> omnistore_services::commerce::Clock { Arc::new(move || c.load(Ordering::SeqCst)) });
        let mut shop = match &wall_clock {
            Some(clock) => DevShop::with_clock(&tenant, clock.clone()),
            None => DevShop::empty(&tenant),
        }
        .map_err(start)?;
        if self.sample_catalog {
            shop = shop.with_demo_catalog().map_err(start)?;
        }
        let config = RuntimeConfig {
            limits: self.limits,
            allow_private_network: self.allow_private_network,
            max_concurrent_instances: 16,
            wall_clock: wall_clock.map(omnistore_runtime::WallClock),
            ..RuntimeConfig::default()
        };
        let runtime = {
            let _guard = rt.enter();
            Runtime::new(config, shop.core.store().clone(), shop.services.clone())?
        };
        let plugin = rt.block_on(runtime.load_dir(&package))?;
        // The one installer's rules, as the server applies them: settings
        // the manifest declares, defaults filled in, secrets hidden.
        let mut plan = InstallationBuilder::new(&plugin.manifest);
        for c in self.withheld {
            plan = plan.without(c);
        }
        for origin in &self.origins {
            let origin = omnistore_runtime::manifest::Origin::parse(origin)
                .map_err(|e| HarnessError::Start(format!("allow_origin({origin}): {e}")))?;
            plan = plan.with_origin(origin);
        }
        for (key, value) in &self.settings {
            plan = if self.secrets.contains(key) {
                plan.secret(key, value)
            } else {
                plan.setting(key, value).map_err(|e| HarnessError::Start(e.to_string()))?
            };
        }
        let installation = shop.install(plan).map_err(start)?;
        Ok(Harness { rt, runtime, plugin, installation, shop, clock: self.clock })
    }
}
