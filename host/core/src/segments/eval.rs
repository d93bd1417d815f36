//! Evaluating a checked rule against customers: the facts of a customer's
//! orders are gathered once per customer, and only when the rule asks about
//! orders.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use super::SegmentRule;
use crate::catalog::Product;
use crate::customers::Customer;
use crate::error::CoreResult;
use crate::ids::{ChannelId, CollectionId, LocationId, OrderId, ProductId};
use crate::orders::{Fulfilment, Order, OrderStatus};
use crate::store::Tx;

/// Customers read per page while a rule is evaluated.
const PAGE: usize = 256;

/// One page of live (not merged-away) profiles after `after`, and the last
/// id scanned (`None` at the end of the table). The page may be empty while
/// the table goes on: merged-away profiles are skipped.
pub(crate) fn live_customers_page(tx: &mut Tx<'_>, after: Option<&str>) -> CoreResult<(Vec<Customer>, Option<String>)> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    let page = tx.scan_range::<Customer>(&["cus"], start, Bound::Unbounded, PAGE)?;
    let last = page.last().map(|(id, _)| id.clone());
    Ok((page.into_iter().map(|(_, c)| c).filter(|c| c.merged_into.is_none()).collect(), last))
}

/// What a customer's orders say, for the order rules.
#[derive(Default)]
struct Facts {
    spent_minor: i64,
    orders: u32,
    /// (placed, channel) of the first and the last order.
    first: Option<(i64, Option<ChannelId>)>,
    last: Option<(i64, Option<ChannelId>)>,
    pickup_locations: BTreeSet<LocationId>,
    products: BTreeSet<ProductId>,
}

/// Evaluates one rule at one time, remembering products' collections
/// between customers.
pub(crate) struct Evaluator<'r> {
    rule: &'r SegmentRule,
    now_ms: i64,
    needs_orders: bool,
    collections: HashMap<ProductId, Vec<CollectionId>>,
}

fn needs_orders(rule: &SegmentRule) -> bool {
    match rule {
        SegmentRule::All { rules } | SegmentRule::Any { rules } => rules.iter().any(needs_orders),
        SegmentRule::Tagged { .. } | SegmentRule::Consent { .. } => false,
        _ => true,
    }
}

impl<'r> Evaluator<'r> {
    pub(crate) fn new(rule: &'r SegmentRule, now_ms: i64) -> Self {
        Evaluator { rule, now_ms, needs_orders: needs_orders(rule), collections: HashMap::new() }
    }

    pub(crate) fn matches(&mut self, tx: &mut Tx<'_>, customer: &Customer) -> CoreResult<bool> {
        let facts = if self.needs_orders { facts(tx, customer)? } else { Facts::default() };
        self.holds(tx, self.rule, customer, &facts)
    }

    fn holds(&mut self, tx: &mut Tx<'_>, rule: &SegmentRule, c: &Customer, f: &Facts) -> CoreResult<bool> {
        let within =
            |v: i64, low: Option<i64>, high: Option<i64>| low.is_none_or(|l| v >= l) && high.is_none_or(|h| v <= h);
        Ok(match rule {
            SegmentRule::All { rules } => {
                for r in rules {
                    if !self.holds(tx, r, c, f)? {
                        return Ok(false);
                    }
                }
                true
            }
            SegmentRule::Any { rules } => {
                for r in rules {
                    if self.holds(tx, r, c, f)? {
                        return Ok(true);
                    }
                }
                false
            }
            SegmentRule::TotalSpent { at_least_minor, at_most_minor } => {
                within(f.spent_minor, *at_least_minor, *at_most_minor)
            }
            SegmentRule::OrderCount { at_least, at_most } => {
                within(i64::from(f.orders), at_least.map(i64::from), at_most.map(i64::from))
            }
            SegmentRule::LastOrderBefore { when } => {
                f.last.as_ref().is_some_and(|(at, _)| *at < when.resolve(self.now_ms))
            }
            SegmentRule::LastOrderAfter { when } => {
                f.last.as_ref().is_some_and(|(at, _)| *at >= when.resolve(self.now_ms))
            }
            SegmentRule::FirstOrderChannel { channel_id } => f.first.as_ref().is_some_and(|(_, ch)| ch == channel_id),
            SegmentRule::LastOrderChannel { channel_id } => f.last.as_ref().is_some_and(|(_, ch)| ch == channel_id),
            SegmentRule::Tagged { tag } => c.tags.iter().any(|t| t == tag),
            SegmentRule::Consent { purpose, granted } => c.has_consent(*purpose) == *granted,
            SegmentRule::PickedUpAt { location_id } => f.pickup_locations.contains(location_id),
            SegmentRule::BoughtProduct { product_id } => f.products.contains(product_id),
            SegmentRule::BoughtFromCollection { collection_id } => {
                for p in &f.products {
                    if self.collections_of(tx, p)?.contains(collection_id) {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    /// A product's collections now; a deleted product is in none.
    fn collections_of(&mut self, tx: &mut Tx<'_>, product: &ProductId) -> CoreResult<&Vec<CollectionId>> {
        if !self.collections.contains_key(product) {
            let found = tx.get::<Product>(&["prd", product.as_str()])?.map(|p| p.collections).unwrap_or_default();
            self.collections.insert(product.clone(), found);
        }
        Ok(&self.collections[product])
    }
}

fn facts(tx: &mut Tx<'_>, customer: &Customer) -> CoreResult<Facts> {
    let mut f = Facts::default();
    for (id, ()) in tx.scan::<()>(&["custord", customer.id.as_str()])? {
        let Some(order) = tx.get::<Order>(&["ord", OrderId::new(id).as_str()])? else { continue };
        if order.status == OrderStatus::Cancelled {
            continue;
        }
        f.orders += 1;
        f.spent_minor = f.spent_minor.saturating_add(order.total.amount_minor - order.refunded.amount_minor);
        let seen = (order.placed_ms, order.channel_id.clone());
        if f.first.as_ref().is_none_or(|(at, _)| order.placed_ms < *at) {
            f.first = Some(seen.clone());
        }
        if f.last.as_ref().is_none_or(|(at, _)| order.placed_ms >= *at) {
            f.last = Some(seen);
        }
        if let Fulfilment::Pickup { location_id } | Fulfilment::ShipToStore { location_id } = &order.fulfilment {
            f.pickup_locations.insert(location_id.clone());
        }
        f.products.extend(order.lines.iter().map(|l| l.product_id.clone()));
    }
    Ok(f)
}
