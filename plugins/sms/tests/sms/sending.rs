//! Order texts: sent once, only with SMS consent, to the customer's number,
//! in the form Twilio's description asks for; Twilio's refusals and
//! failures handled as each one means.

use base64::Engine as _;
use omnistore_core::{ConsentPurpose, Order};
use omnistore_sdk_harness::Error as CallError;
use omnistore_sdk_harness::types::PluginError;

use crate::openapi::{Question, openapi};
use crate::shop::{
    ACCOUNT_SID, AUTH_TOKEN, FROM, PUBLIC_BASE, Shopper, customer_of, next_event, pending_events, place_order,
    put_record, record, shop, sms_consent,
};
use crate::twilio::{INVALID_TO, SERVICE_UNAVAILABLE, TOO_MANY_REQUESTS, Twilio, UNSUBSCRIBED};

const GIULIA: Shopper<'static> =
    Shopper { email: None, phone: Some("+39 333 123 4567"), sms_consent: true, email_consent: false, ship: false };

fn euros_it(order: &Order) -> String {
    let m = order.total.amount_minor;
    format!("{},{:02} €", m / 100, m % 100)
}

#[test]
fn an_order_text_goes_once_even_when_the_event_comes_twice() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let order = place_order(&h, GIULIA);
    let event = next_event(&h);
    assert_eq!(event.kind, "order.placed");
    h.event(event.clone()).unwrap();
    h.event(event).unwrap();

    let sent = twilio.sent();
    assert_eq!(sent.len(), 1, "a redelivered event sends nothing: {sent:#?}");
    let s = &sent[0];
    assert_eq!(s.request.method, "POST");
    assert_eq!(s.request.uri, format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"));
    assert_eq!(s.request.header("content-type"), Some("application/x-www-form-urlencoded"));
    let credentials = s.request.header("authorization").and_then(|v| v.strip_prefix("Basic ")).unwrap();
    let credentials = base64::engine::general_purpose::STANDARD.decode(credentials).unwrap();
    assert_eq!(String::from_utf8(credentials).unwrap(), format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(s.field("To"), Some("+393331234567"), "the number in E.164");
    assert_eq!(s.field("From"), Some(FROM));
    assert_eq!(s.field("MessagingServiceSid"), None, "From or MessagingServiceSid, never both");
    assert_eq!(
        s.field("Body").unwrap(),
        format!(
            "Pasticceria Dolce Vita: grazie! Abbiamo ricevuto il tuo ordine n. {} di {}.",
            order.number,
            euros_it(&order)
        )
    );
    assert_eq!(
        s.field("StatusCallback").unwrap(),
        format!("{PUBLIC_BASE}/status?order={}&text=order_placed", order.id)
    );

    let r = record(&h, &order, "order_placed").unwrap();
    assert_eq!(r["state"], "accepted", "{r}");
    assert_eq!(r["status"], "queued");
    assert_eq!(r["sid"], format!("SM{:032x}", 1));
    assert_eq!(r["customer_id"], customer_of(&order).as_str());
    assert_eq!((r["segments"].as_u64(), r["encoding"].as_str()), (Some(1), Some("GSM-7")));
    assert_eq!(r["attempts"], 1);
    assert!(!r.to_string().contains("3331234567"), "no phone number is kept: {r}");
    twilio.assert_conformant();
}

#[test]
fn without_sms_consent_no_request_is_made_at_all() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    // E-mail marketing only: a phone is no consent to text it.
    let email_only = place_order(
        &h,
        Shopper {
            email: Some("anna@example.com"),
            phone: Some("+393331111111"),
            email_consent: true,
            sms_consent: false,
            ..GIULIA
        },
    );
    // SMS consent, but no number to text.
    let no_phone = place_order(&h, Shopper { email: Some("bruno@example.com"), phone: None, ..GIULIA });
    // Consent given at checkout, withdrawn before the event is delivered.
    let withdrawn = place_order(&h, Shopper { phone: Some("+393332222222"), ..GIULIA });
    h.core()
        .set_consent(
            h.tenant(),
            &customer_of(&withdrawn),
            ConsentPurpose::SmsMarketing,
            false,
            None,
            "phone call",
            h.now_ms(),
        )
        .unwrap();

    let events = pending_events(&h);
    assert_eq!(events.len(), 3);
    for event in events {
        h.event(event).unwrap();
    }
    let forms: Vec<_> = twilio.sent().into_iter().map(|s| s.form).collect();
    assert!(forms.is_empty(), "no request without consent: {forms:?}");
    for (order, why) in
        [(&email_only, "no SMS consent"), (&no_phone, "no phone number"), (&withdrawn, "no SMS consent")]
    {
        let r = record(&h, order, "order_placed").unwrap();
        assert_eq!(r["state"], "skipped", "{r}");
        assert!(r["reason"].as_str().unwrap().contains(why), "{r}");
    }
}

