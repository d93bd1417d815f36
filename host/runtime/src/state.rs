use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use omnistore_manifest::Capability;
use omnistore_storage::KvStore;

use crate::calls::{CallKind, CallOutcome, MAX_INSIDE_ENTRIES, Record, Started, record};
use crate::capabilities::{Denied, Grants};
use crate::config::Limits;
use crate::http::HttpClient;
use crate::services::{CallContext, HostServices};

pub use omnistore_types::TenantId;

/// One installation of a plugin in one tenant: the unit every instance is bound to.
#[derive(Debug, Clone)]
pub struct Installation {
    pub tenant: TenantId,
    /// Installation (channel) id, unique within the tenant; `[a-z0-9-]`.
    pub id: String,
    pub grants: Grants,
    /// Settings and secrets entered by the merchant.
    pub settings: BTreeMap<String, String>,
    /// Which of `settings` are secrets (never listed, only read by key).
    pub secrets: BTreeSet<String>,
}

/// What one plugin instance may hold, across everything it instantiates.
/// A component can instantiate many core modules, each with its own memory
/// and tables, so every limit here is a total for the whole instance, not a
/// cap per memory or per table.
#[derive(Debug)]
pub(crate) struct InstanceLimiter {
    limits: InstanceLimits,
    memory_bytes: u64,
    table_elements: u64,
    /// The first limit that was refused, so the trap or instantiation error
    /// that follows is reported as that limit rather than a generic trap.
    pub refused: Option<Refused>,
}

#[derive(Debug, Clone, Copy)]
struct InstanceLimits {
    memory_bytes: u64,
    table_elements: u64,
    core_instances: u32,
    memories: u32,
    tables: u32,
}

/// Which growth the limiter refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    MemoryBytes,
    TableElements,
}

impl InstanceLimiter {
    pub fn new(limits: &Limits) -> Self {
        InstanceLimiter {
            limits: InstanceLimits {
                memory_bytes: limits.memory_bytes,
                table_elements: limits.table_elements,
                core_instances: limits.max_core_instances,
                memories: limits.max_memories,
                tables: limits.max_tables,
            },
            memory_bytes: 0,
            table_elements: 0,
            refused: None,
        }
    }

    pub fn memory_limit(&self) -> u64 {
        self.limits.memory_bytes
    }

    pub fn table_limit(&self) -> u64 {
        self.limits.table_elements
    }

    fn grow(total: &mut u64, current: usize, desired: usize, limit: u64) -> bool {
        let next = total.saturating_sub(current as u64).saturating_add(desired as u64);
        if next > limit {
            return false;
        }
        *total = next;
        true
    }

    fn refuse(&mut self, resource: Refused) -> wasmtime::Result<bool> {
        self.refused.get_or_insert(resource);
        Ok(false)
    }
}

impl wasmtime::ResourceLimiter for InstanceLimiter {
    // Called for every memory, at instantiation (current 0) and at each growth.
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if Self::grow(&mut self.memory_bytes, current, desired, self.limits.memory_bytes) {
            Ok(true)
        } else {
            self.refuse(Refused::MemoryBytes)
        }
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if Self::grow(&mut self.table_elements, current, desired, self.limits.table_elements) {
            Ok(true)
        } else {
            self.refuse(Refused::TableElements)
        }
    }

    fn instances(&self) -> usize {
        self.limits.core_instances as usize
    }

    fn memories(&self) -> usize {
        self.limits.memories as usize
    }

    fn tables(&self) -> usize {
        self.limits.tables as usize
    }
}

/// What the stores of one engine share with the whole runtime. Each engine
/// holds its own handle, so that a store taking and dropping one (and an
/// import call, which takes one for its task) writes only its own core's
/// cache lines, not the count of the services everybody uses.
#[derive(Clone)]
pub(crate) struct Shared {
    pub services: Arc<dyn HostServices>,
    pub kv: Arc<dyn KvStore>,
    pub http: HttpClient,
}

/// The store data of one call: who the instance belongs to and what it used.
pub(crate) struct PluginState {
    /// Which of the runtime's engines the store was made in.
    pub engine: usize,
    pub cx: CallContext,
    pub grants: Arc<Grants>,
    pub settings: Arc<BTreeMap<String, String>>,
    pub secrets: Arc<BTreeSet<String>>,
    /// The host's services, storage and HTTP client, through the handle of
    /// the store's engine.
    pub shared: Arc<Shared>,
    pub limits: Limits,
    /// What `clock.now` reads; `None` is the system clock.
    pub wall_clock: Option<crate::config::WallClock>,
    pub started: Instant,
    pub deadline: Instant,
    pub limiter: InstanceLimiter,
    pub log_bytes: u64,
    pub log_dropped: u64,
    /// Set when a capability without an error channel was refused; the call
    /// then traps and is reported as [`crate::CallError::Denied`].
    pub denied: Option<Capability>,
    /// The installation's record of calls, for what the plugin does inside
    /// this call; `None` where nobody asks (`describe` at load, parked instances).
    pub calls: Option<Record>,
    /// Entries this call added to the record from inside.
    pub inside_entries: u32,
    /// The installation's cookie key, once read (it never changes).
    pub cookie_key: Option<Vec<u8>>,
}

impl PluginState {
    /// Check a capability for an import that has a `host-error` result. A
    /// refusal is recorded: the call itself may well succeed, having been
    /// told no.
    pub fn check(&mut self, capability: Capability) -> Result<(), Denied> {
        let result = self.check_grant(capability);
        if result.is_err() {
            let started = self.call_started();
            let outcome = CallOutcome::Denied(Some(capability));
            self.record_inside(started, CallKind::Import, || capability.name().to_owned(), outcome, None);
        }
        result
    }

    fn check_grant(&self, capability: Capability) -> Result<(), Denied> {
        let result = self.grants.check(capability);
        if let Err(denied) = &result {
            tracing::warn!(capability = %capability, reason = %denied, blame = "guest", "import denied");
        }
        result
    }

    /// Check a capability for an import with no error channel: a refusal
    /// traps, and the call is recorded as denied when it ends.
    pub fn check_or_trap(&mut self, capability: Capability) -> wasmtime::Result<()> {
        match self.check_grant(capability) {
            Ok(()) => Ok(()),
            Err(denied) => {
                self.denied = Some(capability);
                Err(wasmtime::Error::msg(denied.0))
            }
        }
    }

    /// Now, for something done inside the call that will be recorded.
    pub fn call_started(&self) -> Started {
        Started::now(crate::config::WallClock::now_ms(self.wall_clock.as_ref()))
    }

    /// Record something the plugin did inside this call (an outbound
    /// request, a refused import); past [`MAX_INSIDE_ENTRIES`] in one call
    /// it is only counted.
    pub fn record_inside(
        &mut self,
        started: Started,
        kind: CallKind,
        target: impl FnOnce() -> String,
        outcome: CallOutcome,
        status: Option<u16>,
    ) {
        let Some(calls) = &self.calls else { return };
        let keep = self.inside_entries < MAX_INSIDE_ENTRIES;
        if keep {
            self.inside_entries += 1;
        }
        record(calls, started, kind, target, outcome, status, keep);
    }

    /// What is left of the call's deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
