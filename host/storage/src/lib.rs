//! Ordered key-value storage with serializable transactions.
//!
//! Every piece of durable state of omnistore — the commerce core's records and
//! the plugins' private key-value data — lives in one [`KvStore`]. The trait is
//! deliberately small (get, put, delete, range scan, commit) so that the same
//! domain code runs on every backend:
//!
//! - [`MemoryStore`]: in-process, for tests and the SDK harness;
//! - [`RedbStore`]: the embedded default, durable on commit;
//! - [`PostgresStore`]: several hosts sharing one database;
//! - `SledStore` (feature `sled`): for users who ask for it, with weaker promises.
//!
//! [`open`] picks a backend from a configuration string such as
//! `redb:/var/lib/omnistore/data.redb` or `postgres://user@host/db`.
//!
//! The API is synchronous. Async callers run it on a blocking thread
//! (`tokio::task::spawn_blocking`) so a slow disk never stalls an executor.
//! For [`PostgresStore`] this is a hard rule, not a preference: the sync
//! `postgres` client drives its own runtime and panics inside a tokio one.
//! The one exception is a read of a store whose [`KvStore::read_path`] is
//! [`ReadPath::Local`]: it costs less than the hand-off to another thread.
//!
//! Architecture invariant: a transaction either commits all its writes or none,
//! and transactions are serializable. A backend that detects a conflict returns
//! [`StorageError::Conflict`]; [`transact`] retries the closure.
//!
//! The embedded backends (memory, redb, sled) serialize read-write
//! transactions with a lock held from [`KvStore::begin`] until commit or drop,
//! so one thread must not hold two read-write transactions of the same store
//! at once: the second `begin` would wait for the first forever.
//!
//! Reads that change nothing use [`KvStore::begin_read`]: a [`ReadTxn`] sees
//! one consistent snapshot of committed data, takes no write lock, and
//! neither waits for writers nor makes them wait (redb's MVCC readers,
//! PostgreSQL's read-only repeatable-read transactions, a shared snapshot in
//! memory, an undo overlay on sled). A thread may hold read transactions
//! beside its read-write one.

pub mod keyspace;
mod memory;
pub mod postgres;
mod postgres_tls;
pub mod redb;
#[cfg(feature = "sled")]
pub mod sled;
pub mod testing;

pub use self::postgres::PostgresStore;
pub use self::redb::RedbStore;
#[cfg(feature = "sled")]
pub use self::sled::SledStore;
pub use memory::MemoryStore;

use std::ops::Bound;
use std::sync::Arc;

/// Why a storage operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// The transaction conflicted with a concurrent one; retrying may succeed.
    #[error("transaction conflict, retry")]
    Conflict,
    /// The backend failed (I/O, connection, corruption).
    #[error("storage backend {backend} failed: {message}")]
    Backend { backend: &'static str, message: String },
    /// The caller broke a rule of the API (such as a key that is too long).
    #[error("invalid storage request: {0}")]
    Invalid(String),
}

impl StorageError {
    /// A backend failure with the backend's name and the cause's message.
    pub fn backend(backend: &'static str, cause: impl std::fmt::Display) -> Self {
        StorageError::Backend { backend, message: cause.to_string() }
    }
}

/// A key range for scans: `[start, end)` style bounds over byte keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub start: Bound<Vec<u8>>,
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        KeyRange {
            start: Bound::Included(prefix.to_vec()),
            end: match prefix_successor(prefix) {
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            },
        }
    }

    /// Every key.
    pub fn all() -> Self {
        KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }
    }

    /// Whether no key at all can lie inside the range (start after end, or
    /// equal bounds that are not both inclusive). Backends check this first
    /// because ordered maps panic on such ranges.
    pub fn is_empty(&self) -> bool {
        let (start, start_inclusive) = match &self.start {
            Bound::Included(s) => (s, true),
            Bound::Excluded(s) => (s, false),
            Bound::Unbounded => return false,
        };
        let (end, end_inclusive) = match &self.end {
            Bound::Included(e) => (e, true),
            Bound::Excluded(e) => (e, false),
            Bound::Unbounded => return false,
        };
        match start.cmp(end) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => !(start_inclusive && end_inclusive),
            std::cmp::Ordering::Less => false,
        }
    }

    /// Whether `key` lies inside the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let after_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let before_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        after_start && before_end
    }
}

