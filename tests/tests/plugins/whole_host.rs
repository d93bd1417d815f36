//! The whole host — store, core, runtime, installer, dispatcher, router —
//! started the way `omnistore serve` starts it, on every storage backend.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use http_body_util::BodyExt;
use omnistore_core::{
    ChannelId, ConsentPurpose, Core, Disposition, Fulfilment, Identity, IngestLine, IngestOrder, NewCampaign,
    NewSegment, ProductPatch, ReturnLineRequest, ReturnRequest, SegmentRule, SmsMessage, TenantId,
};
use omnistore_server::admin::InstallRequest;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host, HostOptions};
use tower::ServiceExt;

use super::package;
use omnistore_runtime::system_now_ms as now_ms;

const OPERATOR: &str = "operator-token-for-tests-0123456789";

async fn start(data: &Path, store: Option<String>) -> Host {
    Host::start(HostOptions {
        data_dir: data.to_path_buf(),
        store,
        allow_private_network: false,
        operator_token: OPERATOR.into(),
        http: HttpSettings { path_routing: true, ..HttpSettings::default() },
        secrets: None,
        development_origins: Vec::new(),
    })
    .await
    .unwrap_or_else(|e| panic!("host start: {e:#}"))
}

async fn seed(core: &Core) -> TenantId {
    let core = core.clone();
    tokio::task::spawn_blocking(move || omnistore_core::seed_demo(&core, now_ms()).unwrap().tenant).await.unwrap()
}

async fn install(host: &Host, tenant: &TenantId, plugin: &str, mount: &str) -> ChannelId {
    // The operator's provisioning path: a package on the server's disk.
    let request = InstallRequest {
        package: Some(package(plugin)),
        mount: Some(mount.into()),
        enabled: true,
        by_operator: true,
        ..InstallRequest::default()
    };
    host.install(tenant, request).await.unwrap_or_else(|e| panic!("installing {plugin}: {}", e.message)).id
}

