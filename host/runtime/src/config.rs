use std::path::PathBuf;
use std::time::Duration;

/// Default of [`Limits::tenant_storage_quota_bytes`], for hosts that check
/// the tenant quota outside the runtime (the mail queue).
pub const DEFAULT_TENANT_STORAGE_QUOTA_BYTES: u64 = 256 << 20;

/// Per-call limits. Every field has a default suited to a small deployment;
/// operators change them in the host's configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock deadline of a `handle-request` or `next-page` call.
    pub request_deadline: Duration,
    /// Wall-clock deadline of an `on-event` call (events may call remote APIs).
    pub event_deadline: Duration,
    /// Linear memory an instance may hold in total, across all its memories.
    pub memory_bytes: u64,
    /// Core module instances one plugin instance may create.
    pub max_core_instances: u32,
    /// Linear memories one plugin instance may create.
    pub max_memories: u32,
    /// Tables one plugin instance may create.
    pub max_tables: u32,
    /// Table elements an instance may hold in total, across all its tables.
    pub table_elements: u64,
    /// Data one value crossing from the plugin to the host (the arguments of
    /// one import call, or one export's result) may make the host allocate:
    /// string bytes plus list elements, counted before anything is copied.
    pub transfer_bytes: u64,
    /// Largest response (body plus headers) or body page a call may return.
    pub response_bytes: u64,
    /// Log volume a call may write; lines beyond it are dropped and counted.
    pub log_bytes: u64,
    /// Plugin-private storage per installation (keys, values and a fixed
    /// overhead per entry).
    pub storage_quota_bytes: u64,
    /// Everything one tenant stores outside the core: all its plugins'
    /// private data and its mail queue, counted the same way.
    pub tenant_storage_quota_bytes: u64,
    /// Largest single stored value.
    pub storage_value_bytes: u64,
    /// Timeout of one outbound HTTP request, further capped by the deadline.
    pub http_timeout: Duration,
    /// Largest outbound HTTP response body.
    pub http_response_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_deadline: Duration::from_secs(2),
            event_deadline: Duration::from_secs(30),
            memory_bytes: 64 << 20,
            // A component made by wit-component holds the plugin's module plus
            // a few shim modules and their tables; these leave room for that.
            max_core_instances: 16,
            max_memories: 2,
            max_tables: 8,
            table_elements: 100_000,
            // Room for a full-size response (8 MiB) with its headers.
            transfer_bytes: 12 << 20,
            response_bytes: 8 << 20,
            log_bytes: 64 << 10,
            storage_quota_bytes: 16 << 20,
            tenant_storage_quota_bytes: DEFAULT_TENANT_STORAGE_QUOTA_BYTES,
            storage_value_bytes: 1 << 20,
            http_timeout: Duration::from_secs(10),
            http_response_bytes: 8 << 20,
        }
    }
}

/// How the runtime is set up for a deployment.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub limits: Limits,
    /// Where compiled components are cached; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Whether plugins may reach private, loopback and link-local addresses
    /// (their origins must still be allow-listed). Off in production; tests
    /// and the demo turn it on to talk to local servers.
    pub allow_private_network: bool,
    /// Instances that may run at the same time (slots of the pooling allocator).
    pub max_concurrent_instances: u32,
    /// Instances one tenant may run at the same time, so a tenant flooding
    /// calls is told it is busy while others keep their share of the slots.
    /// `None` means a quarter of `max_concurrent_instances` (at least one).
    pub max_instances_per_tenant: Option<u32>,
    /// How often the epoch advances; deadlines are checked at this granularity.
    pub epoch_tick: Duration,
    /// The wall clock plugins read (`clock.now`, milliseconds since the
    /// epoch); `None` is the system clock. Tests set it to control time.
    pub wall_clock: Option<WallClock>,
}

/// A source of wall-clock time in milliseconds since the Unix epoch.
#[derive(Clone)]
pub struct WallClock(pub std::sync::Arc<dyn Fn() -> i64 + Send + Sync>);

impl WallClock {
    /// The system clock.
    pub fn system() -> WallClock {
        WallClock(std::sync::Arc::new(system_now_ms))
    }

    /// The system clock, or `clock` when set.
    pub fn now_ms(clock: Option<&WallClock>) -> i64 {
        clock.map_or_else(system_now_ms, |c| (c.0)())
    }
}

/// Milliseconds since the Unix epoch by the system clock: the one place the
/// host reads it (everything else is handed a clock, so tests control time).
pub fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl std::fmt::Debug for WallClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WallClock")
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            limits: Limits::default(),
            cache_dir: None,
            allow_private_network: false,
            max_concurrent_instances: 128,
            max_instances_per_tenant: None,
            epoch_tick: Duration::from_millis(5),
            wall_clock: None,
        }
    }
}

impl RuntimeConfig {
    /// The per-tenant cap on running instances, resolved from its default.
    pub fn instances_per_tenant(&self) -> u32 {
        self.max_instances_per_tenant
            .unwrap_or(self.max_concurrent_instances / 4)
            .clamp(1, self.max_concurrent_instances.max(1))
    }
}
