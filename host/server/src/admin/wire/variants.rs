//! Variants: one SKU of a product each.

use std::collections::BTreeMap;

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Money;
use crate::admin::extract::double_option;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Variant {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    pub title: String,
    pub options: BTreeMap<String, String>,
    pub gtin: Option<String>,
    pub weight_grams: Option<i64>,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub backorderable: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Variant> for Variant {
    fn from(v: domain::Variant) -> Variant {
        Variant {
            id: v.id.to_string(),
            product_id: v.product_id.to_string(),
            sku: v.sku,
            title: v.title,
            options: v.options,
            gtin: v.gtin,
            weight_grams: v.weight_grams,
            price: v.price.into(),
            compare_at: v.compare_at.map(Money::from),
            backorderable: v.backorderable,
            created_ms: v.created_ms,
            updated_ms: v.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewVariant {
    pub sku: String,
    pub title: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub gtin: Option<String>,
    pub weight_grams: Option<i64>,
    pub price: Money,
    pub compare_at: Option<Money>,
    #[serde(default)]
    pub backorderable: bool,
}

impl From<NewVariant> for domain::NewVariant {
    fn from(v: NewVariant) -> domain::NewVariant {
        domain::NewVariant {
            sku: v.sku,
            title: v.title,
            options: v.options,
            gtin: v.gtin,
            weight_grams: v.weight_grams,
            price: v.price.into(),
            compare_at: v.compare_at.map(Into::into),
            backorderable: v.backorderable,
        }
    }
}

/// A variant change: absent fields stay, `null` clears `gtin`,
/// `weight_grams` and `compare_at`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VariantPatch {
    pub sku: Option<String>,
    pub title: Option<String>,
    pub options: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub gtin: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub weight_grams: Option<Option<i64>>,
    pub price: Option<Money>,
    #[serde(default, deserialize_with = "double_option")]
    pub compare_at: Option<Option<Money>>,
    pub backorderable: Option<bool>,
}

impl From<VariantPatch> for domain::VariantPatch {
    fn from(b: VariantPatch) -> domain::VariantPatch {
        domain::VariantPatch {
            sku: b.sku,
            title: b.title,
            options: b.options,
            gtin: b.gtin,
            weight_grams: b.weight_grams,
            price: b.price.map(Into::into),
            compare_at: b.compare_at.map(|c| c.map(Into::into)),
            backorderable: b.backorderable,
        }
    }
}
