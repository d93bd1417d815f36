//! Warm instances: idle instances of plugins that ask for them
//! (`instances = "warm"`), kept per (tenant, installation, component) so the
//! next request of the same installation skips instantiation and finds what
//! the plugin kept in memory (a parsed theme).
//!
//! What keeps installations apart: an instance is only ever handed to calls of
//! the key it was made for, and only while the installation's grants,
//! settings and secrets are those it was made with. What keeps calls of one
//! installation apart is the plugin's own promise (its manifest's opt-in);
//! the host's per-call state is set afresh for every call
//! ([`crate::runtime`]), and an instance that trapped, hit a limit or ran
//! past its deadline is never kept. Uninstalling a channel or deleting a
//! tenant drops its instances, and an instance taken before that is not
//! put back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use wasmtime::Store;

use crate::bindings::{v0_1_0, v0_2_0};
use crate::config::WarmInstances;
use crate::per_thread::{Padded, shard_of_thread};
use crate::state::{Installation, PluginState, TenantId};

/// An instance's bindings, of whichever contract version it was built against.
pub(crate) enum Channel {
    V0_1_0(v0_1_0::Channel),
    V0_2_0(v0_2_0::Channel),
}

/// Which calls may share an instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct WarmKey {
    pub tenant: TenantId,
    pub installation: String,
    /// The component's digest: a new version of the plugin starts afresh.
    pub digest: String,
}

/// An instance between calls.
pub(crate) struct WarmInstance {
    pub store: Store<PluginState>,
    pub channel: Channel,
    /// Calls it has served.
    pub calls: u32,
    idle_since: Instant,
    /// The pool's generation when the instance was taken out or made.
    pub generation: u64,
}

impl WarmInstance {
    /// An instance to offer back after a call; `generation` is the pool's
    /// ([`WarmPool::generation`]) from before the call began.
    pub fn new(store: Store<PluginState>, channel: Channel, calls: u32, generation: u64) -> Self {
        WarmInstance { store, channel, calls, idle_since: Instant::now(), generation }
    }

    /// Whether the instance was made for exactly this installation as it is now.
    fn fits(&self, inst: &Installation) -> bool {
        let state = self.store.data();
        *state.grants == inst.grants && *state.settings == inst.settings && *state.secrets == inst.secrets
    }
}

#[derive(Default)]
struct Idle {
    by_key: HashMap<WarmKey, Vec<WarmInstance>>,
    /// When expired instances are next looked for.
    next_sweep: Option<Instant>,
}

/// One worker thread's part of the pool, on a cache line of its own: a
/// thread puts the instances it used back into its own shard and takes from
/// it first, so two cores serving one installation do not pass one lock and
/// one map back and forth on every call.
#[derive(Default)]
struct Shard(Padded<ShardState>);

#[derive(Default)]
struct ShardState {
    idle: Mutex<Idle>,
    /// Instances idle in the shard; changed under its lock, read by any thread.
    count: AtomicUsize,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Idle> {
        // Nothing here can be left half-done by a panic; keep serving.
        self.0.0.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self) -> usize {
        self.0.0.count.load(Ordering::Acquire)
    }

    /// Counts `n` instances that stopped being idle; under the lock.
    fn went(&self, n: usize) {
        if n > 0 {
            self.0.0.count.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// Counts an instance that went idle; under the lock.
    fn came(&self) {
        self.0.0.count.fetch_add(1, Ordering::AcqRel);
    }
}

/// The idle warm instances of a runtime, in one shard per core.
pub(crate) struct WarmPool {
    /// `max_idle` bounds the whole pool, `max_idle_per_installation` each shard.
    limits: WarmInstances,
    shards: Box<[Shard]>,
    /// Bumped whenever instances are dropped for an uninstall or a deleted
    /// tenant, with every shard locked: an instance taken out before then
    /// must not come back. Read only under a shard's lock.
    generation: AtomicU64,
}

/// Counters for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WarmStats {
    /// Instances idle now.
    pub idle: usize,
}

impl WarmPool {
    /// `max_slots` bounds what idle instances may hold, so that fresh calls
    /// always find pool slots; `shards` is about the worker threads calling.
    pub fn new(config: WarmInstances, max_slots: u32, shards: usize) -> Arc<WarmPool> {
        let limits = WarmInstances { max_idle: config.max_idle.min(max_slots / 2), ..config };
        Arc::new(WarmPool {
            limits,
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
            generation: AtomicU64::new(0),
        })
    }

    pub fn enabled(&self) -> bool {
        self.limits.max_idle > 0 && self.limits.max_idle_per_installation > 0
    }

    /// Instances idle in all shards.
    fn idle(&self) -> usize {
        self.shards.iter().map(Shard::count).sum()
    }

    /// The shards in the order the current thread tries them: its own first.
    fn shards_from_own(&self) -> impl Iterator<Item = &Shard> {
        let own = shard_of_thread(self.shards.len());
        self.shards[own..].iter().chain(&self.shards[..own])
    }

    fn own_shard(&self) -> &Shard {
        &self.shards[shard_of_thread(self.shards.len())]
    }

