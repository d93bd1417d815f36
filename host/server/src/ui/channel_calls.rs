//! A channel's recent calls on its page: the counters since the server
//! started (calls, its own outbound requests, errors, limits hit by kind)
//! and the latest calls with their outcome, as the runtime keeps them and
//! the JSON API's `GET …/channels/{channel}/calls` answers them (both read
//! `ChannelInstaller::recent_calls`). Times are on the shop's clock.

use omnistore_runtime::{CallKind, CallOutcome, CallReport, LimitKind, OutboundFailure, PluginErrorKind};
use serde_json::{Value, json};

use super::i18n::Locale;

/// The section's view: `summary`, `limits` (name and count of each limit
/// hit), `rows` (newest first) and whether the record is kept at all.
pub(crate) fn calls_view(report: &CallReport, locale: Locale) -> Value {
    let c = &report.counters;
    let limits: Vec<Value> = c
        .limits_hit()
        .map(|(kind, count)| json!({ "name": locale.t(limit_key(kind)), "count": locale.number(count as i64) }))
        .collect();
    let rows: Vec<Value> = report
        .recent
        .iter()
        .map(|e| {
            json!({
                "at": locale.datetime(e.at_ms),
                "kind": locale.t(kind_key(e.kind)),
                "target": e.target,
                "duration": locale.t("calls_ms").replace("{ms}", &locale.number(e.duration_ms as i64)),
                "outcome": outcome_text(e.outcome, locale),
                "error": e.error,
                "status": e.status.map(|s| s.to_string()).unwrap_or_default(),
            })
        })
        .collect();
    let since = if report.since_ms > 0 {
        locale.t("calls_since").replace("{since}", &locale.datetime(report.since_ms))
    } else {
        String::new()
    };
    json!({
        "calls": locale.number(c.calls as i64),
        "outbound": locale.number(c.outbound as i64),
        "errors": locale.number(c.errors as i64),
        "has_errors": c.errors > 0,
        "limits": limits,
        "since": since,
        "rows": rows,
    })
}

fn kind_key(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Request => "call_kind_request",
        CallKind::NextPage => "call_kind_next_page",
        CallKind::Event => "call_kind_event",
        CallKind::Outbound => "call_kind_outbound",
        CallKind::Import => "call_kind_import",
    }
}

fn limit_key(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::Deadline => "limit_deadline",
        LimitKind::Memory => "limit_memory",
        LimitKind::TableElements => "limit_table_elements",
        LimitKind::TransferBytes => "limit_transfer_bytes",
        LimitKind::ResponseSize => "limit_response_size",
        LimitKind::Instances => "limit_instances",
        LimitKind::StorageQuota => "limit_storage_quota",
        LimitKind::OutboundResponseSize => "limit_outbound_response_size",
    }
}

fn outcome_text(outcome: CallOutcome, locale: Locale) -> String {
    let key = match outcome {
        CallOutcome::Ok => "call_ok",
        CallOutcome::Plugin(PluginErrorKind::BadRequest) => "call_plugin_bad_request",
        CallOutcome::Plugin(PluginErrorKind::NotFound) => "call_plugin_not_found",
        CallOutcome::Plugin(PluginErrorKind::Unauthorized) => "call_plugin_unauthorized",
        CallOutcome::Plugin(PluginErrorKind::RetryLater) => "call_plugin_retry_later",
        CallOutcome::Plugin(PluginErrorKind::Upstream) => "call_plugin_upstream",
        CallOutcome::Plugin(PluginErrorKind::Internal) => "call_plugin_internal",
        CallOutcome::Trap => "call_trap",
        CallOutcome::Denied(capability) => {
            let name = capability.map_or("?", |c| c.name());
            return locale.t("call_denied").replace("{capability}", name);
        }
        CallOutcome::Limit(kind) => {
            return locale.t("call_limit").replace("{limit}", locale.t(limit_key(kind)));
        }
        CallOutcome::NotSubscribed => "call_not_subscribed",
        CallOutcome::Outbound(OutboundFailure::InvalidRequest) => "call_outbound_invalid",
        CallOutcome::Outbound(OutboundFailure::Timeout) => "call_outbound_timeout",
        CallOutcome::Outbound(OutboundFailure::Connection) => "call_outbound_connection",
        CallOutcome::Host => "call_host",
    };
    locale.t(key).to_owned()
}
