//! Campaign mail: once per campaign and customer, only with marketing
//! consent read at the moment of sending, with RFC 8058 one-click
//! unsubscribe that really withdraws consent, once, and a visible link whose
//! page does not unsubscribe on a mere visit.

use omnistore_core::{ConsentPurpose, CustomerId, Identity, Reach};
use omnistore_sdk_harness::types::{CampaignMessage, Event, EventPayload};
use omnistore_sdk_harness::{Harness, TestResponse};

use crate::shop::{SHOP_URL, shop};

const SPRING: &str = "primavera-26";
const SUBJECT: &str = "La colomba è arrivata";

/// A customer known by `email`, with or without marketing e-mail consent,
/// handed to the channel as the campaign's event hands its recipient.
fn customer(h: &Harness, email: &str, consent: bool) -> CustomerId {
    let (core, tenant, now) = (h.core(), h.tenant(), h.now_ms());
    let c = core.identify(tenant, &Identity::email(email).unwrap(), Some("Giulia Rossi"), now).unwrap();
    let web = h.web_channel().unwrap();
    core.set_consent(tenant, &c.id, ConsentPurpose::EmailMarketing, consent, Some(&web), "checkout checkbox", now)
        .unwrap();
    core.grant_customer_reach(tenant, &h.channel(), &c.id, Reach::Handed, now).unwrap();
    c.id
}

fn campaign_event(campaign: &str, customer: &CustomerId, html: Option<&str>) -> Event {
    Event {
        id: format!("evt-{campaign}-{customer}"),
        kind: "campaign.message".into(),
        occurred_at: 0,
        attempt: 0,
        payload: EventPayload::CampaignMessage(CampaignMessage {
            campaign_id: campaign.into(),
            customer_id: customer.to_string(),
            subject: SUBJECT.into(),
            text: "Ciao Giulia,\nla colomba artigianale è in negozio.".into(),
            html: html.map(str::to_string),
        }),
    }
}

fn consents(h: &Harness, c: &CustomerId) -> bool {
    h.core().get_customer(h.tenant(), c).unwrap().has_consent(ConsentPurpose::EmailMarketing)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The https address in `List-Unsubscribe`, as the path the plugin serves.
fn one_click_path(list_unsubscribe: &str) -> String {
    let https = list_unsubscribe.split(',').map(str::trim).find(|u| u.starts_with("<https://")).unwrap();
    let url = https.trim_start_matches('<').trim_end_matches('>');
    url.strip_prefix(&format!("{SHOP_URL}/email"))
        .unwrap_or_else(|| panic!("under the installation: {url}"))
        .to_string()
}

/// A mail client's one-click unsubscribe (RFC 8058 §3.2).
fn one_click(h: &Harness, path: &str) -> TestResponse {
    let mut req = omnistore_sdk_harness::request("POST", path, b"List-Unsubscribe=One-Click".to_vec());
    req.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
    h.request(req).unwrap()
}

#[test]
fn a_campaign_mail_goes_once_with_one_click_unsubscribe_that_withdraws_consent_once() {
    let h = shop(&[("unsubscribe_mailbox", "disiscrizioni@dolcevita.example")]);
    let giulia = customer(&h, "giulia@example.com", true);
    let event = campaign_event(SPRING, &giulia, Some("<html><body><p>Ciao Giulia</p></body></html>"));
    h.event(event.clone()).unwrap();
    h.event(event).unwrap();

    let mail = h.mail().unwrap();
    assert_eq!(mail.len(), 1, "a redelivered campaign event sends nothing: {mail:#?}");
    let m = &mail[0];
    assert_eq!((m.to.as_slice(), m.subject.as_str()), (["giulia@example.com".to_string()].as_slice(), SUBJECT));
    let list = header(&m.headers, "List-Unsubscribe").expect("List-Unsubscribe");
    assert_eq!(header(&m.headers, "List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    assert!(list.starts_with(&format!("<{SHOP_URL}/email/unsubscribe?t=")), "{list}");
    assert!(
        list.ends_with(&format!(", <mailto:disiscrizioni@dolcevita.example?subject=unsubscribe%20{giulia}>")),
        "{list}"
    );
    let path = one_click_path(list);
    let link = format!("{SHOP_URL}/email{path}");
    assert!(m.text.starts_with("Ciao Giulia,\nla colomba"), "{}", m.text);
    assert!(m.text.contains(&link), "a visible link in the text: {}", m.text);
    let html = m.html.as_deref().unwrap();
    assert!(html.contains(&format!("href=\"{}\"", link.replace('&', "&amp;"))), "{html}");
    assert!(html.find("Annulla l'iscrizione").unwrap() < html.find("</body>").unwrap(), "{html}");

    let answer = one_click(&h, &path);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("non riceverai più"), "{}", answer.text());
    assert!(!consents(&h, &giulia), "one click withdraws marketing consent");
    let history = h.core().consent_history(h.tenant(), &giulia).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.purpose, last.granted, last.channel_id.as_ref()),
        (ConsentPurpose::EmailMarketing, false, Some(&h.channel()))
    );

    let again = one_click(&h, &path);
    assert_eq!(again.status, 200, "a second click is harmless");
    assert_eq!(h.core().consent_history(h.tenant(), &giulia).unwrap().len(), history.len(), "and records nothing");

    // The next campaign does not reach her.
    h.event(campaign_event("estate-26", &giulia, None)).unwrap();
    assert_eq!(h.mail().unwrap().len(), 1);
}

