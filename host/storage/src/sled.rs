//! An optional backend on [sled](https://docs.rs/sled) 0.34, behind the cargo
//! feature `sled`, for users who ask for it. Prefer [`crate::RedbStore`].
//!
//! How it keeps the [`KvStore`] contract: one process-wide lock serializes
//! every sled transaction from `begin` to commit or drop, so transactions are
//! serializable; writes are buffered in memory and applied on commit as one
//! `sled::Batch` (atomic in sled), then `flush` is called before `commit`
//! returns.
//!
//! Read transactions take no lock held across calls: sled has no snapshots,
//! so while readers are open each commit keeps the values its keys had
//! before it (an undo overlay, in memory), and a reader reads the current
//! data through the overlays of the commits made after it began. A brief
//! per-store mutex makes each read see a commit entirely or not at all. The
//! overlays are dropped when the oldest reader that needs them ends.
//!
//! What it does **not** promise, unlike redb and PostgreSQL:
//!
//! - **Durability against power loss.** sled's `flush` uses
//!   `sync_file_range`, which does not flush the disk's volatile write cache
//!   (sled issues #1351, #1452, still open). A commit that returned can be
//!   lost when the machine loses power.
//! - **Integrity after a crash.** There are open reports of databases
//!   corrupted after a crash (#1509, #1527, #1533) and of disk use growing
//!   without bound (#1124, #1484).
//! - **Maintenance.** 0.34.7 (September 2021) is the last stable release;
//!   sled's main branch is an unfinished rewrite whose own README points
//!   users who need reliability elsewhere. Bugs found here will not be fixed
//!   upstream.
//! - **Concurrency between processes.** The lock is per process; only one
//!   process may open a sled directory, and the lock also serializes
//!   transactions of different `SledStore`s in the same process.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::{Entry, KeyRange, KvStore, ReadTxn, StorageError, Txn, check_key};

const BACKEND: &str = "sled";

/// Held by every open sled transaction. Process-wide rather than per store so
/// that two stores opened on the same directory still cannot interleave.
static TRANSACTION_LOCK: Mutex<()> = Mutex::new(());

fn backend_error(cause: impl std::fmt::Display) -> StorageError {
    StorageError::backend(BACKEND, cause)
}

/// A store in one sled directory. See the module docs for its limits.
pub struct SledStore {
    db: ::sled::Db,
    path: PathBuf,
    versions: Mutex<Versions>,
}

/// What read transactions need to see the data as it was when they began.
#[derive(Default)]
struct Versions {
    /// Commits so far; a reader's snapshot is the generation it began at.
    generation: u64,
    /// Open readers per snapshot generation.
    readers: BTreeMap<u64, usize>,
    /// Per generation made by a commit while readers were open: the values
    /// its keys had before it (`None`: absent).
    undo: BTreeMap<u64, BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl Versions {
    /// The keys changed since `snapshot` with their values as of `snapshot`,
    /// restricted to `range`: the oldest later commit's undo record wins.
    fn overlay(&self, snapshot: u64, range: &KeyRange) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        let mut overlay = BTreeMap::new();
        for undo in self.undo.range(snapshot + 1..).map(|(_, undo)| undo) {
            for (key, old) in undo.range::<Vec<u8>, _>((range.start.clone(), range.end.clone())) {
                overlay.entry(key.clone()).or_insert_with(|| old.clone());
            }
        }
        overlay
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SledStore {
    /// Open the sled database directory at `path`, creating it if missing.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let db =
            ::sled::open(path).map_err(|err| backend_error(format_args!("cannot open {}: {err}", path.display())))?;
        Ok(SledStore { db, path: path.to_path_buf(), versions: Mutex::default() })
    }

    /// The directory this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KvStore for SledStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        // A panic while the lock was held poisons it; writes reach sled only
        // in `commit`, so the data is untouched and the lock can be reused.
        let lock = TRANSACTION_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(Box::new(SledTxn { store: self, db: &self.db, _lock: lock, writes: BTreeMap::new() }))
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        let mut versions = self.versions();
        let snapshot = versions.generation;
        *versions.readers.entry(snapshot).or_default() += 1;
        Ok(Box::new(SledReadTxn { store: self, snapshot }))
    }
}

