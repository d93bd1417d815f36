//! The closed set of domain events the core emits, and the one mapping from
//! them to the events a channel may subscribe to ([`EventKind`]).

use serde::{Deserialize, Serialize};

pub use omnistore_types::EventKind;

/// What happened in the core. Stored in the outbox by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DomainEventKind {
    #[serde(rename = "tenant.created")]
    TenantCreated,
    #[serde(rename = "channel.installed")]
    ChannelInstalled,
    #[serde(rename = "channel.updated")]
    ChannelUpdated,
    #[serde(rename = "channel.uninstalled")]
    ChannelUninstalled,
    #[serde(rename = "location.changed")]
    LocationChanged,
    #[serde(rename = "product.changed")]
    ProductChanged,
    #[serde(rename = "product.removed")]
    ProductRemoved,
    #[serde(rename = "collection.changed")]
    CollectionChanged,
    #[serde(rename = "promotion.changed")]
    PromotionChanged,
    #[serde(rename = "stock.changed")]
    StockChanged,
    #[serde(rename = "cart.checked_out")]
    CartCheckedOut,
    #[serde(rename = "order.placed")]
    OrderPlaced,
    #[serde(rename = "order.updated")]
    OrderUpdated,
    #[serde(rename = "return.received")]
    ReturnReceived,
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    #[serde(rename = "customer.merged")]
    CustomerMerged,
    #[serde(rename = "consent.changed")]
    ConsentChanged,
    /// A campaign's message to one customer on one channel; addressed to the
    /// installation that delivers it (`channel_id` in the payload).
    #[serde(rename = "campaign.message")]
    CampaignMessage,
}

impl DomainEventKind {
    /// Every kind, in a stable order.
    pub const ALL: [DomainEventKind; 19] = [
        DomainEventKind::TenantCreated,
        DomainEventKind::ChannelInstalled,
        DomainEventKind::ChannelUpdated,
        DomainEventKind::ChannelUninstalled,
        DomainEventKind::LocationChanged,
        DomainEventKind::ProductChanged,
        DomainEventKind::ProductRemoved,
        DomainEventKind::CollectionChanged,
        DomainEventKind::PromotionChanged,
        DomainEventKind::StockChanged,
        DomainEventKind::CartCheckedOut,
        DomainEventKind::OrderPlaced,
        DomainEventKind::OrderUpdated,
        DomainEventKind::ReturnReceived,
        DomainEventKind::CustomerCreated,
        DomainEventKind::CustomerUpdated,
        DomainEventKind::CustomerMerged,
        DomainEventKind::ConsentChanged,
        DomainEventKind::CampaignMessage,
    ];

    /// The outbox name, such as `order.placed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainEventKind::TenantCreated => "tenant.created",
            DomainEventKind::ChannelInstalled => "channel.installed",
            DomainEventKind::ChannelUpdated => "channel.updated",
            DomainEventKind::ChannelUninstalled => "channel.uninstalled",
            DomainEventKind::LocationChanged => "location.changed",
            DomainEventKind::ProductChanged => "product.changed",
            DomainEventKind::ProductRemoved => "product.removed",
            DomainEventKind::CollectionChanged => "collection.changed",
            DomainEventKind::PromotionChanged => "promotion.changed",
            DomainEventKind::StockChanged => "stock.changed",
            DomainEventKind::CartCheckedOut => "cart.checked_out",
            DomainEventKind::OrderPlaced => "order.placed",
            DomainEventKind::OrderUpdated => "order.updated",
            DomainEventKind::ReturnReceived => "return.received",
            DomainEventKind::CustomerCreated => "customer.created",
            DomainEventKind::CustomerUpdated => "customer.updated",
            DomainEventKind::CustomerMerged => "customer.merged",
            DomainEventKind::ConsentChanged => "consent.changed",
            DomainEventKind::CampaignMessage => "campaign.message",
        }
    }

    /// The one mapping from core events to channel events: what a channel
    /// subscribed to the returned kind is sent for an event of this kind
    /// about `subject`, addressed to `addressee` (if the event names one
    /// channel), as seen by `channel`. `None`: no channel is sent it.
    ///
    /// `installed` goes only to the channel the installation event is about;
    /// `campaign.message` only to the installation it is addressed to, so an
    /// e-mail never reaches the SMS channel and the other way round.
    pub fn for_channel(self, subject: &str, addressee: Option<&str>, channel: &str) -> Option<EventKind> {
        match self {
            DomainEventKind::CampaignMessage => (addressee == Some(channel)).then_some(EventKind::CampaignMessage),
            DomainEventKind::OrderPlaced => Some(EventKind::OrderPlaced),
            DomainEventKind::OrderUpdated => Some(EventKind::OrderUpdated),
            DomainEventKind::ProductChanged => Some(EventKind::ProductChanged),
            DomainEventKind::ProductRemoved => Some(EventKind::ProductRemoved),
            DomainEventKind::StockChanged => Some(EventKind::StockChanged),
            DomainEventKind::ConsentChanged => Some(EventKind::ConsentChanged),
            DomainEventKind::ReturnReceived => Some(EventKind::ReturnReceived),
            DomainEventKind::ChannelInstalled | DomainEventKind::ChannelUpdated => {
                (subject == channel).then_some(EventKind::Installed)
            }
            DomainEventKind::TenantCreated
            | DomainEventKind::ChannelUninstalled
            | DomainEventKind::LocationChanged
            | DomainEventKind::CollectionChanged
            | DomainEventKind::PromotionChanged
            | DomainEventKind::CartCheckedOut
            | DomainEventKind::CustomerCreated
            | DomainEventKind::CustomerUpdated
            | DomainEventKind::CustomerMerged => None,
        }
    }
}

impl std::fmt::Display for DomainEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_event_kind_has_a_source() {
        for kind in EventKind::ALL {
            let sources: Vec<_> = DomainEventKind::ALL
                .into_iter()
                .filter(|d| d.for_channel("chn-x", Some("chn-x"), "chn-x") == Some(kind))
                .collect();
            assert!(!sources.is_empty(), "no core event is ever sent to channels as `{kind}`");
        }
    }

    #[test]
    fn installed_goes_only_to_its_own_channel() {
        assert_eq!(DomainEventKind::ChannelInstalled.for_channel("chn-a", None, "chn-a"), Some(EventKind::Installed));
        assert_eq!(DomainEventKind::ChannelUpdated.for_channel("chn-a", None, "chn-b"), None);
    }

    #[test]
    fn a_campaign_message_goes_only_to_its_addressee() {
        let kind = DomainEventKind::CampaignMessage;
        assert_eq!(kind.for_channel("cus-1", Some("chn-mail"), "chn-mail"), Some(EventKind::CampaignMessage));
        assert_eq!(kind.for_channel("cus-1", Some("chn-mail"), "chn-sms"), None);
        assert_eq!(kind.for_channel("cus-1", None, "chn-mail"), None, "an erased message goes nowhere");
    }

    #[test]
    fn names_are_the_serialized_form() {
        for kind in DomainEventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
    }
}
