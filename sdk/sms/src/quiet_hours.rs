//! Quiet hours: marketing texts are not sent between 21:00 and 08:00 in the
//! shop's time zone; they wait for the morning. Local time comes from the
//! IANA database compiled in, so summer time moves the hours with the clock.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// A daily window in local time during which marketing texts wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    zone: Tz,
    /// Hour (0–23) the quiet begins, inclusive.
    from_hour: u32,
    /// Hour (0–23) it ends, exclusive.
    until_hour: u32,
}

/// A time zone the database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time zone of the IANA database (such as Europe/Rome)")]
pub struct QuietHoursError(pub String);

impl QuietHours {
    /// 21:00–08:00 in `zone`, an IANA name such as `Europe/Rome`.
    pub fn evenings_and_nights(zone: &str) -> Result<QuietHours, QuietHoursError> {
        let zone = zone.trim().parse::<Tz>().map_err(|_| QuietHoursError(zone.trim().to_string()))?;
        Ok(QuietHours { zone, from_hour: 21, until_hour: 8 })
    }

    /// Seconds to wait from `now_ms` (Unix milliseconds) until sending is
    /// allowed: 0 outside quiet hours.
    pub fn wait_secs(&self, now_ms: i64) -> u64 {
        let Some(now) = DateTime::<Utc>::from_timestamp_millis(now_ms) else { return 0 };
        let local = now.with_timezone(&self.zone);
        let hour = local.hour();
        let quiet = if self.from_hour > self.until_hour {
            hour >= self.from_hour || hour < self.until_hour
        } else {
            hour >= self.from_hour && hour < self.until_hour
        };
        if !quiet {
            return 0;
        }
        let day = if hour >= self.from_hour && self.from_hour > self.until_hour {
            local.date_naive() + Duration::days(1)
        } else {
            local.date_naive()
        };
        let end = day.and_time(NaiveTime::from_hms_opt(self.until_hour, 0, 0).expect("an hour of the day"));
        // The end's local time exists on any day: no zone moves its clocks at 08:00.
        let end = self.zone.from_local_datetime(&end).earliest().map_or(now, |t| t.with_timezone(&Utc));
        let ms = (end - now).num_milliseconds().max(0);
        // Round up so the retry lands at or after the end, never a second before.
        u64::try_from(ms).unwrap_or(0).div_ceil(1000)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn ms(zone: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        let naive = NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap();
        zone.from_local_datetime(&naive).earliest().unwrap().timestamp_millis()
    }

    #[test]
    fn texts_wait_from_nine_in_the_evening_until_eight_in_the_morning() {
        let rome = QuietHours::evenings_and_nights("Europe/Rome").unwrap();
        let at = |h, m| ms(chrono_tz::Europe::Rome, 2026, 12, 2, h, m);
        assert_eq!(rome.wait_secs(at(20, 59)), 0);
        assert_eq!(rome.wait_secs(at(21, 0)), 11 * 3600);
        assert_eq!(rome.wait_secs(at(23, 30)), 8 * 3600 + 1800);
        assert_eq!(rome.wait_secs(at(0, 0)), 8 * 3600);
        assert_eq!(rome.wait_secs(at(7, 59)), 60);
        assert_eq!(rome.wait_secs(at(8, 0)), 0);
        assert_eq!(rome.wait_secs(at(12, 0)), 0);
    }

    #[test]
    fn summer_time_moves_the_hours_with_the_clock() {
        let rome = QuietHours::evenings_and_nights("Europe/Rome").unwrap();
        // 19:30 UTC is 20:30 in winter (allowed) and 21:30 in summer (quiet).
        let utc = |m, d| ms(chrono_tz::UTC, 2026, m, d, 19, 30);
        assert_eq!(rome.wait_secs(utc(1, 15)), 0);
        assert_eq!(rome.wait_secs(utc(7, 15)), 10 * 3600 + 1800);
        // The night the clocks go forward (29 March 2026) is an hour shorter.
        let before = ms(chrono_tz::Europe::Rome, 2026, 3, 28, 22, 0);
        assert_eq!(rome.wait_secs(before), 9 * 3600);
    }

    #[test]
    fn another_zone_and_a_wrong_one() {
        let ny = QuietHours::evenings_and_nights("America/New_York").unwrap();
        assert_eq!(ny.wait_secs(ms(chrono_tz::America::New_York, 2026, 12, 2, 22, 0)), 10 * 3600);
        assert_eq!(ny.wait_secs(ms(chrono_tz::Europe::Rome, 2026, 12, 2, 22, 0)), 0, "16:00 in New York");
        let e = QuietHours::evenings_and_nights("Europe/Atlantis").unwrap_err();
        assert!(e.to_string().contains("`Europe/Atlantis`") && e.to_string().contains("Europe/Rome"), "{e}");
    }
}
