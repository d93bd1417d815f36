//! The day-to-day operations of the browser admin, through the router:
//! stock moved between locations and a variant's ledger, orders filtered by
//! fulfilment and location and returned at a location, a channel's dead
//! letters replayed and its sync report read, conversion per channel.

use axum::http::StatusCode;
use omnistore_core::{LocationId, TenantId, VariantId};

use super::{Admin, World};

/// The channel reports the shop's product as refused by its platform.
pub(super) fn report_sync_error(admin: &Admin, a: &World) {
    let t = TenantId::new(a.tenant.as_str()).unwrap();
    let mut key = omnistore_storage::keyspace::plugin_data_prefix(&t, &a.channel);
    key.extend_from_slice(format!("sync/product/{}", a.product).as_bytes());
    let report = serde_json::json!({
        "product_id": a.product, "status": "error", "last_synced_ms": super::START_MS,
        "errors": [{ "code": "IMG_SIZE", "message": "The image is too small for the catalogue" }],
        "warnings": [{ "message": "No brand given" }],
    });
    omnistore_storage::transact(&*admin.api.store, |txn| txn.put(&key, report.to_string().as_bytes())).unwrap();
}

#[tokio::test]
async fn stock_is_moved_between_locations_and_the_ledger_shows_every_change() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "it").await;
    let grid = admin.get("/admin/inventory", &browser).await;
    assert!(grid.html.contains("Sposta merce tra sedi"), "{}", grid.html);
    let csrf = grid.hidden("csrf");
    let t = TenantId::new("alpha").unwrap();
    let v = VariantId::new(a.variant.as_str());
    let level = |loc: &str| admin.api.core.stock_level(&t, &v, &LocationId::new(loc)).unwrap().on_hand;
    let (wh, shop) = (level(&a.warehouse), level(&a.shop));
    let r = admin
        .post(
            "/admin/inventory/transfer",
            &browser,
            &[
                ("csrf", &csrf),
                ("t_variant", &a.variant),
                ("from", &a.warehouse),
                ("to", &a.shop),
                ("quantity", "3"),
                ("t_note", "morning batch"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/inventory?done=transferred"), "{}", r.html);
    assert_eq!((level(&a.warehouse), level(&a.shop)), (wh - 3, shop + 3));
    let done = admin.get(r.location(), &browser).await;
    assert!(done.html.contains("Merce spostata."), "{}", done.html);

    // The ledger: both legs of the transfer with the note, the receipts before.
    let ledger = admin.get(&format!("/admin/inventory/{}", a.variant), &browser).await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.html);
    for text in ["Spostata via", "Arrivata", "morning batch", "Ricevuta", "Laboratorio", "Negozio", "-3", "+3"] {
        assert!(ledger.html.contains(text), "the ledger lacks {text}: {}", ledger.html);
    }
    let moved_out = ledger.html.find("Spostata via").unwrap();
    assert!(moved_out < ledger.html.find("Ricevuta").unwrap(), "newest first");
    assert_eq!(admin.get("/admin/inventory/var-nope", &browser).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn orders_are_filtered_by_delivery_and_location_and_returned_at_a_location() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let link = |id: &str| format!("href=\"/admin/orders/{id}\"");
    let pickup = admin.get("/admin/orders?fulfilment=pickup", &browser).await;
    assert_eq!(pickup.status, StatusCode::OK, "{}", pickup.html);
    assert!(pickup.html.contains(&link(&a.order_pickup)), "{}", pickup.html);
    assert!(!pickup.html.contains(&link(&a.order_ship)) && !pickup.html.contains(&link(&a.order_shipped)));
    let ship = admin.get("/admin/orders?fulfilment=ship", &browser).await;
    assert!(ship.html.contains(&link(&a.order_ship)) && !ship.html.contains(&link(&a.order_pickup)));
    let at_shop = admin.get(&format!("/admin/orders?location={}", a.shop), &browser).await;
    assert!(at_shop.html.contains(&link(&a.order_pickup)), "{}", at_shop.html);

    // One of the two shipped cannoli comes back to the shop, restocked there;
    // the other is written off at the kitchen.
    let t = TenantId::new("alpha").unwrap();
    let order = omnistore_core::OrderId::new(a.order_shipped.as_str());
    let variant = admin.api.core.get_order(&t, &order).unwrap().lines[0].variant_id.clone();
    let level = |loc: &str| admin.api.core.stock_level(&t, &variant, &LocationId::new(loc)).unwrap().on_hand;
    let (shop, kitchen) = (level(&a.shop), level(&a.warehouse));
    let page = admin.get(&format!("/admin/orders/{}", a.order_shipped), &browser).await;
    assert!(page.html.contains("Goods returned"), "{}", page.html);
    let csrf = page.hidden("csrf");
    let path = format!("/admin/orders/{}/return", a.order_shipped);
    let r = admin
        .post(
            &path,
            &browser,
            &[("csrf", &csrf), ("location", &a.shop), ("qty_1", "1"), ("disp_1", "restock"), ("reason", "too sweet")],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, format!("/admin/orders/{}?done=return", a.order_shipped).as_str()),
        "{}",
        r.html
    );
    assert_eq!(level(&a.shop), shop + 1);
    let r = admin
        .post(&path, &browser, &[("csrf", &csrf), ("location", &a.warehouse), ("qty_1", "1"), ("disp_1", "write_off")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(level(&a.warehouse), kitchen, "a written-off unit is not put back");
    let returns = admin.api.core.order_returns(&t, &order).unwrap();
    assert_eq!(returns.len(), 2);
    let page = admin.get(r.location(), &browser).await;
    for text in ["The return was received", "too sweet", "Written off", "Negozio", "Laboratorio"] {
        assert!(page.html.contains(text), "the order's page lacks {text}: {}", page.html);
    }
    assert!(!page.html.contains("id=\"return\""), "nothing is left to return");
}

#[tokio::test]
async fn a_channels_page_shows_its_sync_report_and_replays_its_dead_letters() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    report_sync_error(&admin, &a);
    let browser = admin.sign_in("alpha", "en").await;
    let page = admin.get(&format!("/admin/channels/{}", a.channel), &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    for text in ["IMG_SIZE: The image is too small for the catalogue", "No brand given", "Cannolo A", "boom"] {
        assert!(page.html.contains(text), "the channel's page lacks {text}: {}", page.html);
    }
    let replay = format!("/admin/channels/{}/dead-letters/{}/replay", a.channel, a.dead_delivery);
    assert!(page.html.contains(&replay), "{}", page.html);
    let csrf = page.hidden("csrf");

    // Without the form's token, or through another channel: nothing happens.
    let t = TenantId::new("alpha").unwrap();
    let before = admin.api.dump();
    assert_eq!(admin.post(&replay, &browser, &[("csrf", "stale")]).await.status, StatusCode::FORBIDDEN);
    let elsewhere = format!("/admin/channels/{}/dead-letters/{}/replay", a.mail_channel, a.dead_delivery);
    assert_eq!(admin.post(&elsewhere, &browser, &[("csrf", &csrf)]).await.status, StatusCode::NOT_FOUND);
    let unknown = format!("/admin/channels/{}/dead-letters/dlv-nope/replay", a.channel);
    assert_eq!(admin.post(&unknown, &browser, &[("csrf", &csrf)]).await.status, StatusCode::NOT_FOUND);
    assert!(admin.api.dump() == before, "a refused replay changed the store");

    let r = admin.post(&replay, &browser, &[("csrf", &csrf)]).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, format!("/admin/channels/{}?done=replayed", a.channel).as_str()),
        "{}",
        r.html
    );
    let delivery = admin.api.core.get_delivery(&t, &omnistore_core::DeliveryId::new(a.dead_delivery.as_str())).unwrap();
    assert_eq!((delivery.state, delivery.attempts), (omnistore_core::DeliveryState::Pending, 0));
    let page = admin.get(r.location(), &browser).await;
    assert!(
        page.html.contains("queued to be sent again") && page.html.contains("Every event reached the channel"),
        "{}",
        page.html
    );
    // Replayed twice (an old tab): said on the page, nothing changes.
    let again = admin.post(&replay, &browser, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.html);
    assert!(again.html.contains("role=\"alert\""), "{}", again.html);
}

#[tokio::test]
async fn every_active_product_is_published_on_a_channel_and_its_upload_followed() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let channel = omnistore_core::ChannelId::new(a.mail_channel.as_str());
    let active = admin
        .api
        .core
        .list_products(&t, &Default::default())
        .unwrap()
        .into_iter()
        .filter(|p| p.status == omnistore_core::ProductStatus::Active)
        .count();
    assert_eq!(admin.api.core.channel_publication_count(&t, &channel).unwrap(), 0);
    let browser = admin.sign_in("alpha", "en").await;
    let path = format!("/admin/channels/{}", a.mail_channel);
    let page = admin.get(&path, &browser).await;
    assert!(page.html.contains("0 products shown here: 0 synced, 0 waiting, 0 with errors"), "{}", page.html);
    let csrf = page.hidden("csrf");
    let before = admin.api.dump();
    let stale = admin.post(&format!("{path}/publish-all"), &browser, &[("csrf", "stale")]).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    let elsewhere = admin.post("/admin/channels/chn-nope/publish-all", &browser, &[("csrf", &csrf)]).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(admin.api.dump() == before, "a refused form changed the store");

    let r = admin.post(&format!("{path}/publish-all"), &browser, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(admin.api.core.channel_publication_count(&t, &channel).unwrap(), active);
    // The channel reports one product synced: the line follows.
    let mut key = omnistore_storage::keyspace::plugin_data_prefix(&t, &a.mail_channel);
    key.extend_from_slice(format!("sync/product/{}", a.product).as_bytes());
    let report = serde_json::json!({ "product_id": a.product, "status": "synced", "last_synced_ms": super::START_MS });
    omnistore_storage::transact(&*admin.api.store, |txn| txn.put(&key, report.to_string().as_bytes())).unwrap();
    let page = admin.get(r.location(), &browser).await;
    let line = format!("{active} products shown here: 1 synced, 0 waiting, 0 with errors");
    assert!(page.html.contains(&line), "{line}: {}", page.html);
    assert!(page.html.contains("Every active product is published here"), "{}", page.html);

    // The JSON API does the same, and says how many it added.
    let r = admin
        .api
        .post(&format!("/tenants/alpha/channels/{}/publish-all", a.mail_channel), &a.token, serde_json::json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["newly_published"].as_u64(), r.body["published"].as_u64()), (Some(0), Some(active as u64)));
}