async fn get(host: &Host, path: &str) -> (StatusCode, String) {
    let request = HttpRequest::get(path).header(header::HOST, "localhost").body(Body::empty()).unwrap();
    let response = host.router().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Run blocking core calls off the executor, as the host must (through the
/// host's one way of doing it).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    omnistore_services::async_core::off_executor(f).await.unwrap()
}

/// Every event kind a plugin may subscribe to reaches a real plugin's
/// `on-event` with its payload, through the running host's dispatcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscribable_event_reaches_a_real_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path(), Some("memory:".into())).await;
    let tenant = seed(&host.core).await;
    let channel = install(&host, &tenant, "events", "/events").await;

    let core = host.core.clone();
    let (t, ch) = (tenant.clone(), channel.clone());
    let order_id = blocking(move || {
        let now = now_ms();
        let products = core.list_products(&t, &Default::default()).unwrap();
        let (gone, kept) = (&products[0], &products[1]);
        core.publish_product(&t, &kept.id, &ch, now).unwrap();
        core.publish_product(&t, &gone.id, &ch, now).unwrap();
        let variant = core.get_product(&t, &kept.id).unwrap().variants[0].clone();
        let shop = core.list_locations(&t).unwrap().into_iter().find(|l| l.pickup_enabled).unwrap().id;
        core.update_product(&t, &kept.id, ProductPatch { title: Some("Renamed".into()), ..Default::default() }, now)
            .unwrap();
        core.adjust_stock(&t, &variant.id, &shop, 5, None, now).unwrap();
        core.delete_product(&t, &gone.id, now).unwrap();
        let order = core
            .ingest_order(
                &t,
                &ch,
                IngestOrder {
                    external_id: "EV-1".into(),
                    lines: vec![IngestLine { sku: variant.sku.clone(), quantity: 1, unit_price: None }],
                    customer: Some(Identity::email("giulia@example.com").unwrap()),
                    customer_name: None,
                    email: None,
                    fulfilment: Fulfilment::Pickup { location_id: shop.clone() },
                    codes: vec![],
                    note: None,
                },
                now,
            )
            .unwrap()
            .order;
        core.mark_ready_for_pickup(&t, &order.id, now).unwrap();
        core.mark_completed(&t, &order.id, now).unwrap();
        let line = ReturnLineRequest { line_no: 1, quantity: 1, disposition: Disposition::Restock };
        let back = ReturnRequest { location_id: shop, lines: vec![line], reason: None };
        core.receive_return(&t, &order.id, back, now).unwrap();
        let customer = order.customer_id.clone().unwrap();
        core.set_consent(&t, &customer, ConsentPurpose::EmailMarketing, true, None, "test", now).unwrap();
        // A campaign's text, addressed to this channel as the SMS channel.
        core.add_identity(&t, &customer, &Identity::phone("+39 333 1234567").unwrap(), now).unwrap();
        core.set_consent(&t, &customer, ConsentPurpose::SmsMarketing, true, None, "test", now).unwrap();
        let rule = SegmentRule::Consent { purpose: ConsentPurpose::SmsMarketing, granted: true };
        let segment = core.create_segment(&t, NewSegment { name: "Texts".into(), rule }, now).unwrap();
        let campaign = NewCampaign {
            name: "Cannoli week".into(),
            segment_id: segment.id,
            email: None,
            sms: Some(SmsMessage { channel_id: ch.clone(), text: "20% off cannoli".into() }),
            shop_url: None,
            send_at_ms: None,
        };
        let campaign = core.create_campaign(&t, campaign, now).unwrap();
        core.send_campaign(&t, &campaign.id, now).unwrap();
        order.id
    })
    .await;

    let expected = [
        "installed installed ".to_string(),
        format!("order.placed order-placed {order_id}"),
        format!("order.updated order-updated {order_id}"),
        "product.changed product-changed prd-".into(),
        "product.removed product-removed prd-".into(),
        "stock.changed stock-changed var-".into(),
        "consent.changed consent-changed cus-".into(),
        "campaign.message campaign-message cmp-".into(),
        format!("return.received return-received {order_id}"),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, seen) = get(&host, &format!("/t/{tenant}/events/seen")).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let missing: Vec<&String> =
            expected.iter().filter(|want| !seen.lines().any(|line| line.starts_with(want.as_str()))).collect();
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let core = host.core.clone();
            let t = tenant.clone();
            let deliveries = blocking(move || {
                let mut out = Vec::new();
                for e in core.list_events(&t, None, 1000).unwrap() {
                    for d in core
                        .event_deliveries(&t, &e.id)
                        .unwrap()
                        .into_iter()
                        .filter(|d| !matches!(d.kind.as_str(), "stock.changed" | "product.changed"))
                    {
                        out.push(format!(
                            "{} {} {:?} attempts={} {:?}",
                            e.kind, d.kind, d.state, d.attempts, d.last_error
                        ));
                    }
                }
                out
            })
            .await;
            panic!("never delivered: {missing:?}\nseen:\n{seen}\ndeliveries:\n{}", deliveries.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(omnistore_types::EventKind::ALL.len(), expected.len(), "a subscribable kind is not covered here");
    host.stop().await;
}

/// Start, install a channel, serve a page, place an order, restart on the
/// same store, serve again and find the order.
async fn boot_serve_restart(store: impl Fn(&Path) -> String, durable: bool) {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path(), Some(store(dir.path()))).await;
    let tenant = seed(&host.core).await;
    install(&host, &tenant, "hello-channel", "/shop").await;
    let (status, page) = get(&host, &format!("/t/{tenant}/shop/")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let core = host.core.clone();
    let t = tenant.clone();
    let order = blocking(move || {
        let product = core.list_products(&t, &Default::default()).unwrap().remove(0);
        let variant = core.get_product(&t, &product.id).unwrap().variants.remove(0);
        let shop = core.list_locations(&t).unwrap().into_iter().find(|l| l.pickup_enabled).unwrap().id;
        let cart = core.create_cart(&t, Default::default(), now_ms()).unwrap();
        core.set_cart_line(&t, &cart.id, &variant.id, 1, now_ms()).unwrap();
        let request = omnistore_core::CheckoutRequest {
            channel: None,
            fulfilment: Fulfilment::Pickup { location_id: shop },
            customer: None,
            email: Some("giulia@example.com".into()),
            note: None,
            expected_total_minor: None,
        };
        core.checkout(&t, &cart.id, request, now_ms()).unwrap().id
    })
    .await;
    host.stop().await;
    if !durable {
        return;
    }
    let host = start(dir.path(), Some(store(dir.path()))).await;
    let (status, page) = get(&host, &format!("/t/{tenant}/shop/")).await;
    assert_eq!(status, StatusCode::OK, "after a restart: {page}");
    let core = host.core.clone();
    let found = blocking(move || core.get_order(&tenant, &order).unwrap().id).await;
    assert!(found.as_str().starts_with("ord-"));
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_boots_and_serves_on_memory() {
    boot_serve_restart(|_| "memory:".into(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_boots_and_serves_on_redb() {
    boot_serve_restart(|dir| format!("redb:{}", dir.join("store.redb").display()), true).await;
}

#[cfg(feature = "sled")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_boots_and_serves_on_sled() {
    boot_serve_restart(|dir| format!("sled:{}", dir.join("sled").display()), true).await;
}

/// Synchronous on purpose: the test database is created and dropped outside
/// the async runtime, where the blocking PostgreSQL client may run.
#[test]
fn host_boots_and_serves_on_postgres() {
    let database = super::TestDatabase::create();
    let url = database.url.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(boot_serve_restart(move |_| url.clone(), true));
    drop(runtime);
    drop(database);
}
