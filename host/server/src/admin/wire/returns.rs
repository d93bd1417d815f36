//! Returns: goods received back against an order.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Money, wire_enum};

wire_enum! {
    /// `restock`: back into stock at the return's location; `write_off`: gone.
    Disposition <=> Disposition { Restock, WriteOff }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct ReturnLineRequest {
    pub line_no: u32,
    #[schemars(range(min = 1))]
    pub quantity: i64,
    pub disposition: Disposition,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct ReturnRequest {
    /// Where the goods were received; restocked units go back here.
    pub location_id: String,
    pub lines: Vec<ReturnLineRequest>,
    pub reason: Option<String>,
}

impl From<ReturnRequest> for domain::ReturnRequest {
    fn from(r: ReturnRequest) -> domain::ReturnRequest {
        domain::ReturnRequest {
            location_id: r.location_id.into(),
            lines: r
                .lines
                .into_iter()
                .map(|l| domain::ReturnLineRequest {
                    line_no: l.line_no,
                    quantity: l.quantity,
                    disposition: l.disposition.into(),
                })
                .collect(),
            reason: r.reason,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ReturnLine {
    pub line_no: u32,
    pub variant_id: String,
    pub sku: String,
    pub quantity: i64,
    pub disposition: Disposition,
    pub refund: Money,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Return {
    pub id: String,
    pub order_id: String,
    pub location_id: String,
    pub lines: Vec<ReturnLine>,
    pub refund_total: Money,
    pub reason: Option<String>,
    pub created_ms: i64,
}

impl From<domain::Return> for Return {
    fn from(r: domain::Return) -> Return {
        Return {
            id: r.id.to_string(),
            order_id: r.order_id.to_string(),
            location_id: r.location_id.to_string(),
            lines: r
                .lines
                .into_iter()
                .map(|l| ReturnLine {
                    line_no: l.line_no,
                    variant_id: l.variant_id.to_string(),
                    sku: l.sku,
                    quantity: l.quantity,
                    disposition: l.disposition.into(),
                    refund: l.refund.into(),
                })
                .collect(),
            refund_total: r.refund_total.into(),
            reason: r.reason,
            created_ms: r.created_ms,
        }
    }
}
