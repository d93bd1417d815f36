//! Event delivery: the core's outbox to the channels subscribed to it.
//!
//! Each round, for every tenant, the [`Dispatcher`]:
//! 1. fans new outbox events out to the enabled channels subscribed to them
//!    ([`Core::fan_out`]);
//! 2. leases the deliveries that are due ([`Core::claim_due`]), so that
//!    several hosts over one database never deliver one at the same time;
//! 3. turns each into the contract's [`wit::Event`] as the receiving channel
//!    sees it ([`wit_event`]) and hands it to an [`EventSink`] —
//!    [`RuntimeSink`] calls the plugin's `on-event`;
//! 4. records the outcome: [`Core::mark_delivered`], or [`Core::mark_failed`],
//!    which backs off exponentially, honours a plugin's `retry-later`, and
//!    dead-letters the delivery after the core's `max_attempts`.
//!
//! Delivery is at least once: a host that dies between the plugin's answer
//! and the core's record redelivers after the lease runs out, with the same
//! event id, which plugins use to deduplicate. Deliveries to one channel run
//! one after another in due order; different channels run in parallel.
//!
//! Stopping ([`DispatcherHandle::stop`]) lets the deliveries in flight finish
//! and their outcome be recorded; claimed deliveries not yet started wait for
//! their lease to run out and are delivered by the next dispatcher.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use futures::stream::{self, StreamExt};
use omnistore_core::{self as domain, ChannelId, Core, CoreError, DeliveryState, DueDelivery, EventKind, TenantId};
use omnistore_runtime::types::{self as wit, PluginError};
use omnistore_runtime::{CallError, Installation, Plugin, Runtime};
use tokio::sync::{Notify, watch};
use tracing::Instrument;

use crate::commerce::{Clock, system_clock, wit_customer, wit_order, wit_product};

/// Why a sink could not deliver an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The receiver asked not to be called again before this long.
    pub retry_after: Option<Duration>,
    /// For the operator: kept on the delivery and logged.
    pub message: String,
}

impl DeliveryFailure {
    pub fn new(message: impl Into<String>) -> Self {
        DeliveryFailure { retry_after: None, message: message.into() }
    }

    pub fn retry_after(after: Duration, message: impl Into<String>) -> Self {
        DeliveryFailure { retry_after: Some(after), message: message.into() }
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
            return Err(DeliveryFailure::new(format!("no plugin is loaded for installation `{channel}`")));
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
            Err(e) => Err(DeliveryFailure::new(format!("{e} (blame: {})", e.blame().as_str()))),
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
            // The payload is the order as it was then; an undecodable one
            // (an older format) falls back to the order as it is now.
            let order = match serde_json::from_value::<domain::Order>(ev.payload["order"].clone()) {
                Ok(o) => o,
                Err(_) => match core.get_order(tenant, &domain::OrderId::new(ev.subject.as_str())) {
                    Ok(o) => o,
                    Err(CoreError::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(e),
                },
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
        // The core sends `installed` only to the channel it is about.
        EventKind::Installed => wit::EventPayload::Installed,
    };
    Ok(Some(wit::Event {
        id: ev.id.to_string(),
        kind: kind.as_str().to_owned(),
        occurred_at: ev.at_ms,
        attempt: due.delivery.attempts,
        payload,
    }))
}

/// How the dispatcher paces itself.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Longest wait between rounds when nobody wakes the dispatcher; retries
    /// fall due while it sleeps, so this bounds how late they run.
    pub poll_interval: Duration,
    /// Deliveries claimed per tenant and round.
    pub batch: usize,
    /// How long a claimed delivery is reserved for this dispatcher. Must be
    /// longer than a plugin's event deadline, or a slow delivery is made
    /// again by another dispatcher meanwhile.
    pub lease: Duration,
    /// Channels delivered to at the same time.
    pub parallel_channels: usize,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            poll_interval: Duration::from_secs(1),
            batch: 64,
            lease: Duration::from_secs(120),
            parallel_channels: 8,
        }
    }
}

/// What one round did.
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
        self.errors += o.errors;
    }
}

