//! A customer's profile across the modules that refer to it: merging two
//! profiles (with their orders and open cart) and the timeline of orders,
//! touchpoints and consent. Sits above customers, carts and orders, so that
//! customers depends on neither (carts and orders depend on customers).

use std::ops::Bound;

use crate::carts::reassign_cart_tx;
use crate::customers::{
    ConsentRecord, Customer, TimelineEntry, Touchpoint, absorb_profile_tx, finish_merge_tx, load_customer,
};
use crate::error::CoreResult;
use crate::ids::{CustomerId, TenantId};
use crate::orders::{Order, reassign_orders_tx};
use crate::store::{Core, sortable};

impl Core {
    /// Merge `absorbed` into `kept` when they turn out to be one person:
    /// identities, consent (the latest decision per purpose wins), history,
    /// touchpoints, orders and the open cart move to `kept`; `absorbed`
    /// remains as a pointer.
    pub fn merge_customers(
        &self,
        tenant: &TenantId,
        kept: &CustomerId,
        absorbed: &CustomerId,
        now_ms: i64,
    ) -> CoreResult<Customer> {
        self.write(tenant, now_ms, |tx| {
            let (keep, gone) = absorb_profile_tx(tx, kept, absorbed)?;
            reassign_orders_tx(tx, &gone.id, &keep.id)?;
            reassign_cart_tx(tx, &gone.id, &keep.id)?;
            finish_merge_tx(tx, keep, gone, now_ms)
        })
    }

    /// The customer's journey between `from_ms` (inclusive) and `to_ms`
    /// (exclusive): touchpoints, orders and consent decisions, oldest first,
    /// at most `limit` (the oldest ones).
    pub fn timeline(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> CoreResult<Vec<TimelineEntry>> {
        let limit = if limit == 0 { 100 } else { limit.min(10_000) };
        self.read(tenant, |tx| {
            let c = load_customer(tx, customer)?;
            let in_range = |at: i64| at >= from_ms && at < to_ms;
            let (from, to) = (sortable(from_ms), sortable(to_ms));
            // Orders first: for equal times the stable sort below then shows
            // the order before the purchase touchpoint it caused.
            let mut out: Vec<TimelineEntry> = Vec::new();
            for (order_id, ()) in tx.scan::<()>(&["custord", c.id.as_str()])? {
                let o: Order = tx.must("order", &order_id)?;
                if in_range(o.placed_ms) {
                    out.push(TimelineEntry::OrderPlaced {
                        order_id: o.id,
                        number: o.number,
                        channel_id: o.channel_id,
                        total: o.total,
                        at_ms: o.placed_ms,
                    });
                }
            }
            out.extend(
                tx.scan_range::<Touchpoint>(
                    &["tp", c.id.as_str()],
                    Bound::Included(&from),
                    Bound::Excluded(&to),
                    limit,
                )?
                .into_iter()
                .map(|(_, t)| TimelineEntry::Touchpoint(Box::new(t))),
            );
            for (_, r) in tx.scan::<ConsentRecord>(&["conslog", c.id.as_str()])? {
                if in_range(r.at_ms) {
                    out.push(TimelineEntry::Consent(r));
                }
            }
            out.sort_by_key(TimelineEntry::at_ms);
            out.truncate(limit);
            Ok(out)
        })
    }
}
