//! A channel's recent calls, errors and limits hit, as the plugin runtime
//! keeps them in memory (`omnistore_runtime::CallReport`).

use omnistore_runtime as runtime;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallKind {
    /// A page, feed or webhook request routed to the channel.
    Request,
    /// The next page of a streamed response.
    NextPage,
    /// An event delivered to the channel.
    Event,
    /// An HTTP request the channel sent.
    Outbound,
    /// Something the channel asked the host for and was refused.
    Import,
}

/// A limit of the host that a call went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LimitKind {
    /// The call's time limit.
    Deadline,
    /// The plugin's memory.
    Memory,
    TableElements,
    /// One value passed to the host.
    TransferBytes,
    /// The size of a response the plugin returned.
    ResponseSize,
    /// Plugin instances running at once.
    Instances,
    /// The storage quota (plugin data and queued mail).
    StorageQuota,
    /// The size of a response to the plugin's own request.
    OutboundResponseSize,
}

/// The error a plugin returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PluginErrorKind {
    BadRequest,
    NotFound,
    Unauthorized,
    RetryLater,
    Upstream,
    Internal,
}

/// Why one of the channel's own requests got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OutboundFailure {
    InvalidRequest,
    Timeout,
    Connection,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub(crate) enum CallOutcome {
    Ok,
    /// The plugin returned an error.
    PluginError {
        error: PluginErrorKind,
    },
    /// The plugin crashed.
    Trap,
    /// The plugin used a capability the channel was not granted.
    Denied {
        capability: Option<String>,
    },
    /// The call went past a limit of the host.
    Limit {
        limit: LimitKind,
    },
    /// An event of a kind the channel is not subscribed to.
    NotSubscribed,
    /// One of the channel's own requests got no answer.
    OutboundFailed {
        failure: OutboundFailure,
    },
    /// The host failed while serving the call.
    HostError,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CallEntry {
    pub at_ms: i64,
    pub kind: CallKind,
    /// What was called: `GET /path` (never the query), the event kind,
    /// `POST https://api.example/v5/items` (origin and path only), the
    /// refused import; ids and tokens in paths are written `…`.
    pub target: String,
    pub duration_ms: u64,
    pub outcome: CallOutcome,
    /// The call failed (a plugin's not-found answer to a visitor did not).
    pub error: bool,
    /// The status answered: by the plugin to a request, by a remote to an
    /// outbound request, or carried by an upstream error.
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct LimitCount {
    pub limit: LimitKind,
    pub count: u64,
}

/// Counted since `since_ms`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CallCounters {
    /// Calls into the channel: requests, pages, events.
    pub calls: u64,
    /// HTTP requests the channel sent.
    pub outbound: u64,
    pub errors: u64,
    /// Each limit hit at least once.
    pub limits_hit: Vec<LimitCount>,
}

/// The channel's most recent calls, newest first (at most 100), and its
/// counters. Kept in memory: a restart of the server starts them again.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ChannelCalls {
    /// Since when the counters count (the server's start); null when this
    /// server runs no plugins.
    pub since_ms: Option<i64>,
    pub counters: CallCounters,
    pub recent: Vec<CallEntry>,
}

impl From<runtime::CallKind> for CallKind {
    fn from(k: runtime::CallKind) -> Self {
        match k {
            runtime::CallKind::Request => CallKind::Request,
            runtime::CallKind::NextPage => CallKind::NextPage,
            runtime::CallKind::Event => CallKind::Event,
            runtime::CallKind::Outbound => CallKind::Outbound,
            runtime::CallKind::Import => CallKind::Import,
        }
    }
}

impl From<runtime::LimitKind> for LimitKind {
    fn from(k: runtime::LimitKind) -> Self {
        match k {
            runtime::LimitKind::Deadline => LimitKind::Deadline,
            runtime::LimitKind::Memory => LimitKind::Memory,
            runtime::LimitKind::TableElements => LimitKind::TableElements,
            runtime::LimitKind::TransferBytes => LimitKind::TransferBytes,
            runtime::LimitKind::ResponseSize => LimitKind::ResponseSize,
            runtime::LimitKind::Instances => LimitKind::Instances,
            runtime::LimitKind::StorageQuota => LimitKind::StorageQuota,
            runtime::LimitKind::OutboundResponseSize => LimitKind::OutboundResponseSize,
        }
    }
}

impl From<runtime::PluginErrorKind> for PluginErrorKind {
    fn from(k: runtime::PluginErrorKind) -> Self {
        match k {
            runtime::PluginErrorKind::BadRequest => PluginErrorKind::BadRequest,
            runtime::PluginErrorKind::NotFound => PluginErrorKind::NotFound,
            runtime::PluginErrorKind::Unauthorized => PluginErrorKind::Unauthorized,
            runtime::PluginErrorKind::RetryLater => PluginErrorKind::RetryLater,
            runtime::PluginErrorKind::Upstream => PluginErrorKind::Upstream,
            runtime::PluginErrorKind::Internal => PluginErrorKind::Internal,
        }
    }
}

impl From<runtime::OutboundFailure> for OutboundFailure {
    fn from(f: runtime::OutboundFailure) -> Self {
        match f {
            runtime::OutboundFailure::InvalidRequest => OutboundFailure::InvalidRequest,
            runtime::OutboundFailure::Timeout => OutboundFailure::Timeout,
            runtime::OutboundFailure::Connection => OutboundFailure::Connection,
        }
    }
}

impl From<runtime::CallOutcome> for CallOutcome {
    fn from(o: runtime::CallOutcome) -> Self {
        match o {
            runtime::CallOutcome::Ok => CallOutcome::Ok,
            runtime::CallOutcome::Plugin(error) => CallOutcome::PluginError { error: error.into() },
            runtime::CallOutcome::Trap => CallOutcome::Trap,
            runtime::CallOutcome::Denied(capability) => {
                CallOutcome::Denied { capability: capability.map(|c| c.name().to_owned()) }
            }
            runtime::CallOutcome::Limit(limit) => CallOutcome::Limit { limit: limit.into() },
            runtime::CallOutcome::NotSubscribed => CallOutcome::NotSubscribed,
            runtime::CallOutcome::Outbound(failure) => CallOutcome::OutboundFailed { failure: failure.into() },
            runtime::CallOutcome::Host => CallOutcome::HostError,
        }
    }
}

impl From<runtime::CallEntry> for CallEntry {
    fn from(e: runtime::CallEntry) -> Self {
        CallEntry {
            at_ms: e.at_ms,
            kind: e.kind.into(),
            target: e.target,
            duration_ms: e.duration_ms,
            outcome: e.outcome.into(),
            error: e.error,
            status: e.status,
        }
    }
}

impl From<runtime::CallReport> for ChannelCalls {
    fn from(r: runtime::CallReport) -> Self {
        let c = r.counters;
        ChannelCalls {
            since_ms: (r.since_ms > 0).then_some(r.since_ms),
            counters: CallCounters {
                calls: c.calls,
                outbound: c.outbound,
                errors: c.errors,
                limits_hit: c.limits_hit().map(|(limit, count)| LimitCount { limit: limit.into(), count }).collect(),
            },
            recent: r.recent.into_iter().map(CallEntry::from).collect(),
        }
    }
}
