//! Time. A plugin has no clock of its own (`std::time::SystemTime::now`
//! panics on `wasm32-unknown-unknown`). Needs `"clock"` in `[capabilities].imports`.

use crate::__private::bindings::omnistore::plugin::clock as imp;
use crate::Timestamp;

/// Wall-clock time in milliseconds since the Unix epoch, UTC.
pub fn now() -> Timestamp {
    imp::now()
}

/// A monotonic reading in nanoseconds, for measuring durations only.
pub fn monotonic_ns() -> u64 {
    imp::monotonic_ns()
}
