//! The shop's own settings in the browser admin (name, languages, contact,
//! time zone), and the shop's clock on its pages: dates, "today" on the
//! dashboard and the hour a campaign is scheduled for are the shop's own.

use std::sync::atomic::Ordering;

use axum::http::StatusCode;
use omnistore_core::TenantId;
use serde_json::json;

use super::Admin;

/// The page's text with the escapes the templates write for `/`, `'` and backticks undone.
fn plain(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#x60;", "`")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The tile "Today (date) N orders · €…" of the dashboard: its date and count.
fn today_tile(html: &str) -> (String, String) {
    let tile = html.split("<span class=\"tile-label\">").nth(1).unwrap().split("</li>").next().unwrap();
    let date = tile.split('(').nth(1).unwrap().split(')').next().unwrap().to_owned();
    let count = tile.split("<strong>").nth(1).unwrap().split("</strong>").next().unwrap().to_owned();
    (date, count)
}

#[tokio::test]
async fn the_shop_settings_are_saved_from_the_admin_and_bad_input_changes_nothing() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    let page = admin.get("/admin/shop", &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("<option selected>UTC</option>"), "a shop that named no zone keeps UTC");
    let csrf = page.hidden("csrf");

    let good = [
        ("csrf", csrf.as_str()),
        ("name", "Pasticceria Alpha"),
        ("languages", "it, en"),
        ("contact_email", "ciao@alpha.example"),
        ("contact_phone", "+39 081 123 4567"),
        ("time_zone", "Europe/Rome"),
    ];
    let too_long = "x".repeat(201);
    let bad: Vec<(&str, &str, &str)> = vec![
        ("name", "", "Fill this in"),
        ("name", &too_long, "At most"),
        ("languages", "italiano!", "not a language tag"),
        ("contact_email", "not-an-address", "not an email address"),
        ("time_zone", "Mars/Olympus_Mons", "IANA name such as `Europe/Rome`"),
        ("time_zone", "", "Fill this in"),
    ];
    let before = admin.api.dump();
    for (field, value, says) in bad {
        let fields: Vec<(&str, &str)> =
            good.iter().map(|&(k, v)| if k == field { (k, value) } else { (k, v) }).collect();
        let r = admin.post("/admin/shop", &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}: {}", r.html);
        assert!(r.error_at(field), "{field}: no message next to the field: {}", r.html);
        assert!(plain(&r.html).contains(says), "{field}={value} should say {says:?}: {}", r.html);
    }
    let stale: Vec<(&str, &str)> = good.iter().map(|&(k, v)| if k == "csrf" { (k, "stale") } else { (k, v) }).collect();
    assert_eq!(admin.post("/admin/shop", &browser, &stale).await.status, StatusCode::FORBIDDEN);
    assert!(admin.api.dump() == before, "refused forms changed the store");

    let r = admin.post("/admin/shop", &browser, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let shop = admin.api.core.get_tenant(&t).unwrap();
    assert_eq!(shop.name, "Pasticceria Alpha");
    assert_eq!(shop.languages, ["it", "en"]);
    assert_eq!(shop.contact_email.as_deref(), Some("ciao@alpha.example"));
    assert_eq!(shop.time_zone.as_deref(), Some("Europe/Rome"));
    let page = admin.get("/admin/shop?done=saved", &browser).await;
    assert!(plain(&page.html).contains("<option selected>Europe/Rome</option>"), "{}", page.html);
    assert!(plain(&page.html).contains("The shop's settings are saved"), "{}", page.html);
}

#[tokio::test]
async fn the_shop_settings_answer_through_the_json_api_too() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let r = admin.api.get("/tenants/alpha/shop", &a.token).await;
    assert_eq!((r.status, r.body["time_zone"].as_str()), (StatusCode::OK, Some("UTC")), "{}", r.text);
    let (api, token) = (&admin.api, a.token.as_str());
    let patch = |body: serde_json::Value| async move {
        api.call("PATCH", "/tenants/alpha/shop", Some(token), Some(&body), None).await
    };
    let r = patch(json!({ "time_zone": "Asia/Tokyo", "contact_phone": null })).await;
    assert_eq!((r.status, r.body["time_zone"].as_str()), (StatusCode::OK, Some("Asia/Tokyo")), "{}", r.text);
    let before = admin.api.dump();
    for body in [json!({ "time_zone": "Tokyo" }), json!({ "languages": [] , "colour": "red" }), json!({ "name": "" })] {
        let r = patch(body.clone()).await;
        assert!(r.status.is_client_error(), "{body}: {}", r.text);
    }
    assert!(admin.api.dump() == before, "refused requests changed the store");
}

