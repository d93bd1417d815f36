//! Event delivery: the core's outbox to the channels subscribed to it.
//!
//! Each round, for every tenant, the [`Dispatcher`]:
//! 1. fans new outbox events out to the enabled channels subscribed to them
//!    ([`Core::fan_out`]);
//! 2. leases the deliveries that are due ([`Core::claim_due`]), so that
//!    several hosts over one database never deliver one at the same time;
//! 3. queues them on the lane of their (tenant, channel), starting a lane
//!    task when none runs; the round does not wait for the deliveries;
//! 4. a lane turns each into the contract's [`wit::Event`] as the receiving
//!    channel sees it ([`wit_event`]) and hands it to an [`EventSink`] —
//!    [`RuntimeSink`] calls the plugin's `on-event`;
//! 5. and records the outcome: [`Core::mark_delivered`]; for a failure of the
//!    receiver [`Core::mark_failed`], which backs off exponentially and
//!    dead-letters the delivery after the core's `max_attempts`; for a
//!    plugin's `retry-later` [`Core::defer_delivery`], which calls it again
//!    when it asked without counting a failure (a week at most); for a fault
//!    of the host (store error, plugin not loaded, instance pool busy)
//!    [`Core::postpone_delivery`], which retries later without counting an
//!    attempt against the plugin.
//!
//! Fairness: deliveries to one (tenant, channel) run one after another in due
//! order; lanes run in parallel, at most
//! [`DispatcherConfig::parallel_per_tenant`] of one tenant and
//! [`DispatcherConfig::parallel_channels`] in all, so a plugin that spins
//! until its deadline holds up its own lane only, never another tenant's.
//!
//! Delivery is at least once: a host that dies between the plugin's answer
//! and the core's record redelivers after the lease runs out, with the same
//! event id, which plugins use to deduplicate.
//!
//! Stopping ([`DispatcherHandle::stop`]) lets the deliveries in flight finish
//! and their outcome be recorded; claimed deliveries not yet started wait for
//! their lease to run out and are delivered by the next dispatcher.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use omnistore_core::{
    self as domain, ChannelId, Core, CoreError, Delivery, DeliveryState, DueDelivery, EventKind, TenantId,
};
use omnistore_runtime::types::{self as wit, PluginError};
use omnistore_runtime::{CallError, Installation, Plugin, Runtime};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::async_core::off_executor;
use crate::commerce::{Clock, system_clock, wit_campaign_message, wit_customer, wit_order, wit_product, wit_return};

/// Campaign batches sent per tenant and round ([`Core::run_campaigns`]).
const CAMPAIGN_BATCHES_PER_ROUND: usize = 5;

/// Whose fault a failed delivery was; only the receiver's count as attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureBlame {
    /// The receiver failed or refused: counts towards the dead letters.
    Receiver,
    /// The host could not make the attempt (store, plugin not loaded, pool
    /// busy): retried later without counting.
    Host,
    /// The receiver asked to be called again later: not a failure, retried
    /// when it asked without counting (within a week).
    Deferred,
}

/// Why a sink could not deliver an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The receiver asked not to be called again before this long.
    pub retry_after: Option<Duration>,
    /// For the operator: kept on the delivery and logged.
    pub message: String,
    pub blame: FailureBlame,
}

impl DeliveryFailure {
    /// The receiver failed.
    pub fn new(message: impl Into<String>) -> Self {
        DeliveryFailure { retry_after: None, message: message.into(), blame: FailureBlame::Receiver }
    }

    /// The receiver asked to be called again later.
    pub fn retry_after(after: Duration, message: impl Into<String>) -> Self {
        DeliveryFailure { retry_after: Some(after), message: message.into(), blame: FailureBlame::Deferred }
    }

    /// The host could not make the attempt.
    pub fn host(message: impl Into<String>) -> Self {
        DeliveryFailure { retry_after: None, message: message.into(), blame: FailureBlame::Host }
    }
}

/// Where events go. The dispatcher owns the retry bookkeeping; a sink only
/// says whether this one attempt worked.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    async fn deliver(&self, tenant: &TenantId, channel: &ChannelId, event: wit::Event) -> Result<(), DeliveryFailure>;
}

