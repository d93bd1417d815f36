//! What one channel may reach inside its tenant.
//!
//! Tenant isolation keeps tenants apart; this keeps a tenant's channels apart.
//! A third-party plugin must not be able to dump a merchant's customer list or
//! read another channel's carts, so a channel reaches:
//!
//! - the carts it created and the orders placed on it (checked from the
//!   record's own channel, nothing to write);
//! - the customers it **identified** (it called identify, ingested their
//!   order, or checked out their cart), and the customers and orders it was
//!   **handed** in an event delivered to it.
//!
//! Anything else answers "not found", exactly as a record of another tenant
//! would, so a plugin cannot even learn that it exists. Granting marketing
//! consent needs [`Reach::Identified`]: a channel may record an opt-in only
//! from someone who identified themselves on it; withdrawing consent needs
//! only reach.

use serde::{Deserialize, Serialize};

use crate::carts::{Cart, load_cart};
use crate::customers::{Customer, load_customer};
use crate::error::{CoreError, CoreResult};
use crate::ids::{CartId, ChannelId, CustomerId, OrderId, TenantId};
use crate::orders::{Order, load_order};
use crate::store::{Core, Tx};

/// How a channel came to know a customer or an order. Ordered: a stronger
/// reach is never replaced by a weaker one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Named in an event delivered to the channel.
    Handed,
    /// The customer identified themselves on the channel.
    Identified,
}

/// The record kinds a reach can be granted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reachable {
    Customer,
    Order,
}

impl Reachable {
    fn table(self) -> &'static str {
        match self {
            Reachable::Customer => "cus",
            Reachable::Order => "ord",
        }
    }
}

pub(crate) fn reach_of(tx: &mut Tx<'_>, channel: &ChannelId, kind: Reachable, id: &str) -> CoreResult<Option<Reach>> {
    tx.get::<Reach>(&["reach", channel.as_str(), kind.table(), id])
}

/// Record that `channel` reaches a record, keeping the stronger of the old and new reach.
pub(crate) fn grant_tx(
    tx: &mut Tx<'_>,
    channel: &ChannelId,
    kind: Reachable,
    id: &str,
    reach: Reach,
) -> CoreResult<()> {
    if reach_of(tx, channel, kind, id)?.is_some_and(|old| old >= reach) {
        return Ok(());
    }
    tx.put(&["reach", channel.as_str(), kind.table(), id], &reach)
}

/// The customer as `channel` may see it: `NotFound` unless the channel
/// reaches it at least as strongly as `needed` (by the id asked for, or the
/// profile it was merged into).
pub(crate) fn customer_for_channel(
    tx: &mut Tx<'_>,
    channel: &ChannelId,
    id: &CustomerId,
    needed: Reach,
) -> CoreResult<Customer> {
    let customer = load_customer(tx, id).map_err(|e| hide(e, "customer", id.as_str()))?;
    let asked = reach_of(tx, channel, Reachable::Customer, id.as_str())?;
    let surviving = reach_of(tx, channel, Reachable::Customer, customer.id.as_str())?;
    match asked.max(surviving) {
        Some(r) if r >= needed => Ok(customer),
        _ => Err(CoreError::not_found("customer", id.as_str())),
    }
}

fn hide(err: CoreError, kind: &'static str, id: &str) -> CoreError {
    match err {
        CoreError::NotFound { .. } => CoreError::not_found(kind, id),
        other => other,
    }
}

impl Core {
    /// Record that `channel` reaches a customer (it identified them, or their
    /// order came through it).
    pub fn grant_customer_reach(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        customer: &CustomerId,
        reach: Reach,
        now_ms: i64,
    ) -> CoreResult<()> {
        self.write(tenant, now_ms, |tx| {
            let c = load_customer(tx, customer)?;
            grant_tx(tx, channel, Reachable::Customer, c.id.as_str(), reach)
        })
    }

    /// The customer if `channel` reaches it as strongly as `needed`, else `NotFound`.
    pub fn customer_for_channel(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        customer: &CustomerId,
        needed: Reach,
    ) -> CoreResult<Customer> {
        self.read(tenant, |tx| customer_for_channel(tx, channel, customer, needed))
    }

    /// The cart if `channel` created it, else `NotFound`.
    pub fn cart_for_channel(&self, tenant: &TenantId, channel: &ChannelId, cart: &CartId) -> CoreResult<Cart> {
        self.read(tenant, |tx| {
            let c = load_cart(tx, cart)?;
            if c.channel_id.as_ref() != Some(channel) {
                return Err(CoreError::not_found("cart", cart.as_str()));
            }
            Ok(c)
        })
    }

    /// The order if it was placed on `channel` or handed to it in an event, else `NotFound`.
    pub fn order_for_channel(&self, tenant: &TenantId, channel: &ChannelId, order: &OrderId) -> CoreResult<Order> {
        self.read(tenant, |tx| {
            let o = load_order(tx, order)?;
            if o.channel_id.as_ref() == Some(channel)
                || reach_of(tx, channel, Reachable::Order, order.as_str())?.is_some()
            {
                return Ok(o);
            }
            Err(CoreError::not_found("order", order.as_str()))
        })
    }
}