#[test]
fn pickup_and_shipping_texts_follow_the_orders_status() {
    let twilio = Twilio::start();
    let service = "MGabcdef0123456789abcdef0123456789";
    let h = shop(&twilio, &[("language", "en"), ("messaging_service_sid", service)]);
    let (core, tenant) = (h.core(), h.tenant());

    let pickup = place_order(&h, GIULIA);
    h.event(next_event(&h)).unwrap();
    core.mark_ready_for_pickup(tenant, &pickup.id, h.now_ms()).unwrap();
    let ready = next_event(&h);
    assert_eq!(ready.kind, "order.updated");
    h.event(ready).unwrap();
    // Collected: nothing to text.
    core.mark_completed(tenant, &pickup.id, h.now_ms()).unwrap();
    h.event(next_event(&h)).unwrap();

    let shipped = place_order(&h, Shopper { ship: true, ..GIULIA });
    h.event(next_event(&h)).unwrap();
    core.mark_shipped(tenant, &shipped.id, Some("TRACK-1"), h.now_ms()).unwrap();
    h.event(next_event(&h)).unwrap();

    let sent = twilio.sent();
    let bodies: Vec<&str> = sent.iter().map(|s| s.field("Body").unwrap()).collect();
    let total = |o: &Order| format!("€{}.{:02}", o.total.amount_minor / 100, o.total.amount_minor % 100);
    assert_eq!(
        bodies,
        [
            format!(
                "Pasticceria Dolce Vita: thank you! We received your order no. {} for {}.",
                pickup.number,
                total(&pickup)
            ),
            format!(
                "Pasticceria Dolce Vita: your order no. {} is ready for pickup at Negozio, Via dei Dolci 1, Napoli (Negozio).",
                pickup.number
            ),
            format!(
                "Pasticceria Dolce Vita: thank you! We received your order no. {} for {}.",
                shipped.number,
                total(&shipped)
            ),
            format!("Pasticceria Dolce Vita: your order no. {} has shipped.", shipped.number),
        ]
    );
    for s in &sent {
        assert_eq!(s.field("MessagingServiceSid"), Some(service));
        assert_eq!(s.field("From"), None);
    }
    assert_eq!(record(&h, &pickup, "ready_for_pickup").unwrap()["state"], "accepted");
    assert_eq!(record(&h, &shipped, "shipped").unwrap()["state"], "accepted");
    twilio.assert_conformant();
}

#[test]
fn a_recipient_twilio_knows_as_unsubscribed_loses_sms_consent() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    twilio.then(UNSUBSCRIBED);
    let order = place_order(&h, GIULIA);
    let customer = customer_of(&order);
    let event = next_event(&h);
    h.event(event.clone()).unwrap();
    assert!(!sms_consent(&h, &customer), "21610 withdraws SMS consent");
    let last = h.core().consent_history(h.tenant(), &customer).unwrap().pop().unwrap();
    assert_eq!((last.granted, last.channel_id), (false, Some(h.channel())));
    let r = record(&h, &order, "order_placed").unwrap();
    assert_eq!((r["state"].as_str(), r["error_code"].as_i64()), (Some("refused"), Some(21610)), "{r}");

    h.event(event).unwrap();
    h.core().mark_ready_for_pickup(h.tenant(), &order.id, h.now_ms()).unwrap();
    h.event(next_event(&h)).unwrap();
    assert_eq!(twilio.sent().len(), 1, "nothing more is sent to that number");
    twilio.assert_conformant();
}

