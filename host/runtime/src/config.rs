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
    /// How the pooling allocator gives an instance's memory back between calls.
    pub pool_reuse: PoolReuse,
    /// How out-of-bounds memory accesses of a plugin are caught.
    pub memory_checks: MemoryChecks,
    /// How many idle instances are kept for plugins that ask for warm ones.
    pub warm: WarmInstances,
    /// Engines the runtime spreads its threads over, each with its own share
    /// of the `max_concurrent_instances` slots, so that cores making fresh
    /// instances do not write the same counters. One per core by default, at
    /// most [`MAX_ENGINES`](crate::MAX_ENGINES) and one per slot.
    pub engines: usize,
}

/// Idle instances kept for plugins whose manifest says `instances = "warm"`.
///
/// An idle instance holds a pool slot and the memory its plugin kept, so the
/// pool keeps at most half the slots idle, and gives up its least recently
/// used instance whenever a call finds no free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmInstances {
    /// Idle instances kept in all; 0 turns warm instances off.
    pub max_idle: u32,
    /// Idle instances kept for one installation by each core: about the
    /// requests it serves at once.
    pub max_idle_per_installation: u32,
    /// An instance idle this long is dropped when the pool is next used, at
    /// most a second (or an eighth of this, when shorter) later.
    pub idle_timeout: Duration,
    /// Calls one instance serves before it is replaced, so that a plugin's
    /// slow leak or fragmented heap does not last.
    pub max_calls: u32,
}

impl WarmInstances {
    /// No warm instances: every call gets a fresh one.
    pub const OFF: WarmInstances =
        WarmInstances { max_idle: 0, max_idle_per_installation: 0, idle_timeout: Duration::ZERO, max_calls: 0 };
}

impl Default for WarmInstances {
    fn default() -> Self {
        WarmInstances {
            max_idle: 64,
            max_idle_per_installation: 16,
            idle_timeout: Duration::from_secs(120),
            max_calls: 10_000,
        }
    }
}

/// How a plugin's out-of-bounds memory accesses are caught.
///
/// Guard pages let compiled code skip bounds checks, but every growth of a
/// plugin's memory changes page protections (on `memory.grow`, and back when
/// the slot is reused), and `mprotect` takes the process-wide memory-map lock
/// and flushes the TLBs of the other cores. Plugins built by `omnistore-build`
/// start with room for their heap and the SDK's allocator uses it first, so
/// a call seldom grows memory and guard pages cost no system call per call.
/// Explicit checks cost a compare per access and never change protections,
/// for plugins whose calls grow their memory every time. `cargo xtask bench`
/// shows both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryChecks {
    /// A compare before each access; no page protections change per call.
    Explicit,
    /// Guard pages and signal handlers, wasmtime's default.
    #[default]
    GuardPages,
}

/// How a pooled slot is reset when an instance ends.
///
/// Every call runs in a fresh instance, so slot reset is on the hottest path.
/// Giving pages back with `madvise` makes the kernel flush the TLBs of every
/// core running the process: on more cores, each call slows the others. Keeping
/// the first bytes of each memory and table resident resets them with `memset`
/// instead, and batching the remaining decommits pays for one flush per batch.
/// Where Linux offers `PAGEMAP_SCAN` (6.7 and later), only the pages a call
/// dirtied are reset, so keeping more resident costs nothing for pages a
/// call never touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolReuse {
    /// Bytes of each linear memory reset in place rather than given back.
    pub memory_keep_resident: usize,
    /// Bytes of each table reset in place rather than given back.
    pub table_keep_resident: usize,
    /// Decommits gathered before they are done together.
    pub decommit_batch: usize,
    /// Reset only the dirty pages of what is kept resident, where the kernel
    /// can tell which they are; elsewhere the setting is ignored.
    pub scan_dirty_pages: bool,
}

impl PoolReuse {
    /// Wasmtime's own defaults: nothing kept resident, every decommit at once.
    /// The benchmark's baseline.
    pub const GIVE_BACK_AT_ONCE: PoolReuse =
        PoolReuse { memory_keep_resident: 0, table_keep_resident: 0, decommit_batch: 1, scan_dirty_pages: false };
}

impl Default for PoolReuse {
    /// Where the kernel tells dirty pages apart, the first 8 MiB of a plugin's
    /// memory (its stack, data and a page's worth of heap) stay resident and
    /// only what a call touched is reset: no system call per call. Elsewhere
    /// only the first 64 KiB are reset in place, since `memset` would clear
    /// megabytes nobody touched. What stays resident is at most this much per
    /// slot that was ever busy at once.
    fn default() -> Self {
        if wasmtime::PoolingAllocationConfig::is_pagemap_scan_available() {
            PoolReuse {
                memory_keep_resident: 8 << 20,
                table_keep_resident: 64 << 10,
                decommit_batch: 16,
                scan_dirty_pages: true,
            }
        } else {
            PoolReuse {
                memory_keep_resident: 64 << 10,
                table_keep_resident: 64 << 10,
                decommit_batch: 16,
                scan_dirty_pages: false,
            }
        }
    }
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
            pool_reuse: PoolReuse::default(),
            memory_checks: MemoryChecks::default(),
            warm: WarmInstances::default(),
            engines: crate::per_thread::shards().min(crate::MAX_ENGINES),
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