#[test]
fn without_marketing_consent_no_campaign_mail_is_queued() {
    let h = shop(&[]);
    let never = customer(&h, "mai@example.com", false);
    h.event(campaign_event(SPRING, &never, None)).unwrap();
    assert!(h.mail().unwrap().is_empty());
    // Consent withdrawn between the campaign's start and the delivery.
    let late = customer(&h, "tardi@example.com", true);
    let web = h.web_channel().unwrap();
    h.core()
        .set_consent(h.tenant(), &late, ConsentPurpose::EmailMarketing, false, Some(&web), "account page", h.now_ms())
        .unwrap();
    h.event(campaign_event(SPRING, &late, None)).unwrap();
    assert!(h.mail().unwrap().is_empty());
}

#[test]
fn a_plain_text_campaign_gets_an_html_part_with_the_link_and_no_mailto_without_a_mailbox() {
    let h = shop(&[("language", "en")]);
    let giulia = customer(&h, "giulia@example.com", true);
    h.event(campaign_event(SPRING, &giulia, None)).unwrap();
    let m = &h.mail().unwrap()[0];
    let list = header(&m.headers, "List-Unsubscribe").unwrap();
    let shop_mail = h.core().get_tenant(h.tenant()).ok().and_then(|t| t.contact_email);
    match shop_mail {
        Some(addr) => assert!(list.contains(&format!("<mailto:{addr}?")), "the shop's contact: {list}"),
        None => assert!(!list.contains("mailto:"), "{list}"),
    }
    let html = m.html.as_deref().unwrap();
    assert!(html.contains("<p>Ciao Giulia,<br>la colomba artigianale è in negozio.</p>"), "{html}");
    assert!(html.contains(">Unsubscribe</a>"), "{html}");
    assert!(m.text.contains("To stop receiving them: https://"), "{}", m.text);
}

#[test]
fn the_link_shows_a_page_and_only_its_button_unsubscribes_and_forged_links_change_nothing() {
    let h = shop(&[]);
    let giulia = customer(&h, "giulia@example.com", true);
    let other = customer(&h, "altro@example.com", true);
    h.event(campaign_event(SPRING, &giulia, None)).unwrap();
    let path = one_click_path(header(&h.mail().unwrap()[0].headers, "List-Unsubscribe").unwrap());

    let page = h.get(&path).unwrap();
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("<form method=\"post\"") && text.contains("<button type=\"submit\">"), "{text}");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(consents(&h, &giulia), "visiting the link (a mail scanner does) unsubscribes nobody");

    let token = path.split("t=").nth(1).unwrap().to_string();
    let flipped = if token.ends_with('0') { "1" } else { "0" };
    let forged = [
        format!("/unsubscribe?t={}", token.replace(giulia.as_str(), other.as_str())),
        format!("/unsubscribe?t={other}"),
        "/unsubscribe?t=".to_string(),
        "/unsubscribe".to_string(),
        format!("/unsubscribe?t={}{flipped}", &token[..token.len() - 1]),
    ];
    for path in &forged {
        let answer = one_click(&h, path);
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert!(answer.text().contains("non è valido"), "{}", answer.text());
        assert_eq!(h.get(path).unwrap().status, 404, "{path}");
    }
    assert!(consents(&h, &giulia) && consents(&h, &other), "nothing changed");
}
