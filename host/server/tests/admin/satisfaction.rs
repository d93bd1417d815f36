//! The satisfaction survey's results through the admin API: NPS and average
//! per sales channel, pickup location and answering channel, over a period;
//! a bad period is refused; another tenant sees none of it.

use axum::http::StatusCode;
use omnistore_core::{ChannelId, Fulfilment, Identity, IngestLine, IngestOrder, TenantId};
use omnistore_server::deployment::HttpSettings;
use serde_json::json;

use super::Edge;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_answers_are_summed_per_channel_and_location_for_the_merchant_only() {
    let edge = Edge::start(HttpSettings::default()).await;
    let alpha = edge.tenant("alpha").await;
    let beta = edge.tenant("beta").await;
    let channel = edge.install("alpha", &alpha, "hello-channel").await;
    let core = edge.host.core.clone();
    let t = TenantId::new("alpha").unwrap();
    let ch = ChannelId::new(&channel);
    let now = omnistore_runtime::system_now_ms();
    let shop = omnistore_core::seed_demo_into(&core, &t, now).unwrap().shop;
    let sku = "DV-01-GRA".to_string();
    for (external, score) in [("A-1", 10), ("A-2", 9), ("A-3", 2)] {
        let order = IngestOrder {
            external_id: external.into(),
            lines: vec![IngestLine { sku: sku.clone(), quantity: 1, unit_price: None }],
            customer: Some(Identity::email("giulia@example.com").unwrap()),
            customer_name: None,
            email: None,
            fulfilment: Fulfilment::Pickup { location_id: shop.clone() },
            codes: vec![],
            note: None,
        };
        let order = core.ingest_order(&t, &ch, order, now).unwrap().order;
        core.mark_ready_for_pickup(&t, &order.id, now).unwrap();
        core.mark_completed(&t, &order.id, now).unwrap();
        core.record_satisfaction(&t, &ch, &order.id, score, now).unwrap();
    }

    let report = edge.admin("GET", "/tenants/alpha/satisfaction", &alpha, None).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let overall = &report.json["overall"];
    assert_eq!((overall["responses"].as_u64(), overall["nps"].as_i64()), (Some(3), Some(33)), "{overall}");
    assert_eq!(overall["average"], json!(7.0));
    assert_eq!(report.json["by_order_channel"][0]["channel_id"], json!(channel));
    assert_eq!(report.json["by_location"][0]["location_id"], json!(shop.to_string()));
    assert_eq!(report.json["by_location"][0]["promoters"], json!(2));

    let before = edge.admin("GET", &format!("/tenants/alpha/satisfaction?to_ms={}", now - 1), &alpha, None).await;
    assert_eq!(before.json["overall"]["responses"], json!(0));
    assert_eq!(before.json["overall"]["nps"], json!(null));
    let backwards = edge.admin("GET", "/tenants/alpha/satisfaction?from_ms=10&to_ms=5", &alpha, None).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", backwards.text());
    assert!(backwards.text().contains("from_ms"), "{}", backwards.text());
    let unknown = edge.admin("GET", "/tenants/alpha/satisfaction?since=1", &alpha, None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text());

    let theirs = edge.admin("GET", "/tenants/alpha/satisfaction", &beta, None).await;
    assert!(matches!(theirs.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", theirs.text());
    let own = edge.admin("GET", "/tenants/beta/satisfaction", &beta, None).await;
    assert_eq!(own.json["overall"]["responses"], json!(0), "{}", own.text());
}
