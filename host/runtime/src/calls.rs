//! What each installation's calls did lately: its last [`RECENT_CALLS`]
//! calls (into the plugin, and the outbound requests and refused imports it
//! made) and counters since the runtime started, for the merchant's admin.
//!
//! Kept in memory only. A restart loses it, which is fine for what it is
//! for — "is this channel failing now, and why" — while keeping it in the
//! store would add a write to every call, on the hottest path there is.
//! Memory is bounded twice: a fixed ring per installation, and at most
//! [`MAX_TRACKED_INSTALLATIONS`] installations (the host forgets an
//! installation when it is uninstalled; the cap is the backstop).
//!
//! Nothing a caller could hide a secret in is kept: no query string, no
//! header, no body, no continuation token, no error message; path segments
//! that look like ids or tokens are written as `…` (a storefront's order
//! link carries its access token in the path, some APIs a key).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use omnistore_manifest::Capability;

use crate::error::{CallError, Limit};
use crate::per_thread::{Memo, Padded, owner_id, shard_of_thread, shards};
use crate::state::TenantId;
use crate::types::{HttpError, IncomingResponse, PluginError};

/// Calls kept per installation, newest replacing oldest.
pub const RECENT_CALLS: usize = 100;
/// Installations whose calls are kept at once. Past it, the ones called
/// least recently are forgotten first (an eighth at a time, so a host
/// with more busy installations than this does not scan on every call).
pub const MAX_TRACKED_INSTALLATIONS: usize = 10_000;
/// Entries one call may add from inside (outbound requests, refused
/// imports); past it they are only counted, so a plugin looping over a
/// refused import neither floods the ring nor allocates per attempt.
pub(crate) const MAX_INSIDE_ENTRIES: u32 = 16;
/// Longest target kept, in characters.
const MAX_TARGET_CHARS: usize = 160;

/// What kind of call an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `handle-request`: a page, feed or webhook routed to the plugin.
    Request,
    /// `next-page` of a streamed response.
    NextPage,
    /// `on-event`.
    Event,
    /// An HTTP request the plugin sent (`http.send`).
    Outbound,
    /// An import the host refused (not granted, or over a quota); imports
    /// that succeed are not recorded one by one.
    Import,
}

/// A limit a call went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// The call's wall-clock deadline (epoch interruption or the timeout
    /// around awaited imports).
    Deadline,
    /// Linear memory of the instance.
    Memory,
    /// Table elements of the instance ([`Limit::TableElements`]).
    TableElements,
    /// One value passed to the host ([`Limit::TransferBytes`]).
    TransferBytes,
    /// The size of a response or body page the plugin returned.
    ResponseSize,
    /// Instances running at once, the tenant's share or the host's pool.
    Instances,
    /// Plugin storage (or the mail queue) over its quota.
    StorageQuota,
    /// An outbound response body over the host's limit.
    OutboundResponseSize,
}

impl LimitKind {
    pub const ALL: [LimitKind; 8] = [
        LimitKind::Deadline,
        LimitKind::Memory,
        LimitKind::TableElements,
        LimitKind::TransferBytes,
        LimitKind::ResponseSize,
        LimitKind::Instances,
        LimitKind::StorageQuota,
        LimitKind::OutboundResponseSize,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

impl From<Limit> for LimitKind {
    fn from(limit: Limit) -> LimitKind {
        match limit {
            Limit::TableElements => LimitKind::TableElements,
            Limit::TransferBytes => LimitKind::TransferBytes,
        }
    }
}

/// Which `plugin-error` the plugin returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginErrorKind {
    BadRequest,
    NotFound,
    Unauthorized,
    RetryLater,
    Upstream,
    Internal,
}

impl From<&PluginError> for PluginErrorKind {
    fn from(e: &PluginError) -> PluginErrorKind {
        match e {
            PluginError::BadRequest(_) => PluginErrorKind::BadRequest,
            PluginError::NotFound(_) => PluginErrorKind::NotFound,
            PluginError::Unauthorized(_) => PluginErrorKind::Unauthorized,
            PluginError::RetryLater(_) => PluginErrorKind::RetryLater,
            PluginError::Upstream(_) => PluginErrorKind::Upstream,
            PluginError::Internal(_) => PluginErrorKind::Internal,
        }
    }
}

/// Why an outbound request got no answer (besides a refusal or a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboundFailure {
    /// The plugin's request was malformed (URL, method, header).
    InvalidRequest,
    /// No answer within the timeout.
    Timeout,
    /// DNS, TCP or TLS failed.
    Connection,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    Ok,
    /// The plugin returned this error.
    Plugin(PluginErrorKind),
    /// The plugin trapped (a panic, an invalid access).
    Trap,
    /// A capability the installation was not granted (`None`: one this
    /// host does not know by name).
    Denied(Option<Capability>),
    /// A limit of the host.
    Limit(LimitKind),
    /// An event of a kind the installation is not subscribed to.
    NotSubscribed,
    /// An outbound request that got no answer.
    Outbound(OutboundFailure),
    /// The host failed while serving the call.
    Host,
}

