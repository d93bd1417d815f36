//! Subscribes to every event kind a plugin may ask for and records each one
//! it is sent in its storage, so a test can check that every kind really
//! reaches a plugin's `on-event`, with the payload the contract promises.
//!
//! - `GET /seen` — one line per kind and payload received: `{kind} {payload} {subject}`,
//!   where `payload` names the payload variant and `subject` is the id it carries.

use omnistore_sdk::{Event, EventPayload, Plugin, PluginError, Request, Response, export_plugin, storage};

struct Recorder;

const PREFIX: &str = "seen/";

impl Plugin for Recorder {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        if req.path != "/seen" {
            return Err(PluginError::not_found(&req.path));
        }
        let mut lines = Vec::new();
        for key in storage::list_keys(PREFIX, None, 100)? {
            if let Some(value) = storage::get(&key)? {
                lines.push(String::from_utf8_lossy(&value).into_owned());
            }
        }
        Ok(Response::text(lines.join("\n")))
    }

    fn on_event(event: Event) -> Result<(), PluginError> {
        let (payload, subject) = match &event.payload {
            EventPayload::OrderPlaced(o) => ("order-placed", o.id.clone()),
            EventPayload::OrderUpdated(o) => ("order-updated", o.id.clone()),
            EventPayload::ProductChanged(p) => ("product-changed", p.id.clone()),
            EventPayload::ProductRemoved(id) => ("product-removed", id.clone()),
            EventPayload::StockChanged(s) => ("stock-changed", s.variant_id.clone()),
            EventPayload::ConsentChanged(c) => ("consent-changed", c.id.clone()),
            EventPayload::CampaignMessage(m) => ("campaign-message", m.campaign_id.clone()),
            EventPayload::Installed => ("installed", String::new()),
            // The order, so a test can tell it is the one returned.
            EventPayload::ReturnReceived(r) => ("return-received", r.order.id.clone()),
        };
        let line = format!("{} {payload} {subject}", event.kind);
        // One key per kind and payload: `product.changed` may carry a
        // product or, for one gone from the channel, its removal.
        storage::set(&format!("{PREFIX}{}/{payload}", event.kind), line.as_bytes())?;
        Ok(())
    }
}

export_plugin!(Recorder);
