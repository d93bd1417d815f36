//! A promotion changes what channels charge without touching a product, so
//! the products it reaches are announced as `product.changed`: a catalog sync
//! (Instagram, Pinterest) then sends the new price like any other edit.
//!
//! Three things change an automatic line promotion's effect on prices:
//! writing it (create, update: both the old and the new conditions are
//! announced, so products that fall out of it get their full price back),
//! its last allowed use at order placement, and the clock crossing the start
//! or end of its window. The last has no write to hang on; the dispatcher
//! calls [`Core::announce_price_windows`] every round, which keeps the time
//! it last looked at (`prm-clock`) and announces the windows crossed since.

use crate::catalog::{Product, emit_product_changed};
use crate::error::CoreResult;
use crate::ids::TenantId;
use crate::pricing::{Promotion, PromotionScope, all_promotions};
use crate::store::{Core, Tx};

/// Whether `p` changes the price a channel shows (as opposed to a cart's
/// total): automatic, per line.
fn moves_shown_prices(p: &Promotion) -> bool {
    p.scope == PromotionScope::Line && p.code.is_none()
}

/// Announce every product that one of `promotions` reaches.
pub(crate) fn announce_reached_products(tx: &mut Tx<'_>, promotions: &[&Promotion]) -> CoreResult<()> {
    let promotions: Vec<&Promotion> = promotions.iter().copied().filter(|p| moves_shown_prices(p)).collect();
    if promotions.is_empty() {
        return Ok(());
    }
    for (_, product) in tx.scan::<Product>(&["prd"])? {
        if promotions.iter().any(|p| p.conditions.matches_product(&product)) {
            emit_product_changed(tx, &product)?;
        }
    }
    Ok(())
}

/// Promotions whose window opened or closed in `(after, until]`.
fn crossed_windows(promotions: &[Promotion], after: i64, until: i64) -> Vec<&Promotion> {
    let crossed = |at: Option<i64>| at.is_some_and(|t| t > after && t <= until);
    promotions
        .iter()
        .filter(|p| p.active && moves_shown_prices(p))
        .filter(|p| crossed(p.conditions.starts_ms) || crossed(p.conditions.ends_ms))
        .collect()
}

const CLOCK_KEY: &[&str] = &["prm-clock"];

impl Core {
    /// Announce the products whose shown price changed because a promotion's
    /// window opened or closed since the last call. The first call only
    /// starts the clock. Returns how many promotions crossed a boundary; a
    /// round where none did writes nothing.
    pub fn announce_price_windows(&self, tenant: &TenantId, now_ms: i64) -> CoreResult<usize> {
        let due = self.read(tenant, |tx| {
            let Some(after) = tx.get::<i64>(CLOCK_KEY)? else { return Ok(true) };
            Ok(after < now_ms && !crossed_windows(&all_promotions(tx)?, after, now_ms).is_empty())
        })?;
        if !due {
            return Ok(0);
        }
        self.write(tenant, now_ms, |tx| {
            let crossed = match tx.get::<i64>(CLOCK_KEY)? {
                Some(after) if after < now_ms => {
                    let promotions = all_promotions(tx)?;
                    let crossed = crossed_windows(&promotions, after, now_ms);
                    announce_reached_products(tx, &crossed)?;
                    crossed.len()
                }
                Some(_) => return Ok(0),
                None => 0,
            };
            tx.put(CLOCK_KEY, &now_ms)?;
            Ok(crossed)
        })
    }
}
