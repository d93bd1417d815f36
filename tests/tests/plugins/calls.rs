//! Each installation's recent calls, as the runtime records them for the
//! merchant's admin: real guests going past their limits, refused imports,
//! outbound requests with their status and without their query, and
//! through the whole host, the admin API's report and its end at uninstall.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use http_body_util::BodyExt;
use omnistore_runtime::types::{Event, EventPayload};
use omnistore_runtime::{CallEntry, CallKind, CallOutcome, Capability, LimitKind, RuntimeConfig};
use omnistore_server::admin::InstallRequest;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host as WholeHost, HostOptions};
use tower::ServiceExt;

use super::{Host, T0, installation, local_server, package, tenant, test_limits};

fn only(entries: &[CallEntry], kind: CallKind) -> Vec<&CallEntry> {
    entries.iter().filter(|e| e.kind == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_is_recorded_with_its_outcome_and_limit() {
    let clock = omnistore_runtime::WallClock(std::sync::Arc::new(|| T0));
    let host =
        Host::with_config(RuntimeConfig { limits: test_limits(), wall_clock: Some(clock), ..RuntimeConfig::default() });
    let runtime = &host.runtime;

    let looping = host.load("loop").await;
    let spin = installation("mallory", "spin", &looping);
    assert!(runtime.handle_request(&looping, &spin, super::get("/?token=s3cret")).await.is_err());
    let alloc = host.load("alloc").await;
    let hog = installation("mallory", "hog", &alloc);
    assert!(runtime.handle_request(&alloc, &hog, super::get("/")).await.is_err());
    let trap = host.load("trap").await;
    let crash = installation("mallory", "crash", &trap);
    assert!(runtime.handle_request(&trap, &crash, super::get("/?kind=oob")).await.is_err());
    let big = host.load("big-response").await;
    let loud = installation("mallory", "loud", &big);
    assert!(runtime.handle_request(&big, &loud, super::get("/?bytes=2097152")).await.is_err());

    let deadline = runtime.recent_calls(&tenant("mallory"), "spin");
    assert_eq!(deadline.since_ms, T0);
    assert_eq!(deadline.recent.len(), 1);
    let e = &deadline.recent[0];
    assert_eq!((e.kind, e.target.as_str(), e.at_ms), (CallKind::Request, "GET /", T0), "no query kept: {e:?}");
    assert_eq!(e.outcome, CallOutcome::Limit(LimitKind::Deadline));
    assert!(e.error && e.duration_ms >= 400, "{e:?}");
    assert_eq!((deadline.counters.calls, deadline.counters.errors), (1, 1));
    assert_eq!(deadline.counters.limit(LimitKind::Deadline), 1);
    for (installation, outcome) in [
        ("hog", CallOutcome::Limit(LimitKind::Memory)),
        ("crash", CallOutcome::Trap),
        ("loud", CallOutcome::Limit(LimitKind::ResponseSize)),
    ] {
        let report = runtime.recent_calls(&tenant("mallory"), installation);
        assert_eq!(report.recent.iter().map(|e| e.outcome).collect::<Vec<_>>(), vec![outcome], "{installation}");
    }
    // Each installation has only its own calls; another tenant's same id has none.
    assert!(runtime.recent_calls(&tenant("alice"), "spin").recent.is_empty());

    // A refused import inside a call that answers: the call is fine, the refusal is an error.
    let ungranted = host.load("ungranted").await;
    let mut quiet = host.install("mallory", &ungranted);
    quiet.grants = omnistore_runtime::Grants::from_manifest(&ungranted.manifest).without(Capability::Mail);
    let answered = runtime.handle_request(&ungranted, &quiet, super::get("/")).await.unwrap();
    assert_eq!(answered.status, 200);
    let report = runtime.recent_calls(&tenant("mallory"), &quiet.id);
    let kinds: Vec<(CallKind, &str, CallOutcome, Option<u16>)> =
        report.recent.iter().map(|e| (e.kind, e.target.as_str(), e.outcome, e.status)).collect();
    assert_eq!(
        kinds,
        vec![
            (CallKind::Request, "GET /", CallOutcome::Ok, Some(200)),
            (CallKind::Import, "mail", CallOutcome::Denied(Some(Capability::Mail)), None),
        ],
        "newest first: the call ends after the refusal inside it"
    );
    assert_eq!((report.counters.calls, report.counters.errors), (1, 1));

    // Events by kind; one the installation does not take is recorded too.
    let events = host.load("events").await;
    let listener = host.install("mallory", &events);
    let installed = Event {
        id: "evt-1".into(),
        kind: "installed".into(),
        occurred_at: T0,
        attempt: 0,
        payload: EventPayload::Installed,
    };
    runtime.on_event(&events, &listener, installed.clone()).await.unwrap();
    assert!(runtime.on_event(&looping, &spin, installed).await.is_err());
    let report = runtime.recent_calls(&tenant("mallory"), &listener.id);
    assert_eq!((report.recent[0].kind, report.recent[0].target.as_str()), (CallKind::Event, "installed"));
    assert_eq!(report.recent[0].outcome, CallOutcome::Ok);
    let spun = runtime.recent_calls(&tenant("mallory"), "spin");
    assert_eq!(spun.recent[0].outcome, CallOutcome::NotSubscribed);
    assert_eq!(spun.counters.calls, 2);

    // Pages of a streamed response: each a call, its continuation not kept.
    let endless = host.load("endless").await;
    let stream = installation("mallory", "stream", &endless);
    let first = runtime.handle_request(&endless, &stream, super::get("/")).await.unwrap();
    let next = first.continuation.expect("it continues");
    runtime.next_page(&endless, &stream, next).await.unwrap();
    let report = runtime.recent_calls(&tenant("mallory"), "stream");
    assert_eq!(report.recent[0].kind, CallKind::NextPage);
    assert!(report.recent[0].target.is_empty());
    assert_eq!(report.counters.calls, 2);

    runtime.forget_installation(&tenant("mallory"), "stream");
    assert!(runtime.recent_calls(&tenant("mallory"), "stream").recent.is_empty());
    runtime.forget_tenant(&tenant("mallory"));
    assert!(runtime.recent_calls(&tenant("mallory"), "spin").recent.is_empty());
}

#[tokio::test]
async fn a_write_over_the_storage_quota_is_a_limit_reached_inside_an_answered_call() {
    let limits = omnistore_runtime::Limits { storage_value_bytes: 16, ..test_limits() };
    let host = Host::with_config(RuntimeConfig { limits, ..RuntimeConfig::default() });
    let snoop = host.load("snoop").await;
    let keeper = installation("mallory", "keeper", &snoop);
    let write = super::get(&format!("/write?key=k&value={}", "x".repeat(64)));
    let refused = host.runtime.handle_request(&snoop, &keeper, write).await.unwrap();
    assert_eq!(refused.status, 400, "the plugin is told: {}", String::from_utf8_lossy(&refused.body));
    let report = host.runtime.recent_calls(&tenant("mallory"), "keeper");
    let seen: Vec<(CallKind, &str, CallOutcome)> =
        report.recent.iter().map(|e| (e.kind, e.target.as_str(), e.outcome)).collect();
    assert_eq!(
        seen,
        vec![
            (CallKind::Request, "GET /write", CallOutcome::Ok),
            (CallKind::Import, "storage.set", CallOutcome::Limit(LimitKind::StorageQuota)),
        ]
    );
    assert_eq!(report.counters.limit(LimitKind::StorageQuota), 1);
    assert_eq!(report.counters.errors, 1, "the call answered; the refused write is the error");
}

#[tokio::test]
async fn outbound_requests_are_recorded_by_origin_and_path_with_their_status() {
    let addr = local_server().await;
    let host = Host::new(true);
    let plugin = host.load("http-client").await;
    let inst = installation("mallory", "http", &plugin);
    let url = format!("http://127.0.0.1:{}/hello?api_key=s3cret", addr.port());
    let query = format!("/?url={}", url.replace('?', "%3F").replace('=', "%3D"));
    let r = host.runtime.handle_request(&plugin, &inst, super::get(&query)).await.unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let refused = host.runtime.handle_request(&plugin, &inst, super::get("/?url=https://not-allowed.example/x")).await;
    assert_eq!(refused.unwrap().status, 502);

    let report = host.runtime.recent_calls(&tenant("mallory"), "http");
    let outbound = only(&report.recent, CallKind::Outbound);
    assert_eq!(outbound.len(), 2, "{:?}", report.recent);
    assert_eq!(outbound[1].target, format!("GET http://127.0.0.1:{}/hello", addr.port()));
    assert_eq!((outbound[1].outcome, outbound[1].status, outbound[1].error), (CallOutcome::Ok, Some(200), false));
    assert_eq!(outbound[0].target, "GET https://not-allowed.example/x");
    assert_eq!(outbound[0].outcome, CallOutcome::Denied(Some(Capability::Http)));
    assert!(!report.recent.iter().any(|e| e.target.contains("s3cret")), "{:?}", report.recent);
    let c = report.counters;
    assert_eq!((c.calls, c.outbound, c.errors), (2, 2, 1));
}

/// Through the whole host: the admin API reports a real channel's calls,
/// and uninstalling the channel forgets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_reports_a_channels_calls_until_it_is_uninstalled() {
    const OPERATOR: &str = "operator-token-for-tests-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let host = WholeHost::start(HostOptions {
        data_dir: dir.path().to_path_buf(),
        store: Some("memory:".into()),
        allow_private_network: false,
        operator_token: OPERATOR.into(),
        http: HttpSettings { path_routing: true, ..HttpSettings::default() },
        secrets: None,
        development_origins: Vec::new(),
    })
    .await
    .unwrap();
    let core = host.core.clone();
    let shop = tokio::task::spawn_blocking(move || omnistore_core::seed_demo(&core, T0).unwrap().tenant).await.unwrap();
    let request = InstallRequest {
        package: Some(package("trap")),
        mount: Some("/trap".into()),
        enabled: true,
        by_operator: true,
        ..InstallRequest::default()
    };
    let channel = host.install(&shop, request).await.unwrap_or_else(|e| panic!("{}", e.message)).id;
    let send = |method: &str, path: String| {
        let request = HttpRequest::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {OPERATOR}"))
            .body(Body::empty())
            .unwrap();
        let router = host.router();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let (status, _) = send("GET", format!("/t/{shop}/trap/?kind=div&session=s3cret")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);

    let calls = format!("/api/v1/tenants/{shop}/channels/{channel}/calls");
    let (status, text) = send("GET", calls.clone()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["counters"]["calls"], 1, "{report}");
    assert_eq!(report["counters"]["errors"], 1, "{report}");
    let entry = &report["recent"][0];
    assert_eq!((entry["kind"].as_str(), entry["target"].as_str()), (Some("request"), Some("GET /")), "{report}");
    assert_eq!(entry["outcome"]["kind"], "trap");
    assert!(!text.contains("s3cret"));

    let (status, text) = send("DELETE", format!("/api/v1/tenants/{shop}/channels/{channel}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    assert!(host.runtime.recent_calls(&shop, channel.as_str()).recent.is_empty(), "forgotten at uninstall");
    tokio::time::timeout(Duration::from_secs(30), host.stop()).await.unwrap();
}
