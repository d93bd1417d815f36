//! The satisfaction survey, when the merchant switches it on (setting
//! `satisfaction_survey`): after a pickup or ship-to-store order is
//! completed, one e-mail asks "how likely are you to recommend us?" with a
//! link per score, 0 to 10.
//!
//! A score link opens a page that sends the score by itself (a form posted
//! by a line of script, with its button for browsers without script): the
//! customer clicks once, while mail scanners, which fetch links but run no
//! script, record nothing. The link carries the order id signed with the
//! installation's key; the score is recorded in the core for that order
//! (`orders.record-satisfaction`), a later click replacing an earlier one.

use omnistore_sdk::cookie::CookieKey;
use omnistore_sdk::mail::Message;
use omnistore_sdk::url::percent_encode;
use omnistore_sdk::{
    Fulfillment, HostError, Order, OrderId, OrderStatus, Params, PluginError, Request, Response, locations, orders,
    settings,
};
use serde_json::{Value, json};

use crate::config::Config;
use crate::send::send_once;
use crate::templates::{link_page, one_line, render_part};
use crate::vars::order_vars;

/// What a survey token's signature is bound to.
const PURPOSE: &str = "email-survey";
const MAX_SCORE: u8 = 10;

/// Whether the order is one the survey asks about: collected at a shop.
pub fn asks_about(order: &Order) -> bool {
    order.status == OrderStatus::Completed
        && matches!(order.fulfillment, Fulfillment::Pickup(_) | Fulfillment::ShipToStore(_))
}

pub fn token(key: &CookieKey, order: &str) -> String {
    key.sign(PURPOSE, order)
}

pub fn order_of(key: &CookieKey, token: &str) -> Option<String> {
    key.verify(PURPOSE, token).filter(|o| !o.is_empty())
}

/// A score from the link: 0 to 10, nothing else.
pub fn score_of(text: &str) -> Option<u8> {
    let text = text.trim();
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|s| *s <= MAX_SCORE)
}

/// Send the survey for a completed order, once, when the merchant wants it.
pub fn send(order: &Order) -> Result<(), PluginError> {
    let config = Config::read()?;
    if !config.survey || !asks_about(order) {
        return Ok(());
    }
    let Some(to) = order.email.as_deref().map(str::trim).filter(|e| e.contains('@')) else {
        return Ok(());
    };
    let key = format!("sent/{}/survey", order.id);
    if omnistore_sdk::storage::get(&key)?.is_some() {
        return Ok(());
    }
    let signed = percent_encode(&token(&CookieKey::installation(), &order.id));
    let scores: Vec<Value> = (0..=MAX_SCORE)
        .map(|s| json!({ "score": s, "url": format!("{}/survey?s={s}&t={signed}", config.public_url) }))
        .collect();
    let mut vars = order_vars(&settings::shop().name, &config.shop_url, order, &locations::all()?, config.language);
    vars["scores"] = Value::Array(scores);
    let subject = one_line(&render_part(config.language, "survey", "subject", &vars)?);
    let text = render_part(config.language, "survey", "txt", &vars)?;
    let html = render_part(config.language, "survey", "html", &vars)?;
    let mut message = Message::new(to, &subject, text.trim()).with_html(&html);
    if let Some(reply_to) = &config.reply_to {
        message = message.with_header("Reply-To", reply_to);
    }
    if send_once(&key, &message)?.is_some() {
        omnistore_sdk::info!("satisfaction survey queued", order = order.number);
    }
    Ok(())
}

/// `GET /survey?s=…&t=…`: the page that posts the score.
pub fn page(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    let config = Config::read()?;
    match answer(req) {
        Some((_, score)) => render(&config, "ask", Some(score), req),
        None => render(&config, "invalid", None, req),
    }
}

/// `POST /survey?s=…&t=…`: the score recorded.
pub fn record(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    let config = Config::read()?;
    let Some((order, score)) = answer(req) else { return render(&config, "invalid", None, req) };
    match orders::record_satisfaction(order.as_str(), score) {
        Ok(()) => {
            omnistore_sdk::info!("a satisfaction score was recorded", score = score.to_string());
            render(&config, "done", Some(score), req)
        }
        // Unknown to this channel, or not completed: the link is not one to answer.
        Err(HostError::NotFound(_) | HostError::Invalid(_)) => render(&config, "invalid", None, req),
        Err(e) => Err(e.into()),
    }
}

fn answer(req: &Request) -> Option<(OrderId, u8)> {
    let order = order_of(&CookieKey::installation(), &req.query_param("t")?)?;
    Some((OrderId::new(order), score_of(&req.query_param("s")?)?))
}

fn render(config: &Config, state: &str, score: Option<u8>, req: &Request) -> Result<Response, PluginError> {
    let action = format!(
        "survey?s={}&t={}",
        percent_encode(&req.query_param("s").unwrap_or_default()),
        percent_encode(&req.query_param("t").unwrap_or_default())
    );
    link_page(config.language, "survey_page", json!({ "score": score, "action": action }), state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_whole_numbers_from_0_to_10() {
        for (text, want) in [("0", Some(0)), ("10", Some(10)), (" 7 ", Some(7)), ("07", Some(7))] {
            assert_eq!(score_of(text), want, "{text}");
        }
        for bad in ["", "11", "-1", "100", "7.5", "+7", "sette", "1 0"] {
            assert_eq!(score_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_token_names_its_order_and_is_no_unsubscribe_token() {
        let key = CookieKey::new(&[5; 32]).unwrap();
        let t = token(&key, "ord-1");
        assert_eq!(order_of(&key, &t).as_deref(), Some("ord-1"));
        assert_eq!(order_of(&key, &crate::unsubscribe::token(&key, "ord-1")), None);
        assert_eq!(crate::unsubscribe::customer_of(&key, &t), None);
    }
}
