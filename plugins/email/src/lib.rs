//! The e-mail channel:
//!
//! - transactional mail: a receipt when an order is placed, a message when it
//!   is ready for pickup, when it has shipped and when goods of it came back
//!   (`return.received`), each sent at most once per order (or return) to the
//!   e-mail the order was placed with, without marketing consent (`send.rs`);
//! - campaign mail: the core's `campaign.message`, at most once per campaign
//!   and customer, only while the customer consents to marketing e-mail, with
//!   `List-Unsubscribe` and a visible unsubscribe link (`campaign.rs`);
//! - `GET`/`POST /unsubscribe?t=…`: the one-click unsubscribe those links
//!   reach (`unsubscribe.rs`);
//! - the satisfaction survey after a pickup, when switched on, and the
//!   `GET`/`POST /survey` its score links reach (`survey.rs`).
//!
//! The texts are Liquid templates bundled with the plugin (`templates/`), each
//! of which the merchant may replace with a file of the same path.

mod campaign;
mod config;
mod money;
mod send;
mod survey;
mod templates;
mod unsubscribe;
mod vars;

use omnistore_sdk::{Event, Plugin, PluginError, Request, Response, Router, export_plugin};

struct EmailChannel;

impl Plugin for EmailChannel {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Router::new()
            .get("/unsubscribe", unsubscribe::confirm)
            .post("/unsubscribe", unsubscribe::withdraw)
            .get("/survey", survey::page)
            .post("/survey", survey::record)
            .handle(&req)
    }

    fn on_event(event: Event) -> Result<(), PluginError> {
        send::handle(&event)
    }
}

export_plugin!(EmailChannel);
