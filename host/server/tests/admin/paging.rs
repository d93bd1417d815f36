//! Every admin list pages by id: `?limit=N` bounds the answer, `next_after`
//! leads to the next page, and walking the pages yields each record once.

use super::*;

/// Walk `path` two at a time and return the ids seen, in order.
async fn walk(api: &Api, path: &str, token: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..50 {
        let url = match &after {
            Some(a) => format!("{path}?limit=2&after={a}"),
            None => format!("{path}?limit=2"),
        };
        let page = api.get(&url, token).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{url} returned {} items for limit=2", items.len());
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page.body["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return seen,
        }
    }
    panic!("{path} never reached its last page");
}

async fn all_ids(api: &Api, path: &str, token: &str) -> Vec<String> {
    let whole = api.get(&format!("{path}?limit=1000"), token).await;
    assert_eq!(whole.status, StatusCode::OK, "{path}: {}", whole.text);
    assert!(whole.body["next_after"].is_null());
    whole.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_list_pages_through_its_records_once() {
    let api = Api::memory();
    let w = seed(&api, "alpha", "A").await;
    for n in 0..4 {
        seed(&api, &format!("extra{n}"), "X").await;
    }
    let t = TenantId::new("alpha").unwrap();
    let now = api.now();
    for n in 0..4 {
        api.core
            .create_customer(&t, NewCustomer { name: Some(format!("Paged {n}")), identities: vec![] }, now)
            .unwrap();
        api.core
            .create_collection(
                &t,
                NewCollection { handle: format!("paged-{n}"), title: format!("Paged {n}"), description: String::new() },
                now,
            )
            .unwrap();
        api.core
            .create_location(
                &t,
                NewLocation {
                    name: format!("Depot {n}"),
                    kind: LocationKind::Warehouse,
                    pickup_enabled: false,
                    address: None,
                },
                now,
            )
            .unwrap();
        api.core
            .create_promotion(
                &t,
                NewPromotion {
                    name: format!("Paged {n}"),
                    scope: PromotionScope::Line,
                    value: DiscountValue::Percent { bps: 100 },
                    conditions: PromotionConditions::default(),
                    code: None,
                    usage_limit: None,
                },
                now,
            )
            .unwrap();
        api.core
            .install_channel(
                &t,
                NewChannel {
                    plugin_id: format!("paged-{n}"),
                    version: "1.0.0".into(),
                    name: format!("Paged {n}"),
                    settings: BTreeMap::new(),
                    capabilities: vec![],
                    subscriptions: vec![],
                    enabled: true,
                    safety_buffer: 0,
                },
                now,
            )
            .unwrap();
        let rule = json!({ "type": "tagged", "tag": format!("paged-{n}") });
        let segment = api.post("/tenants/alpha/segments", &w.token, json!({ "name": "Paged", "rule": rule })).await;
        assert_eq!(segment.status, StatusCode::CREATED, "{}", segment.text);
        let campaign = json!({
            "name": format!("Paged {n}"), "segment_id": segment.body["id"],
            "sms": { "channel_id": w.sms_channel, "text": "Paged" },
        });
        let campaign = api.post("/tenants/alpha/campaigns", &w.token, campaign).await;
        assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.text);
        let token = api.post("/tenants/alpha/tokens", &w.token, json!({ "label": format!("paged {n}") })).await;
        assert_eq!(token.status, StatusCode::CREATED, "{}", token.text);
    }
    let lists = [
        ("/tenants/alpha/collections", w.token.as_str()),
        ("/tenants/alpha/locations", &w.token),
        ("/tenants/alpha/promotions", &w.token),
        ("/tenants/alpha/channels", &w.token),
        ("/tenants/alpha/tokens", &w.token),
        ("/tenants/alpha/customers", &w.token),
        ("/tenants/alpha/segments", &w.token),
        ("/tenants/alpha/campaigns", &w.token),
        ("/tenants", OPERATOR),
    ];
    for (path, token) in lists {
        let whole = all_ids(&api, path, token).await;
        assert!(whole.len() >= 4, "{path} has {} records", whole.len());
        let mut sorted = whole.clone();
        sorted.sort();
        assert_eq!(whole, sorted, "{path} lists in id order");
        assert_eq!(walk(&api, path, token).await, whole, "{path}: the pages together are the whole list, once");
    }
}

#[tokio::test]
async fn bad_page_parameters_are_refused() {
    let api = Api::memory();
    let w = seed(&api, "alpha", "A").await;
    // A query that does not parse is malformed (400); a page size out of range is invalid (422).
    for (query, status) in [
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=1001", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=many", StatusCode::BAD_REQUEST),
        ("page=2", StatusCode::BAD_REQUEST),
    ] {
        for path in ["/tenants/alpha/locations", "/tenants/alpha/tokens", "/tenants/alpha/channels"] {
            let r = api.get(&format!("{path}?{query}"), &w.token).await;
            assert_eq!(r.status, status, "{path}?{query}: {}", r.text);
        }
    }
    let r = api.get("/tenants?limit=0", OPERATOR).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}
