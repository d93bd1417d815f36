//! Orders: placement (from a cart's checkout or ingested from a channel),
//! the status flow with its stock effects, and refunds.
//!
//! Status flow and what it does to stock:
//!
//! ```text
//! ship:          placed → shipped (stock leaves its locations) → completed
//! pickup:        placed → ready_for_pickup → completed (stock leaves the shop)
//! ship-to-store: placed → shipped (leaves its locations) → ready_for_pickup → completed
//! placed / ready_for_pickup → cancelled: reservations are released; a
//!     ship-to-store order already at the store is restocked there
//! any → refunded: once refunds reach the total (after cancellation or
//!     fulfilment; an order still holding stock must be cancelled first)
//! ```

use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::{load_product, load_variant, variant_by_sku_tx};
use crate::customers::{Identity, NewTouchpoint, attribution_tx, identify_tx, load_customer, record_touchpoint_tx};
use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{CampaignRef, CartId, ChannelId, CustomerId, LocationId, OrderId, TenantId, VariantId};
use crate::inventory::{
    AllocateSpec, Allocation, Held, MovementKind, Pool, allocate, consume, release_allocation, restock,
};
use crate::money::Money;
use crate::pricing::{AppliedPromotion, Quote, QuoteLine, quote_tx, record_usage};
use crate::store::{Core, Tx};
use crate::tenants::{load_channel, load_location};
use crate::validate;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 ("IT").
    pub country: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fulfilment {
    /// Shipped to an address from any active location.
    Ship { address: Address },
    /// Collected at a location with pickup enabled, from that location's stock.
    Pickup { location_id: LocationId },
    /// Shipped from any location to a pickup location, collected there.
    ShipToStore { location_id: LocationId },
}

impl Fulfilment {
    pub fn kind(&self) -> &'static str {
        match self {
            Fulfilment::Ship { .. } => "ship",
            Fulfilment::Pickup { .. } => "pickup",
            Fulfilment::ShipToStore { .. } => "ship_to_store",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    ReadyForPickup,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// 1-based position, used to refer to the line in returns.
    pub line_no: u32,
    pub variant_id: VariantId,
    pub product_id: crate::ids::ProductId,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    /// The quoted unit price.
    pub unit_price: Money,
    pub line_discount: Money,
    pub order_discount_share: Money,
    /// What the customer paid for the line.
    pub total: Money,
    pub promotion: Option<AppliedPromotion>,
    /// Where the units were reserved and taken from.
    pub allocations: Vec<Allocation>,
    pub returned: i64,
}

impl OrderLine {
    /// Units that left the shop with this order and have not come back:
    /// what a return may still take. Units put back on hand at cancellation
    /// are in stock already.
    pub fn returnable(&self) -> i64 {
        let taken: i64 = self.allocations.iter().filter(|a| a.consumed && !a.restocked).map(|a| a.quantity).sum();
        taken - self.returned
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at_ms: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    /// Human-facing number, per tenant, from 1.
    pub number: u64,
    /// The channel of origin; `None` for the admin / point of sale.
    pub channel_id: Option<ChannelId>,
    /// The order's id on the channel's platform, for ingested orders.
    pub external_id: Option<String>,
    pub cart_id: Option<CartId>,
    pub customer_id: Option<CustomerId>,
    pub email: Option<String>,
    /// The phone number the order was placed with (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// How the order is paid, when the channel chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentMethod>,
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
    /// The campaign of the latest campaign touchpoint within the attribution
    /// window before the order (last-touch attribution).
    pub attributed_campaign: Option<CampaignRef>,
    /// The campaign of the earliest campaign touchpoint within that window
    /// (first-touch attribution); the same as the last when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_touch_campaign: Option<CampaignRef>,
    pub note: Option<String>,
    pub placed_ms: i64,
    pub updated_ms: i64,
}

/// How an order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// At the counter when collecting; only with pickup or ship-to-store.
    PayAtPickup,
    /// Bank transfer or another method the merchant settles by hand.
    Manual,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrderQuery {
    pub after: Option<OrderId>,
    /// 0 means 100.
    pub limit: usize,
    pub status: Option<OrderStatus>,
    pub channel: Option<ChannelId>,
    pub customer: Option<CustomerId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestLine {
    pub sku: String,
    pub quantity: i64,
    /// What the channel charged per unit. Give it for all lines or none; with
    /// none, the core's price resolver prices the order.
    pub unit_price: Option<Money>,
}

/// An order that arrived through a channel (a webhook from a marketplace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestOrder {
    pub external_id: String,
    pub lines: Vec<IngestLine>,
    pub customer: Option<Identity>,
    pub customer_name: Option<String>,
    pub email: Option<String>,
    pub fulfilment: Fulfilment,
    #[serde(default)]
    pub codes: Vec<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    pub order: Order,
    /// False when this (channel, external id) was ingested before and the
    /// first order is returned unchanged.
    pub created: bool,
}

pub(crate) struct OrderDraft {
    pub channel: Option<ChannelId>,
    pub buffer: i64,
    /// What the cart being checked out held until just now.
    pub held: Held,
    pub external_id: Option<String>,
    pub cart_id: Option<CartId>,
    pub customer_id: Option<CustomerId>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub payment: Option<PaymentMethod>,
    pub quote: Quote,
    pub codes: Vec<String>,
    pub fulfilment: Fulfilment,
    pub note: Option<String>,
}

fn check_address(a: &Address) -> CoreResult<Address> {
    let country = a.country.trim().to_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CoreError::invalid(format!("country `{}` must be a two-letter ISO code such as IT", a.country)));
    }
    Ok(Address {
        name: validate::text("address name", &a.name, 200)?,
        line1: validate::text("address line 1", &a.line1, 300)?,
        line2: validate::opt_text("address line 2", a.line2.as_deref(), 300)?,
        city: validate::text("city", &a.city, 200)?,
        postal_code: validate::text("postal code", &a.postal_code, 32)?,
        country,
        phone: validate::opt_text("phone", a.phone.as_deref(), 64)?,
    })
}