impl CallOutcome {
    /// The outcome of a failed call into the plugin.
    pub fn of_error(err: &CallError) -> CallOutcome {
        match err {
            CallError::Timeout(_) => CallOutcome::Limit(LimitKind::Deadline),
            CallError::MemoryExceeded { .. } => CallOutcome::Limit(LimitKind::Memory),
            CallError::Trap(_) => CallOutcome::Trap,
            CallError::ResponseTooLarge { .. } => CallOutcome::Limit(LimitKind::ResponseSize),
            CallError::Denied { capability } => {
                CallOutcome::Denied(Capability::ALL.into_iter().find(|c| c.name() == capability))
            }
            CallError::NotSubscribed(_) => CallOutcome::NotSubscribed,
            CallError::Plugin(p) => CallOutcome::Plugin(p.into()),
            CallError::Busy(_) => CallOutcome::Limit(LimitKind::Instances),
            CallError::LimitExceeded { what, .. } => CallOutcome::Limit((*what).into()),
            CallError::Host(_) => CallOutcome::Host,
        }
    }

    /// The outcome of an outbound request.
    pub fn of_outbound(result: &Result<IncomingResponse, HttpError>) -> CallOutcome {
        match result {
            Ok(_) => CallOutcome::Ok,
            Err(HttpError::Denied(_)) => CallOutcome::Denied(Some(Capability::Http)),
            Err(HttpError::InvalidRequest(_)) => CallOutcome::Outbound(OutboundFailure::InvalidRequest),
            Err(HttpError::Timeout) => CallOutcome::Outbound(OutboundFailure::Timeout),
            Err(HttpError::Connection(_)) => CallOutcome::Outbound(OutboundFailure::Connection),
            Err(HttpError::TooLarge(_)) => CallOutcome::Limit(LimitKind::OutboundResponseSize),
        }
    }

    /// Whether this ends a call of `kind` in failure. A request the plugin
    /// answers with not-found, bad-request or unauthorized was answered
    /// (the visitor gets a 4xx, as meant); an event it asks to have again
    /// later is not a failure by the contract. Everything else is.
    pub fn is_error(self, kind: CallKind) -> bool {
        match self {
            CallOutcome::Ok | CallOutcome::Plugin(PluginErrorKind::RetryLater) => false,
            CallOutcome::Plugin(
                PluginErrorKind::BadRequest | PluginErrorKind::NotFound | PluginErrorKind::Unauthorized,
            ) => !matches!(kind, CallKind::Request | CallKind::NextPage),
            _ => true,
        }
    }

