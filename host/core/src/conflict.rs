//! Re-running a transaction that lost a serialization conflict.
//!
//! This is the only retry loop around a core transaction: the core does not
//! call `omnistore_storage::transact` (which retries too), because two nested
//! loops multiplied into ~585 attempts and two sleep schedules. How long to
//! wait between attempts is the caller's choice: the host sleeps the thread,
//! a test can record the waits or skip them.

use std::sync::Arc;
use std::time::Duration;

use omnistore_storage::{KvStore, StorageError, Txn};

use crate::error::{CoreError, CoreResult};

/// How the core re-runs a transaction that lost a conflict to a concurrent
/// one. Under heavy contention on one hot row, giving up means a failed
/// checkout, which is worse than a slow one, so the default is generous.
#[derive(Clone)]
pub struct ConflictRetry {
    max_retries: u32,
    wait: Arc<dyn Fn(Duration) + Send + Sync>,
}

impl ConflictRetry {
    /// Re-runs after the first attempt, by default. With the default delays
    /// (capped at 12.8 ms after the 8th) that is at most about 3 s of
    /// waiting, about what the former nested loops allowed.
    pub const DEFAULT_MAX_RETRIES: u32 = 256;

    /// At most `max_retries` re-runs; then the conflict reaches the caller.
    pub fn with_max_retries(mut self, max_retries: u32) -> ConflictRetry {
        self.max_retries = max_retries;
        self
    }

    /// Wait with `wait` instead of sleeping the thread (an async host can
    /// yield, a test can record the delays).
    pub fn with_wait(mut self, wait: impl Fn(Duration) + Send + Sync + 'static) -> ConflictRetry {
        self.wait = Arc::new(wait);
        self
    }

    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The delay before re-run `attempt` (1-based): grows with the attempt
    /// and is randomized, because writers that collided once and back off
    /// for the same time would collide again.
    pub fn delay(attempt: u32) -> Duration {
        use std::hash::{BuildHasher, Hasher};
        let ceiling_micros: u64 = 50 << attempt.min(8);
        // RandomState is seeded randomly per call; that is all the
        // randomness jitter needs, without a dependency.
        let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Duration::from_micros(ceiling_micros / 2 + random % (ceiling_micros / 2 + 1))
    }

    /// Run `body` in a read-write transaction and commit it, re-running the
    /// whole body when the backend reports a conflict — on commit, or on a
    /// statement inside `body` (see [`Txn::is_conflicted`]).
    pub(crate) fn write<T>(
        &self,
        store: &dyn KvStore,
        mut body: impl FnMut(&mut dyn Txn) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.retrying(|| {
            let mut txn = store.begin()?;
            match body(&mut *txn) {
                Ok(value) => txn.commit().map(|()| value).map_err(Attempt::from_storage),
                Err(err) if txn.is_conflicted() => Err(Attempt::Conflict(err)),
                Err(err) => Err(Attempt::from_core(err)),
            }
        })
    }

    /// Run a read, re-running it when the backend reports a conflict.
    pub(crate) fn read<T>(&self, mut body: impl FnMut() -> CoreResult<T>) -> CoreResult<T> {
        self.retrying(|| body().map_err(Attempt::from_core))
    }

    fn retrying<T>(&self, mut attempt_once: impl FnMut() -> Result<T, Attempt>) -> CoreResult<T> {
        let mut attempt = 0;
        loop {
            // The attempt's transaction is dropped before waiting, so a
            // lost transaction holds nothing up while it waits.
            match attempt_once() {
                Ok(value) => return Ok(value),
                Err(Attempt::Conflict(_)) if attempt < self.max_retries => {
                    attempt += 1;
                    (self.wait)(ConflictRetry::delay(attempt));
                }
                Err(Attempt::Conflict(err) | Attempt::Failed(err)) => return Err(err),
            }
        }
    }
}

impl Default for ConflictRetry {
    fn default() -> Self {
        ConflictRetry { max_retries: ConflictRetry::DEFAULT_MAX_RETRIES, wait: Arc::new(std::thread::sleep) }
    }
}

