use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::{Entry, KeyRange, KvStore, ReadPath, ReadTxn, StorageError, Txn, check_key};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// An in-memory store: one lock serializes read-write transactions, so it is
/// trivially serializable. Nothing survives the process; for tests and the
/// SDK harness.
///
/// The committed map is shared copy-on-write: a read transaction keeps the
/// `Arc` it started with as its snapshot, and a commit while readers hold the
/// old map clones it before applying its writes. Readers therefore never
/// wait, at the price of a copy per commit while they run, which is fine at
/// the sizes this store is meant for.
///
/// A transaction holds the writer lock until it commits or is dropped; a
/// panic while it is held poisons the mutex, which is harmless here because
/// writes reach the map only inside `commit`, so `begin` takes the poisoned
/// lock over.
#[derive(Debug, Default)]
pub struct MemoryStore {
    writer: Mutex<()>,
    current: RwLock<Arc<Map>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn snapshot(&self) -> Arc<Map> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

struct MemoryTxn<'a> {
    store: &'a MemoryStore,
    _writer: MutexGuard<'a, ()>,
    /// The committed map as of `begin`; no other writer can change it before
    /// this transaction ends. `None` only while committing.
    base: Option<Arc<Map>>,
    /// Pending writes; `None` is a delete.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl MemoryTxn<'_> {
    fn base(&self) -> &Map {
        self.base.as_ref().expect("memory transaction used after commit")
    }
}

impl KvStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn read_path(&self) -> ReadPath {
        ReadPath::Local
    }

    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        let writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let base = Some(self.snapshot());
        Ok(Box::new(MemoryTxn { store: self, _writer: writer, base, writes: BTreeMap::new() }))
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        Ok(Box::new(MemoryReadTxn { snapshot: self.snapshot() }))
    }
}

struct MemoryReadTxn {
    snapshot: Arc<Map>,
}

impl ReadTxn for MemoryReadTxn {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        Ok(self.snapshot.get(key).cloned())
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let bounds = (range.start.clone(), range.end.clone());
        Ok(self.snapshot.range::<Vec<u8>, _>(bounds).take(limit).map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

impl Txn for MemoryTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        if let Some(pending) = self.writes.get(key) {
            return Ok(pending.clone());
        }
        Ok(self.base().get(key).cloned())
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
        // BTreeMap::range panics on an inverted or empty-exclusive range.
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let bounds = (range.start.clone(), range.end.clone());
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        // Committed entries first; pending writes override them. Stop early
        // once enough committed keys are gathered that the pending deletes
        // cannot bring the result below `limit`.
        let wanted = limit.saturating_add(self.writes.len());
        for (k, v) in self.base().range::<Vec<u8>, _>(bounds.clone()) {
            if merged.len() >= wanted {
                break;
            }
            merged.insert(k.clone(), v.clone());
        }
        for (k, v) in self.writes.range::<Vec<u8>, _>(bounds) {
            match v {
                Some(v) => {
                    merged.insert(k.clone(), v.clone());
                }
                None => {
                    merged.remove(k);
                }
            }
        }
        Ok(merged.into_iter().take(limit).collect())
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        let writes = std::mem::take(&mut self.writes);
        if writes.is_empty() {
            return Ok(());
        }
        // Let go of our own reference first, so the map is copied only when
        // a reader still holds it.
        self.base = None;
        let mut current = self.store.current.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let data = Arc::make_mut(&mut current);
        for (k, v) in writes {
            match v {
                Some(v) => {
                    data.insert(k, v);
                }
                None => {
                    data.remove(&k);
                }
            }
        }
        Ok(())
    }
}