#[test]
fn a_busy_or_failing_twilio_makes_the_event_retry_until_it_is_sent_once() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    twilio.then(TOO_MANY_REQUESTS);
    twilio.then(SERVICE_UNAVAILABLE);
    let order = place_order(&h, GIULIA);
    let event = next_event(&h);

    match h.event(event.clone()) {
        Err(CallError::Plugin(PluginError::RetryLater(secs))) => assert_eq!(secs, 60, "429 waits a minute"),
        other => panic!("429 must make the host retry the event: {other:?}"),
    }
    let r = record(&h, &order, "order_placed").unwrap();
    assert_eq!(r["state"], "retry", "{r}");
    assert!(r["reason"].as_str().unwrap().contains("429"), "{r}");
    match h.event(event.clone()) {
        Err(CallError::Plugin(PluginError::RetryLater(secs))) => assert_eq!(secs, 30),
        other => panic!("503 must make the host retry the event: {other:?}"),
    }
    h.event(event.clone()).unwrap();
    h.event(event).unwrap();

    assert_eq!(twilio.sent().len(), 3, "two failures, one success, nothing after it");
    let r = record(&h, &order, "order_placed").unwrap();
    assert_eq!((r["state"].as_str(), r["attempts"].as_u64()), (Some("accepted"), Some(3)), "{r}");
    twilio.assert_conformant();
}

#[test]
fn other_refusals_are_recorded_and_not_retried() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    twilio.then(INVALID_TO);
    let order = place_order(&h, GIULIA);
    let event = next_event(&h);
    h.event(event.clone()).unwrap();
    h.event(event).unwrap();
    assert_eq!(twilio.sent().len(), 1);
    let r = record(&h, &order, "order_placed").unwrap();
    assert_eq!((r["state"].as_str(), r["error_code"].as_i64()), (Some("refused"), Some(21211)), "{r}");
    assert!(sms_consent(&h, &customer_of(&order)), "only 21610 touches consent");
    twilio.assert_conformant();
}

#[test]
fn a_send_cut_short_by_a_crash_is_never_repeated() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let order = place_order(&h, GIULIA);
    let event = next_event(&h);
    // A call claimed the text, then its instance died before Twilio's answer was recorded.
    let claimed = serde_json::json!({
        "order_id": order.id.as_str(), "text": "order_placed", "state": "sending",
        "customer_id": customer_of(&order).as_str(), "attempts": 1, "updated_at": h.now_ms(),
    });
    put_record(&h, &order, "order_placed", &claimed);
    match h.event(event.clone()) {
        Err(CallError::Plugin(PluginError::RetryLater(secs))) => assert!((1..=600).contains(&secs), "{secs}"),
        other => panic!("a fresh claim may be another call still sending: retry later, got {other:?}"),
    }
    h.advance(std::time::Duration::from_secs(11 * 60));
    h.event(event).unwrap();
    assert!(twilio.sent().is_empty(), "it may have gone out: never sent twice");
    assert_eq!(record(&h, &order, "order_placed").unwrap()["state"], "unknown");
}

/// The judge is no rubber stamp: what Twilio would refuse, it refuses.
#[test]
fn the_openapi_judge_refuses_what_twilio_would_refuse() {
    let auth =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    let headers = |auth: Option<&str>| {
        let mut h = vec![("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string())];
        if let Some(a) = auth {
            h.push(("Authorization".to_string(), a.to_string()));
        }
        h
    };
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json");
    let with_auth = headers(Some(&auth));
    let good = Question {
        method: "POST",
        uri: &path,
        headers: &with_auth,
        body: "To=%2B393331234567&From=%2B15005550006&Body=Ciao",
    };
    openapi().check_request(&good).unwrap();

    let no_to = Question { body: "From=%2B15005550006&Body=Ciao", ..good.clone() };
    assert!(openapi().check_request(&no_to).unwrap_err().contains("'To' is a required property"));
    let without_auth = headers(None);
    let anonymous = Question { headers: &without_auth, ..good.clone() };
    assert!(openapi().check_request(&anonymous).is_err(), "Basic authentication is required");
    let bad_account = Question { uri: "/2010-04-01/Accounts/AC123/Messages.json", ..good.clone() };
    assert!(openapi().check_request(&bad_account).is_err(), "an Account SID is AC and 32 hex digits");
    let bad_number = Question { body: "To=%2B393331234567&MaxPrice=cheap", ..good.clone() };
    assert!(openapi().check_request(&bad_number).is_err(), "MaxPrice is a number");

    let created = |status: &str| {
        serde_json::json!({ "sid": format!("SM{:032x}", 7), "status": status, "account_sid": ACCOUNT_SID }).to_string()
    };
    openapi().check_response(&good, 201, "application/json", &created("queued")).unwrap();
    assert!(openapi().check_response(&good, 201, "application/json", &created("teleported")).is_err());
}
