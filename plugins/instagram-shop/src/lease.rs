//! The flush lease: one call at a time sends what waits. `flush/lease`
//! holds the time the current (or last) flush started or last made
//! progress; a call takes the lease with compare-and-set when that time is
//! at least [`LEASE_MS`] old. So it also says "a flush ran less than a
//! second ago": an event that finds it held leaves its change waiting and
//! asks to be redelivered, and that redelivery sends everything waiting.

use omnistore_sdk::{PluginError, storage};

pub const KEY: &str = "flush/lease";
/// How long a flush holds the lease without renewing it.
pub const LEASE_MS: i64 = 1000;

#[derive(Debug)]
pub struct Lease {
    held: Vec<u8>,
}

/// The lease, when no flush started or made progress in the last second.
pub fn take(now: i64) -> Result<Option<Lease>, PluginError> {
    let current = storage::get(KEY)?;
    if let Some(at) = current.as_deref().and_then(|b| std::str::from_utf8(b).ok()).and_then(|t| t.parse::<i64>().ok())
        && (0..LEASE_MS).contains(&(now - at))
    {
        return Ok(None);
    }
    let held = now.to_string().into_bytes();
    Ok(storage::compare_and_set(KEY, current.as_deref(), Some(&held))?.then_some(Lease { held }))
}

impl Lease {
    /// Renew the lease after progress; `false` when another call took it
    /// (this one was too slow), which must then stop sending.
    pub fn renew(&mut self, now: i64) -> Result<bool, PluginError> {
        let next = now.to_string().into_bytes();
        if next == self.held {
            return Ok(true);
        }
        let renewed = storage::compare_and_set(KEY, Some(&self.held), Some(&next))?;
        if renewed {
            self.held = next;
        }
        Ok(renewed)
    }
}
