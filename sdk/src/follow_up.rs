//! Work a platform finishes later (a catalog batch being processed), read
//! back without waiting for the next event. Needs `"storage"` and `"clock"`
//! in `[capabilities].imports`.
//!
//! The host has no timer, but it redelivers an event that answers
//! `retry-later(secs)` after `secs`, without counting that as a failure. So
//! the event that started the work stays with the host a little longer and
//! looks again on each redelivery, until the work is done. One event at a
//! time does this for an installation (a claim taken with compare-and-set),
//! so a burst of events makes one reader, not a storm of status calls; and
//! it gives up after a number of looks, when the next event's ordinary look
//! takes over again. A claim whose event went quiet (longer than all its
//! looks would take) may be taken by another.
//!
//! ```text
//! const FOLLOW: FollowUp = FollowUp::new("batches/follow", 30, 20);
//! if FOLLOW.is_held_by(&event.id)? {
//!     read_statuses()?;
//!     return FOLLOW.looked(&event.id, still_open()?);
//! }
//! send_batch()?;
//! if still_open()? { FOLLOW.take(&event.id)?; }
//! ```

use serde::{Deserialize, Serialize};

use crate::{PluginError, clock, storage};

/// Who follows up, and how far along.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claim {
    event: String,
    looks: u32,
    since_ms: i64,
}

/// One follow-up per installation, stored under `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUp {
    key: &'static str,
    every_secs: u32,
    most: u32,
}

impl FollowUp {
    /// A look every `every_secs` seconds, at most `most` looks per claim.
    pub const fn new(key: &'static str, every_secs: u32, most: u32) -> FollowUp {
        FollowUp { key, every_secs, most }
    }

    fn claim(&self) -> Result<Option<(Vec<u8>, Claim)>, PluginError> {
        let Some(bytes) = storage::get(self.key)? else { return Ok(None) };
        match serde_json::from_slice::<Claim>(&bytes) {
            Ok(claim) => Ok(Some((bytes, claim))),
            // Unreadable: as good as free.
            Err(_) => Ok(None),
        }
    }

    /// A claim nobody has renewed for longer than all its looks take.
    fn stale(&self, claim: &Claim, now: i64) -> bool {
        let span = i64::from(self.every_secs) * 1000 * (i64::from(self.most) + 1) * 2;
        now - claim.since_ms > span
    }

    /// Whether `event` is the one following up now.
    pub fn is_held_by(&self, event: &str) -> Result<bool, PluginError> {
        Ok(self.claim()?.is_some_and(|(_, c)| c.event == event))
    }

    /// Follow up as `event` unless another event does: `Err(retry-later)`
    /// for the caller to answer when it now holds the follow-up, `Ok` when
    /// another event holds it (this one is done).
    pub fn take(&self, event: &str) -> Result<(), PluginError> {
        let now = clock::now();
        let current = self.claim()?;
        let expected = match &current {
            Some((_, c)) if !self.stale(c, now) => {
                return if c.event == event { Err(PluginError::RetryLater(self.every_secs)) } else { Ok(()) };
            }
            Some((bytes, _)) => Some(bytes.clone()),
            None => storage::get(self.key)?,
        };
        let mine = serde_json::to_vec(&Claim { event: event.to_owned(), looks: 0, since_ms: now })
            .map_err(|e| PluginError::internal(e.to_string()))?;
        if storage::compare_and_set(self.key, expected.as_deref(), Some(&mine))? {
            Err(PluginError::RetryLater(self.every_secs))
        } else {
            // Another event took it meanwhile.
            Ok(())
        }
    }

    /// The holder looked: while the work is `open` it asks to look again
    /// (until its looks run out), else it lets go. What the caller answers.
    pub fn looked(&self, event: &str, open: bool) -> Result<(), PluginError> {
        let Some((bytes, claim)) = self.claim()? else { return Ok(()) };
        if claim.event != event {
            return Ok(());
        }
        let looks = claim.looks + 1;
        if open && looks < self.most {
            let next = Claim { looks, since_ms: clock::now(), ..claim };
            let next = serde_json::to_vec(&next).map_err(|e| PluginError::internal(e.to_string()))?;
            if storage::compare_and_set(self.key, Some(&bytes), Some(&next))? {
                return Err(PluginError::RetryLater(self.every_secs));
            }
            return Ok(());
        }
        storage::compare_and_set(self.key, Some(&bytes), None)?;
        Ok(())
    }
}