impl SledStore {
    fn versions(&self) -> MutexGuard<'_, Versions> {
        // Every change under this lock is completed before it is released,
        // so a poisoned one still holds consistent data.
        self.versions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct SledReadTxn<'a> {
    store: &'a SledStore,
    snapshot: u64,
}

impl ReadTxn for SledReadTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        let versions = self.store.versions();
        for undo in versions.undo.range(self.snapshot + 1..).map(|(_, undo)| undo) {
            if let Some(old) = undo.get(key) {
                return Ok(old.clone());
            }
        }
        let value = self.store.db.get(key).map_err(backend_error)?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let versions = self.store.versions();
        let overlay = versions.overlay(self.snapshot, range);
        merged_scan(&self.store.db, range, limit, &overlay)
    }
}

impl Drop for SledReadTxn<'_> {
    fn drop(&mut self) {
        let mut versions = self.store.versions();
        if let Some(count) = versions.readers.get_mut(&self.snapshot) {
            *count -= 1;
            if *count == 0 {
                versions.readers.remove(&self.snapshot);
            }
        }
        // Undo records at or below the oldest open snapshot are needed by nobody.
        let keep_after = versions.readers.keys().next().copied().unwrap_or(u64::MAX);
        versions.undo.retain(|generation, _| *generation > keep_after);
    }
}

/// Committed entries in `range` with `overlay` applied (`None`: absent), at
/// most `limit`.
fn merged_scan(
    db: &::sled::Db,
    range: &KeyRange,
    limit: usize,
    overlay: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<Vec<Entry>, StorageError> {
    let bounds: (Bound<Vec<u8>>, Bound<Vec<u8>>) = (range.start.clone(), range.end.clone());
    let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    // Enough committed entries that the overlay's deletes cannot bring the
    // result below `limit`; the overlay then overrides them.
    let wanted = limit.saturating_add(overlay.len());
    for item in db.range::<Vec<u8>, _>(bounds.clone()) {
        if merged.len() >= wanted {
            break;
        }
        let (key, value) = item.map_err(backend_error)?;
        merged.insert(key.to_vec(), value.to_vec());
    }
    for (key, value) in overlay.range::<Vec<u8>, _>(bounds) {
        match value {
            Some(value) => merged.insert(key.clone(), value.clone()),
            None => merged.remove(key),
        };
    }
    Ok(merged.into_iter().take(limit).collect())
}

struct SledTxn<'a> {
    store: &'a SledStore,
    db: &'a ::sled::Db,
    _lock: MutexGuard<'static, ()>,
    /// Pending writes; `None` is a delete.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Txn for SledTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        if let Some(pending) = self.writes.get(key) {
            return Ok(pending.clone());
        }
        let value = self.db.get(key).map_err(backend_error)?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.writes.insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.writes.insert(key.to_vec(), None);
        Ok(())
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        merged_scan(self.db, range, limit, &self.writes)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        if self.writes.is_empty() {
            return Ok(());
        }
        let writes = std::mem::take(&mut self.writes);
        let mut versions = self.store.versions();
        let generation = versions.generation + 1;
        if !versions.readers.is_empty() {
            let mut undo = BTreeMap::new();
            for key in writes.keys() {
                let old = self.db.get(key).map_err(backend_error)?;
                undo.insert(key.clone(), old.map(|v| v.to_vec()));
            }
            versions.undo.insert(generation, undo);
        }
        let mut batch = ::sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        if let Err(err) = self.db.apply_batch(batch) {
            versions.undo.remove(&generation);
            return Err(backend_error(err));
        }
        versions.generation = generation;
        drop(versions);
        // Reaches the OS, not necessarily the platter: see the module docs.
        self.db.flush().map_err(backend_error)?;
        Ok(())
    }
}
