//! Twilio's webhooks: texts from customers (STOP, START, HELP) and delivery
//! reports, each signed by Twilio; TwiML answers read by Python's own XML
//! parser.

use omnistore_core::Order;
use omnistore_sdk_harness::{Harness, TestResponse};

use crate::openapi::openapi;
use crate::shop::{
    ACCOUNT_SID, AUTH_TOKEN, FROM, PUBLIC_BASE, Shopper, customer_of, next_event, place_order, record, shop,
    sms_consent, webhook, webhook_signed,
};
use crate::twilio::Twilio;

const PHONE: &str = "+393331234567";
const GIULIA: Shopper<'static> =
    Shopper { email: None, phone: Some(PHONE), sms_consent: true, email_consent: false, ship: false };

/// The fields Twilio posts for an incoming text.
fn incoming(from: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ToCountry", "IT".into()),
        ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef".into()),
        ("NumMedia", "0".into()),
        ("SmsSid", "SM0123456789abcdef0123456789abcdef".into()),
        ("SmsStatus", "received".into()),
        ("Body", body.into()),
        ("To", FROM.into()),
        ("NumSegments", "1".into()),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef".into()),
        ("AccountSid", ACCOUNT_SID.into()),
        ("From", from.into()),
        ("ApiVersion", "2010-04-01".into()),
    ]
}

fn text_in(h: &Harness, from: &str, body: &str) -> TestResponse {
    let params = incoming(from, body);
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    webhook(h, "/inbound", &params, AUTH_TOKEN)
}

/// The TwiML answer's messages, as Python's XML parser reads them.
fn twiml_messages(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/xml"));
    let (root, children) = openapi().parse_xml(&r.text()).unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    assert_eq!(root, "Response");
    children
        .into_iter()
        .map(|(tag, text)| {
            assert_eq!(tag, "Message");
            text
        })
        .collect()
}

#[test]
fn stop_words_withdraw_and_start_words_restore_sms_consent() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let customer = customer_of(&place_order(&h, GIULIA));
    let cases = [
        (" stop ", false),
        ("Start", true),
        ("STOPALL", false),
        ("yes", true),
        ("Unsubscribe", false),
        ("UNSTOP", true),
        ("cancel", false),
        ("  START\n", true),
        ("End", false),
        ("Yes ", true),
        ("QUIT", false),
        // Not keywords: the whole text must be one.
        ("STOPPED", false),
        ("start now", false),
        ("Yes please", false),
        ("unstop", true),
        ("stop it", true),
        ("S T O P", true),
        ("", true),
    ];
    for (body, consent) in cases {
        let r = text_in(&h, PHONE, body);
        assert_eq!(twiml_messages(&r), Vec::<String>::new(), "no reply to {body:?}: Twilio confirms opt-outs itself");
        assert_eq!(sms_consent(&h, &customer), consent, "after {body:?}");
    }
    let history = h.core().consent_history(h.tenant(), &customer).unwrap();
    // The checkout's consent, then one decision per keyword.
    assert_eq!(history.len(), 1 + 12, "{history:#?}");
    assert!(history[1..].iter().all(|c| c.channel_id == Some(h.channel())));
    assert!(twilio.sent().is_empty(), "keywords are answered in TwiML, not through the API");
}

#[test]
fn a_customer_who_texted_stop_gets_no_more_texts() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let order = place_order(&h, GIULIA);
    h.event(next_event(&h)).unwrap();
    text_in(&h, PHONE, "STOP");
    h.core().mark_ready_for_pickup(h.tenant(), &order.id, h.now_ms()).unwrap();
    h.event(next_event(&h)).unwrap();
    assert_eq!(twilio.sent().len(), 1, "only the text sent before STOP");
    assert_eq!(record(&h, &order, "ready_for_pickup").unwrap()["state"], "skipped");
    twilio.assert_conformant();
}

#[test]
fn help_is_answered_with_the_merchants_contact() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let customer = customer_of(&place_order(&h, GIULIA));
    for body in ["HELP", " help ", "Info"] {
        let r = text_in(&h, PHONE, body);
        assert_eq!(
            twiml_messages(&r),
            ["Pasticceria Dolce Vita: per assistenza +390811234567. Rispondi STOP per non ricevere più SMS."],
            "the shop's phone, in the shop's language"
        );
    }
    assert!(twiml_messages(&text_in(&h, PHONE, "helpful")).is_empty());
    assert!(sms_consent(&h, &customer), "HELP changes no consent");

    let h = shop(&twilio, &[("language", "en"), ("help_contact", "Giulia & Marco <ciao@dolcevita.example>")]);
    let r = text_in(&h, "+393339999999", "help");
    assert!(r.text().contains("Giulia &amp; Marco &lt;ciao@dolcevita.example&gt;"), "{}", r.text());
    assert_eq!(
        twiml_messages(&r),
        [
            "Pasticceria Dolce Vita: for help, contact Giulia & Marco <ciao@dolcevita.example>. Reply STOP to unsubscribe."
        ]
    );
}

