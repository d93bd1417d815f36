//! The mail outbox: the `mail` interface queues checked messages in the
//! key-value store, bounded per tenant, for the host's transport to take.

use omnistore_core as domain;
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult, TenantUsage, entry_cost};
use omnistore_storage::{KeyRange, KvStore, StorageError, Txn, keyspace};
use serde::{Deserialize, Serialize};

use wit::HostError;

use super::CoreServices;
use super::call::Outcome;
use crate::async_core::off_executor;

const MAX_RECIPIENTS: usize = 50;
const MAX_MAIL_HEADERS: usize = 32;
const MAX_HEADER_LINE: usize = 998;
const MAX_MAIL_BODY_BYTES: usize = 2 << 20;

/// A message a plugin handed to the host's mail transport, waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    /// The id returned to the plugin; unique within the tenant, in queue order.
    pub id: String,
    pub tenant: String,
    /// The installation (channel) that sent it.
    pub channel: String,
    pub plugin: String,
    /// Normalised (lower-cased) addresses.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub headers: Vec<(String, String)>,
    pub queued_ms: i64,
    /// Deliveries tried and failed so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not to be tried before this time (ms since the epoch); 0 is at once.
    #[serde(default)]
    pub next_attempt_ms: i64,
    /// Why the last attempt failed, as the relay said.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// Bounds of a tenant's mail queue while it waits for the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// Messages one tenant may have waiting.
    pub max_queued: u64,
    /// The tenant's storage quota, shared with its plugins' data; must be
    /// the runtime's `Limits::tenant_storage_quota_bytes`.
    pub tenant_quota_bytes: u64,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits { max_queued: 1000, tenant_quota_bytes: omnistore_runtime::DEFAULT_TENANT_STORAGE_QUOTA_BYTES }
    }
}

impl CoreServices {
    /// Mail waiting for the transport, oldest first, after the id `after`.
    pub async fn mail_outbox(
        &self,
        tenant: &domain::TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StorageError> {
        let store = self.core.store().clone();
        let tenant = tenant.clone();
        let after = after.map(str::to_owned);
        off_executor(move || read_mail(&*store, &tenant, after.as_deref(), limit)).await?
    }

    /// Drop a message from the outbox once the transport has taken it.
    /// Returns whether it was there.
    pub async fn remove_mail(&self, tenant: &domain::TenantId, id: &str) -> Result<bool, StorageError> {
        let store = self.core.store().clone();
        let (key, tenant) = (keyspace::mail_queue_key(tenant, id), tenant.clone());
        let max_queued = self.mail.max_queued;
        off_executor(move || {
            omnistore_storage::transact(&*store, |txn| {
                let Some(record) = txn.get(&key)? else { return Ok(false) };
                let queued = queued_mail(txn, &tenant, max_queued)?;
                let _ = TenantUsage::new(&tenant).charge(txn, entry_cost(key.len(), record.len()), 0, u64::MAX)?;
                txn.delete(&key)?;
                txn.put(&keyspace::mail_count_key(&tenant), queued.saturating_sub(1).to_string().as_bytes())?;
                Ok::<_, StorageError>(true)
            })
        })
        .await?
    }
}

/// What became of a message the transport tried to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The relay took it: it leaves the outbox.
    Delivered,
    /// Try again at `next_attempt_ms`.
    Retry { error: String, next_attempt_ms: i64 },
    /// Refused for good or out of attempts: kept as a dead letter.
    Dead { error: String },
}

impl CoreServices {
    /// Record what delivering `id` came to. Returns whether the message was
    /// still queued (a message removed meanwhile is left alone).
    pub async fn record_delivery(
        &self,
        tenant: &domain::TenantId,
        id: &str,
        outcome: DeliveryOutcome,
    ) -> Result<bool, StorageError> {
        if outcome == DeliveryOutcome::Delivered {
            return self.remove_mail(tenant, id).await;
        }
        let store = self.core.store().clone();
        let (tenant, id) = (tenant.clone(), id.to_owned());
        let max_queued = self.mail.max_queued;
        off_executor(move || {
            omnistore_storage::transact(&*store, |txn| {
                let key = keyspace::mail_queue_key(&tenant, &id);
                let Some(bytes) = txn.get(&key)? else { return Ok(false) };
                let mut mail = decode_mail(&bytes)?;
                mail.attempts = mail.attempts.saturating_add(1);
                let (to_key, queued_after) = match &outcome {
                    DeliveryOutcome::Retry { error, next_attempt_ms } => {
                        mail.last_error = Some(error.clone());
                        mail.next_attempt_ms = *next_attempt_ms;
                        (key.clone(), None)
                    }
                    DeliveryOutcome::Dead { error } => {
                        mail.last_error = Some(error.clone());
                        let queued = queued_mail(txn, &tenant, max_queued)?;
                        (keyspace::mail_dead_key(&tenant, &id), Some(queued.saturating_sub(1)))
                    }
                    // Handled above, before the transaction.
                    DeliveryOutcome::Delivered => return Ok(false),
                };
                let new = encode_mail(&mail)?;
                // The stored size changes with the error text; the tenant's
                // usage follows it (a dead letter still counts: it is kept).
                let usage = TenantUsage::new(&tenant);
                let _ = usage.charge(
                    txn,
                    entry_cost(key.len(), bytes.len()),
                    entry_cost(to_key.len(), new.len()),
                    u64::MAX,
                )?;
                if to_key != key {
                    txn.delete(&key)?;
                }
                txn.put(&to_key, &new)?;
                if let Some(n) = queued_after {
                    txn.put(&keyspace::mail_count_key(&tenant), n.to_string().as_bytes())?;
                }
                Ok::<_, StorageError>(true)
            })
        })
        .await?
    }