/// The smallest key greater than every key with this prefix, if any.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The longest key every backend accepts. PostgreSQL cannot index much longer
/// keys, and a limit that differs between backends would let data written to
/// one fail to move to another, so all of them enforce this one.
pub const MAX_KEY_LEN: usize = 1024;

/// Reject keys longer than [`MAX_KEY_LEN`].
pub(crate) fn check_key(key: &[u8]) -> Result<(), StorageError> {
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::Invalid(format!(
            "key of {} bytes is longer than the {MAX_KEY_LEN}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

/// A key-value pair returned by a scan.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An open transaction. Dropping it without [`Txn::commit`] discards its writes.
pub trait Txn {
    /// The value under `key`, seeing this transaction's own writes.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Write `value` under `key`.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError>;
    /// Remove `key`; removing a missing key is not an error.
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError>;
    /// Entries in `range` in ascending key order, at most `limit`, seeing
    /// this transaction's own writes.
    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError>;
    /// Make every write of the transaction durable and visible, atomically.
    /// Returns [`StorageError::Conflict`] when a concurrent transaction won.
    /// A transaction asked to [`Txn::set_durability`] `Deferred` is visible
    /// at once and durable a little later.
    fn commit(self: Box<Self>) -> Result<(), StorageError>;
    /// How durable this transaction's commit must be when it returns. A
    /// backend that cannot defer the flush commits durably, which keeps
    /// every promise of [`Durability::Deferred`].
    fn set_durability(&mut self, durability: Durability) {
        let _ = durability;
    }
    /// Whether the backend already knows this transaction lost a conflict, so
    /// that its commit can only fail with [`StorageError::Conflict`].
    ///
    /// Backends with optimistic concurrency (PostgreSQL) can report a
    /// conflict on any statement, not only on commit; [`transact`] asks this
    /// when the closure fails, so that such a conflict is retried even after
    /// the closure has turned it into its own error type.
    fn is_conflicted(&self) -> bool {
        false
    }
}

/// A read-only transaction: one consistent snapshot of committed data, as of
/// [`KvStore::begin_read`]. Writers committing meanwhile are not seen, and
/// are not delayed by it. Dropping it ends it.
pub trait ReadTxn {
    /// The value under `key` in the snapshot.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Entries of the snapshot in `range` in ascending key order, at most `limit`.
    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError>;
}

/// When a commit reaches the disk.
///
/// Every write a shopper or merchant made is `Immediate`. A record that is
/// one of many of its kind and costs nobody anything if the last moments of
/// it go missing in a crash (an anonymous visitor's page views) may be
/// `Deferred`: the fsync of each commit would otherwise cost a busy shop more
/// than serving the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Durable when `commit` returns.
    #[default]
    Immediate,
    /// Visible to every transaction when `commit` returns, durable shortly
    /// after: on redb within [`DEFERRED_DURABILITY`] or with the next
    /// immediate commit; on PostgreSQL by its WAL writer (asynchronous commit,
    /// within three `wal_writer_delay`s). A crash meanwhile loses the whole
    /// transaction, never part of it, and never a transaction committed
    /// durably before it.
    Deferred,
}

/// The longest a [`Durability::Deferred`] commit to redb stays only in memory.
pub const DEFERRED_DURABILITY: std::time::Duration = std::time::Duration::from_millis(200);

/// An ordered key-value store with serializable transactions.
pub trait KvStore: Send + Sync + 'static {
    /// Short name of the backend, for logs and errors ("redb", "postgres").
    fn backend(&self) -> &'static str;
    /// Where reads are served from; decides whether async callers may run
    /// a read where they are. Unless a backend knows better, reads block.
    fn read_path(&self) -> ReadPath {
        ReadPath::Blocking
    }
    /// Open a read-write transaction.
    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError>;
    /// Open a read-only transaction on a snapshot of committed data. It takes
    /// no write lock: use it for every read that changes nothing.
    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError>;
}

/// Where a backend's reads are served from.
///
/// A page view makes a handful of reads of a few microseconds each; handing
/// each to the blocking pool and back (two thread wake-ups) cost more CPU
/// than the reads themselves on the embedded store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPath {
    /// In this process, from memory or the operating system's page cache: a
    /// read never waits for the network, another process, a writer's lock or
    /// a conflict retry. Async callers may run such a read in place.
    Local,
    /// A read may wait (the network, conflict retries) or must not run on an
    /// executor thread at all: async callers run it on the blocking pool.
    Blocking,
}

