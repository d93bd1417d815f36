//! Promotions: discounts with conditions, automatic or behind a code.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Money, ids, strings, wire_enum};
use crate::admin::extract::double_option;

wire_enum! {
    /// `line`: off each matching line; `order`: off the order's subtotal.
    PromotionScope <=> PromotionScope { Line, Order }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub(crate) enum DiscountValue {
    /// Basis points: 2000 is 20%.
    Percent {
        #[schemars(range(min = 1, max = 10_000))]
        bps: u32,
    },
    AmountOff {
        #[schemars(range(min = 1))]
        amount_minor: i64,
    },
}

impl From<domain::DiscountValue> for DiscountValue {
    fn from(v: domain::DiscountValue) -> DiscountValue {
        match v {
            domain::DiscountValue::Percent { bps } => DiscountValue::Percent { bps },
            domain::DiscountValue::AmountOff { amount_minor } => DiscountValue::AmountOff { amount_minor },
        }
    }
}

impl From<DiscountValue> for domain::DiscountValue {
    fn from(v: DiscountValue) -> domain::DiscountValue {
        match v {
            DiscountValue::Percent { bps } => domain::DiscountValue::Percent { bps },
            DiscountValue::AmountOff { amount_minor } => domain::DiscountValue::AmountOff { amount_minor },
        }
    }
}

/// What must hold for a promotion to apply; empty lists do not restrict.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub(crate) struct PromotionConditions {
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub collections: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub brands: Vec<String>,
    pub min_subtotal_minor: Option<i64>,
    #[serde(default)]
    pub channels: Vec<String>,
    pub starts_ms: Option<i64>,
    pub ends_ms: Option<i64>,
}

impl From<domain::PromotionConditions> for PromotionConditions {
    fn from(c: domain::PromotionConditions) -> PromotionConditions {
        PromotionConditions {
            products: strings(c.products),
            collections: strings(c.collections),
            tags: c.tags,
            brands: c.brands,
            min_subtotal_minor: c.min_subtotal_minor,
            channels: strings(c.channels),
            starts_ms: c.starts_ms,
            ends_ms: c.ends_ms,
        }
    }
}

impl From<PromotionConditions> for domain::PromotionConditions {
    fn from(c: PromotionConditions) -> domain::PromotionConditions {
        domain::PromotionConditions {
            products: ids(c.products),
            collections: ids(c.collections),
            tags: c.tags,
            brands: c.brands,
            min_subtotal_minor: c.min_subtotal_minor,
            channels: ids(c.channels),
            starts_ms: c.starts_ms,
            ends_ms: c.ends_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Promotion {
    pub id: String,
    pub name: String,
    pub scope: PromotionScope,
    pub value: DiscountValue,
    pub conditions: PromotionConditions,
    pub code: Option<String>,
    pub usage_limit: Option<u64>,
    pub usage_count: u64,
    pub active: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Promotion> for Promotion {
    fn from(p: domain::Promotion) -> Promotion {
        Promotion {
            id: p.id.to_string(),
            name: p.name,
            scope: p.scope.into(),
            value: p.value.into(),
            conditions: p.conditions.into(),
            code: p.code,
            usage_limit: p.usage_limit,
            usage_count: p.usage_count,
            active: p.active,
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewPromotion {
    pub name: String,
    pub scope: PromotionScope,
    pub value: DiscountValue,
    #[serde(default)]
    pub conditions: PromotionConditions,
    pub code: Option<String>,
    pub usage_limit: Option<u64>,
}

impl From<NewPromotion> for domain::NewPromotion {
    fn from(p: NewPromotion) -> domain::NewPromotion {
        domain::NewPromotion {
            name: p.name,
            scope: p.scope.into(),
            value: p.value.into(),
            conditions: p.conditions.into(),
            code: p.code,
            usage_limit: p.usage_limit,
        }
    }
}

/// A promotion change (switch it off with `active: false`); `null` clears
/// the usage limit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PromotionPatch {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub value: Option<DiscountValue>,
    pub conditions: Option<PromotionConditions>,
    #[serde(default, deserialize_with = "double_option")]
    pub usage_limit: Option<Option<u64>>,
}

impl From<PromotionPatch> for domain::PromotionPatch {
    fn from(b: PromotionPatch) -> domain::PromotionPatch {
        domain::PromotionPatch {
            name: b.name,
            active: b.active,
            value: b.value.map(Into::into),
            conditions: b.conditions.map(Into::into),
            usage_limit: b.usage_limit,
        }
    }
}

/// A promotion as applied to a line or an order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct AppliedPromotion {
    pub promotion_id: String,
    pub name: String,
    pub code: Option<String>,
    pub amount: Money,
}

impl From<domain::AppliedPromotion> for AppliedPromotion {
    fn from(a: domain::AppliedPromotion) -> AppliedPromotion {
        AppliedPromotion {
            promotion_id: a.promotion_id.to_string(),
            name: a.name,
            code: a.code,
            amount: a.amount.into(),
        }
    }
}
