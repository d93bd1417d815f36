use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::{Entry, KeyRange, KvStore, StorageError, Txn, check_key};

/// An in-memory store: one lock serializes transactions, so it is trivially
/// serializable. Nothing survives the process; for tests and the SDK harness.
///
/// A transaction holds the lock until it commits or is dropped; a panic while
/// it is held poisons the mutex, which is harmless here because writes reach
/// the map only inside `commit`, so `begin` takes the poisoned lock over.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

struct MemoryTxn<'a> {
    data: MutexGuard<'a, BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Pending writes; `None` is a delete.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl KvStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        let data = self.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(Box::new(MemoryTxn { data, writes: BTreeMap::new() }))
    }
}

impl Txn for MemoryTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        if let Some(pending) = self.writes.get(key) {
            return Ok(pending.clone());
        }
        Ok(self.data.get(key).cloned())
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
        for (k, v) in self.data.range::<Vec<u8>, _>(bounds.clone()) {
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
        for (k, v) in writes {
            match v {
                Some(v) => {
                    self.data.insert(k, v);
                }
                None => {
                    self.data.remove(&k);
                }
            }
        }
        Ok(())
    }
}