    /// Changes whenever instances are forgotten; read before a call makes a new instance.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The most recently used idle instance of `key` that fits `inst`, if
    /// any: from the thread's own shard, or else from another's. Instances
    /// of the key that no longer fit (settings changed) are dropped.
    pub fn take(&self, key: &WarmKey, inst: &Installation) -> Option<WarmInstance> {
        for shard in self.shards_from_own() {
            let mut dropped = Vec::new();
            let found = {
                let mut idle = shard.lock();
                let generation = self.generation.load(Ordering::Acquire);
                let found = match idle.by_key.get_mut(key) {
                    None => None,
                    Some(list) => {
                        // Settings rarely change: only then is the list split.
                        if !list.iter().all(|w| w.fits(inst)) {
                            let (fit, stale): (Vec<_>, Vec<_>) = list.drain(..).partition(|w| w.fits(inst));
                            *list = fit;
                            dropped = stale;
                        }
                        list.pop()
                    }
                };
                if idle.by_key.get(key).is_some_and(Vec::is_empty) {
                    idle.by_key.remove(key);
                }
                shard.went(dropped.len() + usize::from(found.is_some()));
                found.map(|mut w| {
                    w.generation = generation;
                    w
                })
            };
            // Dropping a store frees its pool slot: done outside the lock.
            drop(dropped);
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Offers an instance back after a call that ended well, into the
    /// thread's own shard. It is dropped instead when it served its share of
    /// calls, when an uninstall came in between, or when its installation
    /// already has its share idle in the shard. Idle instances past the idle
    /// timeout go; while the pool is over its size, so do the least recently
    /// used of a shard, the thread's own first.
    pub fn put(&self, key: WarmKey, mut instance: WarmInstance) {
        let now = Instant::now();
        let limits = &self.limits;
        let mut dropped = Vec::new();
        let own = self.own_shard();
        {
            let mut idle = own.lock();
            let keep = instance.calls < limits.max_calls
                && instance.generation == self.generation.load(Ordering::Acquire)
                && idle.by_key.get(&key).map_or(0, Vec::len) < limits.max_idle_per_installation as usize;
            if keep {
                instance.idle_since = now;
                idle.by_key.entry(key).or_default().push(instance);
                own.came();
            } else {
                dropped.push(instance);
            }
            // Looking through every installation's list is done now and then,
            // not on every call: a deployment keeps many installations' lists.
            if idle.next_sweep.is_none_or(|at| now >= at) {
                let timeout = limits.idle_timeout;
                idle.next_sweep = Some(now + (timeout / 8).min(SWEEP_AT_MOST_EVERY));
                // Each list is in the order its instances went idle (`take`
                // pops the newest), so the expired ones are a prefix.
                let before = dropped.len();
                for list in idle.by_key.values_mut() {
                    let expired =
                        list.iter().take_while(|w| now.saturating_duration_since(w.idle_since) >= timeout).count();
                    dropped.extend(list.drain(..expired));
                }
                own.went(dropped.len() - before);
                idle.by_key.retain(|_, list| !list.is_empty());
            }
        }
        drop(dropped);
        // A shard within its even share of the pool's size leaves the pool
        // within it too, unless another shard is over its share; that one
        // checks the whole pool when it is next used.
        let share = limits.max_idle as usize / self.shards.len();
        if own.count() > share {
            while self.idle() > limits.max_idle as usize && self.evict_one(None) {}
        }
    }

    /// Drops the least recently used idle instance (made in `engine`, when
    /// given), of the first shard that has one, the thread's own first, to
    /// free its pool slot for a call that found none. False when none is idle.
    pub fn evict_one(&self, engine: Option<usize>) -> bool {
        self.shards_from_own().any(|shard| {
            let evicted = evict_oldest(&mut shard.lock(), engine);
            if evicted.is_some() {
                shard.went(1);
            }
            evicted.is_some()
        })
    }

    /// Drops the idle instances `matches` selects, and keeps any instance in
    /// use now from coming back.
    pub fn forget(&self, matches: impl Fn(&WarmKey) -> bool) {
        let dropped: Vec<WarmInstance> = {
            // Every shard is held while the generation moves, so no `take`
            // can read the new generation and still find a forgotten instance.
            let mut locked: Vec<MutexGuard<'_, Idle>> = self.shards.iter().map(Shard::lock).collect();
            self.generation.fetch_add(1, Ordering::AcqRel);
            let mut dropped = Vec::new();
            for (shard, idle) in self.shards.iter().zip(&mut locked) {
                let keys: Vec<WarmKey> = idle.by_key.keys().filter(|k| matches(k)).cloned().collect();
                let before = dropped.len();
                dropped.extend(keys.iter().filter_map(|k| idle.by_key.remove(k)).flatten());
                shard.went(dropped.len() - before);
            }
            dropped
        };
        drop(dropped);
    }

    pub fn stats(&self) -> WarmStats {
        WarmStats { idle: self.idle() }
    }
}

/// The longest an expired instance waits for a sweep, when the pool is used.
const SWEEP_AT_MOST_EVERY: Duration = Duration::from_secs(1);

fn evict_oldest(idle: &mut Idle, engine: Option<usize>) -> Option<WarmInstance> {
    let (key, index) = idle
        .by_key
        .iter()
        .flat_map(|(k, list)| list.iter().enumerate().map(move |(i, w)| (k, i, w)))
        .filter(|(_, _, w)| engine.is_none_or(|e| w.store.data().engine == e))
        .map(|(k, i, w)| (k, i, w.idle_since))
        .min_by_key(|(_, _, since)| *since)
        .map(|(k, i, _)| (k.clone(), i))?;
    let list = idle.by_key.get_mut(&key)?;
    let instance = list.remove(index);
    if list.is_empty() {
        idle.by_key.remove(&key);
    }
    Some(instance)
}