impl std::fmt::Debug for ConflictRetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConflictRetry").field("max_retries", &self.max_retries).finish_non_exhaustive()
    }
}

/// How one attempt failed: worth re-running or not.
enum Attempt {
    Conflict(CoreError),
    Failed(CoreError),
}

impl Attempt {
    fn from_core(err: CoreError) -> Attempt {
        match err {
            CoreError::Storage(StorageError::Conflict) => Attempt::Conflict(err),
            err => Attempt::Failed(err),
        }
    }

    fn from_storage(err: StorageError) -> Attempt {
        Attempt::from_core(err.into())
    }
}

impl From<StorageError> for Attempt {
    fn from(err: StorageError) -> Attempt {
        Attempt::from_storage(err)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use omnistore_storage::MemoryStore;
    use omnistore_storage::{Entry, KeyRange, ReadTxn};

    use super::*;

    /// A store whose commits lose a conflict the first `conflicts` times.
    struct Contended {
        inner: MemoryStore,
        conflicts: AtomicU32,
    }

    struct ContendedTxn<'a> {
        inner: Box<dyn Txn + 'a>,
        lose: bool,
    }

    impl Txn for ContendedTxn<'_> {
        fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
            self.inner.get(key)
        }
        fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
            self.inner.put(key, value)
        }
        fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
            self.inner.delete(key)
        }
        fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
            self.inner.scan(range, limit)
        }
        fn commit(self: Box<Self>) -> Result<(), StorageError> {
            if self.lose { Err(StorageError::Conflict) } else { self.inner.commit() }
        }
    }

    impl KvStore for Contended {
        fn backend(&self) -> &'static str {
            "contended"
        }
        fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
            let lose = self.conflicts.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            Ok(Box::new(ContendedTxn { inner: self.inner.begin()?, lose }))
        }
        fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
            self.inner.begin_read()
        }
    }

    fn recording(max_retries: u32) -> (ConflictRetry, Arc<Mutex<Vec<Duration>>>) {
        let waits = Arc::new(Mutex::new(Vec::new()));
        let log = waits.clone();
        let policy = ConflictRetry::default()
            .with_max_retries(max_retries)
            .with_wait(move |d| log.lock().expect("not poisoned").push(d));
        (policy, waits)
    }

    #[test]
    fn a_lost_conflict_is_rerun_and_waits_through_the_policy() {
        let store = Contended { inner: MemoryStore::new(), conflicts: AtomicU32::new(3) };
        let (policy, waits) = recording(5);
        let mut runs = 0;
        let value = policy.write(&store, |_| {
            runs += 1;
            Ok(runs)
        });
        assert_eq!(value.expect("commits on the fourth run"), 4);
        assert_eq!(waits.lock().expect("not poisoned").len(), 3);
    }

    #[test]
    fn retries_are_bounded_by_the_policy_alone() {
        let store = Contended { inner: MemoryStore::new(), conflicts: AtomicU32::new(u32::MAX) };
        let (policy, waits) = recording(7);
        let mut runs = 0;
        let outcome = policy.write(&store, |_| {
            runs += 1;
            Ok(())
        });
        assert!(matches!(outcome, Err(CoreError::Storage(StorageError::Conflict))));
        assert_eq!(runs, 8, "one run and 7 re-runs, no nested loop");
        assert_eq!(waits.lock().expect("not poisoned").len(), 7);
    }

    #[test]
    fn other_errors_are_not_rerun() {
        let store = Contended { inner: MemoryStore::new(), conflicts: AtomicU32::new(0) };
        let (policy, waits) = recording(7);
        let mut runs = 0;
        let outcome: CoreResult<()> = policy.write(&store, |_| {
            runs += 1;
            Err(CoreError::invalid("no"))
        });
        assert!(matches!(outcome, Err(CoreError::Invalid(_))));
        assert_eq!(runs, 1);
        assert!(waits.lock().expect("not poisoned").is_empty());
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        for attempt in 1..300 {
            let d = ConflictRetry::delay(attempt);
            let ceiling = Duration::from_micros(50 << attempt.min(8));
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?}");
        }
    }
}
