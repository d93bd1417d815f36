//! The event outbox and deliveries to channels.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::wire_enum;

wire_enum! {
    DeliveryState <=> DeliveryState { Pending, Delivered, Dead }
}

/// Something that happened in the shop, as recorded in the outbox.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Event {
    pub id: String,
    pub tenant: String,
    /// Such as `order.placed`, `stock.changed`.
    pub kind: String,
    /// The id of the record it is about.
    pub subject: String,
    pub at_ms: i64,
    pub payload: Value,
}

impl From<domain::Event> for Event {
    fn from(e: domain::Event) -> Event {
        Event {
            id: e.id.to_string(),
            tenant: e.tenant.to_string(),
            kind: e.kind.as_str().to_owned(),
            subject: e.subject,
            at_ms: e.at_ms,
            payload: e.payload,
        }
    }
}

/// One event on its way to one channel.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Delivery {
    pub id: String,
    pub event_id: String,
    pub channel_id: String,
    /// The event kind as the channel receives it (`installed`, `order.placed`, …).
    pub kind: String,
    pub subject: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub leased_until_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Later events of the same subject folded into this delivery.
    pub coalesced: u32,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub delivered_ms: Option<i64>,
}

impl From<domain::Delivery> for Delivery {
    fn from(d: domain::Delivery) -> Delivery {
        Delivery {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            channel_id: d.channel_id.to_string(),
            kind: d.kind.as_str().to_owned(),
            subject: d.subject,
            state: d.state.into(),
            attempts: d.attempts,
            next_attempt_ms: d.next_attempt_ms,
            leased_until_ms: d.leased_until_ms,
            last_error: d.last_error,
            coalesced: d.coalesced,
            created_ms: d.created_ms,
            updated_ms: d.updated_ms,
            delivered_ms: d.delivered_ms,
        }
    }
}
