//! The clock the imports read the time from.

use std::sync::Arc;

/// Milliseconds since the Unix epoch. Injected so that tests can move time
/// (cart expiry, retry backoff) without sleeping.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock (the runtime's one reading of the system clock).
pub fn system_clock() -> Clock {
    Arc::new(omnistore_runtime::system_now_ms)
}
