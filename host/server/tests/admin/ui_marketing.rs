//! Promotions, segments and campaigns in the browser admin, through the
//! router: each form saves what the core saves for the JSON API, a refused
//! form shows its message next to the field and changes nothing, and a
//! campaign is composed, previewed (SMS encoding and parts × recipients),
//! sent and reported.

use axum::http::StatusCode;
use omnistore_core::{CampaignId, TenantId};

use super::{Admin, Page};

impl Page {
    /// The campaign id a compose redirected to.
    fn campaign_id(&self) -> String {
        let location = self.location();
        let id = location.trim_start_matches("/admin/campaigns/");
        id.split('?').next().unwrap_or_default().to_owned()
    }
}

#[tokio::test]
async fn promotions_segments_and_campaigns_are_made_previewed_and_sent_from_the_admin() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/promotions", &browser).await.hidden("csrf");
    let t = TenantId::new("alpha").unwrap();

    // Refused forms: the message is next to the field, and nothing changes.
    let before = admin.api.dump();
    let long = "x".repeat(201);
    let bad_promotions: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("name", ""), ("kind", "percent_line"), ("value", "10")], "name"),
        (vec![("name", long.as_str()), ("kind", "percent_line"), ("value", "10")], "name"),
        (vec![("name", "Sale"), ("kind", "percent_line"), ("value", "-5")], "value"),
        (vec![("name", "Sale"), ("kind", "percent_line"), ("value", "150")], "value"),
        (vec![("name", "Sale"), ("kind", "amount_order"), ("value", "0")], "value"),
        (vec![("name", "Sale"), ("kind", "gift"), ("value", "10")], "kind"),
        (vec![("name", "Sale"), ("kind", "percent_line"), ("value", "10"), ("usage_limit", "-1")], "usage_limit"),
    ];
    for (mut fields, bad) in bad_promotions {
        fields.push(("csrf", &csrf));
        let r = admin.post("/admin/promotions", &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(bad), "{fields:?}: no message at {bad}: {}", r.html);
    }
    let bad_segments: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("name", "Nobody"), ("combine", "all")], "combine"),
        (vec![("name", ""), ("combine", "all"), ("tag", "vip")], "name"),
        (vec![("name", "Few"), ("combine", "all"), ("min_orders", "5"), ("max_orders", "2")], "max_orders"),
        (vec![("name", "Few"), ("combine", "all"), ("min_orders", "many")], "min_orders"),
        (vec![("name", "Few"), ("combine", "all"), ("min_spent", "-3")], "min_spent"),
    ];
    for (mut fields, bad) in bad_segments {
        fields.push(("csrf", &csrf));
        let r = admin.post("/admin/segments", &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(bad), "{fields:?}: no message at {bad}: {}", r.html);
    }
    let compose =
        |name: &'static str, email: &'static str, subject: &'static str, sms: &'static str| (name, email, subject, sms);
    for ((name, email, subject, sms_text), bad) in [
        (compose("", "mail", "Hi", "ok"), "name"),
        (compose("Week", "", "", ""), "email_channel"),
        (compose("Week", "mail", "{% if %}", "ok"), "subject"),
        (compose("Week", "mail", "Hi", ""), "sms_text"),
        (compose("Week", "ord-nope", "Hi", "ok"), "email_channel"),
    ] {
        let email_channel = match email {
            "mail" => a.mail_channel.as_str(),
            other => other,
        };
        let sms_channel = if sms_text.is_empty() && email.is_empty() { "" } else { a.sms_channel.as_str() };
        let fields = [
            ("csrf", csrf.as_str()),
            ("name", name),
            ("segment", a.segment.as_str()),
            ("email_channel", email_channel),
            ("subject", subject),
            ("email_text", "See https://shop.example/cannoli"),
            ("sms_channel", sms_channel),
            ("sms_text", sms_text),
        ];
        let r = admin.post("/admin/campaigns", &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(bad), "{fields:?}: no message at {bad}: {}", r.html);
    }
    assert!(admin.api.dump() == before, "refused forms changed the store");

    // A promotion of each kind, listed as the shop writes it.
    let r = admin
        .post(
            "/admin/promotions",
            &browser,
            &[
                ("csrf", &csrf),
                ("name", "Cannoli week"),
                ("kind", "amount_order"),
                ("value", "2,50"),
                ("code", "CANNOLI"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/promotions?done=created"), "{}", r.html);
    let list = admin.get("/admin/promotions", &browser).await;
    assert!(list.html.contains("Cannoli week") && list.html.contains("€2.50") && list.html.contains("CANNOLI"));

    // The live count of the builder's rule, then the segment saved.
    let rule = [("combine", "all"), ("email", "yes"), ("min_orders", "1")];
    let mut fields = vec![("csrf", csrf.as_str()), ("name", "Mailable buyers")];
    fields.extend(rule);
    let counted = admin.post("/admin/segments/count", &browser, &fields).await;
    assert_eq!(counted.status, StatusCode::OK, "{}", counted.html);
    assert!(counted.html.contains("id=\"count\""), "{}", counted.html);
    let r = admin.post("/admin/segments", &browser, &fields).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/segments?done=created"), "{}", r.html);
    assert!(admin.get("/admin/segments", &browser).await.html.contains("Mailable buyers"));

    // Compose a campaign, preview it for a customer: UCS-2 for an emoji.
    let r = admin
        .post(
            "/admin/campaigns",
            &browser,
            &[
                ("csrf", &csrf),
                ("name", "Cannoli week"),
                ("segment", &a.segment),
                ("email_channel", &a.mail_channel),
                ("subject", "{{ customer.first_name }}, cannoli"),
                ("email_text", "Ciao {{ customer.first_name }}: https://shop.example/c"),
                ("sms_channel", &a.sms_channel),
                ("sms_text", "Cannoli 20% off 🎉"),
                ("shop_url", "https://shop.example"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = r.campaign_id();
    let page = admin.get(&format!("/admin/campaigns/{id}?customer={}", a.customer), &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("UCS-2"), "{}", page.html);
    assert!(page.html.contains("Giulia, cannoli"), "{}", page.html);
    // Another shop's customer id previews nothing.
    let other = admin.get(&format!("/admin/campaigns/{id}?customer=cus-nope"), &browser).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.html);

    // Send: a stale form changes nothing, the right one starts the send.
    let stale = admin.post(&format!("/admin/campaigns/{id}/send"), &browser, &[("csrf", "stale")]).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    let campaign = CampaignId::new(id.as_str());
    assert_eq!(admin.api.core.get_campaign(&t, &campaign).unwrap().status, omnistore_core::CampaignStatus::Draft);
    let r = admin.post(&format!("/admin/campaigns/{id}/send"), &browser, &[("csrf", &csrf)]).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, format!("/admin/campaigns/{id}?done=sending").as_str())
    );
    while admin.api.core.send_campaign_batch(&t, &campaign, 0, admin.api.now()).unwrap().status
        != omnistore_core::CampaignStatus::Sent
    {}
    let results = admin.get(&format!("/admin/campaigns/{id}"), &browser).await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(results.html.contains("Results per channel") && results.html.contains("Sent"), "{}", results.html);
    assert!(!results.html.contains("/send\""), "a sent campaign has no send button");
}

#[tokio::test]
async fn a_promotion_is_edited_switched_off_and_given_a_window_from_its_page() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let b = admin.shop("beta", "B").await;
    let t = TenantId::new("alpha").unwrap();
    let patch = omnistore_core::ShopPatch { time_zone: Some("Europe/Rome".into()), ..Default::default() };
    admin.api.core.update_shop(&t, patch, admin.api.now()).unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    let list = admin.get("/admin/promotions", &browser).await;
    assert!(list.html.contains(&format!("href=\"/admin/promotions/{}\"", a.promotion)), "{}", list.html);
    let page = admin.get(&format!("/admin/promotions/{}", a.promotion), &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.hidden("csrf");
    let path = format!("/admin/promotions/{}", a.promotion);
    let before_promotion =
        admin.api.core.get_promotion(&t, &omnistore_core::PromotionId::new(a.promotion.as_str())).unwrap();

    let good = [
        ("csrf", csrf.as_str()),
        ("name", "Autumn cannoli"),
        ("value", "15"),
        ("min_subtotal", ""),
        ("usage_limit", "100"),
        ("starts", "2025-10-10T08:00"),
        ("ends", "2025-10-20T20:00"),
    ];
    let before = admin.api.dump();
    for (field, value) in [
        ("name", ""),
        ("value", "0"),
        ("value", "101"),
        ("usage_limit", "0"),
        ("starts", "10/10/2025"),
        ("ends", "2025-10-09T08:00"),
    ] {
        let fields: Vec<(&str, &str)> =
            good.iter().map(|&(k, v)| if k == field { (k, value) } else { (k, v) }).collect();
        let r = admin.post(&path, &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}: {}", r.html);
        assert!(r.error_at(field), "{field}={value}: no message next to it: {}", r.html);
    }
    // Another shop's promotion is not there for this session.
    let r = admin.post(&format!("/admin/promotions/{}", b.promotion), &browser, &good).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    assert!(admin.api.dump() == before, "refused forms changed the store");

    // Saved without the active box: switched off, with the window on Rome's clock.
    let r = admin.post(&path, &browser, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let p = admin.api.core.get_promotion(&t, &omnistore_core::PromotionId::new(a.promotion.as_str())).unwrap();
    assert_eq!(p.name, "Autumn cannoli");
    assert!(!p.active);
    assert_eq!(p.usage_limit, Some(100));
    assert_eq!(p.value, omnistore_core::DiscountValue::Percent { bps: 1500 });
    // 08:00 in Rome on 10 October 2025 is 06:00 UTC.
    assert_eq!(p.conditions.starts_ms, Some(1_760_076_000_000));
    assert_eq!(p.conditions.products, before_promotion.conditions.products, "other conditions stay");
    let again = admin.get(&path, &browser).await;
    assert!(again.html.contains("value=\"2025-10-10T08:00\""), "{}", again.html);
    assert!(!again.html.contains(" checked"), "shown as switched off: {}", again.html);
}
