//! What keeps the cores from passing the same cache lines back and forth on
//! every call: a number per thread to pick its shard of something shared,
//! and per-thread memos of what a runtime keeps per tenant and installation
//! (the record of calls, the count of running instances), so that finding
//! them takes no lock that all cores share.
//!
//! A memo belongs to one owner (a [`CallLog`](crate::calls::CallLog), an
//! [`Admission`](crate::admission::Admission)) at a time and to one epoch of
//! it: the owner bumps its epoch whenever it drops an entry, and a memo of
//! another owner or epoch starts empty.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::state::TenantId;

/// Which shard the current thread uses, of `shards`: threads are numbered as
/// they first ask, so a runtime's worker threads spread over the shards.
pub(crate) fn shard_of_thread(shards: usize) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static NUMBER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|n| *n) % shards.max(1)
}

/// How many shards to make: one per core.
pub(crate) fn shards() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// A value on cache lines of its own.
#[repr(align(128))]
#[derive(Debug, Default)]
pub(crate) struct Padded<T>(pub T);

/// A new owner's number, distinct in the process.
pub(crate) fn owner_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One thread's memo of one owner's values, by tenant and installation.
pub(crate) struct Memo<V> {
    owner: u64,
    epoch: u64,
    by_tenant: HashMap<TenantId, HashMap<String, V>>,
}

impl<V: Clone> Memo<V> {
    pub fn new() -> Self {
        Memo { owner: u64::MAX, epoch: 0, by_tenant: HashMap::new() }
    }

    /// The memo's value for `(tenant, installation)` as of the owner's
    /// `epoch`, or `find`'s, which is then kept.
    pub fn get_or_find(
        &mut self,
        owner: u64,
        epoch: u64,
        tenant: &TenantId,
        installation: &str,
        find: impl FnOnce() -> V,
    ) -> V {
        if self.owner != owner || self.epoch != epoch {
            self.by_tenant.clear();
            (self.owner, self.epoch) = (owner, epoch);
        }
        if let Some(value) = self.by_tenant.get(tenant).and_then(|t| t.get(installation)) {
            return value.clone();
        }
        let value = find();
        self.by_tenant.entry(tenant.clone()).or_default().insert(installation.to_owned(), value.clone());
        value
    }
}
