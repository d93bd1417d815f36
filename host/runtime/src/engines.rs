//! One wasmtime engine, with its own instance pool and linker, per core.
//!
//! A fresh instance touches what its engine shares on every call: the
//! engine's and the component's reference counts (the store, each fiber and
//! each instance clone and drop them), the pool's counts of live instances,
//! memories, tables and stacks, and the code registry. In one engine, all
//! cores write those cache lines on every call. Here each thread makes its
//! stores in an engine of its own, so a core writes only its own; a store
//! stays usable from any thread (a warm instance serves wherever it is taken).
//!
//! The runtime's slots (`max_concurrent_instances`) are shared out among the
//! engines, so the runtime holds no more instances than it did with one; a
//! thread whose engine has no slot free makes its store in one that has.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, PoolingAllocatorMetrics};

use crate::LoadError;
use crate::bindings::{v0_1_0, v0_2_0};
use crate::config::{MemoryChecks, RuntimeConfig};
use crate::state::{PluginState, Shared};

/// The most engines a runtime makes: each reserves the address space of the
/// whole pool.
pub const MAX_ENGINES: usize = 8;

/// An engine and the linker of every supported contract version in it.
pub(crate) struct CoreEngine {
    pub engine: Engine,
    pub linker: Linker<PluginState>,
    /// The engine's own handle of what its stores share.
    pub shared: Arc<Shared>,
    /// Instances the engine's pool holds.
    slots: u64,
    /// Reads how many of them are taken.
    pool: PoolingAllocatorMetrics,
}

impl CoreEngine {
    fn new(config: &RuntimeConfig, slots: u32, shared: &Shared) -> Result<CoreEngine, LoadError> {
        let engine = Engine::new(&engine_config(config, slots)).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        let pool = engine
            .pooling_allocator_metrics()
            .ok_or_else(|| LoadError::Compile("the engine has no instance pool".into()))?;
        let mut linker = Linker::new(&engine);
        // Every supported contract version is linked side by side; a
        // component finds the imports of its own version.
        v0_1_0::Channel::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |s| s)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        v0_2_0::add_to_linker(&mut linker).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        Ok(CoreEngine { engine, linker, shared: Arc::new(shared.clone()), slots: u64::from(slots), pool })
    }

    fn has_a_free_slot(&self) -> bool {
        self.pool.component_instances() < self.slots
    }
}

/// The runtime's engines, one per share of [`slot_shares`].
pub(crate) fn engines(config: &RuntimeConfig, shared: &Shared) -> Result<Box<[CoreEngine]>, LoadError> {
    slot_shares(config).into_iter().map(|slots| CoreEngine::new(config, slots, shared)).collect()
}

/// The slots of each engine: `config.engines` engines, at least one and at
/// most [`MAX_ENGINES`] or one per slot, with the slots shared out evenly.
fn slot_shares(config: &RuntimeConfig) -> Vec<u32> {
    let slots = config.max_concurrent_instances.max(1);
    let count = u32::try_from(config.engines.clamp(1, MAX_ENGINES)).unwrap_or(1).min(slots);
    (0..count).map(|i| slots / count + u32::from(i < slots % count)).collect()
}

/// Which of `engines` the current thread makes its next store in: its own,
/// or when that has no slot free, the next that has one.
pub(crate) fn for_this_thread(engines: &[CoreEngine]) -> usize {
    if engines.len() == 1 {
        return 0;
    }
    let home = crate::per_thread::shard_of_thread(engines.len());
    (0..engines.len()).map(|k| (home + k) % engines.len()).find(|&i| engines[i].has_a_free_slot()).unwrap_or(home)
}

/// An engine whose pool holds `n` instances.
fn engine_config(config: &RuntimeConfig, n: u32) -> Config {
    let limits = &config.limits;
    let mut pool = PoolingAllocationConfig::default();
    // Each instance may take at most its own limits from the shared pools, and
    // the pools hold that much for every slot: no instance can drain them for
    // the others. A component over a per-component limit is refused at load.
    pool.total_component_instances(n)
        .max_core_instances_per_component(limits.max_core_instances)
        .max_memories_per_component(limits.max_memories)
        .max_tables_per_component(limits.max_tables)
        .total_core_instances(n.saturating_mul(limits.max_core_instances))
        .total_memories(n.saturating_mul(limits.max_memories))
        .total_tables(n.saturating_mul(limits.max_tables))
        .table_elements(usize::try_from(limits.table_elements).unwrap_or(usize::MAX))
        .total_stacks(n)
        .max_memory_size(limits.memory_bytes as usize)
        .linear_memory_keep_resident(config.pool_reuse.memory_keep_resident)
        .table_keep_resident(config.pool_reuse.table_keep_resident)
        .decommit_batch_size(config.pool_reuse.decommit_batch.max(1))
        .pagemap_scan(if config.pool_reuse.scan_dirty_pages { Enabled::Auto } else { Enabled::No });
    let mut c = Config::new();
    c.wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if config.memory_checks == MemoryChecks::Explicit {
        c.signals_based_traps(false).memory_guard_size(0);
    }
    // Profiling plugins: `perf` names their functions from /tmp/perf-PID.map.
    if std::env::var_os("OMNISTORE_PERF_MAP").is_some() {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slots_are_shared_out_among_at_least_one_engine_and_at_most_the_maximum() {
        let cases = [(0, 4, vec![4]), (1, 4, vec![4]), (3, 8, vec![3, 3, 2]), (3, 2, vec![1, 1]), (20, 64, vec![8; 8])];
        for (asked, slots, shares) in cases {
            let config = RuntimeConfig { engines: asked, max_concurrent_instances: slots, ..RuntimeConfig::default() };
            assert_eq!(slot_shares(&config), shares, "{asked} engines asked for, {slots} slots");
        }
    }
}
