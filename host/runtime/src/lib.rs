//! The plugin runtime: wasmtime with the component model, async on tokio.
//!
//! - [`Runtime`] owns the engine (pooling allocator, epoch interruption), the
//!   linker with every host import, and the on-disk component cache.
//! - [`Runtime::load`] checks a component against its [`Manifest`], compiles
//!   it once, and keeps a pre-instantiated template ([`Plugin`]).
//! - Each call ([`Runtime::handle_request`], [`Runtime::next_page`],
//!   [`Runtime::on_event`]) gets a fresh instance bound to one
//!   [`Installation`] (tenant + installation id) under [`Limits`]; any failure
//!   is a typed [`CallError`] for that call alone.
//! - Every call's outcome, and the outbound requests and refused imports
//!   inside it, are kept per installation in a bounded in-memory record
//!   ([`Runtime::recent_calls`]).
//! - [`Grants`] is the one place where capabilities are decided.
//! - Commerce imports go through [`HostServices`], implemented once, on the
//!   commerce core, by `omnistore-services`.
//!
//! The runtime knows nothing of HTTP frameworks or of the commerce domain.
//!
//! [`Manifest`]: omnistore_manifest::Manifest

mod admission;
pub mod bindings;
mod cache;
mod calls;
mod capabilities;
mod compat_v0_1_0;
mod config;
mod engines;
mod error;
mod http;
mod imports;
mod imports_storefront;
mod imports_v0_2_0;
mod per_thread;
mod plugin_storage;
mod runtime;
mod services;
mod state;
pub mod types;
mod warm;

pub use cache::digest;
pub use calls::{
    CallCounters, CallEntry, CallKind, CallOutcome, CallRecord, CallReport, LimitKind, MAX_TRACKED_INSTALLATIONS,
    OutboundFailure, PluginErrorKind, RECENT_CALLS,
};
pub use capabilities::{Denied, Grants, NetworkPolicy, is_public};
pub use config::{
    DEFAULT_TENANT_STORAGE_QUOTA_BYTES, Limits, MemoryChecks, PoolReuse, RuntimeConfig, WallClock, WarmInstances,
    system_now_ms,
};
pub use engines::MAX_ENGINES;
pub use error::{Blame, CallError, Limit, LoadError};
pub use imports_storefront::MAX_RANDOM_BYTES;
pub use omnistore_manifest::{self as manifest, Capability, Manifest};
pub use plugin_storage::{COOKIE_KEY_BYTES, ENTRY_OVERHEAD_BYTES, TenantUsage, entry_cost};
pub use runtime::{CallOptions, ParkedInstance, Plugin, Runtime};
pub use services::{CallContext, HostServices, ServiceResult};
pub use state::{Installation, TenantId};
pub use warm::WarmStats;