    fn limit(self) -> Option<LimitKind> {
        match self {
            CallOutcome::Limit(kind) => Some(kind),
            _ => None,
        }
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEntry {
    /// When it began, milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub kind: CallKind,
    /// What was called, without secrets: `GET /products/…` (the path only),
    /// the event kind, `POST https://api.example/v5/items` (origin and
    /// path), the refused import or capability; empty for a next page.
    pub target: String,
    pub duration_ms: u64,
    pub outcome: CallOutcome,
    /// Whether the call failed (see [`CallOutcome::is_error`]).
    pub error: bool,
    /// The HTTP status the plugin answered a request with, a remote
    /// answered an outbound request with, or an upstream error carried.
    pub status: Option<u16>,
}

impl CallEntry {
    /// When it finished, milliseconds since the Unix epoch.
    pub fn ended_ms(&self) -> i64 {
        self.at_ms.saturating_add(i64::try_from(self.duration_ms).unwrap_or(i64::MAX))
    }
}

/// What an installation's calls did since the runtime started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounters {
    /// Calls into the plugin (requests, pages, events).
    pub calls: u64,
    /// Outbound requests the plugin sent, answered or not.
    pub outbound: u64,
    /// Entries of any kind that failed.
    pub errors: u64,
    limits: [u64; LimitKind::ALL.len()],
}

impl CallCounters {
    /// How often `kind` was hit.
    pub fn limit(&self, kind: LimitKind) -> u64 {
        self.limits[kind.index()]
    }

    /// Every limit hit at least once, with how often, in [`LimitKind::ALL`] order.
    pub fn limits_hit(&self) -> impl Iterator<Item = (LimitKind, u64)> + '_ {
        LimitKind::ALL.into_iter().map(|k| (k, self.limit(k))).filter(|(_, n)| *n > 0)
    }

    fn add(&mut self, other: &CallCounters) {
        self.calls = self.calls.saturating_add(other.calls);
        self.outbound = self.outbound.saturating_add(other.outbound);
        self.errors = self.errors.saturating_add(other.errors);
        for (n, m) in self.limits.iter_mut().zip(other.limits) {
            *n = n.saturating_add(m);
        }
    }

    fn count(&mut self, kind: CallKind, outcome: CallOutcome, error: bool) {
        match kind {
            CallKind::Request | CallKind::NextPage | CallKind::Event => self.calls = self.calls.saturating_add(1),
            CallKind::Outbound => self.outbound = self.outbound.saturating_add(1),
            // A refused import happens inside a call already counted; it
            // counts as an error and, over a quota, as a limit hit.
            CallKind::Import => {}
        }
        if error {
            self.errors = self.errors.saturating_add(1);
        }
        if let Some(limit) = outcome.limit() {
            let n = &mut self.limits[limit.index()];
            *n = n.saturating_add(1);
        }
    }
}

/// An installation's recent calls, newest first, and its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallReport {
    /// Since when the counters count: the runtime's start.
    pub since_ms: i64,
    pub recent: Vec<CallEntry>,
    pub counters: CallCounters,
}

/// One installation's ring of recent calls and its counters.
#[derive(Debug, Clone)]
pub struct CallRecord {
    entries: VecDeque<CallEntry>,
    capacity: usize,
    counters: CallCounters,
    /// When the installation was last called, to forget the idlest first.
    last_ms: i64,
}

impl CallRecord {
    /// A ring keeping the last `capacity` entries (at least one).
    pub fn new(capacity: usize) -> CallRecord {
        CallRecord {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            counters: CallCounters::default(),
            last_ms: 0,
        }
    }

    /// Keep `entry`, dropping the oldest when full, and count it.
    pub fn push(&mut self, entry: CallEntry) {
        self.count(entry.at_ms, entry.kind, entry.outcome, entry.error);
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        } else if self.entries.capacity() == 0 {
            // Once, to its full size: no growth steps while calls come in.
            self.entries.reserve_exact(self.capacity);
        }
        self.entries.push_back(entry);
    }

    /// Count a call without keeping it.
    pub fn count(&mut self, at_ms: i64, kind: CallKind, outcome: CallOutcome, error: bool) {
        self.counters.count(kind, outcome, error);
        self.last_ms = self.last_ms.max(at_ms);
    }

    pub fn counters(&self) -> CallCounters {
        self.counters
    }

    /// The entries, newest first, and the counters.
    pub fn report(&self, since_ms: i64) -> CallReport {
        CallReport { since_ms, recent: self.entries.iter().rev().cloned().collect(), counters: self.counters }
    }
}