#[test]
fn unsigned_or_forged_webhooks_are_refused_and_change_nothing() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let order = place_order(&h, GIULIA);
    let customer = customer_of(&order);
    let stop: Vec<(String, String)> = incoming(PHONE, "STOP").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let url = format!("{PUBLIC_BASE}/inbound");
    let sign = |token: &str, url: &str, params: &[(String, String)]| omnistore_sms::signature::sign(token, url, params);

    // Signed as a START, sent as a STOP.
    let mut signed = stop.clone();
    signed.iter_mut().find(|(k, _)| k == "Body").unwrap().1 = "START".into();
    let attempts: [(&str, Option<String>); 5] = [
        ("no signature", None),
        ("another account's token", Some(sign("another-token", &url, &stop))),
        ("signed for another address", Some(sign(AUTH_TOKEN, "https://evil.example/sms/inbound", &stop))),
        ("a body changed after signing", Some(sign(AUTH_TOKEN, &url, &signed))),
        ("not base64", Some("%%%".into())),
    ];
    for (why, signature) in attempts {
        let r = webhook_signed(&h, "/inbound", &stop, signature.as_deref());
        assert_eq!(r.status, 403, "{why}: {}", r.text());
        assert!(sms_consent(&h, &customer), "{why}: nothing changes");
    }
    // The same request, signed right, is taken: the refusals were for the signature.
    assert_eq!(webhook_signed(&h, "/inbound", &stop, Some(&sign(AUTH_TOKEN, &url, &stop))).status, 200);
    assert!(!sms_consent(&h, &customer));
    h.core()
        .set_consent(
            h.tenant(),
            &customer,
            omnistore_core::ConsentPurpose::SmsMarketing,
            true,
            None,
            "test",
            h.now_ms(),
        )
        .unwrap();

    h.event(next_event(&h)).unwrap();
    let status = format!("/status?order={}&text=order_placed", order.id);
    let report = [
        ("MessageSid", format!("SM{:032x}", 1)),
        ("MessageStatus", "failed".to_string()),
        ("ErrorCode", "21610".to_string()),
    ];
    let report: Vec<(&str, &str)> = report.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(webhook(&h, &status, &report, "another-token").status, 403);
    assert_eq!(record(&h, &order, "order_placed").unwrap()["status"], "queued");
    assert!(sms_consent(&h, &customer));
}

/// The address the plugin gave Twilio for reports of this order's text.
fn callback_of(twilio: &Twilio, order: &Order) -> String {
    let sent = twilio.sent();
    let s = sent.iter().find(|s| s.field("Body").unwrap().contains(&order.number.to_string())).unwrap();
    let url = s.field("StatusCallback").unwrap();
    url.strip_prefix(PUBLIC_BASE).unwrap().to_string()
}

fn report(h: &Harness, path: &str, sid: &str, status: &str, code: Option<&str>) -> u16 {
    let mut params = vec![
        ("AccountSid", ACCOUNT_SID),
        ("From", FROM),
        ("To", PHONE),
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("ApiVersion", "2010-04-01"),
    ];
    if let Some(code) = code {
        params.push(("ErrorCode", code));
    }
    webhook(h, path, &params, AUTH_TOKEN).status
}

#[test]
fn delivery_reports_update_the_messages_status() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let order = place_order(&h, GIULIA);
    h.event(next_event(&h)).unwrap();
    let path = callback_of(&twilio, &order);
    let sid = record(&h, &order, "order_placed").unwrap()["sid"].as_str().unwrap().to_string();
    let status = || record(&h, &order, "order_placed").unwrap()["status"].as_str().unwrap().to_string();

    assert_eq!(report(&h, &path, &sid, "sent", None), 204);
    assert_eq!(status(), "sent");
    assert_eq!(report(&h, &path, &sid, "delivered", None), 204);
    assert_eq!(status(), "delivered");
    assert_eq!(report(&h, &path, &sid, "sent", None), 204, "a late report is acknowledged");
    assert_eq!(status(), "delivered", "and does not move the status back");
    assert_eq!(report(&h, &path, "SM99999999999999999999999999999999", "failed", None), 204);
    assert_eq!(status(), "delivered", "a report of another message changes nothing");
    assert_eq!(record(&h, &order, "order_placed").unwrap()["state"], "accepted");
    // Reports of texts this installation does not know are acknowledged and kept nowhere.
    assert_eq!(report(&h, "/status?order=ord-unknown&text=order_placed", &sid, "delivered", None), 204);
    assert_eq!(report(&h, "/status", &sid, "delivered", None), 204);
}

#[test]
fn a_failed_report_for_an_unsubscribed_recipient_withdraws_consent() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let order = place_order(&h, GIULIA);
    h.event(next_event(&h)).unwrap();
    let path = callback_of(&twilio, &order);
    let sid = record(&h, &order, "order_placed").unwrap()["sid"].as_str().unwrap().to_string();
    assert_eq!(report(&h, &path, &sid, "undelivered", Some("30005")), 204);
    assert!(sms_consent(&h, &customer_of(&order)), "an unknown handset is no opt-out");
    assert_eq!(report(&h, &path, &sid, "failed", Some("21610")), 204);
    let r = record(&h, &order, "order_placed").unwrap();
    assert_eq!((r["status"].as_str(), r["error_code"].as_i64()), (Some("failed"), Some(21610)), "{r}");
    assert!(!sms_consent(&h, &customer_of(&order)));
}
