//! The order mails: placed (the receipt), ready for pickup, shipped. Each
//! goes at most once per order, to the e-mail the order was placed with.
//!
//! Once is kept by a claim in the plugin's storage (`sent/<order>/<mail>`),
//! taken with compare-and-set before the mail is handed to the host: a
//! redelivered event, or two deliveries at once, find it taken and send
//! nothing. The host's queue is the transport, so a claim whose send failed
//! is released and the event retried; a crash between claim and send loses
//! that mail rather than risk sending it twice.

use omnistore_sdk::mail::{self, Message};
use omnistore_sdk::{Event, EventPayload, Fulfillment, Order, OrderStatus, PluginError, locations, settings, storage};

use crate::config::Config;
use crate::templates::{one_line, render_part};
use crate::vars::order_vars;

/// The mail an event calls for, by its template name.
pub fn mail_for(event: &Event) -> Option<(&Order, &'static str)> {
    match &event.payload {
        EventPayload::OrderPlaced(order) => Some((order, "order_placed")),
        EventPayload::OrderUpdated(order) => match order.status {
            OrderStatus::ReadyForPickup => Some((order, "ready_for_pickup")),
            OrderStatus::Shipped => Some((order, "shipped")),
            _ => None,
        },
        _ => None,
    }
}

pub fn handle(event: &Event) -> Result<(), PluginError> {
    match &event.payload {
        EventPayload::CampaignMessage(message) => return crate::campaign::deliver(message),
        EventPayload::OrderUpdated(order) if crate::survey::asks_about(order) => return crate::survey::send(order),
        _ => {}
    }
    match mail_for(event) {
        Some((order, mail)) => send(order, mail),
        None => Ok(()),
    }
}

const CLAIMED: &[u8] = b"sending";

fn send(order: &Order, mail: &str) -> Result<(), PluginError> {
    let Some(to) = order.email.as_deref().map(str::trim).filter(|e| e.contains('@')) else {
        omnistore_sdk::info!("the order has no e-mail address; nothing sent", order = order.number, mail = mail);
        return Ok(());
    };
    let key = format!("sent/{}/{mail}", order.id);
    if storage::get(&key)?.is_some() {
        return Ok(());
    }
    let config = Config::read()?;
    let locations = match order.fulfillment {
        Fulfillment::Pickup(_) | Fulfillment::ShipToStore(_) => locations::all()?,
        Fulfillment::Ship(_) => vec![],
    };
    let vars = order_vars(&settings::shop().name, &config.shop_url, order, &locations, config.language);
    let subject = one_line(&render_part(config.language, mail, "subject", &vars)?);
    let text = render_part(config.language, mail, "txt", &vars)?;
    let html = render_part(config.language, mail, "html", &vars)?;
    let mut message = Message::new(to, &subject, text.trim()).with_html(&html);
    if let Some(reply_to) = &config.reply_to {
        message = message.with_header("Reply-To", reply_to);
    }
    if send_once(&key, &message)?.is_some() {
        omnistore_sdk::info!("e-mail queued", order = order.number, mail = mail);
    }
    Ok(())
}

/// Hand `message` to the host unless the claim `key` is taken: `Some` with
/// the host's message id when this call sent it, `None` when another
/// delivery already had.
pub fn send_once(key: &str, message: &Message) -> Result<Option<String>, PluginError> {
    if !storage::compare_and_set(key, None, Some(CLAIMED))? {
        // Another delivery of the same event claimed it first.
        return Ok(None);
    }
    match mail::send(message) {
        Ok(id) => {
            storage::set(key, format!("sent {id}").as_bytes())?;
            Ok(Some(id))
        }
        Err(e) => {
            // Release the claim so the retried event can send it.
            storage::compare_and_set(key, Some(CLAIMED), None)?;
            Err(e.into())
        }
    }
}