/// One installation's record in one part per core: a call is recorded into
/// the part of the thread it began on, so cores serving one installation do
/// not pass its lock back and forth, and a report merges the parts.
#[derive(Debug)]
pub(crate) struct PartedRecord {
    parts: Box<[Record]>,
}

/// A call's handle on one part of its installation's record. Each part is
/// shared on its own, so that the handles a core takes and drops for every
/// call touch a count that stays in that core's cache.
pub(crate) type Record = Arc<Padded<Mutex<CallRecord>>>;

impl PartedRecord {
    pub fn new(capacity: usize) -> Arc<PartedRecord> {
        Self::with_parts(capacity, shards())
    }

    fn with_parts(capacity: usize, parts: usize) -> Arc<PartedRecord> {
        Arc::new(PartedRecord {
            parts: (0..parts.max(1)).map(|_| Arc::new(Padded(Mutex::new(CallRecord::new(capacity))))).collect(),
        })
    }

    /// The current thread's part.
    fn own(&self) -> Record {
        self.parts[shard_of_thread(self.parts.len())].clone()
    }

    fn last_ms(&self) -> i64 {
        self.parts.iter().map(|p| lock(p).last_ms).max().unwrap_or_default()
    }

    /// The newest entries of all parts, newest first, as many as one part
    /// keeps, and the parts' counters added up.
    pub fn report(&self, since_ms: i64) -> CallReport {
        let mut runs = Vec::with_capacity(self.parts.len());
        let mut counters = CallCounters::default();
        let mut capacity = 0;
        for part in &self.parts {
            let part = lock(part);
            runs.push(part.entries.iter().rev().cloned().collect::<Vec<_>>().into_iter().peekable());
            counters.add(&part.counters);
            capacity = part.capacity;
        }
        // A part is in the order its calls finished, which is not the order
        // they began: a call's imports finish before it. So the parts are
        // merged as runs, taking whichever head finished last.
        let mut recent = Vec::with_capacity(capacity);
        while recent.len() < capacity {
            let newest = runs
                .iter_mut()
                .enumerate()
                .filter_map(|(i, run)| run.peek().map(|e| (e.ended_ms(), std::cmp::Reverse(i))))
                .max();
            let Some((_, std::cmp::Reverse(i))) = newest else { break };
            recent.extend(runs[i].next());
        }
        CallReport { since_ms, recent, counters }
    }
}

fn lock(part: &Padded<Mutex<CallRecord>>) -> MutexGuard<'_, CallRecord> {
    // A panic elsewhere while holding it leaves a ring that is still whole.
    part.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When a call began.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Started {
    pub at_ms: i64,
    pub instant: Instant,
}

impl Started {
    pub fn now(at_ms: i64) -> Started {
        Started { at_ms, instant: Instant::now() }
    }
}

