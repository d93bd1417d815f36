//! "This event was handled already": event-id markers in plugin storage,
//! kept bounded. Needs `"storage"` in `[capabilities].imports`.
//!
//! A plugin that remembers every event id it handled and never forgets one
//! fills its installation's storage quota (each entry costs its key, its
//! value and 64 bytes) and then stops working. [`Handled`] keeps the newest
//! `keep` markers only: event ids are issued in commit order per tenant and
//! sort in that order as strings, so the lowest keys are the oldest events,
//! and those are the ones deleted. The host redelivers a failed event only a
//! few times, shortly after the failure, so a marker older than thousands of
//! newer events is never needed again (and handling such an event twice is
//! the plugin's ordinary idempotence, not a dedup question).
//!
//! Layout, for `Handled::new("handled")`:
//! - `handled/{event id}`: one marker per event, the value the plugin gave;
//! - `handled.count`: how many markers there are (an [`increment`] counter,
//!   so concurrent calls never lose a count), outside the markers' prefix.
//!
//! Every [`Handled::remember`] of a new id deletes at most [`PRUNE_BATCH`]
//! of the oldest markers (one `list-keys` call, then a get and a
//! compare-and-set per key), so no call does unbounded work, and markers of
//! an older layout (a legacy prefix) are drained the same way.
//!
//! ```text
//! const HANDLED: Handled = Handled::new("handled");
//! if HANDLED.get(&event.id)?.is_some() { return Ok(()) }
//! handle(&event)?;
//! HANDLED.remember(&event.id, b"1")?;
//! ```
//!
//! [`increment`]: crate::storage::increment

use crate::HostError;
use crate::storage;

/// The markers kept when a plugin does not say: thousands of events beyond
/// any redelivery the host makes, at about 100 bytes each (a megabyte).
pub const DEFAULT_KEEP: u64 = 10_000;

/// Most markers one [`Handled::remember`] deletes. Each new marker adds one,
/// so any batch above one brings the count back to the bound; a few more
/// catch up quickly after the bound is lowered or a legacy layout is drained.
pub const PRUNE_BATCH: u64 = 16;

/// Event-id markers under one name, at most `keep` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handled {
    name: &'static str,
    keep: u64,
    legacy: Option<&'static str>,
}

impl Handled {
    /// Markers under `{name}/`, the count under `{name}.count`, at most
    /// [`DEFAULT_KEEP`] markers.
    pub const fn new(name: &'static str) -> Handled {
        Handled { name, keep: DEFAULT_KEEP, legacy: None }
    }

    /// Keep at most `keep` markers (at least one).
    pub const fn keeping(self, keep: u64) -> Handled {
        Handled { keep: if keep == 0 { 1 } else { keep }, ..self }
    }

    /// Markers an earlier version kept under `prefix` (`{prefix}{event id}`):
    /// still recognised by [`Handled::get`], and deleted oldest first, a
    /// batch per [`Handled::remember`], until none is left.
    pub const fn legacy(self, prefix: &'static str) -> Handled {
        Handled { legacy: Some(prefix), ..self }
    }

    /// How many markers are kept at most.
    pub const fn keep(&self) -> u64 {
        self.keep
    }

    /// The prefix of the markers' keys: `{name}/`.
    pub fn prefix(&self) -> String {
        format!("{}/", self.name)
    }

    /// The key of the marker of `event_id`.
    pub fn key(&self, event_id: &str) -> String {
        format!("{}/{event_id}", self.name)
    }

    /// The key of the markers' count.
    pub fn count_key(&self) -> String {
        format!("{}.count", self.name)
    }

    /// The value remembered for `event_id`, or `None` when it was not
    /// handled (or so long ago that its marker is gone).
    pub fn get(&self, event_id: &str) -> Result<Option<Vec<u8>>, HostError> {
        if let Some(v) = storage::get(&self.key(event_id))? {
            return Ok(Some(v));
        }
        match self.legacy {
            Some(prefix) => storage::get(&format!("{prefix}{event_id}")),
            None => Ok(None),
        }
    }

