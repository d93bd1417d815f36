//! Segments and campaigns through the admin API: a live count, a template
//! error refused with its reason, a preview with the SMS encoding and parts,
//! a send whose progress and results show consent honoured per channel.

use super::*;

#[tokio::test]
async fn a_campaign_is_counted_previewed_sent_and_reported_through_the_api() {
    let api = Api::memory();
    let w = seed(&api, "alpha", "A").await;
    let base = "/tenants/alpha";
    let t = TenantId::new("alpha").unwrap();
    let now = api.now();
    // Giulia (the seed's buyer) agrees to e-mail and texts; Marco, a buyer
    // too, only to e-mail and has no number.
    let giulia = omnistore_core::CustomerId::new(w.customer.clone());
    api.core.add_identity(&t, &giulia, &Identity::phone("+39 333 1234567").unwrap(), now).unwrap();
    for purpose in [omnistore_core::ConsentPurpose::EmailMarketing, omnistore_core::ConsentPurpose::SmsMarketing] {
        api.core.set_consent(&t, &giulia, purpose, true, None, "test", now).unwrap();
    }
    let marco = api
        .core
        .ingest_order(
            &t,
            &omnistore_core::ChannelId::new(w.channel.clone()),
            ingest("ig-9", "CAN-S", 1, "marco@example.com", Fulfilment::Pickup { location_id: w.shop.clone().into() }),
            now,
        )
        .unwrap()
        .order
        .customer_id
        .unwrap();
    api.core.set_consent(&t, &marco, omnistore_core::ConsentPurpose::EmailMarketing, true, None, "t", now).unwrap();

    // The live count of an unsaved rule, then the saved segment's.
    let rule = json!({ "type": "all", "rules": [
        { "type": "order_count", "at_least": 1 },
        { "type": "picked_up_at", "location_id": w.shop },
    ] });
    let r = api.post(&format!("{base}/segments/preview"), &w.token, json!({ "rule": rule })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["count"], 2, "{}", r.text);
    let r = api.post(&format!("{base}/segments"), &w.token, json!({ "name": "Pickup buyers", "rule": rule })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let segment = r.body["id"].as_str().unwrap().to_owned();
    let r = api.get(&format!("{base}/segments/{segment}/count"), &w.token).await;
    assert_eq!((r.status, r.body["count"].as_u64()), (StatusCode::OK, Some(2)), "{}", r.text);

    // Bad input: 422 with the reason, nothing saved.
    let before = api.dump();
    let deep = (0..8).fold(json!({ "type": "tagged", "tag": "vip" }), |r, _| json!({ "type": "any", "rules": [r] }));
    let r = api.post(&format!("{base}/segments"), &w.token, json!({ "name": "Deep", "rule": deep })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{}", r.text);
    assert!(r.text.contains("nest at most 6 levels"), "{}", r.text);
    let campaign = |subject: &str, sms: &str| {
        json!({
            "name": "Cannoli week", "segment_id": segment, "shop_url": "https://shop.example",
            "email": { "channel_id": w.mail_channel, "subject": subject, "text": "Ciao {{ customer.first_name }}: https://shop.example/c" },
            "sms": { "channel_id": w.sms_channel, "text": sms },
        })
    };
    let r = api.post(&format!("{base}/campaigns"), &w.token, campaign("{% if %}", "ok")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{}", r.text);
    assert!(r.text.contains("e-mail subject: Liquid syntax error"), "{}", r.text);
    let mut wrong = campaign("Hi", "ok");
    wrong["sms"]["channel_id"] = json!(w.channel);
    let r = api.post(&format!("{base}/campaigns"), &w.token, wrong).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("does not take campaign messages"), "{}", r.text);
    assert!(api.dump() == before, "refused requests changed the store");

    // Saved, previewed: the text has a non-GSM character, so UCS-2 parts.
    let sms = format!("{{{{ customer.first_name }}}}, cannoli 20% off 🎉 {}", "x".repeat(60));
    let r = api.post(&format!("{base}/campaigns"), &w.token, campaign("{{ customer.first_name }}, 20%", &sms)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = api.get(&format!("{base}/campaigns/{id}/preview?customer={}", w.customer), &w.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["email"]["subject"], "Giulia, 20%");
    let text = r.body["sms"]["text"].as_str().unwrap();
    assert!(text.starts_with("Giulia, cannoli 20% off 🎉"), "{text}");
    let expected = omnistore_sms::count_segments(text);
    assert_eq!(r.body["sms"]["encoding"], "UCS-2");
    assert_eq!(r.body["sms"]["segments"].as_u64(), Some(expected.segments as u64));
    assert_eq!(r.body["sms"]["segments"], 2, "{} characters in UCS-2 take two parts", text.chars().count());
    // Sending now would reach Giulia by text (Marco has no SMS consent), both by e-mail.
    assert_eq!(
        (r.body["sms"]["recipients"].as_u64(), r.body["sms"]["estimated_segments"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(r.body["email"]["recipients"], 2);

    // The SMS channel adds its opt-out line under every campaign text: the
    // preview shows and counts the text with it, as it will be sent.
    let footer = "{{ shop.name }}: rispondi STOP per non ricevere più messaggi.";
    let settings = [("language", "it"), ("template.campaign_footer.it", footer)];
    let patch = omnistore_core::ChannelPatch {
        settings: Some(settings.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()),
        ..Default::default()
    };
    api.core.update_channel(&t, &omnistore_core::ChannelId::new(w.sms_channel.clone()), patch, now).unwrap();
    let r = api.get(&format!("{base}/campaigns/{id}/preview?customer={}", w.customer), &w.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sent = r.body["sms"]["text"].as_str().unwrap();
    assert_eq!(sent, format!("{text}\nShop A: rispondi STOP per non ricevere più messaggi."));
    assert_eq!(r.body["sms"]["segments"].as_u64(), Some(omnistore_sms::count_segments(sent).segments as u64));
    assert_eq!(r.body["sms"]["segments"], 3, "the opt-out line takes the text to a third part: {sent}");
    assert_eq!(r.body["sms"]["estimated_segments"], 3);
    // A broken footer says so instead of a preview that would not be sent.
    let patch = omnistore_core::ChannelPatch {
        settings: Some(
            [("language", "it"), ("template.campaign_footer.it", "{% if %}")]
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        ),
        ..Default::default()
    };
    api.core.update_channel(&t, &omnistore_core::ChannelId::new(w.sms_channel.clone()), patch, now).unwrap();
    let r = api.get(&format!("{base}/campaigns/{id}/preview?customer={}", w.customer), &w.token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("template.campaign_footer"), "{}", r.text);
    let r = api.get(&format!("{base}/campaigns/{id}/preview?customer=cus-nobody"), &w.token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Sent: the list is fixed now; the dispatcher's rounds send the batches.
    let r = api.post(&format!("{base}/campaigns/{id}/send"), &w.token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["status"].as_str(), r.body["progress"]["total"].as_u64()), (Some("sending"), Some(2)));
    api.core.run_campaigns(&t, api.now(), 10).unwrap();
    let r = api.get(&format!("{base}/campaigns/{id}/results"), &w.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["campaign"]["status"], "sent");
    let channels = r.body["channels"].as_array().unwrap();
    let of = |m: &str| channels.iter().find(|c| c["medium"] == m).unwrap().clone();
    assert_eq!(of("email")["queued"], 2, "{}", r.text);
    assert_eq!(of("sms")["queued"], 1, "{}", r.text);
    assert_eq!(of("sms")["skipped"], json!([{ "reason": "no_consent", "count": 1 }]), "{}", r.text);
    assert_eq!(of("email")["revenue_last_touch"]["currency"], "EUR");
    let r = api.get(&format!("{base}/campaigns?limit=10"), &w.token).await;
    let listed: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![w.campaign.as_str(), id.as_str()]);
}