/// Delivers outbox events; see the module docs.
pub struct Dispatcher {
    core: Core,
    sink: Arc<dyn EventSink>,
    config: DispatcherConfig,
    clock: Clock,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").field("core", &self.core).field("config", &self.config).finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(CoreError::Storage(omnistore_storage::StorageError::backend("blocking-pool", e))))
}

impl Dispatcher {
    pub fn new(core: Core, sink: Arc<dyn EventSink>) -> Self {
        Dispatcher { core, sink, config: DispatcherConfig::default(), clock: system_clock() }
    }

    pub fn with_config(mut self, config: DispatcherConfig) -> Self {
        self.config = config;
        self
    }

    /// Use another clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// One round over every tenant. A tenant whose round fails is logged and
    /// counted in [`RoundStats::errors`]; the others still run.
    pub async fn run_once(&self) -> Result<RoundStats, CoreError> {
        let (_keep, running) = watch::channel(false);
        self.round(&running).await
    }

    /// One round for one tenant: fan out, claim what is due, deliver it.
    pub async fn run_tenant(&self, tenant: &TenantId) -> Result<RoundStats, CoreError> {
        let (_keep, running) = watch::channel(false);
        self.tenant_round(tenant, &running).await
    }

    /// Run in the background until [`DispatcherHandle::stop`] (or until the
    /// handle is dropped).
    pub fn spawn(self) -> DispatcherHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(Arc::new(self).run(stop_rx, wake.clone()));
        DispatcherHandle { wake: DispatcherWaker(wake), stop: stop_tx, task }
    }

    async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>, wake: Arc<Notify>) {
        tracing::info!(poll_ms = ms(self.config.poll_interval), batch = self.config.batch, "event dispatcher started");
        loop {
            if *stop.borrow() {
                break;
            }
            let busy = match self.round(&stop).await {
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
        tracing::info!("event dispatcher stopped");
    }

    async fn round(&self, stop: &watch::Receiver<bool>) -> Result<RoundStats, CoreError> {
        let core = self.core.clone();
        let tenants = blocking(move || core.list_tenants()).await?;
        let mut total = RoundStats::default();
        for t in tenants {
            if *stop.borrow() {
                break;
            }
            match self.tenant_round(&t.id, stop).await {
                Ok(stats) => total.add(stats),
                Err(e) => {
                    tracing::error!(tenant = %t.id, error = %e, "event delivery round failed for tenant");
                    total.errors += 1;
                }
            }
        }
        Ok(total)
    }

    async fn tenant_round(&self, tenant: &TenantId, stop: &watch::Receiver<bool>) -> Result<RoundStats, CoreError> {
        let mut stats = RoundStats::default();
        let (core, t, now) = (self.core.clone(), tenant.clone(), (self.clock)());
        stats.fanned_out = blocking(move || {
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
        let (core, t, now) = (self.core.clone(), tenant.clone(), (self.clock)());
        let (batch, lease) = (self.config.batch.max(1), ms(self.config.lease).max(1));
        let claimed = blocking(move || core.claim_due(&t, now, batch, lease)).await?;
        stats.claimed = claimed.len();
        let mut by_channel: BTreeMap<ChannelId, Vec<DueDelivery>> = BTreeMap::new();
        for due in claimed {
            by_channel.entry(due.delivery.channel_id.clone()).or_default().push(due);
        }
        let per_channel: Vec<RoundStats> = stream::iter(by_channel.into_values())
            .map(|queue| self.deliver_queue(tenant, queue, stop))
            .buffer_unordered(self.config.parallel_channels.max(1))
            .collect()
            .await;
        for s in per_channel {
            stats.add(s);
        }
        Ok(stats)
    }

    /// One channel's deliveries, in order, until done or asked to stop.
    async fn deliver_queue(
        &self,
        tenant: &TenantId,
        queue: Vec<DueDelivery>,
        stop: &watch::Receiver<bool>,
    ) -> RoundStats {
        let mut stats = RoundStats::default();
        for due in queue {
            if *stop.borrow() {
                break;
            }
            let span = tracing::info_span!(
                "deliver",
                tenant = %tenant,
                channel = %due.delivery.channel_id,
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
            Err(e) => Err(DeliveryFailure::new(format!("preparing the event failed: {e}"))),
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
