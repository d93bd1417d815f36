//! Order mails: queued once, in the merchant's language, with the order's
//! lines and total in both parts, to the order's e-mail without marketing
//! consent; merchant templates override the bundled ones, broken ones don't
//! stop the mail.

use omnistore_core::Order;

use crate::shop::{SHOP_URL, next_event, place_order, shop};

const GIULIA: &str = "giulia@example.com";

/// The total as the Italian texts show it (`12,50 €`; the demo prices are under 1000 €).
fn euros_it(m: &omnistore_core::Money) -> String {
    format!("{},{:02} €", m.amount_minor / 100, m.amount_minor % 100)
}

fn euros_en(m: &omnistore_core::Money) -> String {
    format!("€{}.{:02}", m.amount_minor / 100, m.amount_minor % 100)
}

fn cannolo(order: &Order) -> &str {
    assert_eq!(order.lines.len(), 1);
    &order.lines[0].title
}

#[test]
fn the_receipt_goes_in_italian_with_the_lines_and_total_in_both_parts() {
    let h = shop(&[("reply_to", "ordini@dolcevita.example")]);
    let order = place_order(&h, Some(GIULIA), false);
    let event = next_event(&h);
    assert_eq!(event.kind, "order.placed");
    h.event(event).unwrap();

    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    let m = &mail[0];
    assert_eq!(m.to, [GIULIA], "to the order's e-mail, with no marketing consent");
    assert_eq!(m.subject, format!("Pasticceria Dolce Vita: abbiamo ricevuto il tuo ordine n. {}", order.number));
    let total = euros_it(&order.total);
    let unit = euros_it(&order.lines[0].unit_price);
    let title = cannolo(&order);
    assert!(m.text.contains(&format!("2 × {title}")), "{}", m.text);
    assert!(m.text.contains(&unit) && m.text.contains(&format!("Totale: {total}")), "{}", m.text);
    assert!(!m.text.contains('<'), "the text part is plain: {}", m.text);
    let html = m.html.as_deref().expect("an HTML part");
    let escaped_title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    assert!(html.contains(&escaped_title), "{html}");
    assert!(html.contains(&unit) && html.contains(&total), "{html}");
    assert!(html.contains(&format!("href=\"{SHOP_URL}\"")), "links are absolute: {html}");
    assert!(html.contains("Negozio"), "the pickup shop: {html}");
    assert!(
        m.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("reply-to") && v == "ordini@dolcevita.example"),
        "{:?}",
        m.headers
    );
}

#[test]
fn english_when_the_merchant_chooses_it() {
    let h = shop(&[("language", "en")]);
    let order = place_order(&h, Some(GIULIA), true);
    h.event(next_event(&h)).unwrap();
    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject, format!("Pasticceria Dolce Vita: we received your order no. {}", order.number));
    let total = euros_en(&order.total);
    assert!(mail[0].text.contains(&format!("Total: {total}")), "{}", mail[0].text);
    assert!(mail[0].html.as_deref().unwrap().contains(&total));
}

#[test]
fn a_redelivered_event_sends_nothing_twice() {
    let h = shop(&[]);
    place_order(&h, Some(GIULIA), false);
    let event = next_event(&h);
    h.event(event.clone()).unwrap();
    h.event(event).unwrap();
    assert_eq!(h.mail().unwrap().len(), 1);
}

#[test]
fn ready_for_pickup_names_the_location_and_shipped_follows() {
    let h = shop(&[]);
    let order = place_order(&h, Some(GIULIA), false);
    h.event(next_event(&h)).unwrap();
    h.core().mark_ready_for_pickup(h.tenant(), &order.id, h.now_ms()).unwrap();
    let ready = next_event(&h);
    assert_eq!(ready.kind, "order.updated");
    h.event(ready.clone()).unwrap();
    h.event(ready).unwrap();

    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 2, "receipt and one ready mail: {mail:#?}");
    let m = &mail[1];
    assert_eq!(m.subject, format!("Pasticceria Dolce Vita: il tuo ordine n. {} è pronto per il ritiro", order.number));
    assert!(m.text.contains("presso Negozio, Via dei Dolci 1"), "{}", m.text);
    assert!(m.html.as_deref().unwrap().contains("<strong>Negozio</strong>, Via dei Dolci 1"));
}

#[test]
fn a_shipped_order_gets_the_shipped_mail() {
    let h = shop(&[]);
    let order = place_order(&h, Some(GIULIA), true);
    h.event(next_event(&h)).unwrap();
    h.core().mark_shipped(h.tenant(), &order.id, Some("TRK1"), h.now_ms()).unwrap();
    h.event(next_event(&h)).unwrap();
    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[1].subject, format!("Pasticceria Dolce Vita: il tuo ordine n. {} è stato spedito", order.number));
    assert!(mail[1].text.contains(&format!("2 × {}", cannolo(&order))), "{}", mail[1].text);
}

#[test]
fn a_merchant_file_changes_the_subject() {
    let h = shop(&[]);
    h.put_draft_file(
        "templates/it/order_placed.subject.liquid",
        b"Grazie {{ shop.name }}! Ordine #{{ order.number }}\n",
    )
    .unwrap();
    assert_eq!(h.publish_files().unwrap(), 1);
    let order = place_order(&h, Some(GIULIA), false);
    h.event(next_event(&h)).unwrap();
    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject, format!("Grazie Pasticceria Dolce Vita! Ordine #{}", order.number));
    assert!(mail[0].text.contains("Totale: "), "the other parts stay bundled: {}", mail[0].text);
}

