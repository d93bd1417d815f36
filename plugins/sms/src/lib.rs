//! The SMS channel: texts the shop's customers through Twilio's Messages API.
//!
//! - Events: `order.placed`, and `order.updated` when an order becomes ready
//!   for pickup or is shipped, each texted at most once per order, only to a
//!   customer with SMS consent, at a number that customer is known by
//!   (`send.rs`).
//! - `campaign.message`: a campaign's text, once per customer, only with SMS
//!   consent and never during quiet hours (`campaign.rs`).
//! - The satisfaction survey after a pickup, when switched on: a text asking
//!   for a score, and the reply with a number recorded (`survey.rs`).
//! - `POST /inbound`: Twilio's webhook for texts a customer sends; STOP and
//!   its synonyms withdraw SMS consent, START restores it, HELP is answered
//!   with the merchant's contact, in TwiML (`webhooks.rs`).
//! - `POST /status`: Twilio's delivery reports for the texts sent.
//!
//! Both webhooks must carry Twilio's signature; anything else is a 403.
//! Every call runs in a fresh instance: what must last (which texts went
//! out, their status) is in the plugin's storage (`records.rs`).

mod campaign;
mod config;
mod records;
mod send;
mod survey;
mod texts;
mod twilio;
mod twiml;
mod webhooks;

use omnistore_sdk::{Event, Plugin, PluginError, Request, Response, Router, export_plugin};

struct SmsChannel;

impl Plugin for SmsChannel {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Router::new().post("/inbound", webhooks::inbound).post("/status", webhooks::status).handle(&req)
    }

    fn on_event(event: Event) -> Result<(), PluginError> {
        send::handle(&event)
    }
}

export_plugin!(SmsChannel);
