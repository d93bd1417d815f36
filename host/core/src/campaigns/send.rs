//! Sending a campaign in bounded batches, each one transaction that stores
//! its decisions, its events and the cursor together (see the module docs
//! of [`crate::campaigns`] for why that makes every message exactly once).

use super::render::Templates;
use super::{
    Campaign, CampaignMessageEvent, CampaignStatus, Medium, SkipReason, load_campaign, recipients_now, recipients_tx,
    save_campaign, start_tx,
};
use crate::customers::{Customer, load_customer};
use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{CampaignId, CustomerId, EventId, TenantId};
use crate::store::{Core, Tx};

/// Recipients per batch when the caller does not say: small enough that a
/// batch's transaction stays short, large enough to move quickly.
pub const BATCH: usize = 100;

/// What one clocked round did ([`Core::run_campaigns`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignRound {
    /// Scheduled campaigns that started.
    pub started: usize,
    /// Batches sent.
    pub batches: usize,
}

/// The marker that a message of this campaign on this channel went to
/// this customer; it holds the event's id.
fn marker(campaign: &CampaignId, medium: Medium, customer: &CustomerId) -> [String; 4] {
    ["cmpmsg".into(), campaign.to_string(), medium.as_str().into(), customer.to_string()]
}

/// Decide and record one recipient on one channel.
fn one(
    tx: &mut Tx<'_>,
    c: &mut Campaign,
    templates: &Templates,
    medium: Medium,
    customer: Option<&Customer>,
) -> CoreResult<()> {
    let Some(customer) = customer else {
        c.progress.channel_mut(medium).skip(SkipReason::CustomerGone);
        return Ok(());
    };
    let key = marker(&c.id, medium, &customer.id);
    let key: Vec<&str> = key.iter().map(String::as_str).collect();
    if tx.exists(&key)? {
        // Another entry of the list was this person before a merge.
        c.progress.channel_mut(medium).skip(SkipReason::AlreadySent);
        return Ok(());
    }
    let reason = if !customer.has_consent(medium.purpose()) {
        Some(SkipReason::NoConsent)
    } else if customer.identity(&medium.identity()).is_none() {
        Some(SkipReason::NoIdentity)
    } else {
        None
    };
    if let Some(reason) = reason {
        c.progress.channel_mut(medium).skip(reason);
        return Ok(());
    }
    let tenant = tx.tenant_record().clone();
    let rendered = match templates.render(medium, c, &tenant, customer) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(campaign = %c.id, customer = %customer.id, channel = medium.as_str(), error = %e, "campaign message did not render; skipped");
            c.progress.channel_mut(medium).skip(SkipReason::RenderFailed);
            return Ok(());
        }
    };
    let Some(channel_id) = c.channel_for(medium).cloned() else { return Ok(()) };
    let message = CampaignMessageEvent {
        campaign_id: c.id.clone(),
        customer_id: customer.id.clone(),
        channel_id,
        medium,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    };
    let payload = serde_json::to_value(&message).map_err(|e| CoreError::invalid(format!("campaign message: {e}")))?;
    let derived = format!("campaign.message/{}/{}/{}", c.id, customer.id, medium.as_str());
    let id: EventId = tx.emit_derived(DomainEventKind::CampaignMessage, customer.id.as_str(), payload, &derived)?;
    tx.put(&key, &id)?;
    c.progress.channel_mut(medium).queued += 1;
    Ok(())
}

/// One batch of a sending campaign, in the caller's transaction.
fn batch_tx(tx: &mut Tx<'_>, id: &CampaignId, limit: usize) -> CoreResult<Campaign> {
    let mut c = load_campaign(tx, id)?;
    if c.status != CampaignStatus::Sending {
        return Ok(c);
    }
    let templates = Templates::parse(c.email.as_ref(), c.sms.as_ref().map(|s| s.text.as_str()))?;
    let media = c.media();
    for (index, listed) in recipients_tx(tx, &c.id, c.progress.done, limit)? {
        let customer = match load_customer(tx, &listed) {
            Ok(found) => Some(found),
            Err(CoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        for &medium in &media {
            one(tx, &mut c, &templates, medium, customer.as_ref())?;
        }
        c.progress.done = index + 1;
    }
    let now = tx.now()?;
    if c.progress.done >= c.progress.total {
        c.status = CampaignStatus::Sent;
        c.finished_ms = Some(now);
    }
    c.updated_ms = now;
    save_campaign(tx, &c)?;
    Ok(c)
}

impl Core {
    /// Send the next batch (at most `limit` recipients; 0 means [`BATCH`]) of
    /// a sending campaign in one transaction, and return the campaign with
    /// its progress. A campaign that is not sending is returned unchanged.
    pub fn send_campaign_batch(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        limit: usize,
        now_ms: i64,
    ) -> CoreResult<Campaign> {
        let limit = if limit == 0 { BATCH } else { limit.min(1000) };
        self.write(tenant, now_ms, |tx| batch_tx(tx, id, limit))
    }

    /// The clocked step of campaigns, called by the dispatcher every round:
    /// start the scheduled campaigns that are due and send at most
    /// `max_batches` batches of the campaigns that are sending. A round
    /// with nothing to do writes nothing.
    pub fn run_campaigns(&self, tenant: &TenantId, now_ms: i64, max_batches: usize) -> CoreResult<CampaignRound> {
        let active: Vec<Campaign> = self.read(tenant, |tx| {
            let ids = tx.scan::<()>(&["cmpactive"])?;
            ids.into_iter().map(|(id, ())| load_campaign(tx, &CampaignId::new(id))).collect()
        })?;
        let mut round = CampaignRound::default();
        for c in active {
            if c.status == CampaignStatus::Scheduled && c.send_at_ms.is_some_and(|at| at <= now_ms) {
                let members = recipients_now(self, tenant, &c.id, now_ms)?;
                let started = self.write(tenant, now_ms, |tx| start_tx(tx, &c.id, &members))?;
                round.started += usize::from(started);
            }
        }
        let sending: Vec<CampaignId> = self.read(tenant, |tx| {
            let ids = tx.scan::<()>(&["cmpactive"])?;
            let mut out = Vec::new();
            for (id, ()) in ids {
                let c = load_campaign(tx, &CampaignId::new(id))?;
                if c.status == CampaignStatus::Sending {
                    out.push(c.id);
                }
            }
            Ok(out)
        })?;
        for id in sending {
            while round.batches < max_batches {
                let c = self.send_campaign_batch(tenant, &id, BATCH, now_ms)?;
                round.batches += 1;
                if c.status != CampaignStatus::Sending {
                    break;
                }
            }
        }
        Ok(round)
    }
}
