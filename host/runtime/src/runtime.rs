use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use omnistore_manifest::Manifest;
use omnistore_storage::KvStore;
use tracing::Instrument;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::admission::Admission;
use crate::bindings::{v0_1_0, v0_2_0};
use crate::cache::{ComponentCache, digest};
use crate::calls::{self, CallKind, CallLog, CallOutcome, CallReport, MAX_TRACKED_INSTALLATIONS, Record, Started};
use crate::capabilities::{Grants, NetworkPolicy};
use crate::compat_v0_1_0::Convert;
use crate::config::{RuntimeConfig, WallClock};
use crate::engines::{self, CoreEngine};
use crate::error::Limit;
use crate::http::HttpClient;
use crate::services::{CallContext, HostServices};
use crate::state::{Installation, InstanceLimiter, PluginState, Refused, Shared, TenantId};
use crate::types::{BodyPage, Event, PluginError, PluginInfo, Request, Response};
use crate::warm::{Channel, WarmInstance, WarmKey, WarmPool, WarmStats};
use crate::{CallError, LoadError};

/// Extra time beyond a deadline before the host abandons a call that is
/// waiting on an import (the epoch check only runs while wasm executes).
const DEADLINE_GRACE: Duration = Duration::from_millis(50);
/// How wasmtime reports that a value passed to the host was over the
/// hostcall fuel ([`Store::set_hostcall_fuel`]); its error type is private.
const TRANSFER_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";
/// Longest trap message kept; guest backtraces can be long.
const MAX_TRAP_MESSAGE: usize = 4096;

/// A loaded plugin version: its manifest and a pre-instantiated template.
/// Cheap to share; calls instantiate fresh instances from the template (or
/// reuse a warm one of their installation, when the manifest asks for that).
pub struct Plugin {
    pub manifest: Manifest,
    /// SHA-256 of the component.
    pub digest: String,
    /// The contract version the component was built against.
    pub contract: semver::Version,
    /// The template in each of the runtime's engines, by engine.
    bindings: Box<[Bindings]>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version.to_string())
            .field("contract", &self.contract.to_string())
            .field("digest", &self.digest)
            .finish()
    }
}

/// An instantiated plugin kept alive without running; see [`Runtime::park_instance`].
pub struct ParkedInstance {
    _store: Store<PluginState>,
    _channel: Channel,
}

impl std::fmt::Debug for ParkedInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParkedInstance")
    }
}

/// One variant per supported contract version.
enum Bindings {
    V0_1_0(v0_1_0::ChannelPre<PluginState>),
    V0_2_0(v0_2_0::ChannelPre<PluginState>),
}

struct Inner {
    engines: Box<[CoreEngine]>,
    cache: ComponentCache,
    config: RuntimeConfig,
    admission: Admission,
    calls: CallLog,
    warm: Arc<WarmPool>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// The plugin runtime: one per host process. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// Run the body for the instance's contract version with the instance bound
/// to `$c1`/`$c2`, in `$channel` (a warm instance's) or else a fresh instance
/// of the plugin's template made in the store `$store` (a `&mut Store`), under the call's deadline, inside its
/// span. Gives back the body's value and the instance. A 0.1.0 body converts
/// its arguments and results to and from the host's (0.2.0) types
/// (`compat_v0_1_0.rs`).
macro_rules! in_instance {
    (
        $runtime:expr, $plugin:expr, $store:expr, $channel:expr, $deadline:expr, $span:expr,
        v0_1_0: |$c1:ident| $body1:expr,
        v0_2_0: |$c2:ident| $body2:expr $(,)?
    ) => {
        within($deadline + DEADLINE_GRACE, async {
            let channel = match $channel {
                Some(channel) => channel,
                None => $runtime.instantiate($plugin, $store).await?,
            };
            let value = match &channel {
                Channel::V0_1_0($c1) => $body1,
                Channel::V0_2_0($c2) => $body2,
            }?;
            wasmtime::Result::Ok((value, channel))
        })
        .instrument($span)
        .await
    };
}

/// `future` if it ends within `limit`, as `tokio::time::timeout`; but the
/// timer is made only when the future did not end on its first poll. Most
/// calls end there, and a timer costs each one the executor's shared handle
/// and timer wheel, which all cores pass back and forth.
async fn within<F: Future>(limit: Duration, future: F) -> Result<F::Output, tokio::time::error::Elapsed> {
    let until = tokio::time::Instant::now() + limit;
    let mut future = std::pin::pin!(future);
    if let Poll::Ready(value) = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
        return Ok(value);
    }
    tokio::time::timeout_at(until, future).await
}