/// How many times [`transact`] retries a conflicting transaction.
pub const MAX_CONFLICT_RETRIES: usize = 64;

/// Run `body` in a transaction and commit it, retrying the whole closure when
/// the backend reports a conflict — on commit, or on a statement inside `body`
/// (see [`Txn::is_conflicted`]) whatever error `body` made of it. `body` must
/// be free of side effects outside the transaction, since it may run more than
/// once. After [`MAX_CONFLICT_RETRIES`] retries the conflict is returned.
pub fn transact<T, E>(store: &dyn KvStore, mut body: impl FnMut(&mut dyn Txn) -> Result<T, E>) -> Result<T, E>
where
    E: From<StorageError>,
{
    let mut attempt = 0;
    loop {
        let mut txn = store.begin()?;
        let outcome = body(&mut *txn);
        let value = match outcome {
            Ok(value) => value,
            Err(_) if txn.is_conflicted() && attempt < MAX_CONFLICT_RETRIES => {
                drop(txn);
                attempt += 1;
                conflict_backoff(attempt);
                continue;
            }
            Err(err) => return Err(err),
        };
        match txn.commit() {
            Ok(()) => return Ok(value),
            Err(StorageError::Conflict) if attempt < MAX_CONFLICT_RETRIES => {
                attempt += 1;
                conflict_backoff(attempt);
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Sleep a little so the winner of a conflict can finish. The delay grows with
/// the attempt and is randomized: writers that collided once and back off for
/// the same time would collide again.
fn conflict_backoff(attempt: usize) {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_micros: u64 = 50 << attempt.min(8);
    // RandomState is seeded randomly per thread and per call; that is all the
    // randomness jitter needs, without a dependency.
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let micros = ceiling_micros / 2 + random % (ceiling_micros / 2 + 1);
    std::thread::sleep(std::time::Duration::from_micros(micros));
}

/// Open a store from a configuration string:
///
/// - `memory:` (or `memory`) — a fresh, empty [`MemoryStore`];
/// - `redb:<path>` — a [`RedbStore`] file, created with its directory if missing;
/// - `postgres://…` or `postgresql://…` — a [`PostgresStore`] (libpq-style URL);
/// - `sled:<path>` — a `SledStore`, only when built with the `sled` feature.
///
/// Anything else is [`StorageError::Invalid`] naming the accepted forms.
pub fn open(spec: &str) -> Result<Arc<dyn KvStore>, StorageError> {
    if spec == "memory:" || spec == "memory" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresStore::connect(spec)?));
    }
    if let Some(path) = spec.strip_prefix("redb:") {
        return Ok(Arc::new(RedbStore::open(non_empty_path("redb", path)?)?));
    }
    if let Some(path) = spec.strip_prefix("sled:") {
        let path = non_empty_path("sled", path)?;
        #[cfg(feature = "sled")]
        return Ok(Arc::new(SledStore::open(path)?));
        #[cfg(not(feature = "sled"))]
        return Err(StorageError::Invalid(format!(
            "cannot open sled store {}: omnistore-storage was built without its `sled` feature",
            path.display()
        )));
    }
    // Only the scheme is echoed: the rest may be a URL with a password.
    let scheme = spec.split_once(':').map_or("(none)", |(scheme, _)| scheme);
    Err(StorageError::Invalid(format!(
        "unknown storage spec with scheme {scheme:?}: expected `memory:`, `redb:<path>`, \
         `postgres://…`/`postgresql://…` or `sled:<path>`"
    )))
}

fn non_empty_path<'a>(scheme: &str, path: &'a str) -> Result<&'a std::path::Path, StorageError> {
    if path.is_empty() {
        return Err(StorageError::Invalid(format!("`{scheme}:` needs a file path after the colon")));
    }
    Ok(std::path::Path::new(path))
}
