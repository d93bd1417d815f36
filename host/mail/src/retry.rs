//! When to try a message again after a transient failure.

use std::time::Duration;

/// Exponential backoff with a cap and a last attempt: the delay doubles from
/// `base` after each failure, never exceeds `max`, and after `max_attempts`
/// failures the message is given up (dead-lettered).
///
/// No jitter here, so the schedule is exact and testable; a worker draining
/// many messages after a relay outage may add its own spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay after the first failure.
    pub base: Duration,
    /// The longest delay between two attempts.
    pub max: Duration,
    /// Attempts in all (the first one included) before giving up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// One minute, doubling up to six hours, 16 attempts: about two days,
    /// close to what mail servers allow a destination before bouncing.
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(60), max: Duration::from_secs(6 * 3600), max_attempts: 16 }
    }
}

impl RetryPolicy {
    /// How long to wait before the next attempt once `failed_attempts`
    /// attempts have failed; `None` when none is left (dead letter).
    /// Zero failures means nothing was tried yet: go now.
    pub fn next_attempt(&self, failed_attempts: u32) -> Option<Duration> {
        if failed_attempts >= self.max_attempts {
            return None;
        }
        let Some(doublings) = failed_attempts.checked_sub(1) else { return Some(Duration::ZERO) };
        // 2^doublings without overflow: past 2^31 the cap has long applied.
        let factor = 1u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX);
        Some(self.base.saturating_mul(factor).min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy { base: Duration::from_secs(10), max: Duration::from_secs(100), max_attempts: 6 }
    }

    #[test]
    fn nothing_tried_yet_goes_now() {
        assert_eq!(policy().next_attempt(0), Some(Duration::ZERO));
    }

    #[test]
    fn delays_double_from_base_up_to_the_cap() {
        let delays: Vec<_> = (1..6).map(|n| policy().next_attempt(n).map(|d| d.as_secs())).collect();
        assert_eq!(delays, [Some(10), Some(20), Some(40), Some(80), Some(100)]);
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        assert_eq!(policy().next_attempt(6), None);
        assert_eq!(policy().next_attempt(u32::MAX), None);
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let p = RetryPolicy { base: Duration::from_secs(3600), max: Duration::MAX, max_attempts: u32::MAX };
        assert_eq!(p.next_attempt(40), Some(Duration::from_secs(3600).saturating_mul(1 << 31)));
        assert_eq!(p.next_attempt(u32::MAX - 1), p.next_attempt(40));
        let tiny = RetryPolicy { base: Duration::MAX, max: Duration::MAX, max_attempts: 10 };
        assert_eq!(tiny.next_attempt(5), Some(Duration::MAX));
    }

    #[test]
    fn no_attempt_allowed_dead_letters_at_once() {
        let p = RetryPolicy { max_attempts: 0, ..policy() };
        assert_eq!(p.next_attempt(0), None);
        let once = RetryPolicy { max_attempts: 1, ..policy() };
        assert_eq!(once.next_attempt(0), Some(Duration::ZERO));
        assert_eq!(once.next_attempt(1), None);
    }

    #[test]
    fn default_schedule_spans_about_two_days() {
        let p = RetryPolicy::default();
        let total: Duration = (1..p.max_attempts).filter_map(|n| p.next_attempt(n)).sum();
        assert!(total > Duration::from_secs(36 * 3600) && total < Duration::from_secs(60 * 3600), "{total:?}");
        assert_eq!(p.next_attempt(p.max_attempts), None);
    }
}