#[tokio::test]
async fn the_dashboard_shows_views_carts_and_orders_per_channel() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let channel = omnistore_core::ChannelId::new(a.channel.as_str());
    let customer = omnistore_core::CustomerId::new(a.customer.as_str());
    // Eight views and four carts (in both spellings channels use) this week.
    for (i, kind) in [
        "view",
        "view",
        "view",
        "view",
        "view",
        "view",
        "view",
        "view",
        "add_to_cart",
        "add-to-cart",
        "add_to_cart",
        "add-to-cart",
    ]
    .iter()
    .enumerate()
    {
        let tp = omnistore_core::NewTouchpoint {
            customer_id: customer.clone(),
            kind: (*kind).into(),
            channel_id: Some(channel.clone()),
            product_id: None,
            variant_id: None,
            campaign: None,
            detail: None,
            at_ms: super::START_MS - i as i64,
            visitor_id: None,
            source: None,
        };
        admin.api.core.record_touchpoint(&t, tp, super::START_MS).unwrap();
    }
    let orders = admin.api.core.list_orders(&t, &omnistore_core::OrderQuery::default()).unwrap();
    let placed = orders.iter().filter(|o| o.channel_id.as_ref() == Some(&channel)).count();
    let browser = admin.sign_in("alpha", "en").await;
    let page = admin.get("/admin/dashboard", &browser).await;
    assert_eq!(page.status, StatusCode::OK);
    let section = page.html.split("id=\"conversion-h\"").nth(1).unwrap().split("</section>").next().unwrap();
    let row = section.split("<th scope=\"row\">Instagram A</th>").nth(1).unwrap().split("</tr>").next().unwrap();
    let cells: Vec<&str> = row.split("<td class=\"num\">").skip(1).map(|c| c.split('<').next().unwrap()).collect();
    let cart_to_order = (placed as u64 * 100 + 2) / 4;
    let view_to_order = (placed as u64 * 100 + 4) / 8;
    assert_eq!(
        cells,
        ["8", "4", &placed.to_string(), "50%", &format!("{cart_to_order}%"), &format!("{view_to_order}%")],
        "{section}"
    );
    let it = admin.get("/admin/dashboard", &admin.sign_in("alpha", "it").await).await;
    assert!(it.html.contains("Conversione per canale"));
}
