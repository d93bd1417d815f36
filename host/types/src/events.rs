use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The events a plugin may subscribe to (`capabilities.events` in
/// `plugin.toml`), named as the contract names them in `event.kind`.
///
/// The core emits finer-grained domain events; the core's one mapping from its
/// events to these kinds decides what a channel is sent. A kind appears here
/// only once something in the host really delivers it, so a plugin that
/// subscribes to a kind is sure to receive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum EventKind {
    /// An order was placed on any channel.
    OrderPlaced,
    /// An order changed status.
    OrderUpdated,
    /// A product the channel shows was created or changed.
    ProductChanged,
    /// A product was deleted or unpublished from the channel.
    ProductRemoved,
    /// Stock of a variant the channel shows changed.
    StockChanged,
    /// A customer's consent changed.
    ConsentChanged,
    /// A campaign's message to one customer, for the one channel that is to
    /// deliver it (the e-mail installation for e-mail, the SMS one for SMS).
    CampaignMessage,
    /// The plugin was installed on this channel, or its settings changed.
    Installed,
    /// Goods of an order were received back at a location (since 0.2.0).
    ReturnReceived,
}

impl EventKind {
    /// Every kind, in a stable order.
    pub const ALL: [EventKind; 9] = [
        EventKind::OrderPlaced,
        EventKind::OrderUpdated,
        EventKind::ProductChanged,
        EventKind::ProductRemoved,
        EventKind::StockChanged,
        EventKind::ConsentChanged,
        EventKind::CampaignMessage,
        EventKind::Installed,
        EventKind::ReturnReceived,
    ];

    /// The name in `plugin.toml` and in the contract's `event.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::OrderPlaced => "order.placed",
            EventKind::OrderUpdated => "order.updated",
            EventKind::ProductChanged => "product.changed",
            EventKind::ProductRemoved => "product.removed",
            EventKind::StockChanged => "stock.changed",
            EventKind::ConsentChanged => "consent.changed",
            EventKind::CampaignMessage => "campaign.message",
            EventKind::Installed => "installed",
            EventKind::ReturnReceived => "return.received",
        }
    }

    /// The first contract version whose `event-payload` can carry this kind,
    /// as (major, minor, patch): a plugin built against an older contract
    /// cannot subscribe to it.
    pub fn since_contract(self) -> (u64, u64, u64) {
        match self {
            EventKind::ReturnReceived => (0, 2, 0),
            EventKind::OrderPlaced
            | EventKind::OrderUpdated
            | EventKind::ProductChanged
            | EventKind::ProductRemoved
            | EventKind::StockChanged
            | EventKind::ConsentChanged
            | EventKind::CampaignMessage
            | EventKind::Installed => (0, 1, 0),
        }
    }

    /// Whether a subscription entry names this kind: the exact name, a
    /// prefix pattern such as `order.*`, or `*`.
    pub fn matches(self, subscription: &str) -> bool {
        let name = self.as_str();
        subscription == "*"
            || subscription == name
            || subscription
                .strip_suffix(".*")
                .is_some_and(|p| name.strip_prefix(p).is_some_and(|rest| rest.starts_with('.')))
    }
}

/// A name that is not an [`EventKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event kind `{0}`; known: order.placed, order.updated, product.changed, product.removed, stock.changed, consent.changed, campaign.message, installed, return.received"
)]
pub struct UnknownEventKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownEventKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownEventKind(s.to_owned()))
    }
}

impl TryFrom<String> for EventKind {
    type Error = UnknownEventKind;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<EventKind> for String {
    fn from(value: EventKind) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
        let err = "channel.installed".parse::<EventKind>().unwrap_err();
        assert!(err.to_string().contains("installed"), "{err}");
    }

    #[test]
    fn subscription_patterns() {
        assert!(EventKind::OrderPlaced.matches("order.*"));
        assert!(EventKind::OrderPlaced.matches("*"));
        assert!(!EventKind::OrderPlaced.matches("order"));
        assert!(!EventKind::OrderPlaced.matches("ord.*"));
        assert!(EventKind::Installed.matches("installed"));
        assert!(!EventKind::StockChanged.matches("order.*"));
        assert!(EventKind::CampaignMessage.matches("campaign.*"));
    }
}