/// Finds the loaded plugin and installation serving a channel of a tenant:
/// `(tenant, installation id)` → plugin. Wired by whoever loads plugins.
pub type InstallationLookup =
    Arc<dyn Fn(&omnistore_runtime::TenantId, &str) -> Option<(Arc<Plugin>, Installation)> + Send + Sync>;

/// Delivers events to plugins through the runtime's `on-event`.
pub struct RuntimeSink {
    runtime: Runtime,
    lookup: InstallationLookup,
}

impl std::fmt::Debug for RuntimeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeSink").field("runtime", &self.runtime).finish_non_exhaustive()
    }
}

impl RuntimeSink {
    pub fn new(runtime: Runtime, lookup: InstallationLookup) -> Self {
        RuntimeSink { runtime, lookup }
    }
}

#[async_trait]
impl EventSink for RuntimeSink {
    async fn deliver(&self, tenant: &TenantId, channel: &ChannelId, event: wit::Event) -> Result<(), DeliveryFailure> {
        let Some((plugin, installation)) = (self.lookup)(tenant, channel.as_str()) else {
            return Err(DeliveryFailure::host(format!("no plugin is loaded for installation `{channel}`")));
        };
        match self.runtime.on_event(&plugin, &installation, event).await {
            Ok(()) => Ok(()),
            Err(CallError::Plugin(PluginError::RetryLater(secs))) => Err(DeliveryFailure::retry_after(
                Duration::from_secs(u64::from(secs)),
                format!("the plugin asked to retry in {secs} s"),
            )),
            // The channel's subscription in the core is wider than what the
            // plugin's manifest declares (`order.*` against `order.placed`):
            // the plugin does not want this kind, so there is nothing to retry.
            Err(CallError::NotSubscribed(kind)) => {
                tracing::debug!(tenant = %tenant, channel = %channel, kind = %kind, "plugin does not take this event kind; skipped");
                Ok(())
            }
            Err(e) => {
                let message = format!("{e} (blame: {})", e.blame().as_str());
                match e.blame() {
                    omnistore_runtime::Blame::Host => Err(DeliveryFailure::host(message)),
                    omnistore_runtime::Blame::Guest => Err(DeliveryFailure::new(message)),
                }
            }
        }
    }
}

