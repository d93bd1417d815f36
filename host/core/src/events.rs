//! Domain events and their delivery to channels.
//!
//! Every mutation writes its events to the tenant's outbox (`evt/{id}`) in
//! its own transaction, so an event exists if and only if its change
//! committed. Event ids are issued in commit order per tenant and are stable:
//! a plugin deduplicates on them.
//!
//! A dispatcher (outside the core; it calls plugins) drives deliveries:
//!
//! 1. [`Core::fan_out`] turns new outbox events into one [`Delivery`] per
//!    enabled channel subscribed to the event kind. Bursts of
//!    `product.changed` for one product are coalesced: while a delivery for
//!    that product and channel is waiting (not in flight), a newer event
//!    replaces its event instead of queueing another.
//! 2. [`Core::claim_due`] leases deliveries due at `now` so that several
//!    dispatchers never deliver the same one at the same time; a lease that
//!    runs out (a crashed dispatcher) makes the delivery due again.
//! 3. [`Core::mark_delivered`] or [`Core::mark_failed`]: failures back off
//!    exponentially (capped), honour a plugin's retry-after, and after
//!    `max_attempts` the delivery moves to the dead-letter list, which
//!    [`Core::dead_letters`] lists and [`Core::replay_dead_letter`] re-queues.
//!
//! Delivery is at least once: a plugin may see an event twice and must use
//! the event id to deduplicate.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};
use crate::event_kind::{DomainEventKind, EventKind};
use crate::ids::{ChannelId, DeliveryId, EventId, TenantId};
use crate::reach::{Reach, Reachable, grant_tx};
use crate::store::{Core, Tx, sortable};
use crate::tenants::Channel;
use crate::validate;

/// A domain event in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub tenant: TenantId,
    pub kind: DomainEventKind,
    /// The id of the record it is about (order, product, variant, customer).
    pub subject: String,
    pub at_ms: i64,
    pub payload: serde_json::Value,
}

