//! The embedded default backend: one [redb](https://docs.rs/redb) file.
//!
//! redb is a copy-on-write B-tree with MVCC whose commits are durable when
//! `commit` returns (`Durability::Immediate`, its default, which this module
//! lowers only for a transaction that asked for [`Durability::Deferred`]).
//! Its write transactions are exclusive within the process, so
//! [`KvStore::begin`] opening a write transaction — even for a transaction
//! that only reads — makes every omnistore transaction serializable without
//! any conflict detection: a second `begin` waits until the first transaction
//! commits or is dropped. Reads inside a transaction see its own writes
//! because they go through the same redb write transaction.
//!
//! [`KvStore::begin_read`] opens a redb read transaction instead: an MVCC
//! snapshot that takes no write lock, so readers and the one writer never
//! wait for each other.
//!
//! Dropping a [`Txn`] without committing it aborts it, and so does a panic:
//! nothing written by an uncommitted transaction is ever visible.
//!
//! A transaction asked for [`Durability::Deferred`] commits with redb's
//! `Durability::None`: visible at once, on disk with the next durable
//! commit. A thread of the store makes one (an empty durable commit) at most
//! [`DEFERRED_DURABILITY`] after a deferred commit, and dropping the store
//! makes one before it closes the file.
//!
//! The file is locked by the process that opened it; a second process (or a
//! second `RedbStore` on the same path) gets an error instead of a corrupted
//! file. After a crash redb repairs the file when it is next opened.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use ::redb::{Database, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use crate::{
    DEFERRED_DURABILITY, Durability, Entry, KeyRange, KvStore, ReadPath, ReadTxn, StorageError, Txn, check_key,
};

/// The one table holding every key.
const KV: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("kv");

const BACKEND: &str = "redb";

fn backend_error(cause: impl std::fmt::Display) -> StorageError {
    StorageError::backend(BACKEND, cause)
}

/// A store in one redb file.
pub struct RedbStore {
    db: Arc<Database>,
    path: PathBuf,
    deferred: Arc<DeferredCommits>,
    /// The thread that makes deferred commits durable; joined on drop.
    flusher: Option<JoinHandle<()>>,
}

/// Whether a deferred commit waits to be made durable, shared with the
/// thread that does it.
#[derive(Default)]
struct DeferredCommits {
    state: Mutex<FlushState>,
    wake: Condvar,
}

#[derive(Default)]
struct FlushState {
    /// A deferred commit returned since the flusher last began a flush.
    pending: bool,
    /// The store is being dropped: the flusher ends.
    closing: bool,
}

impl DeferredCommits {
    fn lock(&self) -> MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn committed(&self) {
        let mut state = self.lock();
        if !state.pending {
            state.pending = true;
            self.wake.notify_one();
        }
    }

    /// The flusher: after a deferred commit, let more join for up to
    /// [`DEFERRED_DURABILITY`], then make them all durable at once.
    fn run(&self, db: &Database) {
        let mut state = self.lock();
        loop {
            state = self.wake.wait_while(state, |s| !s.pending && !s.closing).unwrap_or_else(PoisonError::into_inner);
            if state.closing {
                return;
            }
            state = self
                .wake
                .wait_timeout_while(state, DEFERRED_DURABILITY, |s| !s.closing)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if state.closing {
                // Drop makes the last flush, after this thread ended.
                return;
            }
            state.pending = false;
            drop(state);
            if let Err(err) = make_durable(db) {
                tracing::error!(error = %err, "making deferred redb commits durable failed; retrying");
                self.lock().pending = true;
            }
            state = self.lock();
        }
    }
}