/// The contract's event for one delivery, as the receiving channel sees it,
/// or `None` when the event means nothing to that channel any more (a product
/// the channel does not show, a record deleted since). Such deliveries are
/// acknowledged without calling the plugin.
///
/// The event id is the core's, so a redelivery carries the same id.
/// `product.changed` and `stock.changed` carry the current state, because
/// the core coalesces bursts of them into one delivery.
pub fn wit_event(
    core: &Core,
    tenant: &TenantId,
    due: &DueDelivery,
    now_ms: i64,
) -> Result<Option<wit::Event>, CoreError> {
    let channel = &due.delivery.channel_id;
    let ev = &due.event;
    let kind = due.delivery.kind;
    let payload = match kind {
        EventKind::OrderPlaced | EventKind::OrderUpdated => {
            let Some(order) = order_then(core, tenant, &ev.payload, &domain::OrderId::new(ev.subject.as_str()))? else {
                return Ok(None);
            };
            let order = wit_order(&order);
            if kind == EventKind::OrderPlaced {
                wit::EventPayload::OrderPlaced(order)
            } else {
                wit::EventPayload::OrderUpdated(order)
            }
        }
        EventKind::ProductRemoved => wit::EventPayload::ProductRemoved(ev.subject.clone()),
        EventKind::ProductChanged => {
            match core.channel_product(tenant, channel, &domain::ProductId::new(ev.subject.as_str()), now_ms) {
                Ok(view) => wit::EventPayload::ProductChanged(wit_product(core, tenant, channel, &view, now_ms)?),
                // Unpublished, archived or deleted: gone from this channel.
                Err(CoreError::NotFound { kind: "product", .. }) => {
                    wit::EventPayload::ProductRemoved(ev.subject.clone())
                }
                Err(e) => return Err(e),
            }
        }
        EventKind::StockChanged => {
            let variant = match core.get_variant(tenant, &domain::VariantId::new(ev.subject.as_str())) {
                Ok(v) => v,
                Err(CoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let view = match core.channel_product(tenant, channel, &variant.product_id, now_ms) {
                Ok(view) => view,
                Err(CoreError::NotFound { kind: "product", .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let Some(v) = view.variants.iter().find(|v| v.variant.id == variant.id) else {
                return Ok(None);
            };
            let available = match v.available {
                Some(a) => a,
                None => core.availability(tenant, &variant.id, Some(channel), None, now_ms)?,
            };
            wit::EventPayload::StockChanged(wit::StockChange {
                product_id: variant.product_id.to_string(),
                variant_id: variant.id.to_string(),
                sku: variant.sku.clone(),
                available: available.max(0),
            })
        }
        EventKind::ConsentChanged => match core.get_customer(tenant, &domain::CustomerId::new(ev.subject.as_str())) {
            Ok(c) => wit::EventPayload::ConsentChanged(wit_customer(&c)),
            Err(CoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        },
        // Rendered when the campaign was sent, so a redelivery carries the
        // same message; an erased payload (the customer's erasure) is not sent.
        EventKind::CampaignMessage => {
            match serde_json::from_value::<domain::CampaignMessageEvent>(ev.payload.clone()) {
                Ok(m) => wit::EventPayload::CampaignMessage(wit_campaign_message(&m)),
                Err(_) => return Ok(None),
            }
        }
        // The core sends `installed` only to the channel it is about.
        EventKind::Installed => wit::EventPayload::Installed,
        // An erased payload (the buyer's erasure) is not sent.
        EventKind::ReturnReceived => {
            let Ok(ret) = serde_json::from_value::<domain::Return>(ev.payload["return"].clone()) else {
                return Ok(None);
            };
            let Some(order) = order_then(core, tenant, &ev.payload, &ret.order_id)? else {
                return Ok(None);
            };
            wit::EventPayload::ReturnReceived(wit_return(&ret, &order))
        }
    };
    Ok(Some(wit::Event {
        id: ev.id.to_string(),
        kind: kind.as_str().to_owned(),
        occurred_at: ev.at_ms,
        attempt: due.delivery.attempts,
        payload,
    }))
}

/// The order an event's payload carries, as it was then; an undecodable one
/// (an older format) falls back to the order as it is now, and a deleted
/// order to `None`.
fn order_then(
    core: &Core,
    tenant: &TenantId,
    payload: &serde_json::Value,
    id: &domain::OrderId,
) -> Result<Option<domain::Order>, CoreError> {
    if let Ok(order) = serde_json::from_value::<domain::Order>(payload["order"].clone()) {
        return Ok(Some(order));
    }
    match core.get_order(tenant, id) {
        Ok(o) => Ok(Some(o)),
        Err(CoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How the dispatcher paces itself.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Longest wait between rounds when nobody wakes the dispatcher; retries
    /// fall due while it sleeps, so this bounds how late they run.
    pub poll_interval: Duration,
    /// Deliveries claimed per tenant and round; also the most deliveries a
    /// lane keeps queued (the rest wait for their lease to run out).
    pub batch: usize,
    /// How long a claimed delivery is reserved for this dispatcher. Must be
    /// longer than a plugin's event deadline, or a slow delivery is made
    /// again by another dispatcher meanwhile.
    pub lease: Duration,
    /// Lanes, one per (tenant, channel), delivering at the same time in all.
    pub parallel_channels: usize,
    /// Lanes of one tenant delivering at the same time; below
    /// `parallel_channels`, so one tenant's slow plugins leave room for the
    /// others.
    pub parallel_per_tenant: usize,
    /// How long a delivery waits after a fault of the host (not counted as
    /// an attempt).
    pub host_fault_retry: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            poll_interval: Duration::from_secs(1),
            batch: 64,
            lease: Duration::from_secs(120),
            parallel_channels: 16,
            parallel_per_tenant: 4,
            host_fault_retry: Duration::from_secs(5),
        }
    }
}

/// What one round did. [`Dispatcher::run_once`] waits for the deliveries the
/// round started and counts them too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundStats {
    /// Outbox events fanned out to deliveries.
    pub fanned_out: usize,
    pub claimed: usize,
    pub delivered: usize,
    /// Acknowledged without a call: nothing in it for the channel.
    pub skipped: usize,
    /// Failed and scheduled again.
    pub failed: usize,
    /// Failed for the last time: now a dead letter.
    pub dead: usize,
    /// Not attempted because of a fault of the host; retried without counting.
    pub postponed: usize,
    /// The receiver asked to be called later; retried then without counting.
    pub deferred: usize,
    /// Tenants whose round failed (logged).
    pub errors: usize,
}

impl RoundStats {
    fn add(&mut self, o: RoundStats) {
        self.fanned_out += o.fanned_out;
        self.claimed += o.claimed;
        self.delivered += o.delivered;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.dead += o.dead;
        self.postponed += o.postponed;
        self.deferred += o.deferred;
        self.errors += o.errors;
    }
}

/// Delivers outbox events; see the module docs.
pub struct Dispatcher {
    lanes: Lanes,
    config: DispatcherConfig,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("core", &self.lanes.core)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

type LaneKey = (TenantId, ChannelId);

/// Everything a lane task needs; cheap to clone.
#[derive(Clone)]
struct Lanes {
    core: Core,
    sink: Arc<dyn EventSink>,
    clock: Clock,
    /// Deliveries waiting per running lane; a key is present exactly while
    /// its lane task runs.
    queues: Arc<Mutex<HashMap<LaneKey, VecDeque<DueDelivery>>>>,
    tenant_slots: Arc<Mutex<HashMap<TenantId, Arc<Semaphore>>>>,
    slots: Arc<Semaphore>,
    per_tenant: usize,
    max_queued: usize,
    host_fault_retry_ms: i64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Core work off the executor; a failed blocking task is a storage fault.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    off_executor(f).await.unwrap_or_else(|e| Err(CoreError::Storage(e)))
}

impl Dispatcher {
    pub fn new(core: Core, sink: Arc<dyn EventSink>) -> Self {
        Dispatcher::build(core, sink, system_clock(), DispatcherConfig::default())
    }

    fn build(core: Core, sink: Arc<dyn EventSink>, clock: Clock, config: DispatcherConfig) -> Self {
        let lanes = Lanes {
            core,
            sink,
            clock,
            queues: Arc::default(),
            tenant_slots: Arc::default(),
            slots: Arc::new(Semaphore::new(config.parallel_channels.max(1))),
            per_tenant: config.parallel_per_tenant.max(1),
            max_queued: config.batch.max(1),
            host_fault_retry_ms: ms(config.host_fault_retry),
        };
        Dispatcher { lanes, config }
    }

    pub fn with_config(self, config: DispatcherConfig) -> Self {
        Dispatcher::build(self.lanes.core, self.lanes.sink, self.lanes.clock, config)
    }

    /// Use another clock (tests).
    pub fn with_clock(self, clock: Clock) -> Self {
        Dispatcher::build(self.lanes.core, self.lanes.sink, clock, self.config)
    }

    /// One round over every tenant, waiting for the deliveries it started.
    /// A tenant whose round fails is logged and counted in
    /// [`RoundStats::errors`]; the others still run.
    pub async fn run_once(&self) -> Result<RoundStats, CoreError> {
        let (_keep, running) = watch::channel(false);
        let mut lanes = JoinSet::new();
        let mut stats = self.round(&running, &mut lanes).await?;
        while let Some(joined) = lanes.join_next().await {
            stats.add(joined.unwrap_or_default());
        }
        Ok(stats)
    }

    /// One round for one tenant: fan out, claim what is due, deliver it.
    pub async fn run_tenant(&self, tenant: &TenantId) -> Result<RoundStats, CoreError> {
        let (_keep, running) = watch::channel(false);
        let mut lanes = JoinSet::new();
        let mut stats = self.tenant_round(tenant, &running, &mut lanes).await?;
        while let Some(joined) = lanes.join_next().await {
            stats.add(joined.unwrap_or_default());
        }
        Ok(stats)
    }

    /// Run in the background until [`DispatcherHandle::stop`] (or until the
    /// handle is dropped).
    pub fn spawn(self) -> DispatcherHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(self.run(stop_rx, wake.clone()));
        DispatcherHandle { wake: DispatcherWaker(wake), stop: stop_tx, task }
    }

    async fn run(self, mut stop: watch::Receiver<bool>, wake: Arc<Notify>) {
        tracing::info!(poll_ms = ms(self.config.poll_interval), batch = self.config.batch, "event dispatcher started");
        let mut lanes = JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            while let Some(finished) = lanes.try_join_next() {
                if let Err(e) = finished {
                    tracing::error!(error = %e, "event delivery lane failed");
                }
            }
            let busy = match self.round(&stop, &mut lanes).await {
                // A full batch means more is probably due right now.
                Ok(stats) => stats.claimed > 0 && stats.claimed >= self.config.batch,
                Err(e) => {
                    tracing::error!(error = %e, "event dispatcher round failed");
                    false
                }
            };
            if busy {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                changed = stop.changed() => if changed.is_err() { break },
                () = wake.notified() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        // Deliveries in flight finish and are recorded; lanes see the stop
        // and start no new ones.
        while lanes.join_next().await.is_some() {}
        tracing::info!("event dispatcher stopped");
    }

    async fn round(
        &self,
        stop: &watch::Receiver<bool>,
        lanes: &mut JoinSet<RoundStats>,
    ) -> Result<RoundStats, CoreError> {
        let core = self.lanes.core.clone();
        let tenants = blocking(move || core.list_tenants()).await?;
        let mut total = RoundStats::default();
        for t in tenants {
            if *stop.borrow() {
                break;
            }
            match self.tenant_round(&t.id, stop, lanes).await {
                Ok(stats) => total.add(stats),
                Err(e) => {
                    tracing::error!(tenant = %t.id, error = %e, "event delivery round failed for tenant");
                    total.errors += 1;
                }
            }
        }
        Ok(total)
    }

    /// Fan out and claim for one tenant, and queue what was claimed on its
    /// lanes; lanes that were not running are started into `lanes`.
    async fn tenant_round(
        &self,
        tenant: &TenantId,
        stop: &watch::Receiver<bool>,
        lanes: &mut JoinSet<RoundStats>,
    ) -> Result<RoundStats, CoreError> {
        let mut stats = RoundStats::default();
        let (core, t, now) = (self.lanes.core.clone(), tenant.clone(), (self.lanes.clock)());
        stats.fanned_out = blocking(move || {
            // Before fanning out, so a promotion that just started or ended
            // reaches the channels in this round.
            core.announce_price_windows(&t, now)?;
            // Scheduled campaigns that are due start, and sending ones move
            // on by a few batches (each its own transaction), so one large
            // campaign never holds up a round for long.
            core.run_campaigns(&t, now, CAMPAIGN_BATCHES_PER_ROUND)?;
            let mut total = 0;
            loop {
                let n = core.fan_out(&t, now, 0)?;
                if n == 0 {
                    return Ok(total);
                }
                total += n;
            }
        })
        .await?;
        if stats.fanned_out > 0 {
            tracing::debug!(tenant = %tenant, events = stats.fanned_out, "events fanned out");
        }
        if *stop.borrow() {
            return Ok(stats);
        }
        let (core, t, now) = (self.lanes.core.clone(), tenant.clone(), (self.lanes.clock)());
        let (batch, lease) = (self.config.batch.max(1), ms(self.config.lease).max(1));
        let claimed = blocking(move || core.claim_due(&t, now, batch, lease)).await?;
        stats.claimed = claimed.len();
        let mut by_channel: BTreeMap<ChannelId, Vec<DueDelivery>> = BTreeMap::new();
        for due in claimed {
            by_channel.entry(due.delivery.channel_id.clone()).or_default().push(due);
        }
        let mut overflow = Vec::new();
        for (channel, queue) in by_channel {
            let key = (tenant.clone(), channel);
            let (started, left) = self.lanes.enqueue(&key, queue);
            if started {
                lanes.spawn(self.lanes.clone().drain(key, stop.clone()));
            }
            overflow.extend(left);
        }
        if !overflow.is_empty() {
            // A lane that is full cannot take them now: give their leases
            // back so they are due again next round, not when the lease ends.
            stats.claimed -= overflow.len();
            let (core, t, now, wait) =
                (self.lanes.core.clone(), tenant.clone(), (self.lanes.clock)(), ms(self.config.poll_interval));
            blocking(move || {
                for d in overflow {
                    match core.postpone_delivery(
                        &t,
                        &d.id,
                        "queued behind earlier deliveries to its channel",
                        wait,
                        now,
                    ) {
                        Ok(_) | Err(CoreError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(stats)
    }
}

impl Lanes {
    /// Queue deliveries on a lane; true when the lane was idle and a task
    /// must be started for it. A delivery already queued (claimed again
    /// after its lease ran out while the lane was stuck) is not queued twice.
    /// Also returns the deliveries the full lane could not take.
    fn enqueue(&self, key: &LaneKey, deliveries: Vec<DueDelivery>) -> (bool, Vec<Delivery>) {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let started = !queues.contains_key(key);
        let queue = queues.entry(key.clone()).or_default();
        let mut left = Vec::new();
        for due in deliveries {
            if queue.iter().any(|q| q.delivery.id == due.delivery.id) {
                continue;
            }
            if queue.len() >= self.max_queued {
                left.push(due.delivery);
            } else {
                queue.push_back(due);
            }
        }
        (started, left)
    }

    /// The next delivery of a lane, or `None` after removing the lane.
    fn next(&self, key: &LaneKey) -> Option<DueDelivery> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let next = queues.get_mut(key).and_then(VecDeque::pop_front);
        if next.is_none() {
            queues.remove(key);
        }
        next
    }

    fn tenant_slots(&self, tenant: &TenantId) -> Arc<Semaphore> {
        let mut slots = self.tenant_slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(tenant.clone()).or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant))).clone()
    }

    /// Run one lane until its queue is empty or the dispatcher stops.
    async fn drain(self, key: LaneKey, stop: watch::Receiver<bool>) -> RoundStats {
        let mut stats = RoundStats::default();
        let (tenant, channel) = &key;
        // Slots are taken per lane, not per delivery, so a lane keeps its
        // order and a busy tenant waits for its own slots only.
        let tenant_slots = self.tenant_slots(tenant);
        let permits = async { (tenant_slots.acquire().await, self.slots.acquire().await) };
        let (Ok(_tenant_permit), Ok(_permit)) = permits.await else {
            return stats;
        };
        loop {
            if *stop.borrow() {
                // Claimed but not started: left to their lease.
                self.queues.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
                break;
            }
            let Some(due) = self.next(&key) else { break };
            let span = tracing::info_span!(
                "deliver",
                tenant = %tenant,
                channel = %channel,
                event = %due.event.id,
                kind = %due.event.kind,
                delivery = %due.delivery.id,
                attempt = due.delivery.attempts,
            );
            self.deliver_one(tenant, due, &mut stats).instrument(span).await;
        }
        stats
    }

    async fn deliver_one(&self, tenant: &TenantId, due: DueDelivery, stats: &mut RoundStats) {
        let id = due.delivery.id.clone();
        let channel = due.delivery.channel_id.clone();
        let (core, t, now) = (self.core.clone(), tenant.clone(), (self.clock)());
        let prepared = blocking(move || wit_event(&core, &t, &due, now)).await;
        let outcome = match prepared {
            Ok(None) => {
                tracing::debug!("nothing in this event for the channel; acknowledged without a call");
                stats.skipped += 1;
                Ok(())
            }
            Ok(Some(event)) => {
                // A panicking sink must cost one delivery, not the dispatcher.
                let call = std::panic::AssertUnwindSafe(self.sink.deliver(tenant, &channel, event)).catch_unwind();
                match call.await {
                    Ok(result) => result,
                    Err(_) => Err(DeliveryFailure::new("the event sink panicked")),
                }
            }
            Err(e) => Err(DeliveryFailure::host(format!("preparing the event failed: {e}"))),
        };
        let (core, t, now) = (self.core.clone(), tenant.clone(), (self.clock)());
        match outcome {
            Ok(()) => match blocking(move || core.mark_delivered(&t, &id, now)).await {
                Ok(_) => {
                    tracing::debug!("delivered");
                    stats.delivered += 1;
                }
                // The plugin has it; it will see it again after the lease
                // runs out, which at-least-once allows.
                Err(e) => tracing::error!(error = %e, "delivered, but recording it failed; it will be redelivered"),
            },
            Err(failure) if failure.blame == FailureBlame::Deferred => {
                let message = failure.message.clone();
                let wait = failure.retry_after.map(ms).unwrap_or(0);
                match blocking(move || core.defer_delivery(&t, &id, &message, wait, now)).await {
                    Ok(d) if d.state == DeliveryState::Dead => {
                        tracing::warn!(reason = %failure.message, deferrals = d.deferrals, "the channel kept asking to be called later; moved to the dead letters");
                        stats.dead += 1;
                    }
                    // A plugin that asks to be called later (a batch being
                    // gathered, a rate limit) is working as meant: at warn
                    // level a busy catalog channel would drown the log.
                    Ok(d) => {
                        tracing::debug!(reason = %failure.message, deferrals = d.deferrals, retry_in_ms = wait, "the plugin asked to be called again later");
                        stats.deferred += 1;
                    }
                    Err(CoreError::Conflict(reason)) => {
                        tracing::debug!(reason = %reason, "delivery changed meanwhile; deferral not recorded");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "recording a deferral failed; it will be retried after its lease")
                    }
                }
            }
            Err(failure) if failure.blame == FailureBlame::Host => {
                let message = failure.message.clone();
                let wait = failure.retry_after.map(ms).unwrap_or(self.host_fault_retry_ms);
                match blocking(move || core.postpone_delivery(&t, &id, &message, wait, now)).await {
                    Ok(_) => {
                        tracing::warn!(error = %failure.message, blame = "host", retry_in_ms = wait, "delivery not attempted; will retry without counting it");
                        stats.postponed += 1;
                    }
                    Err(CoreError::Conflict(reason)) => {
                        tracing::debug!(reason = %reason, "delivery changed meanwhile; postponement not recorded");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "postponing a delivery failed; it will be retried after its lease")
                    }
                }
            }
            Err(failure) => {
                let retry_after_ms = failure.retry_after.map(ms);
                let message = failure.message.clone();
                match blocking(move || core.mark_failed(&t, &id, &message, retry_after_ms, now)).await {
                    Ok(d) if d.state == DeliveryState::Dead => {
                        tracing::warn!(error = %failure.message, attempts = d.attempts, "delivery failed for the last time; moved to the dead letters");
                        stats.dead += 1;
                    }
                    Ok(d) => {
                        tracing::warn!(
                            error = %failure.message,
                            attempts = d.attempts,
                            retry_in_ms = d.next_attempt_ms.saturating_sub(now),
                            "delivery failed; will retry"
                        );
                        stats.failed += 1;
                    }
                    // Another dispatcher finished it after our lease ran out,
                    // or an operator changed it meanwhile.
                    Err(CoreError::Conflict(reason)) => {
                        tracing::debug!(reason = %reason, "delivery changed meanwhile; failure not recorded");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "recording a failed delivery failed; it will be retried after its lease")
                    }
                }
            }
        }
    }
}

/// Wakes a running dispatcher for an immediate round (after an order is
/// placed, say). Cheap to clone.
#[derive(Clone, Debug)]
pub struct DispatcherWaker(Arc<Notify>);

impl DispatcherWaker {
    pub fn wake(&self) {
        // A stored permit makes a wake during a round start the next one at once.
        self.0.notify_one();
    }
}

/// A running dispatcher. Dropping it stops the dispatcher after its current
/// round; [`DispatcherHandle::stop`] also waits for that.
#[derive(Debug)]
pub struct DispatcherHandle {
    wake: DispatcherWaker,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DispatcherHandle {
    pub fn wake(&self) {
        self.wake.wake();
    }

    pub fn waker(&self) -> DispatcherWaker {
        self.wake.clone()
    }

    /// Stop: deliveries in flight finish and are recorded, no new ones start.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "event dispatcher task failed");
        }
    }
}
