//! What a campaign achieved, per channel: messages queued and skipped (the
//! send's progress), handed over to the channel's plugin or failed there
//! (its deliveries), recipients who clicked through (campaign touchpoints),
//! and the orders credited to it, first-touch and last-touch, with their
//! revenue.
//!
//! Computed on demand over the campaign's recipient list: the work grows
//! with the recipients and their own touchpoints and orders, never with the
//! rest of the shop.

use std::collections::BTreeSet;

use super::{Campaign, CampaignProgress, Medium, SkipReason, load_campaign, recipients_tx};
use crate::customers::{Touchpoint, load_customer};
use crate::error::{CoreError, CoreResult};
use crate::events::{Delivery, DeliveryState};
use crate::ids::{CampaignId, CampaignRef, CustomerId, EventId, OrderId, TenantId};
use crate::money::Money;
use crate::orders::{Order, OrderStatus};
use crate::store::{Core, Tx};

/// The results of one channel of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelResults {
    pub medium: Medium,
    /// Messages handed to the channel as `campaign.message` events.
    pub queued: u64,
    pub skipped: Vec<(SkipReason, u64)>,
    /// Messages the channel's plugin accepted (it took them for delivery; a
    /// handset's receipt is known to the plugin only).
    pub delivered: u64,
    /// Messages whose delivery to the plugin failed for good (dead letters).
    pub failed: u64,
    /// Recipients who came to the shop through one of its links.
    pub clicked: u64,
    /// Orders whose last campaign touch was this campaign on this channel.
    pub orders_last_touch: u64,
    pub revenue_last_touch: Money,
    /// Orders whose first campaign touch in the window was this campaign on this channel.
    pub orders_first_touch: u64,
    pub revenue_first_touch: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignResults {
    pub campaign: Campaign,
    pub channels: Vec<ChannelResults>,
}

impl ChannelResults {
    fn new(medium: Medium, progress: &CampaignProgress, currency: &str) -> Self {
        let p = progress.channel(medium);
        let zero = Money { amount_minor: 0, currency: currency.to_owned() };
        ChannelResults {
            medium,
            queued: p.queued,
            skipped: p.skipped.clone(),
            delivered: 0,
            failed: 0,
            clicked: 0,
            orders_last_touch: 0,
            revenue_last_touch: zero.clone(),
            orders_first_touch: 0,
            revenue_first_touch: zero,
        }
    }
}

/// The channel a touchpoint came through, from its `utm_medium`.
fn medium_of(t: &Touchpoint) -> Option<Medium> {
    match t.source.as_ref()?.medium.as_deref()? {
        "email" => Some(Medium::Email),
        "sms" => Some(Medium::Sms),
        _ => None,
    }
}

/// The state of the event's delivery to the channel it was addressed to.
fn delivery_state(tx: &mut Tx<'_>, event: &EventId) -> CoreResult<Option<DeliveryState>> {
    let from = format!("{event}.");
    let to = format!("{event}/");
    let found =
        tx.scan_range::<Delivery>(&["dlv"], std::ops::Bound::Included(&from), std::ops::Bound::Excluded(&to), 4)?;
    Ok(found.into_iter().map(|(_, d)| d.state).next())
}

fn add(m: &mut Money, amount: i64) {
    m.amount_minor = m.amount_minor.saturating_add(amount);
}

fn recipient(
    tx: &mut Tx<'_>,
    c: &Campaign,
    customer: &CustomerId,
    seen: &mut BTreeSet<CustomerId>,
    out: &mut [ChannelResults],
) -> CoreResult<()> {
    let customer = match load_customer(tx, customer) {
        Ok(found) => found.id,
        Err(CoreError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    // Two entries of the list may have become one person since.
    if !seen.insert(customer.clone()) {
        return Ok(());
    }
    let reference = c.id.as_ref_name();
    let mut sent_on = Vec::new();
    for r in out.iter_mut() {
        let key = ["cmpmsg", c.id.as_str(), r.medium.as_str(), customer.as_str()];
        if let Some(event) = tx.get::<EventId>(&key)? {
            sent_on.push(r.medium);
            match delivery_state(tx, &event)? {
                Some(DeliveryState::Delivered) => r.delivered += 1,
                Some(DeliveryState::Dead) => r.failed += 1,
                _ => {}
            }
        }
    }
    let started = c.started_ms.unwrap_or(i64::MAX);
    let touches: Vec<Touchpoint> = tx
        .scan::<Touchpoint>(&["tp", customer.as_str()])?
        .into_iter()
        .map(|(_, t)| t)
        .filter(|t| t.at_ms >= started && t.campaign.as_ref() == Some(&reference) && t.kind != "purchase")
        .collect();
    let clicked: BTreeSet<Medium> = touches.iter().filter_map(medium_of).collect();
    for r in out.iter_mut() {
        if clicked.contains(&r.medium) {
            r.clicked += 1;
        }
    }
    // An order counts for the channel of the campaign's latest touch before
    // it; a touch that named no channel counts for the one it was sent on.
    let fallback = sent_on.first().copied();
    for (id, ()) in tx.scan::<()>(&["custord", customer.as_str()])? {
        let Some(order) = tx.get::<Order>(&["ord", OrderId::new(id).as_str()])? else { continue };
        if order.status == OrderStatus::Cancelled || order.placed_ms < started {
            continue;
        }
        let credited = |r: &Option<CampaignRef>| r.as_ref() == Some(&reference);
        let (last, first) = (credited(&order.attributed_campaign), credited(&order.first_touch_campaign));
        if !last && !first {
            continue;
        }
        let medium =
            touches.iter().filter(|t| t.at_ms <= order.placed_ms).filter_map(medium_of).next_back().or(fallback);
        let Some(r) = out.iter_mut().find(|r| Some(r.medium) == medium) else { continue };
        let revenue = order.total.amount_minor - order.refunded.amount_minor;
        if last {
            r.orders_last_touch += 1;
            add(&mut r.revenue_last_touch, revenue);
        }
        if first {
            r.orders_first_touch += 1;
            add(&mut r.revenue_first_touch, revenue);
        }
    }
    Ok(())
}

impl Core {
    /// The campaign's results per channel, as they stand now.
    pub fn campaign_results(&self, tenant: &TenantId, id: &CampaignId) -> CoreResult<CampaignResults> {
        self.read(tenant, |tx| {
            let c = load_campaign(tx, id)?;
            let currency = tx.currency();
            let mut out: Vec<ChannelResults> =
                c.media().into_iter().map(|m| ChannelResults::new(m, &c.progress, &currency)).collect();
            let mut from = 0;
            let mut seen = BTreeSet::new();
            loop {
                let page = recipients_tx(tx, &c.id, from, 256)?;
                let Some((last, _)) = page.last() else { break };
                from = last + 1;
                for (_, customer) in &page {
                    recipient(tx, &c, customer, &mut seen, &mut out)?;
                }
            }
            Ok(CampaignResults { campaign: c, channels: out })
        })
    }
}
