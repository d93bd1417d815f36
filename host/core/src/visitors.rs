//! Anonymous visitors: the touchpoints a channel records before it knows who
//! is browsing (a cookie value it chose), kept per visitor and joined to the
//! customer's journal when that visitor places an order.
//!
//! Sits above `customers` (it writes into the customer's journal).

use serde::{Deserialize, Serialize};

use crate::customers::{NewTouchpoint, VisitSource, check_touchpoint, record_touchpoint_tx};
use crate::error::{CoreError, CoreResult};
use crate::group_commit::Lead;
use crate::ids::{CampaignRef, ChannelId, CustomerId, ProductId, TenantId, VariantId};
use crate::store::{Core, Tx, check_now, sortable};
use crate::tenants::load_channel;

/// The most touchpoints kept for one visitor; later ones are not stored
/// (a visitor is a cookie, and a scraper's cookie must not grow without end).
pub const MAX_VISITOR_TOUCHPOINTS: u64 = 1000;
/// The longest visitor id.
pub const MAX_VISITOR_ID: usize = 128;
/// How long page views handed in without waiting gather before their commit:
/// a busy shop commits its views a few dozen times a second, not per view.
pub const VISITOR_GATHER: std::time::Duration = std::time::Duration::from_millis(10);

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

/// A visitor's touchpoint checked as a customer's would be (the customer
/// is filled in on joining).
fn check_visitor_touchpoint(t: VisitorTouchpoint) -> CoreResult<VisitorTouchpoint> {
    let visitor_id = check_visitor_id(&t.visitor_id)?;
    let checked = check_touchpoint(&as_customer_touchpoint(&t, &CustomerId::new("visitor")))?;
    Ok(VisitorTouchpoint {
        visitor_id,
        kind: checked.kind,
        detail: checked.detail,
        campaign: checked.campaign,
        source: checked.source,
        ..t
    })
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
    /// Concurrent calls share a commit ([`GroupCommit`]); each returns once
    /// its touchpoint is committed, which is durable a moment later
    /// ([`omnistore_storage::Durability::Deferred`]).
    pub fn record_visitor_touchpoint(&self, tenant: &TenantId, t: VisitorTouchpoint, now_ms: i64) -> CoreResult<bool> {
        check_now(now_ms)?;
        let t = check_visitor_touchpoint(t)?;
        self.visitor_touchpoints.submit(tenant, (t, now_ms), |tenant, batch| self.commit_visitor_batch(tenant, batch))
    }

    /// [`Core::record_visitor_touchpoint`] for callers that do not wait for
    /// the commit (a page view): the touchpoint is checked at once (an error
    /// here is the caller's), then gathers with others for up to
    /// [`VISITOR_GATHER`]; `answer` gets the result once it is committed,
    /// from the thread that committed it. When no commit of the tenant runs,
    /// the caller leads and gets a [`VisitorCommit`] to run where blocking is
    /// allowed. Reads of the visitor's touchpoints and orders joining them
    /// first wait for what gathers.
    pub fn enqueue_visitor_touchpoint(
        &self,
        tenant: &TenantId,
        t: VisitorTouchpoint,
        now_ms: i64,
        answer: impl FnOnce(CoreResult<bool>) + Send + 'static,
    ) -> CoreResult<Option<VisitorCommit>> {
        check_now(now_ms)?;
        let t = check_visitor_touchpoint(t)?;
        let lead = self.visitor_touchpoints.enqueue(tenant, (t, now_ms), Box::new(answer));
        Ok(lead.map(|lead| VisitorCommit { core: self.clone(), lead }))
    }

    /// The queued touchpoints, checked when they were handed in.
    fn commit_visitor_batch(
        &self,
        tenant: &TenantId,
        batch: Vec<(VisitorTouchpoint, i64)>,
    ) -> CoreResult<Vec<CoreResult<bool>>> {
        let now = batch.iter().map(|(_, now)| *now).max().unwrap_or_default();
        self.write_visitor_touchpoints(tenant, batch.into_iter().map(|(t, _)| Ok(t)).collect(), now)
    }

    /// Record touchpoints of anonymous visitors in one transaction, so the
    /// page views of many shoppers cost one commit. One answer per
    /// touchpoint, in order: kept or not, or why it was refused; a refused
    /// one does not keep the others out.
    pub fn record_visitor_touchpoints(
        &self,
        tenant: &TenantId,
        batch: Vec<VisitorTouchpoint>,
        now_ms: i64,
    ) -> CoreResult<Vec<CoreResult<bool>>> {
        let checked: Vec<CoreResult<VisitorTouchpoint>> = batch.into_iter().map(check_visitor_touchpoint).collect();
        self.write_visitor_touchpoints(tenant, checked, now_ms)
    }

    /// One transaction for touchpoints already checked (or refused by the check).
    fn write_visitor_touchpoints(
        &self,
        tenant: &TenantId,
        checked: Vec<CoreResult<VisitorTouchpoint>>,
        now_ms: i64,
    ) -> CoreResult<Vec<CoreResult<bool>>> {
        self.write(tenant, now_ms, |tx| {
            // Page views of anonymous shoppers: an fsync per batch cost a busy
            // shop a fifth of its CPU, and a crash losing the last moment of
            // views loses nobody an order, a cart or a consent.
            tx.defer_durability()?;
            let mut answers = Vec::with_capacity(checked.len());
            // A batch is mostly one channel's views: each channel is read once.
            let mut channels_found: Vec<&ChannelId> = Vec::new();
            for t in &checked {
                let t = match t {
                    Ok(t) => t,
                    Err(e) => {
                        answers.push(Err(e.clone()));
                        continue;
                    }
                };
                if let Some(ch) = &t.channel_id
                    && !channels_found.contains(&ch)
                {
                    match load_channel(tx, ch) {
                        Ok(_) => channels_found.push(ch),
                        Err(e) if matches!(e, CoreError::Storage(_)) => return Err(e),
                        Err(e) => {
                            answers.push(Err(e));
                            continue;
                        }
                    }
                }
                let seq = tx.next_seq(&format!("vtp:{}", t.visitor_id))?;
                if seq > MAX_VISITOR_TOUCHPOINTS {
                    answers.push(Ok(false));
                    continue;
                }
                let seq = sortable(i64::try_from(seq).unwrap_or(i64::MAX));
                tx.put(&["vtp", &t.visitor_id, &sortable(t.at_ms), &seq], t)?;
                answers.push(Ok(true));
            }
            Ok(answers)
        })
    }

    /// The touchpoints of a visitor not yet joined to a customer, oldest
    /// first, including those handed in and still gathering (it waits for
    /// their commit, on this thread).
    pub fn visitor_touchpoints(&self, tenant: &TenantId, visitor: &str) -> CoreResult<Vec<VisitorTouchpoint>> {
        let visitor = check_visitor_id(visitor)?;
        self.visitor_touchpoints.flush(tenant);
        self.read(tenant, |tx| {
            Ok(tx.scan::<VisitorTouchpoint>(&["vtp", &visitor])?.into_iter().map(|(_, t)| t).collect())
        })
    }
}

/// The commit of the waiting visitors' touchpoints of one tenant, led by a
/// caller of [`Core::enqueue_visitor_touchpoint`]. Dropped without running,
/// it answers what waits with an error.
#[must_use = "the touchpoints wait until it runs"]
pub struct VisitorCommit {
    core: Core,
    lead: Lead<(VisitorTouchpoint, i64), bool>,
}

impl VisitorCommit {
    /// Commit what waits, batch after batch, until nothing does; blocks on the store.
    pub fn run(self) {
        let core = self.core;
        self.lead.run(|tenant, batch| core.commit_visitor_batch(tenant, batch));
    }
}
