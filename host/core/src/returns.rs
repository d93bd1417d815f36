//! Returns: goods come back at any location (an online order returned in the
//! shop); each line is restocked at the receiving location or written off,
//! and the amount paid for the returned units is refunded.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{LocationId, OrderId, ReturnId, TenantId, VariantId};
use crate::inventory::{restock, write_off};
use crate::money::Money;
use crate::orders::{OrderStatus, apply_refund, load_order};
use crate::store::{Core, Tx};
use crate::tenants::load_location;
use crate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back on the shelf of the receiving location.
    Restock,
    /// Not sellable (damaged, perishable): recorded, not restocked.
    WriteOff,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReturnLineRequest {
    pub line_no: u32,
    pub quantity: i64,
    pub disposition: Disposition,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReturnRequest {
    /// Where the goods were received.
    pub location_id: LocationId,
    pub lines: Vec<ReturnLineRequest>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub line_no: u32,
    pub variant_id: VariantId,
    pub sku: String,
    pub quantity: i64,
    pub disposition: Disposition,
    pub refund: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub id: ReturnId,
    pub order_id: OrderId,
    pub location_id: LocationId,
    pub lines: Vec<ReturnLine>,
    pub refund_total: Money,
    pub reason: Option<String>,
    pub created_ms: i64,
}

/// The refund for returning `quantity` more units of a line of which
/// `already` were returned: the exact share of what was paid, so that
/// returning every unit, in any steps, refunds the line total to the cent.
fn line_refund(total: i64, line_quantity: i64, already: i64, quantity: i64) -> i64 {
    let paid_for = |n: i64| i64::try_from(i128::from(total) * i128::from(n) / i128::from(line_quantity)).unwrap_or(0);
    paid_for(already + quantity) - paid_for(already)
}

fn receive(tx: &mut Tx<'_>, order_id: &OrderId, req: &ReturnRequest, reason: Option<String>) -> CoreResult<Return> {
    let mut order = load_order(tx, order_id)?;
    load_location(tx, &req.location_id)?;
    if !matches!(order.status, OrderStatus::Shipped | OrderStatus::Completed | OrderStatus::Refunded) {
        return Err(CoreError::conflict(format!(
            "order #{} is {:?}; only shipped or completed orders take returns (cancel it instead)",
            order.number, order.status
        )));
    }
    let id = ReturnId::new(tx.new_id(ReturnId::PREFIX)?);
    let mut lines = Vec::new();
    let mut refund_total = 0i64;
    for r in &req.lines {
        let line = order
            .lines
            .iter_mut()
            .find(|l| l.line_no == r.line_no)
            .ok_or_else(|| CoreError::invalid(format!("order #{} has no line {}", order.number, r.line_no)))?;
        let returnable = line.returnable();
        if r.quantity > returnable {
            return Err(CoreError::invalid(format!(
                "line {} ({}) has {returnable} unit(s) left to return, not {}",
                r.line_no, line.sku, r.quantity
            )));
        }
        let refund = line_refund(line.total.amount_minor, line.quantity, line.returned, r.quantity);
        line.returned += r.quantity;
        match r.disposition {
            Disposition::Restock => {
                restock(tx, &line.variant_id, &line.sku, &req.location_id, r.quantity, id.as_str())?
            }
            Disposition::WriteOff => {
                write_off(tx, &line.variant_id, &line.sku, &req.location_id, r.quantity, id.as_str())?
            }
        }
        refund_total += refund;
        lines.push(ReturnLine {
            line_no: r.line_no,
            variant_id: line.variant_id.clone(),
            sku: line.sku.clone(),
            quantity: r.quantity,
            disposition: r.disposition,
            refund: Money { amount_minor: refund, currency: order.currency.clone() },
        });
    }
    let previous = order.status;
    let left = order.total.amount_minor - order.refunded.amount_minor;
    let refund_now = refund_total.min(left);
    if refund_now > 0 {
        apply_refund(tx, &mut order, refund_now, Some(format!("return {id}")))?;
    }
    order.updated_ms = tx.now()?;
    tx.put(&["ord", order.id.as_str()], &order)?;
    let ret = Return {
        id: id.clone(),
        order_id: order.id.clone(),
        location_id: req.location_id.clone(),
        lines,
        refund_total: Money { amount_minor: refund_now, currency: order.currency.clone() },
        reason,
        created_ms: tx.now()?,
    };
    tx.put(&["ret", id.as_str()], &ret)?;
    tx.put(&["ordret", order.id.as_str(), id.as_str()], &())?;
    // The order after the return rides along, so a channel can tell the buyer.
    tx.emit(DomainEventKind::ReturnReceived, id.as_str(), json!({ "return": ret, "order": order }));
    tx.emit(DomainEventKind::OrderUpdated, order.id.as_str(), json!({ "order": order, "previous_status": previous }));
    Ok(ret)
}

impl Core {
    /// Receive returned goods at a location. Restocked units go back on hand
    /// at *that* location, whichever location they were sold from.
    pub fn receive_return(
        &self,
        tenant: &TenantId,
        order: &OrderId,
        request: ReturnRequest,
        now_ms: i64,
    ) -> CoreResult<Return> {
        if request.lines.is_empty() {
            return Err(CoreError::invalid("a return needs at least one line"));
        }
        for l in &request.lines {
            validate::positive_qty("returned quantity", l.quantity)?;
        }
        let mut seen: Vec<u32> = request.lines.iter().map(|l| l.line_no).collect();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(CoreError::invalid("each order line may appear once in a return"));
        }
        let reason = validate::opt_text("reason", request.reason.as_deref(), 2000)?;
        self.write(tenant, now_ms, |tx| receive(tx, order, &request, reason.clone()))
    }

    pub fn get_return(&self, tenant: &TenantId, id: &ReturnId) -> CoreResult<Return> {
        self.read(tenant, |tx| tx.must("return", id.as_str()))
    }

    pub fn order_returns(&self, tenant: &TenantId, order: &OrderId) -> CoreResult<Vec<Return>> {
        self.read(tenant, |tx| {
            load_order(tx, order)?;
            let mut out = Vec::new();
            for (id, ()) in tx.scan::<()>(&["ordret", order.as_str()])? {
                out.push(tx.must("return", &id)?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::line_refund;

    #[test]
    fn partial_returns_refund_exactly_the_line_total() {
        // 3 units that cost 1000 together (333.33 each).
        let steps = [1, 1, 1];
        let mut already = 0;
        let mut sum = 0;
        for q in steps {
            sum += line_refund(1000, 3, already, q);
            already += q;
        }
        assert_eq!(sum, 1000);
        assert_eq!(line_refund(1000, 3, 0, 1), 333);
        assert_eq!(line_refund(1000, 3, 0, 3), 1000);
    }
}
