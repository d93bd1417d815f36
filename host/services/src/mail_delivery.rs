//! Draining the mail outbox: each queued message is composed from the
//! merchant's sender, signed when a DKIM key is configured, and handed to the
//! tenant's relay (`omnistore-mail`). A transient failure keeps it queued for
//! a later attempt as the [`RetryPolicy`] says; a permanent one, or the last
//! attempt, makes it a dead letter the merchant can read and replay.
//!
//! A failure of the relay itself (unreachable, credentials refused) would
//! fail every message the same way, so the round stops there for that tenant
//! and no other message loses an attempt to it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use omnistore_core::TenantId;
use omnistore_mail::{DeliveryError, OutgoingMail, RelayConfig, RetryPolicy, Sender, SmtpTransport};
use omnistore_storage::StorageError;

use crate::commerce::{CoreServices, DeliveryOutcome, QueuedMail};

/// Messages read from the queue at a time.
const PAGE_SIZE: usize = 100;

/// How a tenant's mail leaves: who it is from and through which relay.
#[derive(Debug, Clone)]
pub struct TenantMail {
    pub sender: Sender,
    pub relay: RelayConfig,
    pub retry: RetryPolicy,
}

struct Route {
    sender: Sender,
    transport: SmtpTransport,
    retry: RetryPolicy,
}

/// What one round did for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Left for later: not due yet, or the round stopped at a relay failure.
    pub waiting: usize,
    /// The relay failure that stopped the round, if one did.
    pub relay_failure: Option<String>,
}

/// The outbox's delivery worker. Cheap to share.
pub struct MailDelivery {
    services: Arc<CoreServices>,
    routes: RwLock<HashMap<TenantId, Arc<Route>>>,
    page_size: usize,
}

impl std::fmt::Debug for MailDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenants: Vec<String> = self.tenants().iter().map(ToString::to_string).collect();
        f.debug_struct("MailDelivery").field("tenants", &tenants).finish()
    }
}

impl MailDelivery {
    pub fn new(services: Arc<CoreServices>) -> MailDelivery {
        MailDelivery { services, routes: RwLock::new(HashMap::new()), page_size: PAGE_SIZE }
    }

    /// Read the queue `n` messages at a time (at least one).
    pub fn with_page_size(mut self, n: usize) -> MailDelivery {
        self.page_size = n.max(1);
        self
    }

    /// Set (or replace) how `tenant`'s mail is sent. The settings are checked
    /// now: a sender that is not an address, a DKIM key for another domain or
    /// a relay that cannot be reached securely are refused with the reason.
    pub fn configure(&self, tenant: &TenantId, mail: TenantMail) -> Result<(), omnistore_mail::MailError> {
        mail.sender.validate()?;
        let transport = SmtpTransport::new(mail.relay)?;
        let route = Route { sender: mail.sender, transport, retry: mail.retry };
        self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(tenant.clone(), Arc::new(route));
        Ok(())
    }

    /// Tenants whose mail is sent.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner).keys().cloned().collect()
    }

    fn route(&self, tenant: &TenantId) -> Option<Arc<Route>> {
        self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(tenant).cloned()
    }

    /// Try every message of `tenant` that is due at `now_ms`, oldest first,
    /// reading the whole queue a page at a time, so messages waiting for a
    /// later attempt never hold back newer ones. A tenant without mail
    /// settings keeps its queue as it is.
    pub async fn deliver_due(&self, tenant: &TenantId, now_ms: i64) -> Result<RoundReport, StorageError> {
        let mut report = RoundReport::default();
        let Some(route) = self.route(tenant) else { return Ok(report) };
        let mut after: Option<String> = None;
        loop {
            let page = self.services.mail_outbox(tenant, after.as_deref(), self.page_size).await?;
            let full = page.len() >= self.page_size;
            after = page.last().map(|m| m.id.clone());
            let mut messages = page.into_iter();
            for mail in messages.by_ref() {
                if mail.next_attempt_ms > now_ms {
                    report.waiting += 1;
                    continue;
                }
                let outcome = match attempt(&route, &mail, now_ms).await {
                    Ok(()) => DeliveryOutcome::Delivered,
                    Err(Attempt::Unsendable(reason)) => DeliveryOutcome::Dead { error: reason },
                    Err(Attempt::Failed(e)) if e.affects_every_message() => {
                        tracing::warn!(tenant = %tenant, error = %e, "the relay failed; the queue waits");
                        report.relay_failure = Some(e.to_string());
                        report.waiting += 1 + messages.count();
                        return Ok(report);
                    }
                    Err(Attempt::Failed(e)) => match route.retry.next_attempt(mail.attempts + 1) {
                        Some(wait) if e.is_retryable() => DeliveryOutcome::Retry {
                            error: e.to_string(),
                            next_attempt_ms: now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
                        },
                        _ => DeliveryOutcome::Dead { error: e.to_string() },
                    },
                };
                match &outcome {
                    DeliveryOutcome::Delivered => report.delivered += 1,
                    DeliveryOutcome::Retry { .. } => report.retrying += 1,
                    DeliveryOutcome::Dead { error } => {
                        tracing::warn!(tenant = %tenant, mail = %mail.id, error = %error, "mail given up");
                        report.dead += 1;
                    }
                }
                self.services.record_delivery(tenant, &mail.id, outcome).await?;
            }
            if !full {
                return Ok(report);
            }
        }
    }

    /// Deliver every configured tenant's due mail every `every`, until
    /// `stop` is notified. Errors of the store are logged and the next round
    /// tries again.
    pub async fn run(self: Arc<Self>, every: Duration, clock: impl Fn() -> i64 + Send, stop: Arc<tokio::sync::Notify>) {
        loop {
            // Tenants go side by side: one tenant's slow relay does not hold
            // back another's mail.
            let now = clock();
            let rounds = self.tenants().into_iter().map(|tenant| {
                let this = &self;
                async move {
                    match this.deliver_due(&tenant, now).await {
                        Ok(report) if report.delivered + report.retrying + report.dead > 0 => {
                            tracing::info!(tenant = %tenant, ?report, "mail round");
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(tenant = %tenant, error = %e, "reading the mail outbox failed"),
                    }
                }
            });
            futures::future::join_all(rounds).await;
            tokio::select! {
                () = stop.notified() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

enum Attempt {
    /// The message cannot be composed (a header or address the relay would
    /// refuse anyway): trying again cannot help.
    Unsendable(String),
    Failed(DeliveryError),
}

async fn attempt(route: &Route, mail: &QueuedMail, now_ms: i64) -> Result<(), Attempt> {
    let outgoing = OutgoingMail {
        to: mail.to.clone(),
        subject: mail.subject.clone(),
        text: mail.text.clone(),
        html: mail.html.clone(),
        headers: mail.headers.clone(),
        message_id_hint: format!("{}/{}/{}", mail.tenant, mail.id, mail.queued_ms),
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now_ms).unwrap_or(0));
    let raw = omnistore_mail::compose(&outgoing, &route.sender, now)
        .map_err(|e| Attempt::Unsendable(format!("the message cannot be composed: {e}")))?;
    route.transport.deliver(&route.sender.address, &mail.to, &raw).await.map_err(Attempt::Failed)
}
