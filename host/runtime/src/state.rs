use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use omnistore_manifest::Capability;
use omnistore_storage::KvStore;

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

/// Memory limiter that remembers that it refused a growth, so the trap that
/// follows can be reported as a memory limit rather than a generic trap.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    pub limit: u64,
    pub refused: bool,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The store data of one call: who the instance belongs to and what it used.
pub(crate) struct PluginState {
    pub cx: CallContext,
    pub grants: Arc<Grants>,
    pub settings: Arc<BTreeMap<String, String>>,
    pub secrets: Arc<BTreeSet<String>>,
    pub services: Arc<dyn HostServices>,
    pub kv: Arc<dyn KvStore>,
    pub http: HttpClient,
    pub limits: Limits,
    pub started: Instant,
    pub deadline: Instant,
    pub limiter: MemoryLimiter,
    pub log_bytes: u64,
    pub log_dropped: u64,
    /// Set when a capability without an error channel was refused; the call
    /// then traps and is reported as [`crate::CallError::Denied`].
    pub denied: Option<Capability>,
}

impl PluginState {
    /// Check a capability for an import that has a `host-error` result.
    pub fn check(&self, capability: Capability) -> Result<(), Denied> {
        let result = self.grants.check(capability);
        if let Err(denied) = &result {
            tracing::warn!(capability = %capability, reason = %denied, blame = "guest", "import denied");
        }
        result
    }

    /// Check a capability for an import with no error channel: a refusal traps.
    pub fn check_or_trap(&mut self, capability: Capability) -> wasmtime::Result<()> {
        match self.check(capability) {
            Ok(()) => Ok(()),
            Err(denied) => {
                self.denied = Some(capability);
                Err(wasmtime::Error::msg(denied.0))
            }
        }
    }

    /// What is left of the call's deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