/// An empty durable commit: redb writes every commit before it to disk.
fn make_durable(db: &Database) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(backend_error)?;
    txn.commit().map_err(backend_error)
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Open the store at `path`, creating the file and its parent directory
    /// when they do not exist yet.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|err| backend_error(format_args!("cannot create directory {}: {err}", parent.display())))?;
        }
        let db = Database::create(path)
            .map_err(|err| backend_error(format_args!("cannot open {}: {err}", path.display())))?;
        // Create the table once here, so that the file on disk always has it
        // and a transaction's first read never has to special-case its absence.
        let txn = db.begin_write().map_err(backend_error)?;
        txn.open_table(KV).map_err(backend_error)?;
        txn.commit().map_err(backend_error)?;
        let db = Arc::new(db);
        let deferred = Arc::new(DeferredCommits::default());
        let flusher = std::thread::Builder::new()
            .name("omnistore-redb-flush".into())
            .spawn({
                let (db, deferred) = (db.clone(), deferred.clone());
                move || deferred.run(&db)
            })
            .map_err(|err| {
                backend_error(format_args!("cannot start the thread that flushes deferred commits: {err}"))
            })?;
        Ok(RedbStore { db, path: path.to_path_buf(), deferred, flusher: Some(flusher) })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KvStore for RedbStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    /// redb's readers take a snapshot without waiting for the writer, and
    /// its pages come from its own cache or the page cache.
    fn read_path(&self) -> ReadPath {
        ReadPath::Local
    }

    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        let txn = self.db.begin_write().map_err(backend_error)?;
        Ok(Box::new(RedbTxn {
            txn: Some(txn),
            wrote: false,
            durability: Durability::Immediate,
            deferred: &self.deferred,
        }))
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        let txn = self.db.begin_read().map_err(backend_error)?;
        // The table keeps the transaction (and with it the snapshot) alive.
        let table = txn.open_table(KV).map_err(backend_error)?;
        Ok(Box::new(RedbReadTxn { table }))
    }
}

struct RedbReadTxn {
    table: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl ReadTxn for RedbReadTxn {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        let value = self.table.get(key).map_err(backend_error)?;
        Ok(value.map(|guard| guard.value().to_vec()))
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        scan_table(&self.table, range, limit)
    }
}

fn scan_table(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    range: &KeyRange,
    limit: usize,
) -> Result<Vec<Entry>, StorageError> {
    if range.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let bounds = (as_slice_bound(&range.start), as_slice_bound(&range.end));
    let mut entries = Vec::new();
    for item in table.range::<&[u8]>(bounds).map_err(backend_error)? {
        let (key, value) = item.map_err(backend_error)?;
        entries.push((key.value().to_vec(), value.value().to_vec()));
        if entries.len() == limit {
            break;
        }
    }
    Ok(entries)
}

struct RedbTxn<'s> {
    /// `None` only after commit; `Drop` aborts whatever is still here.
    txn: Option<WriteTransaction>,
    /// Whether put or delete ran; a transaction that only read has nothing
    /// to make durable, and aborting it spares an fsync.
    wrote: bool,
    durability: Durability,
    deferred: &'s DeferredCommits,
}

impl RedbTxn<'_> {
    fn txn(&self) -> &WriteTransaction {
        // commit consumes the box, so no method can run after it took the
        // transaction out.
        self.txn.as_ref().expect("redb transaction used after commit")
    }
}

fn as_slice_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_slice()),
        Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Txn for RedbTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        // A table borrows the transaction, so it is opened per call rather
        // than kept beside the transaction in this struct.
        let table = self.txn().open_table(KV).map_err(backend_error)?;
        let value = table.get(key).map_err(backend_error)?;
        Ok(value.map(|guard| guard.value().to_vec()))
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.wrote = true;
        let mut table = self.txn().open_table(KV).map_err(backend_error)?;
        table.insert(key, value).map_err(backend_error)?;
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.wrote = true;
        let mut table = self.txn().open_table(KV).map_err(backend_error)?;
        table.remove(key).map_err(backend_error)?;
        Ok(())
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let table = self.txn().open_table(KV).map_err(backend_error)?;
        scan_table(&table, range, limit)
    }

    fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        let mut txn = self.txn.take().expect("redb transaction committed twice");
        if !self.wrote {
            return txn.abort().map_err(backend_error);
        }
        // redb refuses a non-durable commit only where one cannot be made
        // (persistent savepoints, several processes): that commit is durable.
        let deferred = self.durability == Durability::Deferred && txn.set_durability(::redb::Durability::None).is_ok();
        txn.commit().map_err(backend_error)?;
        if deferred {
            self.deferred.committed();
        }
        Ok(())
    }
}

impl Drop for RedbStore {
    /// Deferred commits reach the disk before the file is closed.
    fn drop(&mut self) {
        self.deferred.lock().closing = true;
        self.deferred.wake.notify_all();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        if self.deferred.lock().pending
            && let Err(err) = make_durable(&self.db)
        {
            tracing::error!(error = %err, "making deferred redb commits durable on close failed");
        }
    }
}

impl Drop for RedbTxn<'_> {
    fn drop(&mut self) {
        let Some(txn) = self.txn.take() else { return };
        if std::thread::panicking() {
            // redb's own drop handles an unwinding transaction: it discards
            // the writes and leaves the database usable. Aborting explicitly
            // here could hit a transaction a panic inside redb left
            // half-modified.
            drop(txn);
        } else if let Err(err) = txn.abort() {
            tracing::warn!(error = %err, "aborting a redb transaction failed");
        }
    }
}
