//! The order mails: placed (the receipt), ready for pickup, shipped, and
//! return received. Each goes at most once per order (a return's, once per
//! return), to the e-mail the order was placed with.
//!
//! Once is kept by a claim in the plugin's storage (`sent/<order>/<mail>`,
//! `sent/<order>/return_received/<return>`),
//! taken with compare-and-set before the mail is handed to the host: a
//! redelivered event, or two deliveries at once, find it taken and send
//! nothing. The host's queue is the transport, so a claim whose send failed
//! is released and the event retried; a crash between claim and send loses
//! that mail rather than risk sending it twice.

use omnistore_sdk::mail::{self, Message};
use omnistore_sdk::{
    Event, EventPayload, Fulfillment, Order, OrderReturn, OrderStatus, PluginError, locations, settings, storage,
};

use crate::config::Config;
use crate::templates::{one_line, render_part};
use crate::vars::{order_vars, return_vars};

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
    if let EventPayload::ReturnReceived(ret) = &event.payload {
        return send_return(ret);
    }
    match mail_for(event) {
        Some((order, mail)) => send(order, mail, &format!("sent/{}/{mail}", order.id), None),
        None => Ok(()),
    }
}

fn send_return(ret: &OrderReturn) -> Result<(), PluginError> {
    let key = format!("sent/{}/return_received/{}", ret.order.id, ret.id);
    send(&ret.order, "return_received", &key, Some(ret))
}

const CLAIMED: &[u8] = b"sending";

/// Send the order mail `mail` once, claimed under `key`; a return's mail
/// gets the return's variables too.
fn send(order: &Order, mail: &str, key: &str, ret: Option<&OrderReturn>) -> Result<(), PluginError> {
    let Some(to) = order.email.as_deref().map(str::trim).filter(|e| e.contains('@')) else {
        omnistore_sdk::info!("the order has no e-mail address; nothing sent", order = order.number, mail = mail);
        return Ok(());
    };
    if storage::get(key)?.is_some() {
        return Ok(());
    }
    let config = Config::read()?;
    let locations = match (order.fulfillment.clone(), ret) {
        (_, Some(_)) | (Fulfillment::Pickup(_) | Fulfillment::ShipToStore(_), None) => locations::all()?,
        (Fulfillment::Ship(_), None) => vec![],
    };
    let mut vars = order_vars(&settings::shop().name, &config.shop_url, order, &locations, config.language);
    if let Some(ret) = ret {
        vars["return"] = return_vars(ret, &locations, config.language);
    }
    let subject = one_line(&render_part(config.language, mail, "subject", &vars)?);
    let text = render_part(config.language, mail, "txt", &vars)?;
    let html = render_part(config.language, mail, "html", &vars)?;
    let mut message = Message::new(to, &subject, text.trim()).with_html(&html);
    if let Some(reply_to) = &config.reply_to {
        message = message.with_header("Reply-To", reply_to);
    }
    if send_once(key, &message)?.is_some() {
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
