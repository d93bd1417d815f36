//! Campaign texts: once per campaign and customer, only with SMS consent
//! read at the moment of sending, with the opt-out line, never during quiet
//! hours in the shop's time zone, and followed by Twilio's delivery reports.

use omnistore_core::{ConsentPurpose, CustomerId};
use omnistore_sdk_harness::types::{CampaignMessage, Event, EventPayload, PluginError};
use omnistore_sdk_harness::{Error as CallError, Harness};
use serde_json::Value;

use crate::shop::{AUTH_TOKEN, PUBLIC_BASE, Shopper, customer_of, next_event, place_order, shop, webhook};
use crate::twilio::{Sent, Twilio};

const GIULIA: Shopper<'static> =
    Shopper { email: None, phone: Some("+39 333 123 4567"), sms_consent: true, email_consent: false, ship: false };
const SPRING: &str = "primavera-26";
const TEXT: &str = "Pasticceria Dolce Vita: colomba artigianale -20% fino a domenica! https://dolcevita.example/?utm_campaign=primavera-26";

/// The shopper's customer, handed to the channel by her order's event (as
/// the dispatcher does); the order's own text goes too.
fn customer(h: &Harness, shopper: Shopper<'_>) -> CustomerId {
    let order = place_order(h, shopper);
    h.event(next_event(h)).unwrap();
    customer_of(&order)
}

/// The campaign texts Twilio received.
fn campaign_texts(twilio: &Twilio) -> Vec<Sent> {
    twilio.sent().into_iter().filter(|s| s.field("Body").is_some_and(|b| b.starts_with(TEXT))).collect()
}

fn campaign_event(campaign: &str, customer: &CustomerId, attempt: u32) -> Event {
    Event {
        id: format!("evt-{campaign}-{customer}"),
        kind: "campaign.message".into(),
        occurred_at: 0,
        attempt,
        payload: EventPayload::CampaignMessage(CampaignMessage {
            campaign_id: campaign.into(),
            customer_id: customer.to_string(),
            subject: String::new(),
            text: TEXT.into(),
            html: None,
        }),
    }
}

fn record(h: &Harness, campaign: &str, customer: &CustomerId) -> Option<Value> {
    h.stored(&format!("cmp/{campaign}/{customer}")).unwrap().map(|b| serde_json::from_slice(&b).unwrap())
}

#[test]
fn a_campaign_text_goes_once_with_the_opt_out_line_and_its_reports_are_kept() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let giulia = customer(&h, GIULIA);
    h.event(campaign_event(SPRING, &giulia, 0)).unwrap();
    h.event(campaign_event(SPRING, &giulia, 1)).unwrap();

    let sent = campaign_texts(&twilio);
    assert_eq!(sent.len(), 1, "a redelivered campaign event sends nothing: {sent:#?}");
    assert_eq!(sent[0].field("To"), Some("+393331234567"));
    assert_eq!(sent[0].field("Body").unwrap(), format!("{TEXT}\nRispondi STOP per non ricevere più messaggi."));
    let callback = format!("{PUBLIC_BASE}/status?campaign={SPRING}&customer={giulia}");
    assert_eq!(sent[0].field("StatusCallback"), Some(callback.as_str()));
    let r = record(&h, SPRING, &giulia).unwrap();
    assert_eq!(
        (r["state"].as_str(), r["text"].as_str(), r["order_id"].as_str()),
        (Some("accepted"), Some("campaign"), Some(SPRING))
    );
    assert!(r["encoding"] == "UCS-2" || r["encoding"] == "GSM-7", "{r}");

    let path = callback.strip_prefix(PUBLIC_BASE).unwrap();
    let sid = r["sid"].as_str().unwrap();
    let answer = webhook(&h, path, &[("MessageSid", sid), ("MessageStatus", "delivered")], AUTH_TOKEN);
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert_eq!(record(&h, SPRING, &giulia).unwrap()["status"], "delivered");
    twilio.assert_conformant();
}

#[test]
fn consent_is_read_when_the_text_goes_not_when_the_campaign_started() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    let giulia = customer(&h, GIULIA);
    // She texted STOP after the campaign was expanded.
    let web = h.web_channel().unwrap();
    h.core()
        .set_consent(h.tenant(), &giulia, ConsentPurpose::SmsMarketing, false, Some(&web), "sms stop", h.now_ms())
        .unwrap();
    h.event(campaign_event(SPRING, &giulia, 0)).unwrap();
    assert!(campaign_texts(&twilio).is_empty(), "no request at all");
    let r = record(&h, SPRING, &giulia).unwrap();
    assert_eq!(r["state"], "skipped");
    assert_eq!(r["reason"], "the customer has no SMS consent");
    // Consent given again later does not revive the skipped text.
    h.core()
        .set_consent(h.tenant(), &giulia, ConsentPurpose::SmsMarketing, true, Some(&web), "sms start", h.now_ms())
        .unwrap();
    h.event(campaign_event(SPRING, &giulia, 1)).unwrap();
    assert!(campaign_texts(&twilio).is_empty());
}

#[test]
fn texts_due_at_night_wait_for_eight_in_the_morning_in_the_shops_time_zone() {
    let twilio = Twilio::start();
    // 2026-03-02 10:00 UTC is 11:00 in Rome; 21:30 UTC is 22:30 there.
    let h = shop(&twilio, &[]);
    let giulia = customer(&h, GIULIA);
    h.advance(std::time::Duration::from_secs(11 * 3600 + 1800));
    match h.event(campaign_event(SPRING, &giulia, 0)) {
        Err(CallError::Plugin(PluginError::RetryLater(secs))) => {
            assert_eq!(secs, 9 * 3600 + 1800, "until 08:00 in Rome, 07:00 UTC")
        }
        other => panic!("a text at 22:30 waits: {other:?}"),
    }
    assert!(campaign_texts(&twilio).is_empty());
    assert_eq!(record(&h, SPRING, &giulia), None, "nothing recorded while it waits");
    h.advance(std::time::Duration::from_secs(9 * 3600 + 1800));
    h.event(campaign_event(SPRING, &giulia, 1)).unwrap();
    assert_eq!(campaign_texts(&twilio).len(), 1, "sent at 08:00");

    // In New York 22:30 in Rome is 16:30: it goes at once.
    let twilio = Twilio::start();
    let h = shop(&twilio, &[("time_zone", "America/New_York")]);
    let giulia = customer(&h, GIULIA);
    h.advance(std::time::Duration::from_secs(11 * 3600 + 1800));
    h.event(campaign_event(SPRING, &giulia, 0)).unwrap();
    assert_eq!(campaign_texts(&twilio).len(), 1);
}

#[test]
fn a_time_zone_that_does_not_exist_is_named_and_nothing_is_sent() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[("time_zone", "Europe/Atlantide")]);
    let giulia = customer(&h, GIULIA);
    match h.event(campaign_event(SPRING, &giulia, 0)) {
        Err(CallError::Plugin(PluginError::Internal(why))) => {
            assert!(why.contains("`time_zone`") && why.contains("Europe/Atlantide"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    assert!(campaign_texts(&twilio).is_empty());
}