#[tokio::test]
async fn dates_and_today_follow_the_shops_clock() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    // The seeded orders were placed at 08:53 UTC on 9 October 2025; two hours
    // later it is still the 9th in UTC, but already the 10th on Kiritimati (UTC+14).
    admin.api.clock.fetch_add(2 * 3_600_000, Ordering::SeqCst);
    let utc = admin.get("/admin/dashboard", &browser).await;
    let (date, count) = today_tile(&utc.html);
    assert_eq!(date, "9 Oct 2025");
    assert_ne!(count, "0", "the seeded orders are today's in UTC");
    let order = admin.get(&format!("/admin/orders/{}", a.order_pickup), &browser).await;
    assert!(order.html.contains("9 Oct 2025, 08:53"), "{}", order.html);

    let patch = omnistore_core::ShopPatch { time_zone: Some("Pacific/Kiritimati".into()), ..Default::default() };
    admin.api.core.update_shop(&t, patch, admin.api.now()).unwrap();
    let island = admin.get("/admin/dashboard", &browser).await;
    assert_eq!(today_tile(&island.html), ("10 Oct 2025".to_owned(), "0".to_owned()), "yesterday's orders, there");
    let order = admin.get(&format!("/admin/orders/{}", a.order_pickup), &browser).await;
    assert!(order.html.contains("9 Oct 2025, 22:53"), "{}", order.html);
    // The day filter of the orders list is the shop's day too.
    let list = admin.get("/admin/orders?from=2025-10-09&to=2025-10-09", &browser).await;
    assert!(list.html.contains(&format!("/admin/orders/{}", a.order_pickup)), "{}", list.html);
    let list = admin.get("/admin/orders?from=2025-10-10", &browser).await;
    assert!(!list.html.contains(&format!("/admin/orders/{}", a.order_pickup)), "{}", list.html);
}

#[tokio::test]
async fn a_campaign_is_scheduled_on_the_shops_clock_with_its_html() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let patch = omnistore_core::ShopPatch { time_zone: Some("Europe/Rome".into()), ..Default::default() };
    admin.api.core.update_shop(&t, patch, admin.api.now()).unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    let form = admin.get("/admin/campaigns/new", &browser).await;
    assert!(plain(&form.html).contains("(Europe/Rome)"), "the hint names the shop's zone: {}", form.html);
    let csrf = form.hidden("csrf");
    let segment = admin.api.core.list_segments(&t, None, 10).unwrap()[0].id.to_string();
    let fields = |send_at: &'static str, html: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Saturday cannoli".to_owned()),
            ("segment", segment.clone()),
            ("email_channel", a.mail_channel.clone()),
            ("subject", "Cannoli, {{ customer.first_name }}".to_owned()),
            ("email_text", "See https://shop.example/c".to_owned()),
            ("email_html", html.to_owned()),
            ("send_at", send_at.to_owned()),
        ]
    };
    let (admin_ref, browser_ref) = (&admin, &browser);
    let post = |owned: Vec<(&'static str, String)>| async move {
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        admin_ref.post("/admin/campaigns", browser_ref, &pairs).await
    };
    let before = admin.api.dump();
    for (send_at, html, field, says) in [
        ("2025-10-08T09:00", "", "send_at", "has passed"),
        ("2025-10-12T25:00", "", "send_at", "exists in the shop"),
        ("2026-03-29T02:30", "", "send_at", "exists in the shop"),
        ("2025-10-12T09:00", "<p>{% if %}</p>", "email_html", "e-mail HTML"),
    ] {
        let r = post(fields(send_at, html)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{send_at}: {}", r.html);
        assert!(
            r.error_at(field) && plain(&r.html).contains(says),
            "{send_at} {html}: should say {says:?} at {field}: {}",
            r.html
        );
    }
    assert!(admin.api.dump() == before, "refused forms changed the store");

    let r = post(fields("2025-10-12T09:00", "<p>Ciao {{ customer.first_name }}</p>")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let campaigns = admin.api.core.list_campaigns(&t, None, 10).unwrap();
    let c = campaigns.iter().find(|c| c.name == "Saturday cannoli").unwrap();
    assert_eq!(c.status, omnistore_core::CampaignStatus::Scheduled);
    // 09:00 in Rome on 12 October 2025 (summer time, UTC+2) is 07:00 UTC.
    assert_eq!(c.send_at_ms, Some(1_760_252_400_000));
    assert_eq!(c.email.as_ref().unwrap().html.as_deref(), Some("<p>Ciao {{ customer.first_name }}</p>"));
    let page = admin.get(&format!("/admin/campaigns/{}", c.id), &browser).await;
    assert!(plain(&page.html).contains("12 Oct 2025, 09:00 (Europe/Rome)"), "{}", page.html);
}

#[tokio::test]
async fn the_admins_own_script_is_served_from_the_host_and_every_page_loads_it() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let script = admin.get("/admin/assets/admin.js", &browser).await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(script.headers["content-type"], "text/javascript; charset=utf-8");
    assert!(script.html.contains("data-live") && script.html.contains("data-refresh"));
    // Served by the host, nothing fetched from elsewhere: the page's one
    // script is this one, and the policy allows scripts from here only.
    let page = admin.get("/admin/segments", &browser).await;
    assert_eq!(page.html.matches("<script").count(), 1, "{}", page.html);
    assert!(page.html.contains("<script src=\"/admin/assets/admin.js\" defer></script>"));
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert!(page.html.contains("data-live=\"/admin/segments/count\""), "the count follows the form");
}