/// Check a fulfilment choice and say where its stock may come from.
pub(crate) fn check_fulfilment(tx: &mut Tx<'_>, f: &Fulfilment) -> CoreResult<(Fulfilment, Pool)> {
    match f {
        Fulfilment::Ship { address } => Ok((Fulfilment::Ship { address: check_address(address)? }, Pool::Any)),
        Fulfilment::Pickup { location_id } | Fulfilment::ShipToStore { location_id } => {
            let l = load_location(tx, location_id)?;
            if !l.pickup_enabled || !l.active {
                return Err(CoreError::invalid(format!(
                    "location `{}` does not offer pickup; choose a location with pickup enabled",
                    l.name
                )));
            }
            let pool = if matches!(f, Fulfilment::Pickup { .. }) { Pool::At(l.id.clone()) } else { Pool::Any };
            Ok((f.clone(), pool))
        }
    }
}

pub(crate) fn load_order(tx: &mut Tx<'_>, id: &OrderId) -> CoreResult<Order> {
    tx.must("order", id.as_str())
}

fn save(tx: &mut Tx<'_>, o: &Order) -> CoreResult<()> {
    tx.put(&["ord", o.id.as_str()], o)
}

/// Reserve stock for every line and write the order, in the caller's
/// transaction: either every line is reserved or the transaction fails.
pub(crate) fn place_order_tx(tx: &mut Tx<'_>, draft: OrderDraft) -> CoreResult<Order> {
    if draft.quote.lines.is_empty() {
        return Err(CoreError::invalid("an order needs at least one line"));
    }
    let (fulfilment, pool) = check_fulfilment(tx, &draft.fulfilment)?;
    let id = OrderId::new(tx.new_id(OrderId::PREFIX)?);
    let mut lines = Vec::with_capacity(draft.quote.lines.len());
    let mut held = draft.held.clone();
    for (i, q) in draft.quote.lines.iter().enumerate() {
        let variant = load_variant(tx, &q.variant_id)?;
        let credit = held.get(&q.variant_id).copied().unwrap_or(0).min(q.quantity);
        if credit > 0 {
            *held.entry(q.variant_id.clone()).or_default() -= credit;
        }
        let allocations = allocate(
            tx,
            AllocateSpec {
                variant: &variant,
                quantity: q.quantity,
                pool: &pool,
                buffer: draft.buffer,
                kind: MovementKind::Allocated,
                reference: id.as_str(),
                partial_ok: false,
                credit,
            },
        )?;
        lines.push(OrderLine {
            line_no: u32::try_from(i + 1).unwrap_or(u32::MAX),
            variant_id: q.variant_id.clone(),
            product_id: q.product_id.clone(),
            sku: q.sku.clone(),
            title: q.title.clone(),
            quantity: q.quantity,
            unit_price: q.unit_price.clone(),
            line_discount: q.line_discount.clone(),
            order_discount_share: q.order_discount_share.clone(),
            total: q.total.clone(),
            promotion: q.line_promotion.clone(),
            allocations,
            returned: 0,
        });
    }
    record_usage(tx, &draft.quote)?;
    let number = tx.next_seq("ordnum")?;
    let attribution = match &draft.customer_id {
        Some(c) => attribution_tx(tx, c)?,
        None => Default::default(),
    };
    let currency = draft.quote.currency.clone();
    let order = Order {
        id: id.clone(),
        number,
        channel_id: draft.channel.clone(),
        external_id: draft.external_id.clone(),
        cart_id: draft.cart_id.clone(),
        customer_id: draft.customer_id.clone(),
        email: draft.email.clone(),
        phone: draft.phone.clone(),
        payment: draft.payment,
        lines,
        subtotal: draft.quote.subtotal.clone(),
        discount_total: draft.quote.discount_total.clone(),
        total: draft.quote.total.clone(),
        promotions: draft.quote.applied_promotions(),
        codes: draft.codes.clone(),
        fulfilment,
        status: OrderStatus::Placed,
        history: vec![StatusChange { status: OrderStatus::Placed, at_ms: tx.now()?, note: None }],
        refunded: Money { amount_minor: 0, currency: currency.clone() },
        currency,
        tracking: None,
        attributed_campaign: attribution.last_touch,
        first_touch_campaign: attribution.first_touch,
        note: draft.note.clone(),
        placed_ms: tx.now()?,
        updated_ms: tx.now()?,
    };
    save(tx, &order)?;
    if let (Some(ch), Some(ext)) = (&order.channel_id, &order.external_id) {
        tx.put(&["ordext", ch.as_str(), ext], &id)?;
    }
    if let Some(c) = &order.customer_id {
        tx.put(&["custord", c.as_str(), id.as_str()], &())?;
        record_touchpoint_tx(
            tx,
            NewTouchpoint {
                customer_id: c.clone(),
                kind: "purchase".into(),
                channel_id: order.channel_id.clone(),
                product_id: None,
                variant_id: None,
                campaign: order.attributed_campaign.clone(),
                detail: Some(format!("order #{number}")),
                at_ms: tx.now()?,
                visitor_id: None,
                source: None,
            },
        )?;
    }
    tx.emit(DomainEventKind::OrderPlaced, id.as_str(), json!({ "order": order }));
    Ok(order)
}

