//! The satisfaction survey by text: asked once after a pickup order is
//! collected (when switched on), answered by replying with a number within
//! seven days, the score kept by the core for that order.

use omnistore_core::Order;
use omnistore_sdk_harness::{Harness, TestResponse};

use crate::shop::{AUTH_TOKEN, FROM, Shopper, place_order, shop, webhook};
use crate::twilio::Twilio;

const PHONE: &str = "+393331234567";
const GIULIA: Shopper<'static> =
    Shopper { email: None, phone: Some(PHONE), sms_consent: true, email_consent: false, ship: false };

fn collected(h: &Harness, shopper: Shopper<'_>) -> Order {
    let order = place_order(h, shopper);
    let (core, t, now) = (h.core(), h.tenant(), h.now_ms());
    core.mark_ready_for_pickup(t, &order.id, now).unwrap();
    core.mark_completed(t, &order.id, now).unwrap();
    for event in h.pending_events().unwrap() {
        h.event(event).unwrap();
    }
    order
}

fn reply(h: &Harness, from: &str, body: &str) -> TestResponse {
    let params = [("From", from), ("To", FROM), ("Body", body), ("MessageSid", "SM0123456789abcdef0123456789abcdef")];
    webhook(h, "/inbound", &params, AUTH_TOKEN)
}

fn surveys(twilio: &Twilio) -> usize {
    twilio.sent().iter().filter(|s| s.field("Body").is_some_and(|b| b.contains("Da 0 a 10"))).count()
}

#[test]
fn a_collected_order_is_asked_once_and_a_numeric_reply_is_its_score() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[("satisfaction_survey", "on")]);
    let order = collected(&h, GIULIA);
    assert_eq!(surveys(&twilio), 1, "{:#?}", twilio.sent().iter().map(|s| s.field("Body")).collect::<Vec<_>>());
    twilio.assert_conformant();

    let answer = reply(&h, PHONE, " 9 ");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("Grazie! Il tuo voto (9)"), "{}", answer.text());
    let kept = h.core().satisfaction_of(h.tenant(), &order.id).unwrap().unwrap();
    assert_eq!((kept.score, &kept.answered_on), (9, &h.channel()));

    // A second number replaces the first; other texts are not answers.
    reply(&h, PHONE, "10");
    assert_eq!(h.core().satisfaction_of(h.tenant(), &order.id).unwrap().unwrap().score, 10);
    let other = reply(&h, PHONE, "a che ora chiudete?");
    assert!(!other.text().contains("Grazie"), "{}", other.text());
    assert_eq!(h.core().satisfaction_of(h.tenant(), &order.id).unwrap().unwrap().score, 10);
}

#[test]
fn numbers_from_someone_not_asked_or_too_late_record_nothing() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[("satisfaction_survey", "on")]);
    let order = collected(&h, GIULIA);
    let stranger = reply(&h, "+393339999999", "10");
    assert!(!stranger.text().contains("Grazie"), "{}", stranger.text());
    h.advance(std::time::Duration::from_secs(8 * 24 * 3600));
    let late = reply(&h, PHONE, "8");
    assert!(!late.text().contains("Grazie"), "{}", late.text());
    assert_eq!(h.core().satisfaction_of(h.tenant(), &order.id).unwrap(), None);
}

#[test]
fn no_survey_text_unless_switched_on() {
    let twilio = Twilio::start();
    let h = shop(&twilio, &[]);
    collected(&h, GIULIA);
    assert_eq!(surveys(&twilio), 0);
    assert!(!reply(&h, PHONE, "9").text().contains("Grazie"));
}