    /// Remember `event_id` as handled, with `value`, then delete the oldest
    /// markers beyond the bound (at most [`PRUNE_BATCH`]). Remembering an id
    /// again replaces its value and counts nothing.
    pub fn remember(&self, event_id: &str, value: &[u8]) -> Result<(), HostError> {
        let key = self.key(event_id);
        if !storage::compare_and_set(&key, None, Some(value))? {
            // Already there (a redelivery, or a concurrent call): not a new marker.
            storage::set(&key, value)?;
            return Ok(());
        }
        let count = storage::increment(&self.count_key(), 1)?;
        self.prune(count)?;
        self.drain_legacy()
    }

    /// Delete the oldest markers while there are more than `keep`.
    fn prune(&self, count: i64) -> Result<(), HostError> {
        let excess = excess(count, self.keep);
        if excess == 0 {
            return Ok(());
        }
        let mut deleted = 0;
        for key in storage::list_keys(&self.prefix(), None, excess as u32)? {
            // Deleted by whoever swaps it away, so each deletion is counted once.
            if let Some(v) = storage::get(&key)?
                && storage::compare_and_set(&key, Some(&v), None)?
            {
                deleted += 1;
            }
        }
        if deleted > 0 {
            storage::increment(&self.count_key(), -deleted)?;
        }
        Ok(())
    }

    fn drain_legacy(&self) -> Result<(), HostError> {
        let Some(prefix) = self.legacy else { return Ok(()) };
        for key in storage::list_keys(prefix, None, PRUNE_BATCH as u32)? {
            storage::delete(&key)?;
        }
        Ok(())
    }
}

/// How many markers to delete now, with `count` of them and `keep` allowed:
/// the excess, at most [`PRUNE_BATCH`].
pub fn excess(count: i64, keep: u64) -> u64 {
    let count = u64::try_from(count).unwrap_or(0);
    count.saturating_sub(keep).min(PRUNE_BATCH)
}

/// A bound read from a setting: a positive whole number, else `default`.
pub fn keep_from_setting(raw: Option<&str>, default: u64) -> u64 {
    raw.and_then(|v| v.trim().replace(['_', ','], "").parse::<u64>().ok()).filter(|n| *n > 0).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excess_is_pruned_a_batch_at_a_time() {
        assert_eq!(excess(0, 10), 0);
        assert_eq!(excess(10, 10), 0);
        assert_eq!(excess(11, 10), 1);
        assert_eq!(excess(10 + PRUNE_BATCH as i64 * 3, 10), PRUNE_BATCH);
        // A counter gone below zero (never: increments are atomic) deletes nothing.
        assert_eq!(excess(-5, 10), 0);
    }

    #[test]
    fn keys_live_under_the_name_and_the_count_outside_the_markers() {
        let h = Handled::new("handled");
        assert_eq!(h.key("evt_01"), "handled/evt_01");
        assert!(h.key("evt_01").starts_with(&h.prefix()));
        assert!(!h.count_key().starts_with(&h.prefix()));
        assert_eq!(h.keep(), DEFAULT_KEEP);
    }

    #[test]
    fn the_bound_is_at_least_one() {
        assert_eq!(Handled::new("h").keeping(0).keep(), 1);
        assert_eq!(Handled::new("h").keeping(5).keep(), 5);
    }

    #[test]
    fn a_bound_setting_is_a_positive_number_or_the_default() {
        assert_eq!(keep_from_setting(None, 7), 7);
        assert_eq!(keep_from_setting(Some(""), 7), 7);
        assert_eq!(keep_from_setting(Some("0"), 7), 7);
        assert_eq!(keep_from_setting(Some("-3"), 7), 7);
        assert_eq!(keep_from_setting(Some("ten"), 7), 7);
        assert_eq!(keep_from_setting(Some(" 25 "), 7), 25);
        assert_eq!(keep_from_setting(Some("20_000"), 7), 20_000);
        assert_eq!(keep_from_setting(Some("20,000"), 7), 20_000);
    }
}
