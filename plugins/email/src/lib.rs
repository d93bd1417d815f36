//! The transactional e-mail channel: a receipt when an order is placed, a
//! message when it is ready for pickup and when it has shipped, each sent at
//! most once per order to the e-mail the order was placed with.
//!
//! Transactional mail needs no marketing consent, so no consent is read. The
//! texts are Liquid templates bundled with the plugin (`templates/`), each of
//! which the merchant may replace with a file of the same path.

mod config;
mod money;
mod send;
mod templates;
mod vars;

use omnistore_sdk::{Event, Plugin, PluginError, export_plugin};

struct EmailChannel;

impl Plugin for EmailChannel {
    fn on_event(event: Event) -> Result<(), PluginError> {
        send::handle(&event)
    }
}

export_plugin!(EmailChannel);
