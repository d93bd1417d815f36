//! Campaign mail: the message the core rendered for one customer, sent at
//! most once per (campaign, customer), only while the customer consents to
//! marketing e-mail, with RFC 8058 one-click unsubscribe.
//!
//! The core skips customers without consent when it expands a campaign, but
//! consent can be withdrawn between then and this delivery (a click on an
//! earlier mail's link, a STOP answered elsewhere): consent is read again
//! here, just before the mail is queued.

use omnistore_sdk::mail::Message;
use omnistore_sdk::{
    CampaignMessage, ConsentPurpose, Customer, HostError, IdentityKind, PluginError, customers, html, settings,
};
use serde_json::json;

use crate::config::Config;
use crate::send::send_once;
use crate::templates::{one_line, render_part};
use crate::unsubscribe;

/// Whether the customer consents to marketing e-mail now.
pub fn consents(customer: &Customer) -> bool {
    customer.consents.iter().any(|c| c.purpose == ConsentPurpose::EmailMarketing && c.granted)
}

/// The customer's first e-mail address.
pub fn email_of(customer: &Customer) -> Option<&str> {
    customer.identities.iter().find(|i| i.kind == IdentityKind::Email).map(|i| i.value.as_str())
}

pub fn deliver(m: &CampaignMessage) -> Result<(), PluginError> {
    let key = format!("campaign/{}/{}", m.campaign_id, m.customer_id);
    if omnistore_sdk::storage::get(&key)?.is_some() {
        return Ok(());
    }
    let customer = match customers::customer(&m.customer_id()) {
        Ok(c) => c,
        Err(HostError::NotFound(_)) => {
            omnistore_sdk::info!("the campaign's customer is gone; nothing sent", campaign = m.campaign_id);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if !consents(&customer) {
        omnistore_sdk::info!(
            "the customer withdrew marketing consent before delivery; nothing sent",
            campaign = m.campaign_id
        );
        return Ok(());
    }
    let Some(to) = email_of(&customer) else {
        omnistore_sdk::info!("the campaign's customer has no e-mail address; nothing sent", campaign = m.campaign_id);
        return Ok(());
    };
    let config = Config::read()?;
    let shop = settings::shop();
    let link = unsubscribe::link(&config.public_url, &customer.id);
    let vars = json!({ "shop": { "name": shop.name, "url": config.shop_url }, "unsubscribe_url": link });
    let text_footer = render_part(config.language, "campaign_footer", "txt", &vars)?;
    let html_footer = render_part(config.language, "campaign_footer", "html", &vars)?;
    let text = format!("{}\n{}", m.text.trim_end(), text_footer.trim_end());
    let html = with_footer(m.html.as_deref(), &m.text, &html_footer);
    let mut message = Message::new(to, &one_line(&m.subject), &text).with_html(&html);
    let mailbox = config.unsubscribe_mailbox.clone().or(shop.contact_email);
    message = message
        .with_header("List-Unsubscribe", &list_unsubscribe(&link, mailbox.as_deref(), &customer.id))
        .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    if let Some(reply_to) = &config.reply_to {
        message = message.with_header("Reply-To", reply_to);
    }
    if send_once(&key, &message)?.is_some() {
        omnistore_sdk::info!("campaign e-mail queued", campaign = m.campaign_id);
    }
    Ok(())
}

/// The `List-Unsubscribe` value: the one-click https address first (RFC
/// 8058 needs it), then a `mailto:` when the shop has a mailbox for it.
pub fn list_unsubscribe(link: &str, mailbox: Option<&str>, customer_id: &str) -> String {
    let mut value = format!("<{link}>");
    if let Some(mailbox) = mailbox {
        value.push_str(&format!(", <mailto:{mailbox}?subject=unsubscribe%20{customer_id}>"));
    }
    value
}

/// The campaign's HTML with the unsubscribe footer before `</body>`; a
/// message without HTML gets its text as escaped paragraphs.
pub fn with_footer(html: Option<&str>, text: &str, footer: &str) -> String {
    match html {
        Some(html) => match html.to_ascii_lowercase().rfind("</body>") {
            Some(at) => format!("{}{footer}{}", &html[..at], &html[at..]),
            None => format!("{html}\n{footer}"),
        },
        None => {
            let paragraphs: String = text
                .split("\n\n")
                .filter(|p| !p.trim().is_empty())
                .map(|p| format!("<p>{}</p>\n", html::escape(p.trim()).replace('\n', "<br>")))
                .collect();
            format!(
                "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 600px; margin: 0 auto;\">\n{paragraphs}{footer}</body>\n</html>\n"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_goes_before_the_body_end_and_text_is_escaped() {
        let html = with_footer(Some("<html><BODY><p>Hi</p></BODY></html>"), "Hi", "<p>F</p>");
        assert_eq!(html, "<html><BODY><p>Hi</p><p>F</p></BODY></html>");
        let html = with_footer(None, "Saldi <oggi>\nsolo\n\nA & B", "<p>F</p>");
        assert!(html.contains("<p>Saldi &lt;oggi&gt;<br>solo</p>\n<p>A &amp; B</p>\n<p>F</p></body>"), "{html}");
    }

    #[test]
    fn one_click_first_then_mailto() {
        assert_eq!(
            list_unsubscribe("https://s.example/email/unsubscribe?t=x", None, "cus-1"),
            "<https://s.example/email/unsubscribe?t=x>"
        );
        assert_eq!(
            list_unsubscribe("https://s.example/u", Some("stop@s.example"), "cus-1"),
            "<https://s.example/u>, <mailto:stop@s.example?subject=unsubscribe%20cus-1>"
        );
    }
}
