//! A channel's recent calls through the admin API: the runtime's report as
//! the installer hands it over, in the documented shape, and another
//! tenant's channel not found.

use axum::http::StatusCode;
use omnistore_runtime::{
    CallEntry, CallKind, CallOutcome, CallRecord, CallReport, Capability, LimitKind, OutboundFailure, PluginErrorKind,
    RECENT_CALLS,
};

use super::{Api, START_MS, seed};

/// A report with one call of every kind and outcome the pages and the API
/// must say, the last one newest; the fake installers answer it for every
/// channel.
pub(crate) fn sample_report() -> CallReport {
    let entries = [
        (CallKind::Request, "GET /products/cannolo", CallOutcome::Ok, Some(200)),
        (CallKind::Request, "GET /nowhere", CallOutcome::Plugin(PluginErrorKind::NotFound), None),
        (CallKind::NextPage, "", CallOutcome::Ok, None),
        (CallKind::Event, "order.placed", CallOutcome::Plugin(PluginErrorKind::RetryLater), None),
        (CallKind::Event, "order.placed", CallOutcome::Plugin(PluginErrorKind::Upstream), Some(503)),
        (CallKind::Outbound, "POST https://api.example/v5/items", CallOutcome::Ok, Some(201)),
        (CallKind::Outbound, "GET https://api.example/v5/…", CallOutcome::Outbound(OutboundFailure::Timeout), None),
        (CallKind::Outbound, "GET https://big.example/", CallOutcome::Limit(LimitKind::OutboundResponseSize), None),
        (CallKind::Import, "mail", CallOutcome::Denied(Some(Capability::Mail)), None),
        (CallKind::Import, "storage.set", CallOutcome::Limit(LimitKind::StorageQuota), None),
        (CallKind::Request, "GET /", CallOutcome::Trap, None),
        (CallKind::Event, "stock.changed", CallOutcome::NotSubscribed, None),
        (CallKind::Request, "GET /", CallOutcome::Host, None),
        (CallKind::Request, "GET /feed.csv", CallOutcome::Limit(LimitKind::Memory), None),
        (CallKind::Request, "GET /slow", CallOutcome::Limit(LimitKind::Deadline), None),
    ];
    let mut record = CallRecord::new(RECENT_CALLS);
    for (i, (kind, target, outcome, status)) in entries.into_iter().enumerate() {
        let at_ms = START_MS + 60_000 * i as i64;
        let error = outcome.is_error(kind);
        record.push(CallEntry { at_ms, kind, target: target.into(), duration_ms: 12, outcome, error, status });
    }
    record.report(START_MS - 3_600_000)
}

#[tokio::test]
async fn a_channels_recent_calls_are_its_own_tenants_only() {
    let api = Api::memory();
    let a = seed(&api, "alpha", "ALPHA-ONLY").await;
    let b = seed(&api, "bravo", "BRAVO-ONLY").await;

    let r = api.get(&format!("/tenants/alpha/channels/{}/calls", a.channel), &a.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let report: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(report["since_ms"], START_MS - 3_600_000);
    let counters = &report["counters"];
    assert_eq!((counters["calls"].as_u64(), counters["outbound"].as_u64()), (Some(10), Some(3)));
    // Failed: the upstream event, the timeout, the remote's size, the refused
    // mail and storage, the trap, the unsubscribed event, the host, memory
    // and deadline. Not the visitor's not-found, nor the event asked again later.
    assert_eq!(counters["errors"], 10, "{counters}");
    assert_eq!(
        counters["limits_hit"],
        serde_json::json!([
            { "limit": "deadline", "count": 1 },
            { "limit": "memory", "count": 1 },
            { "limit": "storage_quota", "count": 1 },
            { "limit": "outbound_response_size", "count": 1 },
        ])
    );
    let recent = report["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 15);
    assert_eq!(recent[0]["target"], "GET /slow", "newest first");
    assert_eq!(recent[0]["outcome"], serde_json::json!({ "kind": "limit", "limit": "deadline" }));
    assert_eq!(recent[0]["error"], true);
    let denied = recent.iter().find(|e| e["kind"] == "import" && e["target"] == "mail").unwrap();
    assert_eq!(denied["outcome"], serde_json::json!({ "kind": "denied", "capability": "mail" }));
    let upstream = recent.iter().find(|e| e["outcome"]["error"] == "upstream").unwrap();
    assert_eq!((upstream["kind"].as_str(), upstream["status"].as_u64()), (Some("event"), Some(503)));

    // B's channel from A's own tenant: not found, as every other record.
    let r = api.get(&format!("/tenants/alpha/channels/{}/calls", b.channel), &a.token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // And A's token on B's tenant: refused before anything is read.
    let r = api.get(&format!("/tenants/bravo/channels/{}/calls", b.channel), &a.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}