fn emit_updated(tx: &mut Tx<'_>, order: &Order, previous: OrderStatus) {
    tx.emit(DomainEventKind::OrderUpdated, order.id.as_str(), json!({ "order": order, "previous_status": previous }));
}

fn consume_all(tx: &mut Tx<'_>, order: &mut Order) -> CoreResult<()> {
    let reference = order.id.to_string();
    for line in &mut order.lines {
        for a in line.allocations.iter_mut().filter(|a| !a.consumed) {
            consume(tx, &line.variant_id, &line.sku, a, &reference)?;
            a.consumed = true;
        }
    }
    Ok(())
}

fn set_status(tx: &mut Tx<'_>, order: &mut Order, status: OrderStatus, note: Option<String>) -> CoreResult<()> {
    let now = tx.now()?;
    order.status = status;
    order.history.push(StatusChange { status, at_ms: now, note });
    order.updated_ms = now;
    Ok(())
}

fn transition(tx: &mut Tx<'_>, order: &mut Order, target: OrderStatus, note: Option<String>) -> CoreResult<()> {
    use OrderStatus as S;
    let kind = order.fulfilment.kind();
    let refuse = |order: &Order| {
        Err(CoreError::conflict(format!(
            "order #{} is {:?} ({kind}); it cannot become {target:?}",
            order.number, order.status
        )))
    };
    match (order.status, target, &order.fulfilment) {
        (S::Placed, S::ReadyForPickup, Fulfilment::Pickup { .. }) => {}
        (S::Placed, S::Shipped, Fulfilment::Ship { .. } | Fulfilment::ShipToStore { .. }) => consume_all(tx, order)?,
        (S::Shipped, S::ReadyForPickup, Fulfilment::ShipToStore { .. }) => {}
        (S::Shipped, S::Completed, Fulfilment::Ship { .. }) => {}
        (S::ReadyForPickup, S::Completed, Fulfilment::Pickup { .. } | Fulfilment::ShipToStore { .. }) => {
            consume_all(tx, order)?
        }
        (S::Placed | S::ReadyForPickup, S::Cancelled, fulfilment) => {
            let store = match fulfilment {
                Fulfilment::ShipToStore { location_id } => Some(location_id.clone()),
                _ => None,
            };
            let reference = order.id.to_string();
            for line in &mut order.lines {
                // Units already returned came back through the return; only
                // the rest of what travelled to the store is put back here.
                let mut returned = line.returned;
                let mut put_back_parts = Vec::new();
                for a in &mut line.allocations {
                    if !a.consumed {
                        release_allocation(tx, &line.variant_id, &line.sku, a, &reference)?;
                    } else if let Some(store) = &store {
                        // The goods already travelled to the store: they are there now.
                        let put_back = (a.quantity - returned).max(0);
                        returned = (returned - a.quantity).max(0);
                        if put_back > 0 {
                            restock(tx, &line.variant_id, &line.sku, store, put_back, &reference)?;
                        }
                        if put_back == a.quantity {
                            a.restocked = true;
                        } else if put_back > 0 {
                            // Part came back through a return: the allocation is
                            // split so that `restocked` counts only what this
                            // cancel put back.
                            a.quantity -= put_back;
                            put_back_parts.push(Allocation {
                                quantity: put_back,
                                backordered: 0,
                                restocked: true,
                                ..a.clone()
                            });
                        }
                    }
                }
                line.allocations.extend(put_back_parts);
            }
        }
        (S::Shipped, S::Cancelled, _) => {
            return Err(CoreError::conflict(format!(
                "order #{} has shipped; record a return when the goods come back instead of cancelling",
                order.number
            )));
        }
        _ => return refuse(order),
    }
    set_status(tx, order, target, note)?;
    Ok(())
}