impl Event {
    /// The one channel an event is addressed to, when it names one in its
    /// payload (`channel_id` of a campaign message); an erased payload names none.
    pub fn addressee(&self) -> Option<&str> {
        match self.kind {
            DomainEventKind::CampaignMessage => self.payload["channel_id"].as_str(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Dead,
}

/// One event on its way to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub channel_id: ChannelId,
    /// The kind as the channel is sent it.
    pub kind: EventKind,
    pub subject: String,
    pub state: DeliveryState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Times the receiver asked to be called again later (not failures).
    #[serde(default)]
    pub deferrals: u32,
    /// When it first asked, since the delivery was made or replayed.
    #[serde(default)]
    pub deferred_since_ms: Option<i64>,
    /// When it is next due (for pending deliveries).
    pub next_attempt_ms: i64,
    /// Set while a dispatcher holds it.
    pub leased_until_ms: Option<i64>,
    pub last_error: Option<String>,
    /// How many newer events were folded into this one.
    pub coalesced: u32,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub delivered_ms: Option<i64>,
}

/// A claimed delivery with its event, ready to hand to the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub event: Event,
}

/// Backoff of failed deliveries: `base_ms * 2^(attempts-1)`, at most `cap_ms`;
/// dead after `max_attempts` failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub base_ms: i64,
    pub cap_ms: i64,
    pub max_attempts: u32,
    /// The longest retry-after a plugin may ask for.
    pub max_retry_after_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base_ms: 1_000, cap_ms: 3_600_000, max_attempts: 8, max_retry_after_ms: 24 * 3_600_000 }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` failures.
    pub fn backoff_ms(&self, attempts: u32) -> i64 {
        let exp = attempts.saturating_sub(1).min(40);
        self.base_ms.saturating_mul(1i64 << exp).min(self.cap_ms)
    }
}

/// How long a receiver may keep deferring an event, from when it first asked.
pub const MAX_DEFERRAL_MS: i64 = 7 * 24 * 3_600_000;
/// How often a receiver may defer one event.
pub const MAX_DEFERRALS: u32 = 10_000;

/// Product events that may be folded into a newer one: only the latest state
/// matters to a catalog sync.
const COALESCED_KINDS: &[EventKind] = &[EventKind::ProductChanged, EventKind::StockChanged];

/// A channel reaches the orders and customers named in the events it is sent
/// (see [`crate::reach`]): an e-mail channel must read the customer of an
/// order placed on the web to send the receipt.
fn hand_over(tx: &mut Tx<'_>, channel: &ChannelId, kind: EventKind, event: &Event) -> CoreResult<()> {
    let customer = match kind {
        EventKind::OrderPlaced | EventKind::OrderUpdated => {
            grant_tx(tx, channel, Reachable::Order, &event.subject, Reach::Handed)?;
            event.payload["order"]["customer_id"].as_str()
        }
        EventKind::ReturnReceived => {
            if let Some(order) = event.payload["order"]["id"].as_str() {
                grant_tx(tx, channel, Reachable::Order, order, Reach::Handed)?;
            }
            event.payload["order"]["customer_id"].as_str()
        }
        EventKind::ConsentChanged => Some(event.subject.as_str()),
        // The channel must read the customer's address or number to deliver it.
        EventKind::CampaignMessage => event.payload["customer_id"].as_str(),
        EventKind::ProductChanged | EventKind::ProductRemoved | EventKind::StockChanged | EventKind::Installed => None,
    };
    match customer {
        Some(id) => grant_tx(tx, channel, Reachable::Customer, id, Reach::Handed),
        None => Ok(()),
    }
}

fn delivery_id(event: &EventId, channel: &ChannelId) -> DeliveryId {
    DeliveryId::new(format!("{event}.{channel}"))
}

fn load(tx: &mut Tx<'_>, id: &DeliveryId) -> CoreResult<Delivery> {
    tx.must("delivery", id.as_str())
}

/// A pending delivery taken back from the dispatcher that held it, for its
/// outcome to be recorded; `Conflict` when it is not pending any more.
fn released(tx: &mut Tx<'_>, id: &DeliveryId, now_ms: i64) -> CoreResult<Delivery> {
    let mut d = load(tx, id)?;
    if d.state != DeliveryState::Pending {
        return Err(CoreError::conflict(format!("delivery `{id}` is {:?}, not pending", d.state)));
    }
    d.leased_until_ms = None;
    d.updated_ms = now_ms;
    Ok(d)
}

/// Make `d` a dead letter: never due again until replayed.
fn kill(tx: &mut Tx<'_>, d: &mut Delivery) -> CoreResult<()> {
    clear_due(tx, d)?;
    clear_coalesce(tx, d)?;
    d.state = DeliveryState::Dead;
    tx.put(&["dead", d.id.as_str()], &())
}

/// A receiver's or the host's reason, as long as the delivery keeps one.
fn clipped(reason: &str) -> String {
    validate::long_text("reason", reason, 4096).unwrap_or_else(|_| reason.chars().take(1024).collect())
}

fn save(tx: &mut Tx<'_>, d: &Delivery) -> CoreResult<()> {
    tx.put(&["dlv", d.id.as_str()], d)
}

fn set_due(tx: &mut Tx<'_>, d: &mut Delivery, at: i64) -> CoreResult<()> {
    tx.del(&["due", &sortable(d.next_attempt_ms), d.id.as_str()])?;
    d.next_attempt_ms = at;
    tx.put(&["due", &sortable(at), d.id.as_str()], &())
}

fn clear_due(tx: &mut Tx<'_>, d: &Delivery) -> CoreResult<()> {
    tx.del(&["due", &sortable(d.next_attempt_ms), d.id.as_str()])
}

fn clear_coalesce(tx: &mut Tx<'_>, d: &Delivery) -> CoreResult<()> {
    if COALESCED_KINDS.contains(&d.kind) {
        let key = ["coal", d.channel_id.as_str(), d.kind.as_str(), d.subject.as_str()];
        if tx.get::<DeliveryId>(&key)?.as_ref() == Some(&d.id) {
            tx.del(&key)?;
        }
    }
    Ok(())
}

impl Core {
    /// Outbox events after `after` (all when `None`), oldest first.
    pub fn list_events(&self, tenant: &TenantId, after: Option<&EventId>, limit: usize) -> CoreResult<Vec<Event>> {
        let limit = if limit == 0 { 100 } else { limit.min(10_000) };
        self.read(tenant, |tx| {
            let start = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.as_str()));
            Ok(tx.scan_range::<Event>(&["evt"], start, Bound::Unbounded, limit)?.into_iter().map(|(_, e)| e).collect())
        })
    }

    pub fn get_event(&self, tenant: &TenantId, id: &EventId) -> CoreResult<Event> {
        self.read(tenant, |tx| tx.must("event", id.as_str()))
    }

    /// Fan at most `limit` new outbox events out to subscribed, enabled
    /// channels. Returns how many events were processed; call until 0.
    pub fn fan_out(&self, tenant: &TenantId, now_ms: i64, limit: usize) -> CoreResult<usize> {
        let limit = if limit == 0 { 500 } else { limit };
        self.write(tenant, now_ms, |tx| {
            let cursor: Option<String> = tx.get(&["fanout-cursor"])?;
            let start = cursor.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            let events = tx.scan_range::<Event>(&["evt"], start, Bound::Unbounded, limit)?;
            if events.is_empty() {
                return Ok(0);
            }
            let channels: Vec<Channel> =
                tx.scan::<Channel>(&["chn"])?.into_iter().map(|(_, c)| c).filter(|c| c.enabled).collect();
            for (_, event) in &events {
                for ch in &channels {
                    let Some(kind) = event.kind.for_channel(&event.subject, event.addressee(), ch.id.as_str()) else {
                        continue;
                    };
                    if !ch.subscribes_to(kind) {
                        continue;
                    }
                    hand_over(tx, &ch.id, kind, event)?;
                    if COALESCED_KINDS.contains(&kind) {
                        let key = ["coal", ch.id.as_str(), kind.as_str(), event.subject.as_str()];
                        if let Some(existing) = tx.get::<DeliveryId>(&key)?
                            && let Some(mut d) = tx.get::<Delivery>(&["dlv", existing.as_str()])?
                            && d.state == DeliveryState::Pending
                            && d.leased_until_ms.is_none_or(|l| l <= now_ms)
                        {
                            d.event_id = event.id.clone();
                            d.coalesced += 1;
                            d.updated_ms = now_ms;
                            save(tx, &d)?;
                            continue;
                        }
                    }
                    let id = delivery_id(&event.id, &ch.id);
                    let mut d = Delivery {
                        id: id.clone(),
                        event_id: event.id.clone(),
                        channel_id: ch.id.clone(),
                        kind,
                        subject: event.subject.clone(),
                        state: DeliveryState::Pending,
                        attempts: 0,
                        deferrals: 0,
                        deferred_since_ms: None,
                        next_attempt_ms: now_ms,
                        leased_until_ms: None,
                        last_error: None,
                        coalesced: 0,
                        created_ms: now_ms,
                        updated_ms: now_ms,
                        delivered_ms: None,
                    };
                    tx.put(&["due", &sortable(now_ms), id.as_str()], &())?;
                    d.next_attempt_ms = now_ms;
                    save(tx, &d)?;
                    if COALESCED_KINDS.contains(&kind) {
                        tx.put(&["coal", ch.id.as_str(), kind.as_str(), event.subject.as_str()], &id)?;
                    }
                }
            }
            let last = events.last().map(|(k, _)| k.clone()).unwrap_or_default();
            tx.put(&["fanout-cursor"], &last)?;
            Ok(events.len())
        })
    }

    /// Pending deliveries due at `now_ms`, oldest due first (read-only).
    pub fn due_deliveries(&self, tenant: &TenantId, now_ms: i64, limit: usize) -> CoreResult<Vec<Delivery>> {
        let limit = if limit == 0 { 100 } else { limit };
        self.read_at(tenant, now_ms, |tx| {
            let end = sortable(now_ms.saturating_add(1));
            let keys = tx.scan_range::<()>(&["due"], Bound::Unbounded, Bound::Excluded(&end), limit)?;
            let mut out = Vec::new();
            for (key, ()) in keys {
                let id = DeliveryId::new(key.rsplit('/').next().unwrap_or_default());
                out.push(load(tx, &id)?);
            }
            Ok(out)
        })
    }

    /// Lease up to `limit` due deliveries for `lease_ms` and return them
    /// with their events. Deliveries to channels that are switched off or
    /// gone wait (without counting an attempt) for the backoff cap.
    pub fn claim_due(
        &self,
        tenant: &TenantId,
        now_ms: i64,
        limit: usize,
        lease_ms: i64,
    ) -> CoreResult<Vec<DueDelivery>> {
        let limit = if limit == 0 { 100 } else { limit };
        if lease_ms <= 0 {
            return Err(CoreError::invalid("lease must be positive"));
        }
        let cap = self.retry.cap_ms;
        self.write(tenant, now_ms, |tx| {
            let end = sortable(now_ms.saturating_add(1));
            let keys = tx.scan_range::<()>(&["due"], Bound::Unbounded, Bound::Excluded(&end), limit)?;
            let mut out = Vec::new();
            for (key, ()) in keys {
                let id = DeliveryId::new(key.rsplit('/').next().unwrap_or_default());
                let mut d = load(tx, &id)?;
                let live = tx.get::<Channel>(&["chn", d.channel_id.as_str()])?.is_some_and(|c| c.enabled);
                if !live {
                    set_due(tx, &mut d, now_ms.saturating_add(cap))?;
                    save(tx, &d)?;
                    continue;
                }
                let event: Event = tx.must("event", d.event_id.as_str())?;
                d.leased_until_ms = Some(now_ms.saturating_add(lease_ms));
                set_due(tx, &mut d, now_ms.saturating_add(lease_ms))?;
                d.updated_ms = now_ms;
                save(tx, &d)?;
                out.push(DueDelivery { delivery: d, event });
            }
            Ok(out)
        })
    }

    /// The plugin accepted the event. Idempotent.
    pub fn mark_delivered(&self, tenant: &TenantId, id: &DeliveryId, now_ms: i64) -> CoreResult<Delivery> {
        self.write(tenant, now_ms, |tx| {
            let mut d = load(tx, id)?;
            if d.state == DeliveryState::Delivered {
                return Ok(d);
            }
            clear_due(tx, &d)?;
            tx.del(&["dead", id.as_str()])?;
            clear_coalesce(tx, &d)?;
            d.state = DeliveryState::Delivered;
            d.leased_until_ms = None;
            d.delivered_ms = Some(now_ms);
            d.updated_ms = now_ms;
            save(tx, &d)?;
            Ok(d)
        })
    }

    /// The plugin failed or asked to retry later. The next attempt waits for
    /// the backoff or the plugin's `retry_after_ms`, whichever is longer;
    /// after the policy's `max_attempts` failures the delivery is dead.
    pub fn mark_failed(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        error: &str,
        retry_after_ms: Option<i64>,
        now_ms: i64,
    ) -> CoreResult<Delivery> {
        let error = clipped(error);
        let policy = self.retry.clone();
        self.write(tenant, now_ms, |tx| {
            let mut d = released(tx, id, now_ms)?;
            d.attempts += 1;
            d.last_error = Some(error.clone());
            if d.attempts >= policy.max_attempts {
                kill(tx, &mut d)?;
            } else {
                let asked = retry_after_ms.unwrap_or(0).clamp(0, policy.max_retry_after_ms);
                let wait = policy.backoff_ms(d.attempts).max(asked);
                set_due(tx, &mut d, now_ms.saturating_add(wait))?;
            }
            save(tx, &d)?;
            Ok(d)
        })
    }

    /// The receiver asked to be called again in `wait_ms` (a batch being
    /// gathered, a platform's rate limit, quiet hours): not a failure, so no
    /// attempt is counted and the event does not move towards the dead
    /// letters — unless it has been deferred for [`MAX_DEFERRAL_MS`] since it
    /// first asked, or [`MAX_DEFERRALS`] times, when it is a dead letter.
    pub fn defer_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        reason: &str,
        wait_ms: i64,
        now_ms: i64,
    ) -> CoreResult<Delivery> {
        let reason = clipped(reason);
        let max_wait = self.retry.max_retry_after_ms;
        self.write(tenant, now_ms, |tx| {
            let mut d = released(tx, id, now_ms)?;
            d.deferrals = d.deferrals.saturating_add(1);
            let since = *d.deferred_since_ms.get_or_insert(now_ms);
            let age = now_ms.saturating_sub(since);
            if age >= MAX_DEFERRAL_MS || d.deferrals > MAX_DEFERRALS {
                d.last_error = Some(format!(
                    "the channel kept asking to be called later ({} times over {} hours); its last reason: {reason}",
                    d.deferrals,
                    age / 3_600_000
                ));
                kill(tx, &mut d)?;
            } else {
                d.last_error = Some(reason.clone());
                set_due(tx, &mut d, now_ms.saturating_add(wait_ms.clamp(0, max_wait)))?;
            }
            save(tx, &d)?;
            Ok(d)
        })
    }

    /// The host could not make the attempt (its store failed, the plugin is
    /// not loaded, the instance pool is full): the delivery is due again
    /// after `wait_ms` and the failure is kept, but no attempt is counted, so
    /// a host fault never moves it towards the dead letters.
    pub fn postpone_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        reason: &str,
        wait_ms: i64,
        now_ms: i64,
    ) -> CoreResult<Delivery> {
        let reason = clipped(reason);
        self.write(tenant, now_ms, |tx| {
            let mut d = released(tx, id, now_ms)?;
            d.last_error = Some(reason.clone());
            set_due(tx, &mut d, now_ms.saturating_add(wait_ms.max(0)))?;
            save(tx, &d)?;
            Ok(d)
        })
    }

    pub fn get_delivery(&self, tenant: &TenantId, id: &DeliveryId) -> CoreResult<Delivery> {
        self.read(tenant, |tx| load(tx, id))
    }

    /// Deliveries of one event, one per channel.
    pub fn event_deliveries(&self, tenant: &TenantId, event: &EventId) -> CoreResult<Vec<Delivery>> {
        self.read(tenant, |tx| {
            let from = format!("{event}.");
            let to = format!("{event}/");
            Ok(tx
                .scan_range::<Delivery>(&["dlv"], Bound::Included(&from), Bound::Excluded(&to), usize::MAX)?
                .into_iter()
                .map(|(_, d)| d)
                .collect())
        })
    }

    /// Dead letters, oldest event first.
    pub fn dead_letters(&self, tenant: &TenantId, limit: usize) -> CoreResult<Vec<Delivery>> {
        let limit = if limit == 0 { 100 } else { limit };
        self.read(tenant, |tx| {
            let ids = tx.scan_range::<()>(&["dead"], Bound::Unbounded, Bound::Unbounded, limit)?;
            let mut out = Vec::new();
            for (id, ()) in ids {
                out.push(load(tx, &DeliveryId::new(id))?);
            }
            Ok(out)
        })
    }

    /// Put a dead delivery back in the queue, due now, with its attempts reset.
    pub fn replay_dead_letter(&self, tenant: &TenantId, id: &DeliveryId, now_ms: i64) -> CoreResult<Delivery> {
        self.write(tenant, now_ms, |tx| {
            let mut d = load(tx, id)?;
            if d.state != DeliveryState::Dead {
                return Err(CoreError::conflict(format!(
                    "delivery `{id}` is {:?}; only dead letters can be replayed",
                    d.state
                )));
            }
            tx.del(&["dead", id.as_str()])?;
            d.state = DeliveryState::Pending;
            d.attempts = 0;
            d.deferrals = 0;
            d.deferred_since_ms = None;
            d.updated_ms = now_ms;
            d.next_attempt_ms = now_ms;
            tx.put(&["due", &sortable(now_ms), id.as_str()], &())?;
            save(tx, &d)?;
            Ok(d)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy { base_ms: 1000, cap_ms: 10_000, max_attempts: 5, max_retry_after_ms: 60_000 };
        assert_eq!(p.backoff_ms(1), 1000);
        assert_eq!(p.backoff_ms(2), 2000);
        assert_eq!(p.backoff_ms(4), 8000);
        assert_eq!(p.backoff_ms(5), 10_000);
        assert_eq!(p.backoff_ms(200), 10_000);
    }
}
