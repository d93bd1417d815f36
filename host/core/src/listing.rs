//! Products as a channel lists them: the catalog record with the price
//! resolver's unit price (automatic promotions at the caller's time) and the
//! units the channel may sell. Sits above catalog, pricing and inventory, so
//! that none of those three needs another to show a product.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::catalog::{Product, ProductStatus, Variant, is_published_tx, page_limit, product_variants_tx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ChannelId, ProductId, TenantId};
use crate::money::Money;
use crate::pricing::AppliedPromotion;
use crate::store::{Core, Tx};
use crate::tenants::load_channel;

/// A variant as a channel shows it: the resolver's price for one unit with
/// automatic promotions, and what the channel may sell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelVariantView {
    pub variant: Variant,
    pub price: Money,
    /// The struck-through price: the base price when a promotion applies,
    /// else the variant's compare-at price.
    pub compare_at: Option<Money>,
    pub promotion: Option<AppliedPromotion>,
    /// When the automatic promotion that lowers `price` ends, if it has an end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_valid_until: Option<i64>,
    /// Sellable units on this channel (after its safety buffer), or `None`
    /// for backorderable variants, which are always sellable.
    pub available: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelProductView {
    pub product: Product,
    pub variants: Vec<ChannelVariantView>,
}

impl Core {
    /// One product as a channel shows it. `NotFound` unless it is active and
    /// published on that channel.
    pub fn channel_product(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        product: &ProductId,
        now_ms: i64,
    ) -> CoreResult<ChannelProductView> {
        self.read_at(tenant, now_ms, |tx| {
            let ch = load_channel(tx, channel)?;
            channel_view(tx, &ch, product)?.ok_or_else(|| CoreError::not_found("product", product.as_str()))
        })
    }

    /// [`Core::channel_product`] of the product with this handle, in one read.
    pub fn channel_product_by_handle(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        handle: &str,
        now_ms: i64,
    ) -> CoreResult<ChannelProductView> {
        self.read_at(tenant, now_ms, |tx| {
            let ch = load_channel(tx, channel)?;
            let id = tx.get::<ProductId>(&["handle", handle.trim()])?;
            let view = match id {
                Some(id) => channel_view(tx, &ch, &id)?,
                None => None,
            };
            view.ok_or_else(|| CoreError::not_found("product", handle))
        })
    }

    /// A page of the channel's catalog (active, published products), in id
    /// order; feed exports pull page after page so memory stays bounded.
    pub fn channel_catalog(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        after: Option<&ProductId>,
        limit: usize,
        now_ms: i64,
    ) -> CoreResult<Vec<ChannelProductView>> {
        let limit = page_limit(limit);
        self.read_at(tenant, now_ms, |tx| {
            let ch = load_channel(tx, channel)?;
            let mut out = Vec::new();
            let mut cursor = after.map(|a| a.as_str().to_owned());
            loop {
                let start = cursor.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                let ids = tx.scan_range::<()>(&["pubc", channel.as_str()], start, Bound::Unbounded, limit)?;
                let exhausted = ids.len() < limit;
                for (id, ()) in &ids {
                    if out.len() < limit
                        && let Some(view) = channel_view(tx, &ch, &ProductId::new(id.clone()))?
                    {
                        out.push(view);
                    }
                }
                cursor = ids.last().map(|(id, ())| id.clone());
                if exhausted || out.len() >= limit {
                    return Ok(out);
                }
            }
        })
    }
}

pub(crate) fn channel_view(
    tx: &mut Tx<'_>,
    channel: &crate::tenants::Channel,
    product: &ProductId,
) -> CoreResult<Option<ChannelProductView>> {
    let Some(p) = tx.get::<Product>(&["prd", product.as_str()])? else {
        return Ok(None);
    };
    if p.status != ProductStatus::Active || !is_published_tx(tx, product, &channel.id)? {
        return Ok(None);
    }
    let variants = product_variants_tx(tx, product)?;
    let mut views = Vec::with_capacity(variants.len());
    for v in variants {
        let unit = crate::pricing::unit_price_tx(tx, &v, &p, Some(&channel.id))?;
        let available = if v.backorderable {
            None
        } else {
            Some(crate::inventory::sellable_tx(tx, &v.id, None, channel.safety_buffer)?)
        };
        let compare_at = if unit.promotion.is_some() { Some(v.price.clone()) } else { v.compare_at.clone() };
        let price_valid_until = match &unit.promotion {
            Some(applied) => tx
                .get::<crate::pricing::Promotion>(&["prm", applied.promotion_id.as_str()])?
                .and_then(|p| p.conditions.ends_ms),
            None => None,
        };
        views.push(ChannelVariantView {
            price: unit.price,
            compare_at,
            promotion: unit.promotion,
            price_valid_until,
            available,
            variant: v,
        });
    }
    Ok(Some(ChannelProductView { product: p, variants: views }))
}