fn quote_from_prices(tx: &mut Tx<'_>, lines: &[(crate::catalog::Variant, i64, Money)]) -> CoreResult<Quote> {
    let currency = tx.currency();
    let zero = Money { amount_minor: 0, currency: currency.clone() };
    let mut out = Vec::new();
    let mut subtotal = zero.clone();
    for (v, qty, unit) in lines {
        unit.validate(&currency)?;
        if unit.amount_minor < 0 {
            return Err(CoreError::invalid("unit price must not be negative"));
        }
        let product = load_product(tx, &v.product_id)?;
        let line_subtotal = unit.checked_mul(*qty)?;
        subtotal = subtotal.checked_add(&line_subtotal)?;
        out.push(QuoteLine {
            variant_id: v.id.clone(),
            product_id: v.product_id.clone(),
            sku: v.sku.clone(),
            title: format!("{} — {}", product.title, v.title),
            quantity: *qty,
            unit_price: unit.clone(),
            compare_at: v.compare_at.clone(),
            subtotal: line_subtotal.clone(),
            line_discount: zero.clone(),
            line_promotion: None,
            order_discount_share: zero.clone(),
            total: line_subtotal,
        });
    }
    Ok(Quote {
        currency,
        channel_id: None,
        lines: out,
        subtotal: subtotal.clone(),
        line_discounts: zero.clone(),
        order_discount: zero.clone(),
        order_promotion: None,
        discount_total: zero,
        total: subtotal,
        codes_applied: vec![],
        codes_not_applied: vec![],
    })
}

fn page_limit(limit: usize) -> usize {
    if limit == 0 { 100 } else { limit.min(1000) }
}

/// Move a merged-away customer's orders to the surviving profile.
pub(crate) fn reassign_orders_tx(tx: &mut Tx<'_>, from: &CustomerId, to: &CustomerId) -> CoreResult<()> {
    for (order_id, ()) in tx.scan::<()>(&["custord", from.as_str()])? {
        let mut order: Order = tx.must("order", &order_id)?;
        order.customer_id = Some(to.clone());
        tx.put(&["ord", &order_id], &order)?;
        tx.put(&["custord", to.as_str(), &order_id], &())?;
        tx.del(&["custord", from.as_str(), &order_id])?;
    }
    Ok(())
}

impl Core {
    pub fn get_order(&self, tenant: &TenantId, id: &OrderId) -> CoreResult<Order> {
        self.read(tenant, |tx| load_order(tx, id))
    }