#[test]
fn a_broken_merchant_file_falls_back_to_the_bundled_template() {
    let h = shop(&[]);
    h.put_draft_file("templates/it/order_placed.subject.liquid", b"Ordine {% if %}").unwrap();
    h.put_draft_file("templates/it/order_placed.html.liquid", b"<p>{% for line in order.lines %}{{ line.title }}</p>")
        .unwrap();
    assert_eq!(h.publish_files().unwrap(), 2);
    let order = place_order(&h, Some(GIULIA), false);
    h.event(next_event(&h)).unwrap();
    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 1, "the mail still goes");
    assert_eq!(mail[0].subject, format!("Pasticceria Dolce Vita: abbiamo ricevuto il tuo ordine n. {}", order.number));
    let html = mail[0].html.as_deref().unwrap();
    assert!(html.contains(&euros_it(&order.total)), "{html}");
}

#[test]
fn an_order_without_an_email_gets_no_mail() {
    let h = shop(&[]);
    place_order(&h, None, false);
    h.event(next_event(&h)).unwrap();
    assert!(h.mail().unwrap().is_empty());
}

/// Every event waiting for the channel, delivered (twice, as a redelivery would).
fn deliver_pending(h: &omnistore_sdk_harness::Harness) -> Vec<String> {
    let events = h.pending_events().unwrap();
    for event in &events {
        h.event(event.clone()).unwrap();
        h.event(event.clone()).unwrap();
    }
    events.into_iter().map(|e| e.kind).collect()
}

#[test]
fn each_return_gets_one_mail_with_what_came_back_and_the_refund() {
    use omnistore_core::{Disposition, ReturnLineRequest, ReturnRequest};
    let h = shop(&[]);
    let order = place_order(&h, Some(GIULIA), true);
    h.core().mark_shipped(h.tenant(), &order.id, Some("TRK1"), h.now_ms()).unwrap();
    deliver_pending(&h);
    let negozio = h.core().list_locations(h.tenant()).unwrap().into_iter().find(|l| l.name == "Negozio").unwrap();
    let give_back = |disposition| ReturnRequest {
        location_id: negozio.id.clone(),
        lines: vec![ReturnLineRequest { line_no: order.lines[0].line_no, quantity: 1, disposition }],
        reason: None,
    };
    let first = h.core().receive_return(h.tenant(), &order.id, give_back(Disposition::Restock), h.now_ms()).unwrap();
    let kinds = deliver_pending(&h);
    assert!(kinds.contains(&"return.received".to_string()), "{kinds:?}");

    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 3, "receipt, shipped, one return mail: {mail:#?}");
    let m = &mail[2];
    assert_eq!(m.to, [GIULIA]);
    assert_eq!(m.subject, format!("Pasticceria Dolce Vita: abbiamo ricevuto il reso dell'ordine n. {}", order.number));
    let refund = euros_it(&first.refund_total);
    assert!(m.text.contains("presso Negozio"), "{}", m.text);
    assert!(m.text.contains(&format!("1 × {}: rimborso {refund}", cannolo(&order))), "{}", m.text);
    assert!(m.text.contains(&format!("Rimborso totale: {refund}")), "{}", m.text);
    assert!(m.html.as_deref().unwrap().contains(&refund), "{:?}", m.html);

    // The other unit comes back later, written off: a second return, a second mail.
    let second = h.core().receive_return(h.tenant(), &order.id, give_back(Disposition::WriteOff), h.now_ms()).unwrap();
    deliver_pending(&h);
    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 4, "{mail:#?}");
    assert!(mail[3].text.contains(&format!("Rimborso totale: {}", euros_it(&second.refund_total))), "{}", mail[3].text);
}

#[test]
fn the_return_mail_in_english() {
    use omnistore_core::{Disposition, ReturnLineRequest, ReturnRequest};
    let h = shop(&[("language", "en")]);
    let order = place_order(&h, Some(GIULIA), true);
    h.core().mark_shipped(h.tenant(), &order.id, None, h.now_ms()).unwrap();
    deliver_pending(&h);
    let negozio = h.core().list_locations(h.tenant()).unwrap().into_iter().find(|l| l.name == "Negozio").unwrap();
    let request = ReturnRequest {
        location_id: negozio.id,
        lines: vec![ReturnLineRequest {
            line_no: order.lines[0].line_no,
            quantity: 2,
            disposition: Disposition::Restock,
        }],
        reason: Some("changed my mind".into()),
    };
    let ret = h.core().receive_return(h.tenant(), &order.id, request, h.now_ms()).unwrap();
    deliver_pending(&h);
    let mail = h.mail().unwrap();
    let m = mail.last().unwrap();
    assert_eq!(m.subject, format!("Pasticceria Dolce Vita: we received the return of order no. {}", order.number));
    assert!(m.text.contains(&format!("Total refund: {}", euros_en(&ret.refund_total))), "{}", m.text);
    assert!(m.text.contains(" at Negozio"), "{}", m.text);
}
