//! The [`Core`] handle and the transaction context every domain call runs in.
//!
//! Key layout: every record of a tenant lives under `t/{tenant}/`, followed by
//! a record kind and its id (`t/dolce-vita/ord/ord-1a2b-0000000001-9f…`). Secondary
//! indexes are separate keys under their own kind (`sku/{sku}` → variant id)
//! written in the same transaction as the record. Key segments are escaped
//! (`%` and `/`), so no caller-supplied value — a SKU, an external order id, a
//! guessed id — can address a key outside its kind or its tenant. The only key
//! outside a tenant is the tenant registry `sys/tenants/{id}`, used to list
//! tenants. Values are versioned records (see [`crate::records`]).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use omnistore_storage::{Durability, Entry, KeyRange, KvStore, ReadTxn, StorageError, Txn, keyspace};

use crate::conflict::ConflictRetry;
use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::events::{Event, RetryPolicy};
use crate::group_commit::GroupCommit;
use crate::ids::{EventId, TenantId, format_id, unguessable};
use crate::records::{Record, decode, encode};
use crate::tenants::Tenant;
use crate::visitors::VisitorTouchpoint;

/// The commerce core over one key-value store. Cheap to clone; share one per
/// process.
#[derive(Clone)]
pub struct Core {
    store: Arc<dyn KvStore>,
    pub(crate) retry: RetryPolicy,
    conflict: ConflictRetry,
    /// Visitors' touchpoints (a page view each) committed together.
    pub(crate) visitor_touchpoints: Arc<GroupCommit<(VisitorTouchpoint, i64), bool>>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("backend", &self.store.backend())
            .field("retry", &self.retry)
            .field("conflict", &self.conflict)
            .finish()
    }
}

const SCAN_PAGE: usize = 256;

impl Core {
    pub fn new(store: Arc<dyn KvStore>) -> Core {
        Core {
            store,
            retry: RetryPolicy::default(),
            conflict: ConflictRetry::default(),
            visitor_touchpoints: Arc::new(GroupCommit::gathering(crate::visitors::VISITOR_GATHER)),
        }
    }

    /// Re-run transactions that lost a conflict under another policy (how
    /// many times, and how to wait between attempts).
    pub fn with_conflict_retry(mut self, policy: ConflictRetry) -> Core {
        self.conflict = policy;
        self
    }

    /// Use another retry policy for event deliveries.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Core {
        self.retry = policy;
        self
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The underlying store (the runtime keeps plugin-private data there too).
    pub fn store(&self) -> &Arc<dyn KvStore> {
        &self.store
    }