/// Record a finished call into `record`; with `keep` false it is only counted.
pub(crate) fn record(
    record: &Record,
    started: Started,
    kind: CallKind,
    target: impl FnOnce() -> String,
    outcome: CallOutcome,
    status: Option<u16>,
    keep: bool,
) {
    let error = outcome.is_error(kind);
    if !keep {
        lock(record).count(started.at_ms, kind, outcome, error);
        return;
    }
    let duration_ms = u64::try_from(started.instant.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Built before the lock is taken, so the lock is held for a push only.
    let entry = CallEntry { at_ms: started.at_ms, kind, target: target(), duration_ms, outcome, error, status };
    lock(record).push(entry);
}

/// Every installation's record, by tenant and installation id.
///
/// Each thread keeps a memo of the records it used, checked against `epoch`,
/// which moves whenever a record is dropped. A call that began just before
/// its installation was forgotten may still write to the dropped record.
#[derive(Debug)]
pub(crate) struct CallLog {
    started_ms: i64,
    max_installations: usize,
    id: u64,
    epoch: AtomicU64,
    tenants: RwLock<HashMap<TenantId, HashMap<String, Arc<PartedRecord>>>>,
}

thread_local! {
    static RECORDS: RefCell<Memo<Record>> = RefCell::new(Memo::new());
}

impl CallLog {
    pub fn new(started_ms: i64, max_installations: usize) -> CallLog {
        CallLog {
            started_ms,
            max_installations: max_installations.max(1),
            id: owner_id(),
            epoch: AtomicU64::new(0),
            tenants: RwLock::new(HashMap::new()),
        }
    }

    /// The current thread's part of an installation's record, made on its
    /// first call.
    pub fn record_of(&self, tenant: &TenantId, installation: &str) -> Record {
        let epoch = self.epoch.load(Ordering::Acquire);
        RECORDS.with(|memo| {
            memo.borrow_mut()
                .get_or_find(self.id, epoch, tenant, installation, || self.shared_record_of(tenant, installation).own())
        })
    }

    fn shared_record_of(&self, tenant: &TenantId, installation: &str) -> Arc<PartedRecord> {
        {
            let tenants = self.tenants.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(record) = tenants.get(tenant).and_then(|t| t.get(installation)) {
                return record.clone();
            }
        }
        let mut tenants = self.tenants.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(record) = tenants.get(tenant).and_then(|t| t.get(installation)) {
            return record.clone();
        }
        let tracked: usize = tenants.values().map(HashMap::len).sum();
        if tracked >= self.max_installations {
            forget_idlest(&mut tenants, tracked.div_ceil(8));
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
        let record = PartedRecord::new(RECENT_CALLS);
        tenants.entry(tenant.clone()).or_default().insert(installation.to_owned(), record.clone());
        record
    }

    /// The installation's report; empty (counting from the start) when it
    /// was never called.
    pub fn report(&self, tenant: &TenantId, installation: &str) -> CallReport {
        let record = {
            let tenants = self.tenants.read().unwrap_or_else(PoisonError::into_inner);
            tenants.get(tenant).and_then(|t| t.get(installation)).cloned()
        };
        match record {
            Some(record) => record.report(self.started_ms),
            None => CallReport { since_ms: self.started_ms, ..CallReport::default() },
        }
    }

    pub fn forget(&self, tenant: &TenantId, installation: &str) {
        let mut tenants = self.tenants.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = tenants.get_mut(tenant) {
            t.remove(installation);
            if t.is_empty() {
                tenants.remove(tenant);
            }
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub fn forget_tenant(&self, tenant: &TenantId) {
        self.tenants.write().unwrap_or_else(PoisonError::into_inner).remove(tenant);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.tenants.read().unwrap_or_else(PoisonError::into_inner).values().map(HashMap::len).sum()
    }
}

/// Drop the `n` records called least recently.
fn forget_idlest(tenants: &mut HashMap<TenantId, HashMap<String, Arc<PartedRecord>>>, n: usize) {
    let mut by_age: Vec<(i64, TenantId, String)> = tenants
        .iter()
        .flat_map(|(t, installations)| installations.iter().map(move |(i, r)| (r.last_ms(), t.clone(), i.clone())))
        .collect();
    let n = n.min(by_age.len());
    if n == 0 {
        return;
    }
    by_age.select_nth_unstable_by_key(n - 1, |(last, _, _)| *last);
    for (_, tenant, installation) in by_age.into_iter().take(n) {
        if let Some(t) = tenants.get_mut(&tenant) {
            t.remove(&installation);
            if t.is_empty() {
                tenants.remove(&tenant);
            }
        }
    }
}

/// The target of a request: the method and the path, never the query.
pub(crate) fn request_target(method: &str, path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    bounded(format!("{} {}", token(method), redacted_path(path)))
}

/// The target of an outbound request: the method, origin and path, never
/// the query, the fragment or credentials.
pub(crate) fn outbound_target(method: &str, url: &str) -> String {
    let Ok(url) = url::Url::parse(url) else {
        return bounded(format!("{} (not a URL)", token(method)));
    };
    let origin = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        (None, _) => format!("{}:", url.scheme()),
    };
    bounded(format!("{} {origin}{}", token(method), redacted_path(url.path())))
}

/// The target of an event: its kind.
pub(crate) fn event_target(kind: &str) -> String {
    bounded(kind.chars().filter(|c| !c.is_control()).collect())
}

/// A method as sent, or `?` when it is not an HTTP token.
fn token(method: &str) -> &str {
    let valid = !method.is_empty()
        && method.len() <= 16
        && method.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if valid { method } else { "?" }
}

/// The path with every segment that looks like an id or a token written as `…`.
fn redacted_path(path: &str) -> String {
    path.split('/')
        .map(|segment| if opaque(segment) { "…" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// Whether a path segment looks like an id or a secret rather than a word
/// or a handle: long, and mostly digits, or a long run of letters and
/// digits with no separator, or mixed case with digits.
fn opaque(segment: &str) -> bool {
    let len = segment.chars().count();
    if len < 16 {
        return false;
    }
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    let longest_run = segment.split(|c: char| !c.is_ascii_alphanumeric()).map(str::len).max().unwrap_or(0);
    let mixed = segment.chars().any(|c| c.is_ascii_uppercase())
        && segment.chars().any(|c| c.is_ascii_lowercase())
        && digits > 0;
    digits * 4 >= len || longest_run >= 20 || (mixed && len >= 20)
}

fn bounded(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_TARGET_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: i64, kind: CallKind, outcome: CallOutcome) -> CallEntry {
        CallEntry {
            at_ms,
            kind,
            target: format!("GET /{at_ms}"),
            duration_ms: 1,
            outcome,
            error: outcome.is_error(kind),
            status: None,
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_first_and_counts_everything() {
        let mut record = CallRecord::new(RECENT_CALLS);
        for i in 0..250 {
            let outcome = match i % 5 {
                0 => CallOutcome::Limit(LimitKind::Deadline),
                1 => CallOutcome::Trap,
                _ => CallOutcome::Ok,
            };
            record.push(entry(i, CallKind::Request, outcome));
        }
        let report = record.report(7);
        assert_eq!(report.since_ms, 7);
        assert_eq!(report.recent.len(), RECENT_CALLS, "bounded");
        let times: Vec<i64> = report.recent.iter().map(|e| e.at_ms).collect();
        assert_eq!(times, (150..250).rev().collect::<Vec<_>>(), "the newest, newest first");
        assert_eq!(report.counters.calls, 250, "counted since the start, not since the ring");
        assert_eq!(report.counters.errors, 100);
        assert_eq!(report.counters.limit(LimitKind::Deadline), 50);
        assert_eq!(report.counters.limits_hit().collect::<Vec<_>>(), vec![(LimitKind::Deadline, 50)]);
        assert!(record.entries.capacity() < 2 * RECENT_CALLS, "allocated once, to about its size");
    }

    #[test]
    fn outbound_requests_and_refused_imports_are_counted_apart_from_calls() {
        let mut record = CallRecord::new(3);
        record.push(entry(1, CallKind::Outbound, CallOutcome::Ok));
        record.push(entry(2, CallKind::Outbound, CallOutcome::Limit(LimitKind::OutboundResponseSize)));
        record.push(entry(3, CallKind::Import, CallOutcome::Denied(Some(Capability::Mail))));
        record.push(entry(4, CallKind::Import, CallOutcome::Limit(LimitKind::StorageQuota)));
        record.count(5, CallKind::Event, CallOutcome::Plugin(PluginErrorKind::RetryLater), false);
        let c = record.counters();
        assert_eq!((c.calls, c.outbound, c.errors), (1, 2, 3));
        assert_eq!(c.limit(LimitKind::StorageQuota), 1);
        assert_eq!(c.limit(LimitKind::OutboundResponseSize), 1);
        assert_eq!(record.report(0).recent.iter().map(|e| e.at_ms).collect::<Vec<_>>(), vec![4, 3, 2]);
    }

    #[test]
    fn a_plugins_answer_to_a_visitor_is_not_a_failure_but_the_same_to_an_event_is() {
        let not_found = CallOutcome::Plugin(PluginErrorKind::NotFound);
        assert!(!not_found.is_error(CallKind::Request));
        assert!(not_found.is_error(CallKind::Event));
        assert!(!CallOutcome::Plugin(PluginErrorKind::RetryLater).is_error(CallKind::Event));
        assert!(CallOutcome::Plugin(PluginErrorKind::Internal).is_error(CallKind::Request));
        assert!(CallOutcome::Limit(LimitKind::Deadline).is_error(CallKind::Request));
        assert!(!CallOutcome::Ok.is_error(CallKind::Outbound));
    }

    #[test]
    fn call_errors_map_onto_outcomes() {
        use std::time::Duration;
        let cases = [
            (CallError::Timeout(Duration::from_secs(1)), CallOutcome::Limit(LimitKind::Deadline)),
            (CallError::MemoryExceeded { limit_bytes: 1 }, CallOutcome::Limit(LimitKind::Memory)),
            (CallError::Trap("x".into()), CallOutcome::Trap),
            (CallError::ResponseTooLarge { size: 2, limit: 1 }, CallOutcome::Limit(LimitKind::ResponseSize)),
            (CallError::Denied { capability: "mail".into() }, CallOutcome::Denied(Some(Capability::Mail))),
            (CallError::Denied { capability: "teleport".into() }, CallOutcome::Denied(None)),
            (CallError::NotSubscribed("x".into()), CallOutcome::NotSubscribed),
            (CallError::Busy(4), CallOutcome::Limit(LimitKind::Instances)),
            (
                CallError::LimitExceeded { what: Limit::TransferBytes, limit: 1 },
                CallOutcome::Limit(LimitKind::TransferBytes),
            ),
            (CallError::Host("x".into()), CallOutcome::Host),
            (CallError::Plugin(PluginError::RetryLater(5)), CallOutcome::Plugin(PluginErrorKind::RetryLater)),
        ];
        for (err, outcome) in cases {
            assert_eq!(CallOutcome::of_error(&err), outcome, "{err:?}");
        }
    }

    #[test]
    fn targets_keep_no_query_credentials_or_tokens() {
        assert_eq!(
            request_target("GET", "/products/cannolo-siciliano-al-pistacchio"),
            "GET /products/cannolo-siciliano-al-pistacchio"
        );
        assert_eq!(request_target("GET", "/search?q=secret"), "GET /search");
        assert_eq!(
            request_target(
                "GET",
                "/orders/ord-1a2b-0000000042-0123456789abcdef0123456789abcdef/Xk3v9QpL2mZ8rT5wY7uB1nC4"
            ),
            "GET /orders/…/…"
        );
        assert_eq!(request_target("G\nET", "/"), "? /");
        assert_eq!(
            outbound_target("POST", "https://user:pw@api.example:8443/v5/catalogs/items?access_token=s3cret#x"),
            "POST https://api.example:8443/v5/catalogs/items"
        );
        assert_eq!(
            outbound_target(
                "POST",
                "https://api.telegram.org/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage"
            ),
            "POST https://api.telegram.org/…/sendMessage"
        );
        assert_eq!(
            outbound_target(
                "POST",
                "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
            ),
            "POST https://api.twilio.com/2010-04-01/Accounts/…/Messages.json"
        );
        assert_eq!(outbound_target("GET", "not a url"), "GET (not a URL)");
        let long = request_target("GET", &format!("/{}", "a-".repeat(500)));
        assert_eq!(long.chars().count(), MAX_TARGET_CHARS + 1);
        assert_eq!(event_target("order.placed"), "order.placed");
    }

    #[test]
    fn installations_are_bounded_and_forgotten() {
        let log = CallLog::new(0, 16);
        let t = TenantId::new("shop").unwrap();
        for i in 0..16 {
            let r = log.record_of(&t, &format!("c{i}"));
            record(&r, Started::now(i), CallKind::Request, || "GET /".into(), CallOutcome::Ok, Some(200), true);
        }
        assert_eq!(log.tracked(), 16);
        // A newcomer past the cap makes room by forgetting the idlest.
        log.record_of(&t, "newcomer");
        assert_eq!(log.tracked(), 15);
        assert!(log.report(&t, "c0").recent.is_empty(), "the idlest is forgotten");
        assert_eq!(log.report(&t, "c15").recent.len(), 1, "the latest is kept");
        log.forget(&t, "c15");
        assert!(log.report(&t, "c15").recent.is_empty());
        log.forget_tenant(&t);
        assert_eq!(log.tracked(), 0);
    }

    #[test]
    fn a_report_merges_the_parts_newest_first_and_adds_up_their_counters() {
        let r = PartedRecord::with_parts(3, 2);
        let part = |i: usize| lock(&r.parts[i]);
        for (i, at) in [(0, 1), (1, 2), (0, 3), (1, 4)] {
            part(i).push(entry(at, CallKind::Request, CallOutcome::Ok));
        }
        part(0).push(entry(5, CallKind::Import, CallOutcome::Denied(Some(Capability::Mail))));
        let report = r.report(0);
        assert_eq!(report.recent.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [5, 4, 3], "as many as one part keeps");
        assert_eq!((report.counters.calls, report.counters.errors), (4, 1));
        assert_eq!(r.last_ms(), 5);
    }

    #[test]
    fn a_call_that_began_before_its_imports_is_reported_before_them() {
        let r = PartedRecord::with_parts(4, 2);
        let part = |i: usize| lock(&r.parts[i]);
        // The call began at 10 and took 3 ms; its refused import began and
        // ended at 12, and was recorded first, in the same part.
        let import = CallEntry { duration_ms: 0, ..entry(12, CallKind::Import, CallOutcome::Ok) };
        part(0).push(import);
        part(0).push(CallEntry { duration_ms: 3, ..entry(10, CallKind::Request, CallOutcome::Ok) });
        // Another core's call that ended between the two.
        part(1).push(CallEntry { duration_ms: 0, ..entry(11, CallKind::Event, CallOutcome::Ok) });
        let kinds: Vec<CallKind> = r.report(0).recent.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [CallKind::Request, CallKind::Import, CallKind::Event]);
    }

    #[test]
    fn a_thread_finds_its_record_again_until_the_installation_is_forgotten() {
        let log = CallLog::new(0, 16);
        let t = TenantId::new("shop").unwrap();
        let first = log.record_of(&t, "web");
        assert!(Arc::ptr_eq(&first, &log.record_of(&t, "web")));
        // Another log's record of the same installation is its own.
        assert!(!Arc::ptr_eq(&first, &CallLog::new(0, 16).record_of(&t, "web")));
        assert!(Arc::ptr_eq(&first, &log.record_of(&t, "web")));

        log.forget(&t, "web");
        let after = log.record_of(&t, "web");
        assert!(!Arc::ptr_eq(&first, &after), "a forgotten record is not found again");
        record(&after, Started::now(5), CallKind::Request, || "GET /".into(), CallOutcome::Ok, Some(200), true);
        assert_eq!(log.report(&t, "web").recent.len(), 1, "calls after an uninstall are reported");
        log.forget_tenant(&t);
        assert!(!Arc::ptr_eq(&after, &log.record_of(&t, "web")));
    }

    #[test]
    fn a_call_past_its_share_of_entries_is_still_counted() {
        let r = PartedRecord::new(RECENT_CALLS);
        let outcome = CallOutcome::Denied(Some(Capability::Mail));
        record(&r.own(), Started::now(1), CallKind::Import, || unreachable!("not built"), outcome, None, false);
        let report = r.report(0);
        assert!(report.recent.is_empty());
        assert_eq!(report.counters.errors, 1);
    }
}