    pub fn order_by_external_id(&self, tenant: &TenantId, channel: &ChannelId, external_id: &str) -> CoreResult<Order> {
        self.read(tenant, |tx| {
            let id: OrderId = tx
                .get(&["ordext", channel.as_str(), external_id])?
                .ok_or_else(|| CoreError::not_found("order", format!("{external_id} on channel {channel}")))?;
            load_order(tx, &id)
        })
    }

    /// One list of the orders from every channel, oldest first, paged by id.
    pub fn list_orders(&self, tenant: &TenantId, query: &OrderQuery) -> CoreResult<Vec<Order>> {
        let limit = page_limit(query.limit);
        self.read(tenant, |tx| {
            let mut out = Vec::new();
            let mut after = query.after.as_ref().map(|a| a.as_str().to_owned());
            loop {
                let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                let page: Vec<Order> = match &query.customer {
                    Some(c) => {
                        let c = load_customer(tx, c)?.id;
                        let ids = tx.scan_range::<()>(&["custord", c.as_str()], start, Bound::Unbounded, limit)?;
                        let mut os = Vec::new();
                        for (id, ()) in ids {
                            os.push(load_order(tx, &OrderId::new(id))?);
                        }
                        os
                    }
                    None => tx
                        .scan_range::<Order>(&["ord"], start, Bound::Unbounded, limit)?
                        .into_iter()
                        .map(|(_, o)| o)
                        .collect(),
                };
                let exhausted = page.len() < limit;
                after = page.last().map(|o| o.id.to_string());
                for o in page {
                    let keep = query.status.is_none_or(|s| s == o.status)
                        && query.channel.as_ref().is_none_or(|c| o.channel_id.as_ref() == Some(c));
                    if keep && out.len() < limit {
                        out.push(o);
                    }
                }
                if exhausted || out.len() >= limit {
                    return Ok(out);
                }
            }
        })
    }

    /// Ingest an order that arrived through a channel. Idempotent on
    /// (channel, external id): a repeat returns the first order, `created =
    /// false`, and moves no stock. The channel's safety buffer does not apply
    /// (the sale already happened there), but stock still never goes below
    /// zero: a line that cannot be covered fails the whole ingestion with
    /// `InsufficientStock`, so the channel can cancel it upstream.
    pub fn ingest_order(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        order: IngestOrder,
        now_ms: i64,
    ) -> CoreResult<Ingested> {
        let external_id = validate::text("external order id", &order.external_id, 256)?;
        if order.lines.is_empty() {
            return Err(CoreError::invalid("an order needs at least one line"));
        }
        for l in &order.lines {
            validate::positive_qty("quantity", l.quantity)?;
        }
        let priced = order.lines.iter().filter(|l| l.unit_price.is_some()).count();
        if priced != 0 && priced != order.lines.len() {
            return Err(CoreError::invalid("give unit prices for all lines or for none"));
        }
        let customer = order.customer.as_ref().map(Identity::normalized).transpose()?;
        let name = validate::opt_text("customer name", order.customer_name.as_deref(), 200)?;
        let email = order.email.as_deref().map(Identity::email).transpose()?.map(|i| i.value);
        let note = validate::opt_text("note", order.note.as_deref(), 2000)?;
        self.write(tenant, now_ms, |tx| {
            load_channel(tx, channel)?;
            if let Some(id) = tx.get::<OrderId>(&["ordext", channel.as_str(), &external_id])? {
                return Ok(Ingested { order: load_order(tx, &id)?, created: false });
            }
            let mut variants = Vec::new();
            for l in &order.lines {
                variants.push((variant_by_sku_tx(tx, &l.sku)?, l.quantity, l.unit_price.clone()));
            }
            let quote = if priced > 0 {
                let lines: Vec<_> = variants.into_iter().map(|(v, q, p)| (v, q, p.expect("all priced"))).collect();
                quote_from_prices(tx, &lines)?
            } else {
                let lines: Vec<_> = variants.iter().map(|(v, q, _)| (v.id.clone(), *q)).collect();
                quote_tx(tx, &lines, Some(channel), &order.codes, false)?
            };
            let customer_id = match &customer {
                Some(i) => Some(identify_tx(tx, i, name.clone())?.id),
                None => match &email {
                    Some(e) => Some(identify_tx(tx, &Identity::email(e)?, name.clone())?.id),
                    None => None,
                },
            };
            let placed = place_order_tx(
                tx,
                OrderDraft {
                    channel: Some(channel.clone()),
                    buffer: 0,
                    held: Held::new(),
                    external_id: Some(external_id.clone()),
                    cart_id: None,
                    customer_id,
                    email: email.clone(),
                    phone: None,
                    payment: None,
                    codes: quote.codes_applied.clone(),
                    quote,
                    fulfilment: order.fulfilment.clone(),
                    note: note.clone(),
                },
            )?;
            Ok(Ingested { order: placed, created: true })
        })
    }

