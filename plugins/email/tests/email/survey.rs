//! The satisfaction survey: one e-mail after a pickup order is completed,
//! when the merchant switched it on; a score link's page posts the score
//! (a mail scanner's fetch records nothing), the core keeps it per order,
//! a later click replaces it, forged links change nothing.

use omnistore_core::Order;
use omnistore_sdk_harness::{Harness, TestResponse};

use crate::shop::{SHOP_URL, place_order, shop};

const GIULIA: &str = "giulia@example.com";

/// Every event waiting for the channel, delivered.
fn deliver_all(h: &Harness) {
    for event in h.pending_events().unwrap() {
        h.event(event).unwrap();
    }
}

/// A pickup order collected at the shop, its events delivered.
fn collected(h: &Harness, ship: bool) -> Order {
    let order = place_order(h, Some(GIULIA), ship);
    let (core, t, now) = (h.core(), h.tenant(), h.now_ms());
    if ship {
        core.mark_shipped(t, &order.id, None, now).unwrap();
    } else {
        core.mark_ready_for_pickup(t, &order.id, now).unwrap();
    }
    core.mark_completed(t, &order.id, now).unwrap();
    deliver_all(h);
    order
}

/// The link of one score in the survey's text, as the path the plugin serves.
fn score_path(text: &str, score: u8) -> String {
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{score}: ")))
        .unwrap_or_else(|| panic!("a link for {score}: {text}"));
    url.strip_prefix(&format!("{SHOP_URL}/email")).unwrap().to_string()
}

fn post(h: &Harness, path: &str) -> TestResponse {
    h.request(omnistore_sdk_harness::request("POST", path, Vec::new())).unwrap()
}

#[test]
fn a_collected_order_gets_one_survey_and_a_click_records_its_score() {
    let h = shop(&[("satisfaction_survey", "on")]);
    let order = collected(&h, false);
    let mail = h.mail().unwrap();
    let survey: Vec<_> = mail.iter().filter(|m| m.subject.contains("com'è andata")).collect();
    assert_eq!(survey.len(), 1, "{:#?}", mail.iter().map(|m| &m.subject).collect::<Vec<_>>());
    let m = survey[0];
    assert_eq!(m.to, [GIULIA]);
    assert!(m.subject.contains(&order.number.to_string()), "{}", m.subject);
    let html = m.html.as_deref().unwrap();
    assert_eq!(html.matches("/email/survey?s=").count(), 11, "a link per score: {html}");

    let nine = score_path(&m.text, 9);
    let page = h.get(&nine).unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<form method=\"post\"") && page.text().contains("9 su 10"), "{}", page.text());
    assert_eq!(h.core().satisfaction_of(h.tenant(), &order.id).unwrap(), None, "fetching the link records nothing");

    let done = post(&h, &nine);
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(done.text().contains("Grazie"), "{}", done.text());
    let answer = h.core().satisfaction_of(h.tenant(), &order.id).unwrap().unwrap();
    assert_eq!((answer.score, &answer.answered_on), (9, &h.channel()));
    let shop_location = h.core().list_locations(h.tenant()).unwrap().into_iter().find(|l| l.name == "Negozio");
    assert_eq!(answer.location_id, shop_location.map(|l| l.id));

    // A second click replaces the first; the results count one answer.
    assert_eq!(post(&h, &score_path(&m.text, 3)).status, 200);
    let results = h.core().satisfaction_results(h.tenant(), 0, i64::MAX).unwrap();
    assert_eq!((results.overall.responses, results.overall.detractors, results.overall.nps()), (1, 1, Some(-100)));

    // The event again sends nothing.
    h.core().mark_completed(h.tenant(), &order.id, h.now_ms()).ok();
    deliver_all(&h);
    assert_eq!(h.mail().unwrap().iter().filter(|m| m.subject.contains("com'è andata")).count(), 1);
}

#[test]
fn forged_or_out_of_range_links_record_nothing() {
    let h = shop(&[("satisfaction_survey", "on")]);
    let order = collected(&h, false);
    let text = h.mail().unwrap().into_iter().find(|m| m.subject.contains("com'è andata")).unwrap().text;
    let path = score_path(&text, 10);
    let token = path.split("t=").nth(1).unwrap().to_string();
    let other = place_order(&h, Some("altro@example.com"), false);
    for bad in [
        path.replace("s=10", "s=11"),
        path.replace("s=10", "s=-1"),
        path.replace(order.id.as_str(), other.id.as_str()),
        format!("/survey?s=5&t={}", &token[..token.len() - 2]),
        "/survey?s=5".to_string(),
    ] {
        let answer = post(&h, &bad);
        assert_eq!(answer.status, 404, "{bad}: {}", answer.text());
        assert!(answer.text().contains("non è valido"), "{}", answer.text());
    }
    assert_eq!(h.core().satisfaction_of(h.tenant(), &order.id).unwrap(), None);
    assert_eq!(h.core().satisfaction_of(h.tenant(), &other.id).unwrap(), None);
}

#[test]
fn no_survey_unless_switched_on_and_none_for_shipped_orders() {
    let off = shop(&[]);
    collected(&off, false);
    assert!(off.mail().unwrap().iter().all(|m| !m.subject.contains("com'è andata")));
    let on = shop(&[("satisfaction_survey", "on")]);
    collected(&on, true);
    assert!(on.mail().unwrap().iter().all(|m| !m.subject.contains("com'è andata")), "a shipped order is not asked");
}