    /// Run a mutation of one tenant: one transaction, committed with its
    /// outbox events, retried as a whole on conflict.
    pub(crate) fn write<T>(
        &self,
        tenant: &TenantId,
        now_ms: i64,
        mut body: impl FnMut(&mut Tx<'_>) -> CoreResult<T>,
    ) -> CoreResult<T> {
        check_now(now_ms)?;
        self.run_write(|txn| {
            let mut tx = Tx::new(txn, tenant, now_ms);
            tx.require_tenant()?;
            let value = body(&mut tx)?;
            tx.finish()?;
            Ok(value)
        })
    }

    /// Run a read of one tenant in a read-only transaction: one snapshot,
    /// no write lock, so a long list never holds up checkouts. The body
    /// cannot write (a write is an internal error) and has no clock: asking
    /// `tx.now()` is an internal error, so a read that depends on the time
    /// cannot silently evaluate it at 1970 — it must use [`Core::read_at`].
    pub(crate) fn read<T>(&self, tenant: &TenantId, body: impl FnMut(&mut Tx<'_>) -> CoreResult<T>) -> CoreResult<T> {
        self.run_read(tenant, None, body)
    }

    /// A read whose answer depends on the time (promotions that apply now,
    /// holds that have expired by now, the attribution window).
    pub(crate) fn read_at<T>(
        &self,
        tenant: &TenantId,
        now_ms: i64,
        body: impl FnMut(&mut Tx<'_>) -> CoreResult<T>,
    ) -> CoreResult<T> {
        check_now(now_ms)?;
        self.run_read(tenant, Some(now_ms), body)
    }

    fn run_read<T>(
        &self,
        tenant: &TenantId,
        now_ms: Option<i64>,
        mut body: impl FnMut(&mut Tx<'_>) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.conflict.read(|| {
            let mut txn = self.store.begin_read()?;
            let mut tx = Tx::reading(&mut *txn, tenant, now_ms);
            tx.require_tenant()?;
            body(&mut tx)
        })
    }

    /// One page of a tenant's table in id order: at most `limit` records
    /// (1 to 1000; 0 means 100) whose ids come after `after`.
    pub(crate) fn page<T: Record>(
        &self,
        tenant: &TenantId,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> CoreResult<Vec<T>> {
        let limit = if limit == 0 { 100 } else { limit.min(1000) };
        self.read(tenant, |tx| {
            let start = after.map_or(Bound::Unbounded, Bound::Excluded);
            Ok(tx.scan_range::<T>(&[table], start, Bound::Unbounded, limit)?.into_iter().map(|(_, v)| v).collect())
        })
    }

    /// One read-write transaction outside any tenant's `Tx` (the tenant
    /// registry, migrations), retried as a whole on conflict.
    pub(crate) fn run_write<T>(&self, body: impl FnMut(&mut dyn Txn) -> CoreResult<T>) -> CoreResult<T> {
        self.conflict.write(&*self.store, body)
    }
}

pub(crate) fn check_now(now_ms: i64) -> CoreResult<()> {
    if now_ms < 0 {
        return Err(CoreError::invalid(format!(
            "time {now_ms} is before 1970; pass milliseconds since the Unix epoch"
        )));
    }
    Ok(())
}

/// Escape one key segment so that it cannot contain the separator.
fn escape(segment: &str, out: &mut String) {
    for c in segment.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("%2F", "/").replace("%25", "%")
}

/// A fixed-width, sortable rendering of a non-negative time or counter.
pub(crate) fn sortable(n: i64) -> String {
    format!("{:020}", n.max(0))
}

pub(crate) struct PendingEvent {
    /// Chosen when emitted ([`Tx::emit_derived`]); otherwise issued at commit.
    pub id: Option<EventId>,
    pub kind: DomainEventKind,
    pub subject: String,
    pub payload: serde_json::Value,
}

/// The transaction under a [`Tx`]: read-write for mutations, read-only for
/// reads.
enum Access<'t> {
    Write(&'t mut dyn Txn),
    Read(&'t mut dyn ReadTxn),
}

impl Access<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            Access::Write(txn) => txn.get(key),
            Access::Read(txn) => txn.get(key),
        }
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        match self {
            Access::Write(txn) => txn.scan(range, limit),
            Access::Read(txn) => txn.scan(range, limit),
        }
    }

    fn writer(&mut self) -> Result<&mut dyn Txn, StorageError> {
        match self {
            Access::Write(txn) => Ok(&mut **txn),
            Access::Read(_) => Err(StorageError::Invalid("a read-only transaction cannot write".into())),
        }
    }
}

/// One transaction of one tenant. Every key it touches is under the tenant's
/// prefix; there is no method to address another tenant.
pub(crate) struct Tx<'t> {
    txn: Access<'t>,
    pub tenant: TenantId,
    prefix: String,
    /// The time of a write, or of a read that asked for one ([`Core::read_at`]).
    now: Option<i64>,
    tenant_record: Option<Tenant>,
    events: Vec<PendingEvent>,
    /// Work domain modules registered to run once when the body succeeded,
    /// by name, in registration order (see [`Tx::before_commit`]).
    hooks: Vec<(&'static str, Hook)>,
    /// What those modules collect during the body, one value per type
    /// (see [`Tx::state`]).
    state: HashMap<TypeId, Box<dyn Any>>,
}

/// Work run at the end of a successful transaction body, before the outbox
/// is written: it may read, write and emit events like the body.
pub(crate) type Hook = fn(&mut Tx<'_>) -> CoreResult<()>;

impl<'t> Tx<'t> {
    pub fn new(txn: &'t mut dyn Txn, tenant: &TenantId, now: i64) -> Tx<'t> {
        Tx::with_access(Access::Write(txn), tenant, Some(now))
    }

    /// A transaction that only reads, with a clock only if its answer
    /// depends on the time.
    pub fn reading(txn: &'t mut dyn ReadTxn, tenant: &TenantId, now: Option<i64>) -> Tx<'t> {
        Tx::with_access(Access::Read(txn), tenant, now)
    }

    fn with_access(txn: Access<'t>, tenant: &TenantId, now: Option<i64>) -> Tx<'t> {
        // Tenant ids need no escaping (see `keyspace`).
        let prefix = keyspace::core_prefix(tenant);
        Tx {
            txn,
            tenant: tenant.clone(),
            prefix,
            now,
            tenant_record: None,
            events: Vec::new(),
            hooks: Vec::new(),
            state: HashMap::new(),
        }
    }

    pub(crate) fn require_tenant(&mut self) -> CoreResult<()> {
        match self.get::<Tenant>(&["tenant"])? {
            Some(t) => {
                self.tenant_record = Some(t);
                Ok(())
            }
            None => Err(CoreError::not_found("tenant", self.tenant.as_str())),
        }
    }

    /// The time this transaction runs at. Every write has one; a read has
    /// one only when opened with [`Core::read_at`], so domain code that
    /// depends on the time fails loudly in a clockless read instead of
    /// evaluating at 1970.
    pub fn now(&self) -> CoreResult<i64> {
        self.now.ok_or_else(|| {
            CoreError::Storage(StorageError::Invalid(
                "a read without a time asked for the time; it must be opened with read_at".into(),
            ))
        })
    }

    /// The tenant's record; loaded before any domain code runs.
    pub fn tenant_record(&self) -> &Tenant {
        self.tenant_record.as_ref().expect("tenant loaded by Core::write/read")
    }

    pub fn set_tenant_record(&mut self, tenant: Tenant) {
        self.tenant_record = Some(tenant);
    }

    pub fn currency(&self) -> String {
        self.tenant_record().currency.clone()
    }

    pub fn key(&self, parts: &[&str]) -> Vec<u8> {
        let mut key = self.prefix.clone();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                key.push('/');
            }
            escape(part, &mut key);
        }
        key.into_bytes()
    }

    fn prefix_key(&self, parts: &[&str]) -> Vec<u8> {
        let mut key = self.key(parts);
        key.push(b'/');
        key
    }

    pub fn get<T: Record>(&mut self, parts: &[&str]) -> CoreResult<Option<T>> {
        let key = self.key(parts);
        // No record is ever written under a key this long, so a lookup by an
        // oversized caller-supplied value simply finds nothing.
        if key.len() > omnistore_storage::MAX_KEY_LEN {
            return Ok(None);
        }
        match self.txn.get(&key)? {
            Some(bytes) => Ok(Some(decode(&key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// A record that must exist.
    pub fn must<T: Record>(&mut self, kind: &'static str, id: &str) -> CoreResult<T> {
        let table = kind_table(kind);
        self.get(&[table, id])?.ok_or_else(|| CoreError::not_found(kind, id))
    }

    pub fn exists(&mut self, parts: &[&str]) -> CoreResult<bool> {
        let key = self.key(parts);
        if key.len() > omnistore_storage::MAX_KEY_LEN {
            return Ok(false);
        }
        Ok(self.txn.get(&key)?.is_some())
    }

    /// Commit this transaction visible at once and durable a moment later
    /// ([`Durability::Deferred`]): only for records a crash may lose the
    /// last moments of without anyone being worse off.
    pub fn defer_durability(&mut self) -> CoreResult<()> {
        self.txn.writer()?.set_durability(Durability::Deferred);
        Ok(())
    }

    pub fn put<T: Record>(&mut self, parts: &[&str], value: &T) -> CoreResult<()> {
        let key = self.key(parts);
        let bytes = encode(value)?;
        self.txn.writer()?.put(&key, &bytes)?;
        Ok(())
    }

    pub fn del(&mut self, parts: &[&str]) -> CoreResult<()> {
        let key = self.key(parts);
        self.txn.writer()?.delete(&key)?;
        Ok(())
    }

    /// Every entry under `parts/`, as (last key segments, value).
    pub fn scan<T: Record>(&mut self, parts: &[&str]) -> CoreResult<Vec<(String, T)>> {
        self.scan_range(parts, Bound::Unbounded, Bound::Unbounded, usize::MAX)
    }

    /// Entries under `parts/` whose remaining key (unescaped suffix) lies
    /// within the bounds, in key order, at most `limit`.
    pub fn scan_range<T: Record>(
        &mut self,
        parts: &[&str],
        start: Bound<&str>,
        end: Bound<&str>,
        limit: usize,
    ) -> CoreResult<Vec<(String, T)>> {
        let prefix = self.prefix_key(parts);
        let with_suffix = |suffix: &str| {
            let mut key = String::from_utf8(prefix.clone()).expect("keys are UTF-8");
            escape_path(suffix, &mut key);
            key.into_bytes()
        };
        let all = KeyRange::prefix(&prefix);
        let mut range_start = match start {
            Bound::Included(s) => Bound::Included(with_suffix(s)),
            Bound::Excluded(s) => Bound::Excluded(with_suffix(s)),
            Bound::Unbounded => all.start.clone(),
        };
        let range_end = match end {
            Bound::Included(s) => Bound::Included(with_suffix(s)),
            Bound::Excluded(s) => Bound::Excluded(with_suffix(s)),
            Bound::Unbounded => all.end.clone(),
        };
        let mut out = Vec::new();
        while out.len() < limit {
            let page = SCAN_PAGE.min(limit - out.len());
            let range = KeyRange { start: range_start.clone(), end: range_end.clone() };
            let entries = self.txn.scan(&range, page)?;
            let got = entries.len();
            for (key, value) in entries {
                let suffix = std::str::from_utf8(&key[prefix.len()..]).unwrap_or_default();
                let suffix = suffix.split('/').map(unescape).collect::<Vec<_>>().join("/");
                out.push((suffix, decode(&key, &value)?));
                range_start = Bound::Excluded(key);
            }
            if got < page {
                break;
            }
        }
        Ok(out)
    }

    /// The next value of a per-tenant counter.
    pub fn next_seq(&mut self, counter: &str) -> CoreResult<u64> {
        let next = self.get::<u64>(&["seq", counter])?.unwrap_or(0) + 1;
        self.put(&["seq", counter], &next)?;
        Ok(next)
    }

    /// Drop a per-tenant counter whose name identifies someone, once nothing
    /// it numbered is left (so the name goes with the person).
    pub fn forget_seq(&mut self, counter: &str) -> CoreResult<()> {
        self.del(&["seq", counter])
    }

    /// A new id of the given kind, unique in this tenant and across tenants.
    pub fn new_id(&mut self, prefix: &str) -> CoreResult<String> {
        let seq = self.next_seq(prefix)?;
        Ok(format_id(prefix, &self.tenant, seq, &unguessable()?))
    }

    /// Queue a domain event; written to the outbox when the transaction body
    /// succeeds, so it commits or vanishes with the change it describes.
    pub fn emit(&mut self, kind: DomainEventKind, subject: impl Into<String>, payload: serde_json::Value) {
        self.events.push(PendingEvent { id: None, kind, subject: subject.into(), payload });
    }

    /// Queue a domain event whose id is derived from `derived_from` (what the
    /// event is the one occurrence of, such as a campaign's message to one
    /// customer on one channel) and returned now, so the caller can record it
    /// in the same transaction. The id keeps the outbox's shape and order —
    /// `evt-{tenant tag}-{counter}-{tail}` — with the tail the first 128 bits
    /// of SHA-256 over the tenant and `derived_from` instead of random bits:
    /// the counter keeps fan-out in commit order, the tail ties the id to
    /// what it is about and is as unguessable as the ids it is derived from.
    pub fn emit_derived(
        &mut self,
        kind: DomainEventKind,
        subject: impl Into<String>,
        payload: serde_json::Value,
        derived_from: &str,
    ) -> CoreResult<EventId> {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        digest.update(self.tenant.as_str().as_bytes());
        digest.update([0]);
        digest.update(derived_from.as_bytes());
        let tail = hex::encode(&digest.finalize()[..16]);
        let seq = self.next_seq(EventId::PREFIX)?;
        let id = EventId::new(format_id(EventId::PREFIX, &self.tenant, seq, &tail));
        self.events.push(PendingEvent { id: Some(id.clone()), kind, subject: subject.into(), payload });
        Ok(id)
    }

    /// Run `hook` once when the body has succeeded, however often it is
    /// registered under `name`. This is how a domain module finishes its own
    /// work (inventory's one `stock.changed` per variant with the final
    /// figures) without the transaction knowing about that module.
    pub fn before_commit(&mut self, name: &'static str, hook: Hook) {
        if !self.hooks.iter().any(|(n, _)| *n == name) {
            self.hooks.push((name, hook));
        }
    }

    /// This transaction's value of `S`, created empty on first use: where a
    /// module collects what its [`Tx::before_commit`] hook will need.
    pub fn state<S: Default + 'static>(&mut self) -> &mut S {
        self.state
            .entry(TypeId::of::<S>())
            .or_insert_with(|| Box::new(S::default()))
            .downcast_mut()
            .expect("state is stored under its own type id")
    }

    pub(crate) fn finish(mut self) -> CoreResult<()> {
        // A hook may register another one (or itself again, to handle what
        // it touched); run until none is left.
        while !self.hooks.is_empty() {
            for (_, hook) in std::mem::take(&mut self.hooks) {
                hook(&mut self)?;
            }
        }
        let events = std::mem::take(&mut self.events);
        for pending in events {
            let id = match pending.id {
                Some(id) => id,
                None => EventId::new(self.new_id(EventId::PREFIX)?),
            };
            let event = Event {
                id: id.clone(),
                tenant: self.tenant.clone(),
                kind: pending.kind,
                subject: pending.subject,
                at_ms: self.now()?,
                payload: pending.payload,
            };
            self.put(&["evt", id.as_str()], &event)?;
        }
        Ok(())
    }
}

fn escape_path(path: &str, out: &mut String) {
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        escape(segment, out);
    }
}

/// The table (first key segment) that holds records of a kind named in errors.
fn kind_table(kind: &'static str) -> &'static str {
    match kind {
        "channel" => "chn",
        "location" => "loc",
        "product" => "prd",
        "variant" => "var",
        "collection" => "col",
        "promotion" => "prm",
        "cart" => "crt",
        "order" => "ord",
        "return" => "ret",
        "customer" => "cus",
        "hold" => "hld",
        "event" => "evt",
        "delivery" => "dlv",
        "segment" => "seg",
        "campaign" => "cmp",
        other => other,
    }
}

/// Keys outside any tenant.
pub(crate) fn registry_key(tenant: &TenantId) -> Vec<u8> {
    keyspace::registry_key(tenant)
}

pub(crate) fn registry_prefix() -> &'static [u8] {
    keyspace::Namespace::Registry.root()
}

#[cfg(test)]
mod tests {
    use omnistore_storage::MemoryStore;

    use super::*;

    #[test]
    fn only_a_read_opened_with_a_time_can_ask_for_it() {
        let core = Core::new(Arc::new(MemoryStore::new()));
        let t = TenantId::new("clock").expect("valid id");
        core.create_tenant(&t, "Clock", "EUR", 7).expect("tenant");
        assert!(core.read(&t, |tx| tx.now()).is_err(), "a clockless read must not see 1970");
        assert_eq!(core.read_at(&t, 42, |tx| tx.now()).expect("read at a time"), 42);
        assert_eq!(core.write(&t, 43, |tx| tx.now()).expect("write"), 43);
    }
}