    fn order_transition(
        &self,
        tenant: &TenantId,
        id: &OrderId,
        target: OrderStatus,
        note: Option<&str>,
        tracking: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<Order> {
        let note = validate::opt_text("note", note, 2000)?;
        let tracking = validate::opt_text("tracking", tracking, 500)?;
        self.write(tenant, now_ms, |tx| {
            let mut order = load_order(tx, id)?;
            let previous = order.status;
            if previous == target {
                return Ok(order);
            }
            transition(tx, &mut order, target, note.clone())?;
            if tracking.is_some() {
                order.tracking = tracking.clone();
            }
            save(tx, &order)?;
            emit_updated(tx, &order, previous);
            Ok(order)
        })
    }

    /// A pickup order is packed and waiting at the shop (or a ship-to-store
    /// order arrived there). Idempotent.
    pub fn mark_ready_for_pickup(&self, tenant: &TenantId, id: &OrderId, now_ms: i64) -> CoreResult<Order> {
        self.order_transition(tenant, id, OrderStatus::ReadyForPickup, None, None, now_ms)
    }

    /// The order left: its stock is taken out of the allocated locations.
    pub fn mark_shipped(
        &self,
        tenant: &TenantId,
        id: &OrderId,
        tracking: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<Order> {
        self.order_transition(tenant, id, OrderStatus::Shipped, None, tracking, now_ms)
    }

    /// Delivered, or collected by the customer (pickup stock leaves the shop now).
    pub fn mark_completed(&self, tenant: &TenantId, id: &OrderId, now_ms: i64) -> CoreResult<Order> {
        self.order_transition(tenant, id, OrderStatus::Completed, None, None, now_ms)
    }

    /// Cancel an order that has not shipped; its stock is released.
    pub fn cancel_order(
        &self,
        tenant: &TenantId,
        id: &OrderId,
        reason: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<Order> {
        self.order_transition(tenant, id, OrderStatus::Cancelled, reason, None, now_ms)
    }

    /// Record a refund of `amount_minor` (all that is left when `None`). The
    /// order becomes `refunded` when refunds reach its total.
    pub fn refund_order(
        &self,
        tenant: &TenantId,
        id: &OrderId,
        amount_minor: Option<i64>,
        reason: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<Order> {
        let reason = validate::opt_text("reason", reason, 2000)?;
        self.write(tenant, now_ms, |tx| {
            let mut order = load_order(tx, id)?;
            let previous = order.status;
            let left = order.total.amount_minor - order.refunded.amount_minor;
            let amount = amount_minor.unwrap_or(left);
            if amount <= 0 || amount > left {
                return Err(CoreError::invalid(format!(
                    "refund must be between 1 and {left} (what is left of the order total), got {amount}"
                )));
            }
            apply_refund(tx, &mut order, amount, reason.clone())?;
            save(tx, &order)?;
            emit_updated(tx, &order, previous);
            Ok(order)
        })
    }
}

/// Add a refund to the order; reaching the total makes it `refunded`.
pub(crate) fn apply_refund(tx: &mut Tx<'_>, order: &mut Order, amount: i64, note: Option<String>) -> CoreResult<()> {
    let full = order.refunded.amount_minor + amount >= order.total.amount_minor;
    if full && order.status != OrderStatus::Refunded {
        let holding = order.lines.iter().any(|l| l.allocations.iter().any(|a| !a.consumed));
        if holding && order.status != OrderStatus::Cancelled {
            return Err(CoreError::conflict(format!(
                "order #{} still holds stock; cancel it first so the stock is released, then refund",
                order.number
            )));
        }
        set_status(tx, order, OrderStatus::Refunded, note)?;
    } else {
        order.updated_ms = tx.now()?;
    }
    order.refunded.amount_minor += amount;
    Ok(())
}