/// What a call ended with, and its instance when the plugin returned normally.
type Outcome<T> = Result<wasmtime::Result<(T, Channel)>, tokio::time::error::Elapsed>;

fn split<T>(outcome: Outcome<T>) -> (Result<wasmtime::Result<T>, tokio::time::error::Elapsed>, Option<Channel>) {
    match outcome {
        Ok(Ok((value, channel))) => (Ok(Ok(value)), Some(channel)),
        Ok(Err(e)) => (Ok(Err(e)), None),
        Err(elapsed) => (Err(elapsed), None),
    }
}

/// A request call's store, and where its instance came from and goes back to.
struct RequestStore {
    store: Store<PluginState>,
    /// The warm instance taken for the call; `None` makes a fresh one.
    channel: Option<Channel>,
    key: Option<WarmKey>,
    /// Calls the instance served before this one.
    served: u32,
    generation: u64,
}

/// How one request call is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// The merchant previews draft files: the plugin's `files` imports read
    /// the draft. The server sets this together with the
    /// `x-omnistore-preview` header, so both always agree.
    pub preview: bool,
}

impl Runtime {
    /// Start a runtime. `kv` holds plugin-private data; `services` serves the
    /// commerce imports.
    pub fn new(
        config: RuntimeConfig,
        kv: Arc<dyn KvStore>,
        services: Arc<dyn HostServices>,
    ) -> Result<Self, LoadError> {
        let http = HttpClient::new(NetworkPolicy { allow_private: config.allow_private_network })
            .map_err(LoadError::Compile)?;
        let shared = Shared { services, kv, http };
        let engines = engines::engines(&config, &shared)?;
        let cache = ComponentCache::new(&engines[0].engine, config.cache_dir.clone())?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let tickers: Vec<_> = engines.iter().map(|core| core.engine.clone()).collect();
            let stop = stop_ticker.clone();
            let tick = config.epoch_tick;
            std::thread::Builder::new()
                .name("omnistore-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        tickers.iter().for_each(wasmtime::Engine::increment_epoch);
                    }
                })
                .map_err(|e| LoadError::Compile(format!("starting the epoch thread: {e}")))?;
        }
        let admission = Admission::new(config.instances_per_tenant());
        let calls = CallLog::new(WallClock::now_ms(config.wall_clock.as_ref()), MAX_TRACKED_INSTALLATIONS);
        let warm = WarmPool::new(config.warm, config.max_concurrent_instances, crate::per_thread::shards());
        Ok(Runtime { inner: Arc::new(Inner { engines, cache, config, admission, calls, warm, stop_ticker }) })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Load a plugin: check the component against its manifest, compile it
    /// (or take it from the cache), pre-instantiate it, and check that its
    /// `describe()` agrees with the manifest.
    pub async fn load(&self, manifest: Manifest, bytes: Vec<u8>) -> Result<Arc<Plugin>, LoadError> {
        let contract = manifest.check_component(&bytes)?;
        let digest = digest(&bytes);
        let inner = self.inner.clone();
        let d = digest.clone();
        let components = tokio::task::spawn_blocking(move || inner.cache.get_or_compile(&inner.engines, &d, &bytes))
            .await
            .map_err(|e| LoadError::Compile(format!("compile task failed: {e}")))??;
        let bindings = self
            .inner
            .engines
            .iter()
            .zip(components)
            .map(|(core, component)| {
                let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
                let pre = core.linker.instantiate_pre(&component).map_err(link)?;
                Ok(match (contract.major, contract.minor) {
                    (0, 1) => Bindings::V0_1_0(v0_1_0::ChannelPre::new(pre).map_err(link)?),
                    (0, 2) => Bindings::V0_2_0(v0_2_0::ChannelPre::new(pre).map_err(link)?),
                    _ => {
                        return Err(omnistore_manifest::ManifestError::UnsupportedContract(contract.to_string()).into());
                    }
                })
            })
            .collect::<Result<Box<[_]>, LoadError>>()?;
        let plugin = Plugin { manifest, digest, contract, bindings };
        let info = self.describe(&plugin).await.map_err(LoadError::Describe)?;
        if info.id != plugin.manifest.id {
            return Err(LoadError::DescribeMismatch { field: "id", found: info.id, expected: plugin.manifest.id });
        }
        if info.version != plugin.manifest.version.to_string() {
            return Err(LoadError::DescribeMismatch {
                field: "version",
                found: info.version,
                expected: plugin.manifest.version.to_string(),
            });
        }
        tracing::info!(plugin = %plugin.manifest.id, version = %plugin.manifest.version, digest = %plugin.digest, "plugin loaded");
        Ok(Arc::new(plugin))
    }

    /// Load a plugin package directory holding `plugin.toml` and `plugin.wasm`.
    pub async fn load_dir(&self, dir: &Path) -> Result<Arc<Plugin>, LoadError> {
        let manifest = Manifest::load(&dir.join("plugin.toml"))?;
        let wasm = dir.join("plugin.wasm");
        let bytes = std::fs::read(&wasm)
            .map_err(|source| omnistore_manifest::ManifestError::Read { path: wasm.display().to_string(), source })?;
        self.load(manifest, bytes).await
    }

    fn store(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        deadline: Duration,
        options: CallOptions,
        calls: Option<Record>,
    ) -> Store<PluginState> {
        let limits = self.inner.config.limits.clone();
        let now = Instant::now();
        let engine = engines::for_this_thread(&self.inner.engines);
        let state = PluginState {
            engine,
            cx: CallContext {
                tenant: inst.tenant.clone(),
                installation: inst.id.clone(),
                plugin: plugin.manifest.id.clone(),
                preview: options.preview,
            },
            grants: Arc::new(inst.grants.clone()),
            settings: Arc::new(inst.settings.clone()),
            secrets: Arc::new(inst.secrets.clone()),
            shared: self.inner.engines[engine].shared.clone(),
            limiter: InstanceLimiter::new(&limits),
            limits,
            wall_clock: self.inner.config.wall_clock.clone(),
            started: now,
            deadline: now + deadline,
            log_bytes: 0,
            log_dropped: 0,
            denied: None,
            calls: None,
            inside_entries: 0,
            cookie_key: None,
        };
        let mut store = Store::new(&self.inner.engines[engine].engine, state);
        store.limiter(|s| &mut s.limiter);
        Self::arm(&mut store, deadline, options, calls);
        store
    }

    /// Sets everything the host keeps per call afresh, for a new store or a
    /// warm one: the call's options, clock and deadline, its log and transfer
    /// allowances, and what the last call was refused. What the instance holds
    /// (its memory, and the limiter's count of it) carries over.
    fn arm(store: &mut Store<PluginState>, deadline: Duration, options: CallOptions, calls: Option<Record>) {
        let now = Instant::now();
        let state = store.data_mut();
        state.cx.preview = options.preview;
        state.started = now;
        state.deadline = now + deadline;
        state.log_bytes = 0;
        state.log_dropped = 0;
        state.denied = None;
        state.calls = calls;
        state.inside_entries = 0;
        state.limiter.refused = None;
        let transfer = usize::try_from(state.limits.transfer_bytes).unwrap_or(usize::MAX);
        // Wasmtime counts string bytes and list elements against this before
        // it copies them out of the guest, for each import call and each
        // export result, so aliased strings cannot multiply host allocations.
        store.set_hostcall_fuel(transfer);
        let ends = now + deadline;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= ends { Ok(UpdateDeadline::Interrupt) } else { Ok(UpdateDeadline::Yield(1)) }
        });
    }

    /// A fresh instance of the plugin in `store`. When every slot of the
    /// store's engine is taken, idle warm instances made there give theirs
    /// up, least recently used first.
    async fn instantiate(&self, plugin: &Plugin, store: &mut Store<PluginState>) -> wasmtime::Result<Channel> {
        loop {
            let made = match &plugin.bindings[store.data().engine] {
                Bindings::V0_1_0(pre) => pre.instantiate_async(&mut *store).await.map(Channel::V0_1_0),
                Bindings::V0_2_0(pre) => pre.instantiate_async(&mut *store).await.map(Channel::V0_2_0),
            };
            match made {
                Err(e) if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() => {
                    if !self.inner.warm.evict_one(Some(store.data().engine)) {
                        return Err(e);
                    }
                }
                made => return made,
            }
        }
    }

    /// Where the plugin's warm instances for this installation are kept, when
    /// its manifest asks for them and the deployment keeps any.
    fn warm_key(&self, plugin: &Plugin, inst: &Installation) -> Option<WarmKey> {
        (plugin.manifest.instances == omnistore_manifest::Instances::Warm && self.inner.warm.enabled()).then(|| {
            WarmKey { tenant: inst.tenant.clone(), installation: inst.id.clone(), digest: plugin.digest.clone() }
        })
    }

    /// The store and instance a request call runs in: a warm instance of the
    /// installation, armed for this call, or a new store (the instance is made
    /// in the call).
    fn request_store(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        deadline: Duration,
        options: CallOptions,
        calls: &Record,
    ) -> RequestStore {
        let key = self.warm_key(plugin, inst);
        if let Some(warm) = key.as_ref().and_then(|k| self.inner.warm.take(k, inst)) {
            let WarmInstance { mut store, channel, calls: served, generation, .. } = warm;
            Self::arm(&mut store, deadline, options, Some(calls.clone()));
            return RequestStore { store, channel: Some(channel), key, served, generation };
        }
        // Only an instance that may go back to the pool needs the generation.
        let generation = if key.is_some() { self.inner.warm.generation() } else { 0 };
        let store = self.store(plugin, inst, deadline, options, Some(calls.clone()));
        RequestStore { store, channel: None, key, served: 0, generation }
    }

    /// After a request call: its instance goes back to the warm pool when the
    /// plugin asked for that and returned normally without being refused
    /// anything; otherwise it is dropped.
    fn after_request<T>(&self, store: RequestStore, outcome: Outcome<T>, deadline: Duration) -> Result<T, CallError> {
        let (outcome, channel) = split(outcome);
        let result = self.finish(&store.store, outcome, deadline);
        let state = store.store.data();
        let clean = result.is_ok() && state.denied.is_none() && state.limiter.refused.is_none();
        if let (Some(key), Some(channel), true) = (store.key, channel, clean) {
            let instance = WarmInstance::new(store.store, channel, store.served + 1, store.generation);
            self.inner.warm.put(key, instance);
        }
        result
    }

    fn finish<T>(
        &self,
        store: &Store<PluginState>,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
        deadline: Duration,
    ) -> Result<T, CallError> {
        let state = store.data();
        if state.log_dropped > 0 {
            tracing::warn!(
                dropped = state.log_dropped,
                limit = state.limits.log_bytes,
                "plugin log lines over the per-call limit were dropped"
            );
        }
        let err = match outcome {
            Err(_) => return Err(CallError::Timeout(deadline)),
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => err,
        };
        let message = format!("{err:#}");
        let classified = if state.limiter.refused == Some(Refused::MemoryBytes) {
            CallError::MemoryExceeded { limit_bytes: state.limiter.memory_limit() }
        } else if state.limiter.refused == Some(Refused::TableElements) {
            CallError::LimitExceeded { what: Limit::TableElements, limit: state.limiter.table_limit() }
        } else if message.contains(TRANSFER_EXHAUSTED) {
            CallError::LimitExceeded { what: Limit::TransferBytes, limit: state.limits.transfer_bytes }
        } else if let Some(capability) = state.denied {
            CallError::Denied { capability: capability.to_string() }
        } else if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            CallError::Timeout(deadline)
        } else if err.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() {
            CallError::Busy(self.inner.config.max_concurrent_instances)
        } else {
            let mut message = message;
            if message.len() > MAX_TRAP_MESSAGE {
                let mut cut = MAX_TRAP_MESSAGE;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push_str(" …");
            }
            CallError::Trap(message)
        };
        tracing::warn!(error = %classified, blame = classified.blame().as_str(), "plugin call failed");
        Err(classified)
    }

    /// A call's span; a request call records whether its instance was warm.
    fn span(plugin: &Plugin, inst: &Installation, call: &'static str) -> tracing::Span {
        tracing::info_span!("plugin_call", call, plugin = %plugin.manifest.id, tenant = %inst.tenant, installation = %inst.id, instance = tracing::field::Empty)
    }

    /// Ask the plugin to describe itself (no imports are granted).
    pub async fn describe(&self, plugin: &Plugin) -> Result<PluginInfo, CallError> {
        let inst = Installation {
            tenant: TenantId::new("host").expect("valid id"),
            id: "describe".into(),
            grants: Grants::none(),
            settings: Default::default(),
            secrets: Default::default(),
        };
        let deadline = self.inner.config.limits.request_deadline;
        let mut store = self.store(plugin, &inst, deadline, CallOptions::default(), None);
        let outcome = in_instance!(self, plugin, &mut store, None, deadline, Self::span(plugin, &inst, "describe"),
            v0_1_0: |channel| channel.omnistore_plugin_handler().call_describe(&mut store).await.map(Convert::convert),
            v0_2_0: |channel| channel.omnistore_plugin_handler().call_describe(&mut store).await,
        );
        self.finish(&store, split(outcome).0, deadline)
    }

    /// Route an HTTP request to the plugin in a fresh instance (or a warm one
    /// of the installation, when the plugin asks for warm instances).
    pub async fn handle_request(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        req: Request,
    ) -> Result<Response, CallError> {
        self.handle_request_with(plugin, inst, req, CallOptions::default()).await
    }

    /// Route an HTTP request to the plugin, made as `options` say (such as a
    /// merchant's preview).
    pub async fn handle_request_with(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        req: Request,
        options: CallOptions,
    ) -> Result<Response, CallError> {
        let (calls, started) = self.call_starts(inst);
        let (method, path) = (req.method.clone(), req.path.clone());
        let result = self.request_call(plugin, inst, req, options, &calls).await;
        let status = match &result {
            Ok(response) => Some(response.status),
            Err(err) => upstream_status(err),
        };
        let outcome = result.as_ref().map_or_else(CallOutcome::of_error, |_| CallOutcome::Ok);
        calls::record(
            &calls,
            started,
            CallKind::Request,
            || calls::request_target(&method, &path),
            outcome,
            status,
            true,
        );
        result
    }

    async fn request_call(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        req: Request,
        options: CallOptions,
        calls: &Record,
    ) -> Result<Response, CallError> {
        let _permit = self.inner.admission.admit(&inst.tenant)?;
        let deadline = self.inner.config.limits.request_deadline;
        let mut call = self.request_store(plugin, inst, deadline, options, calls);
        let span = Self::span(plugin, inst, "handle-request");
        span.record("instance", if call.channel.is_some() { "warm" } else { "fresh" });
        let store = &mut call.store;
        let outcome = in_instance!(self, plugin, &mut *store, call.channel.take(), deadline, span,
            v0_1_0: |channel| {
                let req: v0_1_0::omnistore::plugin::types::Request = req.convert();
                channel.omnistore_plugin_handler().call_handle_request(&mut *store, &req).await.map(Convert::convert)
            },
            v0_2_0: |channel| channel.omnistore_plugin_handler().call_handle_request(&mut *store, &req).await,
        );
        let response = self.after_request(call, outcome, deadline)?.map_err(CallError::Plugin)?;
        let size =
            response.body.len() as u64 + response.headers.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum::<u64>();
        self.check_size(size)?;
        Ok(response)
    }

    /// Produce the next page of a streamed response body.
    pub async fn next_page(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        continuation: String,
    ) -> Result<BodyPage, CallError> {
        let (calls, started) = self.call_starts(inst);
        let result = self.page_call(plugin, inst, continuation, &calls).await;
        let outcome = result.as_ref().map_or_else(CallOutcome::of_error, |_| CallOutcome::Ok);
        let status = result.as_ref().err().and_then(upstream_status);
        // The continuation is the plugin's own token and may carry anything: not kept.
        calls::record(&calls, started, CallKind::NextPage, String::new, outcome, status, true);
        result
    }

    async fn page_call(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        continuation: String,
        calls: &Record,
    ) -> Result<BodyPage, CallError> {
        let _permit = self.inner.admission.admit(&inst.tenant)?;
        let deadline = self.inner.config.limits.request_deadline;
        let mut call = self.request_store(plugin, inst, deadline, CallOptions::default(), calls);
        let span = Self::span(plugin, inst, "next-page");
        span.record("instance", if call.channel.is_some() { "warm" } else { "fresh" });
        let store = &mut call.store;
        let outcome = in_instance!(self, plugin, &mut *store, call.channel.take(), deadline, span,
            v0_1_0: |channel| {
                channel.omnistore_plugin_handler().call_next_page(&mut *store, &continuation).await.map(Convert::convert)
            },
            v0_2_0: |channel| channel.omnistore_plugin_handler().call_next_page(&mut *store, &continuation).await,
        );
        let page = self.after_request(call, outcome, deadline)?.map_err(CallError::Plugin)?;
        self.check_size(page.data.len() as u64)?;
        Ok(page)
    }

    /// Deliver an event the installation is subscribed to.
    pub async fn on_event(&self, plugin: &Plugin, inst: &Installation, event: Event) -> Result<(), CallError> {
        let (calls, started) = self.call_starts(inst);
        let kind = calls::event_target(&event.kind);
        let result = self.event_call(plugin, inst, event, &calls).await;
        let outcome = result.as_ref().map_or_else(CallOutcome::of_error, |_| CallOutcome::Ok);
        let status = result.as_ref().err().and_then(upstream_status);
        calls::record(&calls, started, CallKind::Event, || kind, outcome, status, true);
        result
    }

    async fn event_call(
        &self,
        plugin: &Plugin,
        inst: &Installation,
        event: Event,
        calls: &Record,
    ) -> Result<(), CallError> {
        if inst.grants.check_event(&event.kind).is_err() {
            return Err(CallError::NotSubscribed(event.kind));
        }
        let _permit = self.inner.admission.admit(&inst.tenant)?;
        let deadline = self.inner.config.limits.event_deadline;
        let mut store = self.store(plugin, inst, deadline, CallOptions::default(), Some(calls.clone()));
        let outcome = in_instance!(self, plugin, &mut store, None, deadline, Self::span(plugin, inst, "on-event"),
            v0_1_0: |channel| {
                let event: v0_1_0::omnistore::plugin::types::Event = event.convert();
                channel.omnistore_plugin_handler().call_on_event(&mut store, &event).await.map(Convert::convert)
            },
            v0_2_0: |channel| channel.omnistore_plugin_handler().call_on_event(&mut store, &event).await,
        );
        self.finish(&store, split(outcome).0, deadline)?.map_err(CallError::Plugin)
    }

    /// Instantiate the plugin and keep the instance idle, for measuring what
    /// an instance costs in memory (benchmarks and capacity planning).
    pub async fn park_instance(&self, plugin: &Plugin, inst: &Installation) -> Result<ParkedInstance, CallError> {
        let deadline = self.inner.config.limits.request_deadline;
        let mut store = self.store(plugin, inst, deadline, CallOptions::default(), None);
        // Touch the instance once so its memory is really set up.
        let outcome = in_instance!(self, plugin, &mut store, None, deadline, Self::span(plugin, inst, "park"),
            v0_1_0: |channel| channel.omnistore_plugin_handler().call_describe(&mut store).await.map(drop),
            v0_2_0: |channel| channel.omnistore_plugin_handler().call_describe(&mut store).await.map(drop),
        );
        let (outcome, channel) = split(outcome);
        self.finish(&store, outcome, deadline)?;
        let channel = channel.expect("a call that returned has its instance");
        Ok(ParkedInstance { _store: store, _channel: channel })
    }

    /// The installation's recent calls, newest first (at most
    /// [`calls::RECENT_CALLS`]), and its counters since the runtime started:
    /// calls, outbound requests, errors and limits hit by kind. In memory
    /// only; an installation never called has an empty report.
    pub fn recent_calls(&self, tenant: &TenantId, installation: &str) -> CallReport {
        self.inner.calls.report(tenant, installation)
    }

    /// Forget an installation (it was uninstalled): its calls, and its warm
    /// instances, so that nothing a plugin kept in memory outlives it.
    pub fn forget_installation(&self, tenant: &TenantId, installation: &str) {
        self.inner.calls.forget(tenant, installation);
        self.inner.warm.forget(|k| k.tenant == *tenant && k.installation == installation);
    }

    /// Forget every installation of a tenant (it was deleted).
    pub fn forget_tenant(&self, tenant: &TenantId) {
        self.inner.calls.forget_tenant(tenant);
        self.inner.warm.forget(|k| k.tenant == *tenant);
    }

    /// How many warm instances are idle now.
    pub fn warm_stats(&self) -> WarmStats {
        self.inner.warm.stats()
    }

    /// The installation's record and the moment a call into it begins.
    fn call_starts(&self, inst: &Installation) -> (Record, Started) {
        let record = self.inner.calls.record_of(&inst.tenant, &inst.id);
        (record, Started::now(WallClock::now_ms(self.inner.config.wall_clock.as_ref())))
    }

    fn check_size(&self, size: u64) -> Result<(), CallError> {
        let limit = self.inner.config.limits.response_bytes;
        if size > limit {
            let err = CallError::ResponseTooLarge { size, limit };
            tracing::warn!(error = %err, blame = "guest", "plugin call failed");
            return Err(err);
        }
        Ok(())
    }
}

/// The status a remote service failed with, when the plugin says so.
fn upstream_status(err: &CallError) -> Option<u16> {
    match err {
        CallError::Plugin(PluginError::Upstream(upstream)) => Some(upstream.status),
        _ => None,
    }
}
