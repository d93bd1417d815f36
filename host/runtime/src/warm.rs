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
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use wasmtime::Store;

use crate::bindings::{v0_1_0, v0_2_0};
use crate::config::WarmInstances;
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
    count: usize,
    /// Bumped whenever instances are dropped for an uninstall or a deleted
    /// tenant: an instance taken out before then must not come back.
    generation: u64,
}

/// The idle warm instances of a runtime.
pub(crate) struct WarmPool {
    config: WarmInstances,
    idle: Mutex<Idle>,
}

/// Counters for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WarmStats {
    /// Instances idle now.
    pub idle: usize,
}

impl WarmPool {
    /// `max_slots` bounds what idle instances may hold, so that fresh calls
    /// always find pool slots.
    pub fn new(config: WarmInstances, max_slots: u32) -> Arc<WarmPool> {
        let config = WarmInstances { max_idle: config.max_idle.min(max_slots / 2), ..config };
        Arc::new(WarmPool { config, idle: Mutex::new(Idle::default()) })
    }

    pub fn enabled(&self) -> bool {
        self.config.max_idle > 0 && self.config.max_idle_per_installation > 0
    }

    fn lock(&self) -> MutexGuard<'_, Idle> {
        // Nothing here can be left half-done by a panic; keep serving.
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes whenever instances are forgotten; read before a call makes a new instance.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The most recently used idle instance of `key` that fits `inst`, if any.
    /// Instances of the key that no longer fit (settings changed) are dropped.
    pub fn take(&self, key: &WarmKey, inst: &Installation) -> Option<WarmInstance> {
        let mut dropped = Vec::new();
        let found = {
            let mut idle = self.lock();
            let generation = idle.generation;
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
            idle.count -= dropped.len() + usize::from(found.is_some());
            found.map(|mut w| {
                w.generation = generation;
                w
            })
        };
        // Dropping a store frees its pool slot: done outside the lock.
        drop(dropped);
        found
    }

    /// Offers an instance back after a call that ended well. It is dropped
    /// instead when it served its share of calls, when an uninstall came in
    /// between, or when its installation already has its share idle; idle
    /// instances past the idle timeout go, and the least recently used go
    /// while the pool is over its size.
    pub fn put(&self, key: WarmKey, mut instance: WarmInstance) {
        let now = Instant::now();
        let mut dropped = Vec::new();
        {
            let mut idle = self.lock();
            let keep = instance.calls < self.config.max_calls
                && instance.generation == idle.generation
                && idle.by_key.get(&key).map_or(0, Vec::len) < self.config.max_idle_per_installation as usize;
            if keep {
                instance.idle_since = now;
                idle.by_key.entry(key).or_default().push(instance);
                idle.count += 1;
            } else {
                dropped.push(instance);
            }
            // Each list is in the order its instances went idle (`take` pops
            // the newest), so the expired ones are a prefix.
            let timeout = self.config.idle_timeout;
            let before = dropped.len();
            for list in idle.by_key.values_mut() {
                let expired =
                    list.iter().take_while(|w| now.saturating_duration_since(w.idle_since) >= timeout).count();
                dropped.extend(list.drain(..expired));
            }
            let expired = dropped.len() - before;
            idle.count -= expired;
            while idle.count > self.config.max_idle as usize {
                match evict_oldest(&mut idle) {
                    Some(w) => dropped.push(w),
                    None => break,
                }
            }
            idle.by_key.retain(|_, list| !list.is_empty());
        }
        drop(dropped);
    }

    /// Drops the least recently used idle instance, to free its pool slot for
    /// a call that found none. False when none is idle.
    pub fn evict_one(&self) -> bool {
        let evicted = {
            let mut idle = self.lock();
            let evicted = evict_oldest(&mut idle);
            idle.by_key.retain(|_, list| !list.is_empty());
            evicted
        };
        evicted.is_some()
    }

    /// Drops the idle instances `matches` selects, and keeps any instance in
    /// use now from coming back.
    pub fn forget(&self, matches: impl Fn(&WarmKey) -> bool) {
        let dropped: Vec<WarmInstance> = {
            let mut idle = self.lock();
            idle.generation += 1;
            let keys: Vec<WarmKey> = idle.by_key.keys().filter(|k| matches(k)).cloned().collect();
            let dropped: Vec<WarmInstance> = keys.iter().filter_map(|k| idle.by_key.remove(k)).flatten().collect();
            idle.count -= dropped.len();
            dropped
        };
        drop(dropped);
    }

    pub fn stats(&self) -> WarmStats {
        WarmStats { idle: self.lock().count }
    }
}

fn evict_oldest(idle: &mut Idle) -> Option<WarmInstance> {
    let (key, index) = idle
        .by_key
        .iter()
        .flat_map(|(k, list)| list.iter().enumerate().map(move |(i, w)| (k, i, w.idle_since)))
        .min_by_key(|(_, _, since)| *since)
        .map(|(k, i, _)| (k.clone(), i))?;
    let instance = idle.by_key.get_mut(&key)?.remove(index);
    idle.count -= 1;
    Some(instance)
}
