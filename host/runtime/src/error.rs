use std::time::Duration;

use crate::types::PluginError;

/// Who is at fault for a failed call, for logs and operator dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    Guest,
    Host,
}

impl Blame {
    pub fn as_str(self) -> &'static str {
        match self {
            Blame::Guest => "guest",
            Blame::Host => "host",
        }
    }
}

/// Why loading a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Manifest(#[from] omnistore_manifest::ManifestError),
    #[error("compiling the component failed: {0}")]
    Compile(String),
    #[error("the component's imports do not match this host: {0}")]
    Link(String),
    #[error("the plugin's describe() says {field} is `{found}` but plugin.toml says `{expected}`; rebuild the plugin")]
    DescribeMismatch { field: &'static str, found: String, expected: String },
    #[error("calling describe() failed: {0}")]
    Describe(#[source] CallError),
    #[error("the component cache failed: {0}")]
    Cache(String),
}

/// A per-call limit, besides time and memory, that a plugin can go past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Table elements across all tables of the instance.
    TableElements,
    /// Bytes the host would allocate for one value the plugin passes it
    /// (the arguments of an import call or the result of an export).
    TransferBytes,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::TableElements => "table elements per instance",
            Limit::TransferBytes => "bytes in one value passed to the host (strings and list elements together)",
        })
    }
}

/// Why one call into a plugin failed. The host and every other plugin keep
/// serving; only this call is lost.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the plugin did not finish within its {0:?} deadline")]
    Timeout(Duration),
    #[error("the plugin tried to grow its memory beyond the {limit_bytes}-byte limit")]
    MemoryExceeded { limit_bytes: u64 },
    #[error("the plugin trapped: {0}")]
    Trap(String),
    #[error("the plugin's response is {size} bytes; the limit is {limit}")]
    ResponseTooLarge { size: u64, limit: u64 },
    #[error("the plugin used the `{capability}` capability, which this installation was not granted")]
    Denied { capability: String },
    #[error("the plugin is not subscribed to `{0}` events")]
    NotSubscribed(String),
    #[error("the plugin returned an error: {0:?}")]
    Plugin(PluginError),
    /// Either every instance slot of the host is in use, or the tenant
    /// already runs its share of them; the number is the limit that was reached.
    #[error("the limit of {0} running plugin instances is reached; try again shortly")]
    Busy(u32),
    #[error("the plugin went past its limit of {limit} {what}")]
    LimitExceeded { what: Limit, limit: u64 },
    #[error("the host failed while serving the plugin: {0}")]
    Host(String),
}

impl CallError {
    /// Who caused the failure.
    pub fn blame(&self) -> Blame {
        match self {
            CallError::Busy(_) | CallError::Host(_) => Blame::Host,
            _ => Blame::Guest,
        }
    }
}
