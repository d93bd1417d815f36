//! Anonymous visitors: the touchpoints a channel records before it knows who
//! is browsing (a cookie value it chose), kept per visitor and joined to the
//! customer's journal when that visitor places an order.
//!
//! Sits above `customers` (it writes into the customer's journal).

use serde::{Deserialize, Serialize};

use crate::customers::{NewTouchpoint, VisitSource, check_touchpoint, record_touchpoint_tx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{CampaignRef, ChannelId, CustomerId, ProductId, TenantId, VariantId};
use crate::store::{Core, Tx, sortable};
use crate::tenants::load_channel;

/// The most touchpoints kept for one visitor; later ones are not stored
/// (a visitor is a cookie, and a scraper's cookie must not grow without end).
pub const MAX_VISITOR_TOUCHPOINTS: u64 = 1000;
/// The longest visitor id.
pub const MAX_VISITOR_ID: usize = 128;

/// A touchpoint of a visitor not yet known as a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorTouchpoint {
    pub visitor_id: String,
    pub kind: String,
    pub channel_id: Option<ChannelId>,
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    pub campaign: Option<CampaignRef>,
    pub detail: Option<String>,
    pub source: Option<VisitSource>,
    pub at_ms: i64,
}

/// A visitor id: 1 to 128 of `A-Z a-z 0-9 - _ .`, as a cookie value would be.
pub(crate) fn check_visitor_id(id: &str) -> CoreResult<String> {
    if id.is_empty()
        || id.len() > MAX_VISITOR_ID
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(CoreError::invalid(format!(
            "visitor id `{}` must be 1 to {MAX_VISITOR_ID} letters, digits, `-`, `_` or `.`",
            id.escape_debug()
        )));
    }
    Ok(id.to_owned())
}

/// The same touchpoint for a customer, validated as customers' are.
fn as_customer_touchpoint(t: &VisitorTouchpoint, customer: &CustomerId) -> NewTouchpoint {
    NewTouchpoint {
        customer_id: customer.clone(),
        kind: t.kind.clone(),
        channel_id: t.channel_id.clone(),
        product_id: t.product_id.clone(),
        variant_id: t.variant_id.clone(),
        campaign: t.campaign.clone(),
        detail: t.detail.clone(),
        at_ms: t.at_ms,
        visitor_id: Some(t.visitor_id.clone()),
        source: t.source.clone(),
    }
}

/// Move every touchpoint of `visitor` into the customer's journal, in the
/// caller's transaction. Returns how many moved.
pub(crate) fn join_visitor_tx(tx: &mut Tx<'_>, visitor: &str, customer: &CustomerId) -> CoreResult<usize> {
    let pending = tx.scan::<VisitorTouchpoint>(&["vtp", visitor])?;
    for (key, t) in &pending {
        record_touchpoint_tx(tx, as_customer_touchpoint(t, customer))?;
        let mut parts = vec!["vtp", visitor];
        parts.extend(key.split('/'));
        tx.del(&parts)?;
    }
    Ok(pending.len())
}

impl Core {
    /// Record a touchpoint of an anonymous visitor. Returns whether it was
    /// kept (a visitor's first [`MAX_VISITOR_TOUCHPOINTS`] are).
    pub fn record_visitor_touchpoint(&self, tenant: &TenantId, t: VisitorTouchpoint, now_ms: i64) -> CoreResult<bool> {
        let visitor = check_visitor_id(&t.visitor_id)?;
        // Checked as a customer's would be; the customer is filled in on joining.
        let checked = check_touchpoint(&as_customer_touchpoint(&t, &CustomerId::new("visitor")))?;
        let t = VisitorTouchpoint {
            visitor_id: visitor.clone(),
            kind: checked.kind,
            detail: checked.detail,
            campaign: checked.campaign,
            source: checked.source,
            ..t
        };
        self.write(tenant, now_ms, |tx| {
            if let Some(ch) = &t.channel_id {
                load_channel(tx, ch)?;
            }
            let seq = tx.next_seq(&format!("vtp:{visitor}"))?;
            if seq > MAX_VISITOR_TOUCHPOINTS {
                return Ok(false);
            }
            let seq = sortable(i64::try_from(seq).unwrap_or(i64::MAX));
            tx.put(&["vtp", &visitor, &sortable(t.at_ms), &seq], &t)?;
            Ok(true)
        })
    }

    /// The touchpoints of a visitor not yet joined to a customer, oldest first.
    pub fn visitor_touchpoints(&self, tenant: &TenantId, visitor: &str) -> CoreResult<Vec<VisitorTouchpoint>> {
        let visitor = check_visitor_id(visitor)?;
        self.read(tenant, |tx| {
            Ok(tx.scan::<VisitorTouchpoint>(&["vtp", &visitor])?.into_iter().map(|(_, t)| t).collect())
        })
    }
}
