//! The one price resolver every channel uses, and promotions.
//!
//! # How promotions stack
//!
//! A quote is built in two passes, the same way on every channel:
//!
//! 1. **Lines.** Each line gets at most one line promotion: the eligible one
//!    with the largest discount on that line (ties go to the oldest
//!    promotion). Line promotions never stack with each other.
//! 2. **Order.** Then at most one order promotion applies: the eligible one
//!    with the largest discount, computed on the lines it covers *after*
//!    their line discounts. It is spread over those lines in proportion to
//!    their amounts (remainder cents to the first lines), so a returned line
//!    refunds exactly what was paid for it.
//!
//! So a cart can get "20% off cannoli" on its cannoli *and* DOLCE10 on the
//! order, but never two line promotions on one line or two order promotions.
//!
//! A promotion is eligible when it is active, `now` is in its date window, its
//! usage limit is not reached, it is automatic or its code is on the cart,
//! the quote's channel is in its channel list (if it has one), and the
//! subtotal reaches its minimum (the cart subtotal before discounts for line
//! promotions; the covered lines' amount for order promotions). Product
//! conditions (products, collections, tags, brands) must all match when
//! given, any value within a list. A fixed amount off a line is per unit,
//! never more than the line; a fixed amount off an order is never more than
//! the lines it covers.
//!
//! Because the only channel-dependent input is the promotion's optional
//! channel list, a cart has the same total on every channel where its
//! products are published, unless the merchant deliberately made a promotion
//! channel-specific.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::{Product, ProductStatus, Variant, is_published_tx, load_product, load_variant};
use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{ChannelId, CollectionId, ProductId, PromotionId, TenantId, VariantId};
use crate::money::Money;
use crate::repricing::announce_reached_products;
use crate::store::{Core, Tx};
use crate::tenants::load_channel;
use crate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionScope {
    /// Off each matching line.
    Line,
    /// Off the order (the matching lines together).
    Order,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum DiscountValue {
    /// Basis points: 2000 is 20%.
    Percent { bps: u32 },
    /// Minor units of the tenant's currency; per unit for line promotions.
    AmountOff { amount_minor: i64 },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionConditions {
    #[serde(default)]
    pub products: Vec<ProductId>,
    #[serde(default)]
    pub collections: Vec<CollectionId>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub brands: Vec<String>,
    pub min_subtotal_minor: Option<i64>,
    /// Empty: every channel.
    #[serde(default)]
    pub channels: Vec<ChannelId>,
    /// Inclusive start of the window.
    pub starts_ms: Option<i64>,
    /// Exclusive end of the window.
    pub ends_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: PromotionId,
    pub name: String,
    pub scope: PromotionScope,
    pub value: DiscountValue,
    pub conditions: PromotionConditions,
    /// `None`: automatic. `Some`: applies only when the code is on the cart.
    pub code: Option<String>,
    /// How many orders may use it.
    pub usage_limit: Option<u64>,
    pub usage_count: u64,
    pub active: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewPromotion {
    pub name: String,
    pub scope: PromotionScope,
    pub value: DiscountValue,
    #[serde(default)]
    pub conditions: PromotionConditions,
    pub code: Option<String>,
    pub usage_limit: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PromotionPatch {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub value: Option<DiscountValue>,
    pub conditions: Option<PromotionConditions>,
    pub usage_limit: Option<Option<u64>>,
}

/// A promotion as applied to a line or an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPromotion {
    pub promotion_id: PromotionId,
    pub name: String,
    pub code: Option<String>,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub compare_at: Option<Money>,
    /// unit price × quantity
    pub subtotal: Money,
    pub line_discount: Money,
    pub line_promotion: Option<AppliedPromotion>,
    /// This line's part of the order discount.
    pub order_discount_share: Money,
    /// What the customer pays for this line.
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: String,
    pub channel_id: Option<ChannelId>,
    pub lines: Vec<QuoteLine>,
    pub subtotal: Money,
    pub line_discounts: Money,
    pub order_discount: Money,
    pub order_promotion: Option<AppliedPromotion>,
    pub discount_total: Money,
    pub total: Money,
    /// Codes that gave a discount.
    pub codes_applied: Vec<String>,
    /// Codes that did not (unknown, expired, conditions unmet, or beaten by a
    /// better promotion).
    pub codes_not_applied: Vec<String>,
}

impl Quote {
    /// Every promotion that contributed, once each.
    pub fn applied_promotions(&self) -> Vec<AppliedPromotion> {
        let mut out: Vec<AppliedPromotion> = Vec::new();
        for p in self.lines.iter().filter_map(|l| l.line_promotion.as_ref()).chain(self.order_promotion.as_ref()) {
            match out.iter_mut().find(|o| o.promotion_id == p.promotion_id) {
                Some(o) => o.amount.amount_minor += p.amount.amount_minor,
                None => out.push(p.clone()),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuoteLineRequest {
    pub variant_id: VariantId,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub lines: Vec<QuoteLineRequest>,
    /// The channel asking; `None` for the admin or a point of sale.
    pub channel: Option<ChannelId>,
    #[serde(default)]
    pub codes: Vec<String>,
}

/// A unit price for display on a channel.
pub(crate) struct UnitPrice {
    pub price: Money,
    pub promotion: Option<AppliedPromotion>,
}

/// Normalise a promotion code: trimmed, upper case, `A-Z 0-9 - _`.
pub fn normalize_code(code: &str) -> CoreResult<String> {
    let code = code.trim().to_uppercase();
    let ok = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(code)
    } else {
        Err(CoreError::invalid(format!("promotion code `{code}` must be 1-64 characters of A-Z, 0-9, '-' or '_'")))
    }
}

fn check_value(value: &DiscountValue) -> CoreResult<()> {
    match *value {
        DiscountValue::Percent { bps } if (1..=10_000).contains(&bps) => Ok(()),
        DiscountValue::Percent { bps } => {
            Err(CoreError::invalid(format!("percent discount must be 1-10000 basis points (0.01%-100%), got {bps}")))
        }
        DiscountValue::AmountOff { amount_minor } if amount_minor > 0 => Ok(()),
        DiscountValue::AmountOff { amount_minor } => {
            Err(CoreError::invalid(format!("amount off must be positive, got {amount_minor}")))
        }
    }
}

fn check_conditions(tx: &mut Tx<'_>, c: &PromotionConditions) -> CoreResult<PromotionConditions> {
    let mut c = c.clone();
    if let Some(m) = c.min_subtotal_minor
        && m < 0
    {
        return Err(CoreError::invalid("minimum subtotal must not be negative"));
    }
    if let (Some(s), Some(e)) = (c.starts_ms, c.ends_ms)
        && s >= e
    {
        return Err(CoreError::invalid("promotion must start before it ends"));
    }
    for p in &c.products {
        load_product(tx, p)?;
    }
    for col in &c.collections {
        tx.must::<crate::catalog::Collection>("collection", col.as_str())?;
    }
    for ch in &c.channels {
        load_channel(tx, ch)?;
    }
    c.tags = validate::tags("tag", &c.tags)?;
    c.brands = c
        .brands
        .iter()
        .map(|b| validate::text("brand", b, 200).map(|b| b.to_lowercase()))
        .collect::<CoreResult<_>>()?;
    Ok(c)
}

impl PromotionConditions {
    pub(crate) fn matches_product(&self, product: &Product) -> bool {
        (self.products.is_empty() || self.products.contains(&product.id))
            && (self.collections.is_empty() || product.collections.iter().any(|c| self.collections.contains(c)))
            && (self.tags.is_empty() || product.tags.iter().any(|t| self.tags.contains(t)))
            && (self.brands.is_empty()
                || product.brand.as_ref().is_some_and(|b| self.brands.contains(&b.to_lowercase())))
    }
}

impl Promotion {
    /// Eligible apart from product conditions and the minimum subtotal.
    fn applicable(&self, now: i64, channel: Option<&ChannelId>, codes: &[String]) -> bool {
        self.active
            && self.conditions.starts_ms.is_none_or(|s| now >= s)
            && self.conditions.ends_ms.is_none_or(|e| now < e)
            && self.usage_limit.is_none_or(|l| self.usage_count < l)
            && (self.conditions.channels.is_empty() || channel.is_some_and(|c| self.conditions.channels.contains(c)))
            && self.code.as_ref().is_none_or(|c| codes.contains(c))
    }

    fn applied(&self, amount: Money) -> AppliedPromotion {
        AppliedPromotion { promotion_id: self.id.clone(), name: self.name.clone(), code: self.code.clone(), amount }
    }
}

fn line_discount(promo: &Promotion, unit: &Money, subtotal: &Money, quantity: i64) -> CoreResult<Money> {
    let d = match promo.value {
        DiscountValue::Percent { bps } => subtotal.percent_bps(bps),
        DiscountValue::AmountOff { amount_minor } => {
            let per_unit = amount_minor.min(unit.amount_minor);
            Money { amount_minor: per_unit.checked_mul(quantity).unwrap_or(i64::MAX), currency: unit.currency.clone() }
        }
    };
    Ok(Money { amount_minor: d.amount_minor.clamp(0, subtotal.amount_minor.max(0)), currency: d.currency })
}

pub(crate) fn all_promotions(tx: &mut Tx<'_>) -> CoreResult<Vec<Promotion>> {
    Ok(tx.scan::<Promotion>(&["prm"])?.into_iter().map(|(_, p)| p).collect())
}

/// Price `lines` for `channel`. Every product must be active; when a channel
/// asks (and `require_published`), also published on it. Ingested orders skip
/// the publication check: the sale already happened on the channel.
pub(crate) fn quote_tx(
    tx: &mut Tx<'_>,
    lines: &[(VariantId, i64)],
    channel: Option<&ChannelId>,
    codes: &[String],
    require_published: bool,
) -> CoreResult<Quote> {
    let currency = tx.currency();
    let zero = Money { amount_minor: 0, currency: currency.clone() };
    let mut codes_norm = Vec::new();
    for c in codes {
        codes_norm.push(normalize_code(c)?);
    }
    codes_norm.sort();
    codes_norm.dedup();
    if let Some(ch) = channel {
        load_channel(tx, ch)?;
    }

    let mut items: Vec<(Variant, Product, i64)> = Vec::with_capacity(lines.len());
    for (variant_id, quantity) in lines {
        validate::positive_qty("quantity", *quantity)?;
        let variant = load_variant(tx, variant_id)?;
        let product = load_product(tx, &variant.product_id)?;
        if product.status != ProductStatus::Active {
            return Err(CoreError::invalid(format!(
                "product `{}` is not on sale (status {:?})",
                product.handle, product.status
            )));
        }
        if let Some(ch) = channel
            && require_published
            && !is_published_tx(tx, &product.id, ch)?
        {
            return Err(CoreError::invalid(format!("product `{}` is not sold on channel `{ch}`", product.handle)));
        }
        items.push((variant, product, *quantity));
    }

    let now = tx.now()?;
    let promotions: Vec<Promotion> =
        all_promotions(tx)?.into_iter().filter(|p| p.applicable(now, channel, &codes_norm)).collect();

    let mut subtotal = zero.clone();
    let mut out_lines = Vec::with_capacity(items.len());
    for (variant, product, quantity) in &items {
        let line_subtotal = variant.price.checked_mul(*quantity)?;
        subtotal = subtotal.checked_add(&line_subtotal)?;
        out_lines.push(QuoteLine {
            variant_id: variant.id.clone(),
            product_id: product.id.clone(),
            sku: variant.sku.clone(),
            title: format!("{} — {}", product.title, variant.title),
            quantity: *quantity,
            unit_price: variant.price.clone(),
            compare_at: variant.compare_at.clone(),
            subtotal: line_subtotal,
            line_discount: zero.clone(),
            line_promotion: None,
            order_discount_share: zero.clone(),
            total: zero.clone(),
        });
    }

    // Pass 1: best line promotion per line.
    for (line, (_, product, _)) in out_lines.iter_mut().zip(&items) {
        let mut best: Option<(Money, &Promotion)> = None;
        for p in promotions.iter().filter(|p| p.scope == PromotionScope::Line) {
            if !p.conditions.matches_product(product)
                || p.conditions.min_subtotal_minor.is_some_and(|m| subtotal.amount_minor < m)
            {
                continue;
            }
            let d = line_discount(p, &line.unit_price, &line.subtotal, line.quantity)?;
            // Strictly greater keeps the oldest on ties: promotions scan in id order.
            if d.amount_minor > 0 && best.as_ref().is_none_or(|(b, _)| d.amount_minor > b.amount_minor) {
                best = Some((d, p));
            }
        }
        if let Some((d, p)) = best {
            line.line_promotion = Some(p.applied(d.clone()));
            line.line_discount = d;
        }
    }

    // Pass 2: best order promotion over the lines it covers.
    let after_line: Vec<i64> =
        out_lines.iter().map(|l| l.subtotal.amount_minor - l.line_discount.amount_minor).collect();
    let mut best_order: Option<(i64, Vec<usize>, &Promotion)> = None;
    for p in promotions.iter().filter(|p| p.scope == PromotionScope::Order) {
        let covered: Vec<usize> = (0..items.len()).filter(|&i| p.conditions.matches_product(&items[i].1)).collect();
        let base: i64 = covered.iter().map(|&i| after_line[i]).sum();
        if base <= 0 || p.conditions.min_subtotal_minor.is_some_and(|m| base < m) {
            continue;
        }
        let d = match p.value {
            DiscountValue::Percent { bps } => {
                Money { amount_minor: base, currency: currency.clone() }.percent_bps(bps).amount_minor
            }
            DiscountValue::AmountOff { amount_minor } => amount_minor,
        }
        .clamp(0, base);
        if d > 0 && best_order.as_ref().is_none_or(|(b, _, _)| d > *b) {
            best_order = Some((d, covered, p));
        }
    }
    let mut order_discount = zero.clone();
    let mut order_promotion = None;
    if let Some((d, covered, p)) = best_order {
        let base: i128 = covered.iter().map(|&i| i128::from(after_line[i])).sum();
        let mut given = 0i64;
        for &i in &covered {
            let share = i64::try_from(i128::from(d) * i128::from(after_line[i]) / base).unwrap_or(0);
            out_lines[i].order_discount_share.amount_minor = share;
            given += share;
        }
        // Hand out the rounding remainder a cent at a time, never pushing a
        // line below zero.
        let mut remainder = d - given;
        while remainder > 0 {
            let mut progressed = false;
            for &i in &covered {
                if remainder > 0 && out_lines[i].order_discount_share.amount_minor < after_line[i] {
                    out_lines[i].order_discount_share.amount_minor += 1;
                    remainder -= 1;
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        order_discount.amount_minor = d - remainder;
        order_promotion = Some(p.applied(order_discount.clone()));
    }

    let mut line_discounts = zero.clone();
    let mut total = zero.clone();
    for line in &mut out_lines {
        line.total = line.subtotal.checked_sub(&line.line_discount)?.checked_sub(&line.order_discount_share)?;
        line_discounts = line_discounts.checked_add(&line.line_discount)?;
        total = total.checked_add(&line.total)?;
    }
    let discount_total = line_discounts.checked_add(&order_discount)?;

    let mut codes_applied: Vec<String> = out_lines
        .iter()
        .filter_map(|l| l.line_promotion.as_ref())
        .chain(order_promotion.as_ref())
        .filter_map(|p| p.code.clone())
        .collect();
    codes_applied.sort();
    codes_applied.dedup();
    let codes_not_applied = codes_norm.into_iter().filter(|c| !codes_applied.contains(c)).collect();

    Ok(Quote {
        currency,
        channel_id: channel.cloned(),
        lines: out_lines,
        subtotal,
        line_discounts,
        order_discount,
        order_promotion,
        discount_total,
        total,
        codes_applied,
        codes_not_applied,
    })
}

/// Count one use of every promotion in the quote (at order placement).
pub(crate) fn record_usage(tx: &mut Tx<'_>, quote: &Quote) -> CoreResult<()> {
    for applied in quote.applied_promotions() {
        let mut p: Promotion = tx.must("promotion", applied.promotion_id.as_str())?;
        if p.usage_limit.is_some_and(|l| p.usage_count >= l) {
            return Err(CoreError::conflict(format!(
                "promotion `{}` reached its usage limit; quote the cart again",
                p.name
            )));
        }
        p.usage_count += 1;
        tx.put(&["prm", p.id.as_str()], &p)?;
        if p.usage_limit == Some(p.usage_count) {
            // Its last use: from now on channels show the price without it.
            announce_reached_products(tx, &[&p])?;
        }
    }
    Ok(())
}

/// The price of one unit with automatic line promotions, as a channel shows it.
pub(crate) fn unit_price_tx(
    tx: &mut Tx<'_>,
    variant: &Variant,
    product: &Product,
    channel: Option<&ChannelId>,
) -> CoreResult<UnitPrice> {
    let now = tx.now()?;
    let mut best: Option<(Money, Promotion)> = None;
    for p in all_promotions(tx)? {
        if p.scope != PromotionScope::Line
            || !p.applicable(now, channel, &[])
            || !p.conditions.matches_product(product)
            || p.conditions.min_subtotal_minor.is_some_and(|m| variant.price.amount_minor < m)
        {
            continue;
        }
        let d = line_discount(&p, &variant.price, &variant.price, 1)?;
        if d.amount_minor > 0 && best.as_ref().is_none_or(|(b, _)| d.amount_minor > b.amount_minor) {
            best = Some((d, p));
        }
    }
    Ok(match best {
        Some((d, p)) => UnitPrice { price: variant.price.checked_sub(&d)?, promotion: Some(p.applied(d)) },
        None => UnitPrice { price: variant.price.clone(), promotion: None },
    })
}

impl Core {
    pub fn create_promotion(&self, tenant: &TenantId, new: NewPromotion, now_ms: i64) -> CoreResult<Promotion> {
        let name = validate::text("promotion name", &new.name, 200)?;
        check_value(&new.value)?;
        let code = new.code.as_deref().map(normalize_code).transpose()?;
        if new.usage_limit == Some(0) {
            return Err(CoreError::invalid("usage limit must be at least 1, or none"));
        }
        self.write(tenant, now_ms, |tx| {
            let conditions = check_conditions(tx, &new.conditions)?;
            if let Some(c) = &code
                && tx.exists(&["prmcode", c])?
            {
                return Err(CoreError::conflict(format!("promotion code `{c}` is already in use")));
            }
            let id = PromotionId::new(tx.new_id(PromotionId::PREFIX)?);
            let p = Promotion {
                id: id.clone(),
                name: name.clone(),
                scope: new.scope,
                value: new.value,
                conditions,
                code: code.clone(),
                usage_limit: new.usage_limit,
                usage_count: 0,
                active: true,
                created_ms: now_ms,
                updated_ms: now_ms,
            };
            tx.put(&["prm", id.as_str()], &p)?;
            if let Some(c) = &code {
                tx.put(&["prmcode", c], &id)?;
            }
            tx.emit(DomainEventKind::PromotionChanged, id.as_str(), json!({ "promotion": p }));
            if p.active {
                announce_reached_products(tx, &[&p])?;
            }
            Ok(p)
        })
    }

    pub fn get_promotion(&self, tenant: &TenantId, id: &PromotionId) -> CoreResult<Promotion> {
        self.read(tenant, |tx| tx.must("promotion", id.as_str()))
    }

    pub fn promotion_by_code(&self, tenant: &TenantId, code: &str) -> CoreResult<Promotion> {
        let code = normalize_code(code)?;
        self.read(tenant, |tx| {
            let id: PromotionId =
                tx.get(&["prmcode", &code])?.ok_or_else(|| CoreError::not_found("promotion code", code.clone()))?;
            tx.must("promotion", id.as_str())
        })
    }

    pub fn list_promotions(&self, tenant: &TenantId) -> CoreResult<Vec<Promotion>> {
        self.read(tenant, all_promotions)
    }

    /// A page of promotions in id order, after `after`.
    pub fn list_promotions_page(
        &self,
        tenant: &TenantId,
        after: Option<&PromotionId>,
        limit: usize,
    ) -> CoreResult<Vec<Promotion>> {
        self.page(tenant, "prm", after.map(PromotionId::as_str), limit)
    }

    pub fn update_promotion(
        &self,
        tenant: &TenantId,
        id: &PromotionId,
        patch: PromotionPatch,
        now_ms: i64,
    ) -> CoreResult<Promotion> {
        let name = patch.name.as_deref().map(|n| validate::text("promotion name", n, 200)).transpose()?;
        if let Some(v) = &patch.value {
            check_value(v)?;
        }
        if patch.usage_limit == Some(Some(0)) {
            return Err(CoreError::invalid("usage limit must be at least 1, or none"));
        }
        self.write(tenant, now_ms, |tx| {
            let mut p: Promotion = tx.must("promotion", id.as_str())?;
            let before = p.clone();
            if let Some(n) = &name {
                p.name = n.clone();
            }
            if let Some(a) = patch.active {
                p.active = a;
            }
            if let Some(v) = patch.value {
                p.value = v;
            }
            if let Some(c) = &patch.conditions {
                p.conditions = check_conditions(tx, c)?;
            }
            if let Some(l) = patch.usage_limit {
                p.usage_limit = l;
            }
            p.updated_ms = now_ms;
            tx.put(&["prm", id.as_str()], &p)?;
            tx.emit(DomainEventKind::PromotionChanged, id.as_str(), json!({ "promotion": p }));
            let reached: Vec<&Promotion> = [&before, &p].into_iter().filter(|q| q.active).collect();
            announce_reached_products(tx, &reached)?;
            Ok(p)
        })
    }

    /// Price lines as the given channel would see them. Read-only: reserves
    /// nothing and counts no promotion use.
    pub fn quote(&self, tenant: &TenantId, request: &QuoteRequest, now_ms: i64) -> CoreResult<Quote> {
        if request.lines.is_empty() {
            return Err(CoreError::invalid("a quote needs at least one line"));
        }
        let lines: Vec<(VariantId, i64)> = request.lines.iter().map(|l| (l.variant_id.clone(), l.quantity)).collect();
        self.read_at(tenant, now_ms, |tx| quote_tx(tx, &lines, request.channel.as_ref(), &request.codes, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised() {
        assert_eq!(normalize_code(" dolce10 ").unwrap(), "DOLCE10");
        assert!(normalize_code("").is_err());
        assert!(normalize_code("A B").is_err());
    }

    #[test]
    fn discount_values_are_checked() {
        assert!(check_value(&DiscountValue::Percent { bps: 0 }).is_err());
        assert!(check_value(&DiscountValue::Percent { bps: 10_001 }).is_err());
        assert!(check_value(&DiscountValue::AmountOff { amount_minor: -1 }).is_err());
        assert!(check_value(&DiscountValue::Percent { bps: 2000 }).is_ok());
    }

    #[test]
    fn fixed_line_discount_is_per_unit_and_capped() {
        let m = |a| Money { amount_minor: a, currency: "EUR".into() };
        let promo = Promotion {
            id: PromotionId::new("p"),
            name: "x".into(),
            scope: PromotionScope::Line,
            value: DiscountValue::AmountOff { amount_minor: 300 },
            conditions: PromotionConditions::default(),
            code: None,
            usage_limit: None,
            usage_count: 0,
            active: true,
            created_ms: 0,
            updated_ms: 0,
        };
        assert_eq!(line_discount(&promo, &m(1000), &m(3000), 3).unwrap().amount_minor, 900);
        assert_eq!(line_discount(&promo, &m(200), &m(400), 2).unwrap().amount_minor, 400);
    }
}