    /// Dead letters of the tenant, oldest first.
    pub async fn dead_mail(&self, tenant: &domain::TenantId, limit: usize) -> Result<Vec<QueuedMail>, StorageError> {
        let store = self.core.store().clone();
        let prefix = keyspace::mail_dead_prefix(tenant);
        off_executor(move || {
            let mut txn = store.begin_read()?;
            txn.scan(&KeyRange::prefix(&prefix), limit.max(1))?.into_iter().map(|(_, v)| decode_mail(&v)).collect()
        })
        .await?
    }

    /// Put a dead letter back in the queue with its attempts forgotten, as a
    /// merchant does once the relay or address is fixed. `Ok(None)` when there
    /// is no such dead letter; `Ok(Some(Err))` when the queue is full.
    pub async fn replay_dead_mail(
        &self,
        tenant: &domain::TenantId,
        id: &str,
    ) -> Result<Option<Result<QueuedMail, String>>, StorageError> {
        let store = self.core.store().clone();
        let (tenant, id) = (tenant.clone(), id.to_owned());
        let max_queued = self.mail.max_queued;
        off_executor(move || {
            omnistore_storage::transact(&*store, |txn| {
                let dead_key = keyspace::mail_dead_key(&tenant, &id);
                let Some(bytes) = txn.get(&dead_key)? else { return Ok(None) };
                let queued = queued_mail(txn, &tenant, max_queued)?;
                if queued >= max_queued {
                    return Ok(Some(Err(format!(
                        "the queue already holds {queued} messages, the most it may; replay when it has drained"
                    ))));
                }
                let mut mail = decode_mail(&bytes)?;
                mail.attempts = 0;
                mail.next_attempt_ms = 0;
                let new = encode_mail(&mail)?;
                let key = keyspace::mail_queue_key(&tenant, &id);
                let usage = TenantUsage::new(&tenant);
                let _ = usage.charge(
                    txn,
                    entry_cost(dead_key.len(), bytes.len()),
                    entry_cost(key.len(), new.len()),
                    u64::MAX,
                )?;
                txn.delete(&dead_key)?;
                txn.put(&key, &new)?;
                txn.put(&keyspace::mail_count_key(&tenant), (queued + 1).to_string().as_bytes())?;
                Ok::<_, StorageError>(Some(Ok(mail)))
            })
        })
        .await?
    }
}

fn decode_mail(bytes: &[u8]) -> Result<QueuedMail, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::backend("mail-codec", e))
}

fn encode_mail(mail: &QueuedMail) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(mail).map_err(|e| StorageError::backend("mail-codec", e))
}

/// Messages waiting; a queue from before the counter existed is counted
/// (up to `cap`, which is all a check against the cap needs).
fn queued_mail(txn: &mut dyn Txn, tenant: &domain::TenantId, cap: u64) -> Result<u64, StorageError> {
    if let Some(n) =
        txn.get(&keyspace::mail_count_key(tenant))?.and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
    {
        return Ok(n);
    }
    let limit = usize::try_from(cap).unwrap_or(usize::MAX);
    Ok(txn.scan(&KeyRange::prefix(&keyspace::mail_queue_prefix(tenant)), limit)?.len() as u64)
}

