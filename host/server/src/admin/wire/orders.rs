//! Orders, their lines, fulfilment and the actions on them.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AppliedPromotion, Money, wire_enum};

wire_enum! {
    OrderStatus <=> OrderStatus { Placed, ReadyForPickup, Shipped, Completed, Cancelled, Refunded }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Address {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub phone: Option<String>,
}

impl From<domain::Address> for Address {
    fn from(a: domain::Address) -> Address {
        Address {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

/// How the order reaches the customer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Fulfilment {
    Ship { address: Address },
    Pickup { location_id: String },
    ShipToStore { location_id: String },
}

impl From<domain::Fulfilment> for Fulfilment {
    fn from(f: domain::Fulfilment) -> Fulfilment {
        match f {
            domain::Fulfilment::Ship { address } => Fulfilment::Ship { address: address.into() },
            domain::Fulfilment::Pickup { location_id } => Fulfilment::Pickup { location_id: location_id.to_string() },
            domain::Fulfilment::ShipToStore { location_id } => {
                Fulfilment::ShipToStore { location_id: location_id.to_string() }
            }
        }
    }
}

/// Units of a line taken from one location (`backordered` of them not yet in stock).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Allocation {
    pub location_id: String,
    pub quantity: i64,
    pub backordered: i64,
    pub consumed: bool,
    pub restocked: bool,
}

impl From<domain::Allocation> for Allocation {
    fn from(a: domain::Allocation) -> Allocation {
        Allocation {
            location_id: a.location_id.to_string(),
            quantity: a.quantity,
            backordered: a.backordered,
            consumed: a.consumed,
            restocked: a.restocked,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct OrderLine {
    pub line_no: u32,
    pub variant_id: String,
    pub product_id: String,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_discount: Money,
    pub order_discount_share: Money,
    pub total: Money,
    pub promotion: Option<AppliedPromotion>,
    pub allocations: Vec<Allocation>,
    pub returned: i64,
}

impl From<domain::OrderLine> for OrderLine {
    fn from(l: domain::OrderLine) -> OrderLine {
        OrderLine {
            line_no: l.line_no,
            variant_id: l.variant_id.to_string(),
            product_id: l.product_id.to_string(),
            sku: l.sku,
            title: l.title,
            quantity: l.quantity,
            unit_price: l.unit_price.into(),
            line_discount: l.line_discount.into(),
            order_discount_share: l.order_discount_share.into(),
            total: l.total.into(),
            promotion: l.promotion.map(Into::into),
            allocations: l.allocations.into_iter().map(Allocation::from).collect(),
            returned: l.returned,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct StatusChange {
    pub status: OrderStatus,
    pub at_ms: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Order {
    pub id: String,
    pub number: u64,
    pub channel_id: Option<String>,
    pub external_id: Option<String>,
    pub cart_id: Option<String>,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub currency: String,
    pub lines: Vec<OrderLine>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub total: Money,
    pub promotions: Vec<AppliedPromotion>,
    pub codes: Vec<String>,
    pub fulfilment: Fulfilment,
    pub status: OrderStatus,
    pub history: Vec<StatusChange>,
    pub refunded: Money,
    pub tracking: Option<String>,
    pub attributed_campaign: Option<String>,
    pub note: Option<String>,
    pub placed_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Order> for Order {
    fn from(o: domain::Order) -> Order {
        Order {
            id: o.id.to_string(),
            number: o.number,
            channel_id: o.channel_id.map(|c| c.to_string()),
            external_id: o.external_id,
            cart_id: o.cart_id.map(|c| c.to_string()),
            customer_id: o.customer_id.map(|c| c.to_string()),
            email: o.email,
            currency: o.currency,
            lines: o.lines.into_iter().map(OrderLine::from).collect(),
            subtotal: o.subtotal.into(),
            discount_total: o.discount_total.into(),
            total: o.total.into(),
            promotions: o.promotions.into_iter().map(AppliedPromotion::from).collect(),
            codes: o.codes,
            fulfilment: o.fulfilment.into(),
            status: o.status.into(),
            history: o
                .history
                .into_iter()
                .map(|h| StatusChange { status: h.status.into(), at_ms: h.at_ms, note: h.note })
                .collect(),
            refunded: o.refunded.into(),
            tracking: o.tracking,
            attributed_campaign: o.attributed_campaign.map(|c| c.to_string()),
            note: o.note,
            placed_ms: o.placed_ms,
            updated_ms: o.updated_ms,
        }
    }
}

/// Marks an order shipped, with its tracking number if there is one.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShipOrder {
    pub tracking: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelOrder {
    pub reason: Option<String>,
}

/// Refunds part of an order (`amount_minor`) or what is left of it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundOrder {
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
}