fn read_mail(
    store: &dyn KvStore,
    tenant: &domain::TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<QueuedMail>, StorageError> {
    let mut range = KeyRange::prefix(&keyspace::mail_queue_prefix(tenant));
    if let Some(after) = after {
        range.start = std::ops::Bound::Excluded(keyspace::mail_queue_key(tenant, after));
    }
    let limit = if limit == 0 { 100 } else { limit };
    let mut txn = store.begin_read()?;
    txn.scan(&range, limit)?.into_iter().map(|(_, v)| decode_mail(&v)).collect()
}

fn header_line_ok(value: &str) -> bool {
    value.len() <= MAX_HEADER_LINE && !value.chars().any(char::is_control)
}

/// Check a message and normalise its recipients. Refuses anything that could
/// inject headers or override what the transport sets.
fn check_mail(m: &wit::MailMessage) -> Outcome<Vec<String>> {
    if m.to.is_empty() || m.to.len() > MAX_RECIPIENTS {
        return Err(HostError::Invalid(format!("a message needs 1 to {MAX_RECIPIENTS} recipients")).into());
    }
    let mut to = Vec::with_capacity(m.to.len());
    for addr in &m.to {
        let id = domain::Identity::email(addr)
            .map_err(|_| HostError::Invalid(format!("recipient `{}` is not an e-mail address", addr.escape_debug())))?;
        to.push(id.value);
    }
    if !header_line_ok(&m.subject) {
        return Err(HostError::Invalid(format!(
            "the subject must be one line of at most {MAX_HEADER_LINE} bytes without control characters"
        ))
        .into());
    }
    if m.headers.len() > MAX_MAIL_HEADERS {
        return Err(HostError::Invalid(format!("a message may carry at most {MAX_MAIL_HEADERS} extra headers")).into());
    }
    for (name, value) in &m.headers {
        let name_ok = !name.is_empty() && name.len() <= 76 && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !name_ok || !header_line_ok(value) {
            return Err(HostError::Invalid(format!(
                "header `{}` is malformed: names are printable ASCII without `:`, values one line",
                name.escape_debug()
            ))
            .into());
        }
        if omnistore_mail::RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(HostError::Invalid(format!("header `{name}` is set by the host's transport")).into());
        }
    }
    let size = m.text.len() + m.html.as_ref().map_or(0, String::len);
    if size > MAX_MAIL_BODY_BYTES {
        return Err(HostError::QuotaExceeded(format!(
            "the message body is {size} bytes; the limit is {MAX_MAIL_BODY_BYTES}"
        ))
        .into());
    }
    Ok(to)
}

pub(super) async fn send_mail(
    services: &CoreServices,
    cx: &CallContext,
    message: wit::MailMessage,
) -> ServiceResult<String> {
    let limits = services.mail;
    services
        .call(cx, "mail.send", move |core, s| {
            let to = check_mail(&message)?;
            // Only a registered installation of a known tenant may queue mail.
            core.get_channel(&s.tenant, &s.channel)?;
            let store = core.store();
            let seq_key = keyspace::mail_seq_key(&s.tenant);
            let queued = omnistore_storage::transact(&**store, |txn| {
                let waiting = queued_mail(txn, &s.tenant, limits.max_queued)?;
                if waiting >= limits.max_queued {
                    return Ok(Err(HostError::QuotaExceeded(format!(
                        "this shop already has {waiting} messages waiting to be sent, the most it may queue; \
                         try again later"
                    ))));
                }
                let seq = match txn.get(&seq_key)? {
                    Some(bytes) => std::str::from_utf8(&bytes).ok().and_then(|t| t.parse::<u64>().ok()).unwrap_or(0),
                    None => 0,
                } + 1;
                txn.put(&seq_key, seq.to_string().as_bytes())?;
                let id = format!("mail-{seq:010}");
                let record = QueuedMail {
                    id: id.clone(),
                    tenant: s.tenant.to_string(),
                    channel: s.channel.to_string(),
                    plugin: s.plugin.clone(),
                    to: to.clone(),
                    subject: message.subject.clone(),
                    text: message.text.clone(),
                    html: message.html.clone(),
                    headers: message.headers.clone(),
                    queued_ms: s.now,
                    attempts: 0,
                    next_attempt_ms: 0,
                    last_error: None,
                };
                let bytes = encode_mail(&record)?;
                let key = keyspace::mail_queue_key(&s.tenant, &id);
                let usage = TenantUsage::new(&s.tenant);
                if let Err(message) =
                    usage.charge(txn, 0, entry_cost(key.len(), bytes.len()), limits.tenant_quota_bytes)?
                {
                    return Ok(Err(HostError::QuotaExceeded(message)));
                }
                txn.put(&key, &bytes)?;
                txn.put(&keyspace::mail_count_key(&s.tenant), (waiting + 1).to_string().as_bytes())?;
                Ok::<_, StorageError>(Ok(id))
            })?;
            let id = queued?;
            tracing::info!(tenant = %s.tenant, channel = %s.channel, mail = %id, recipients = to.len(), "mail queued");
            Ok(id)
        })
        .await
}
