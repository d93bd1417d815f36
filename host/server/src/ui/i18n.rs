//! Italian and English: the locale of a request, the two translation tables,
//! and money, numbers and dates written the way each language writes them.
//!
//! Every string a page shows comes from [`EN`] or [`IT`] (templates read them
//! as `t.<key>`; a key missing from the table fails the render, because the
//! template environment treats undefined values as errors). A unit test holds
//! that both tables have the same keys.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// The cookie that remembers a language chosen with the switch.
pub(crate) const LANG_COOKIE: &str = "omnistore_lang";

/// A language the admin speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    It,
}

/// How a page writes for its reader: the language, and the time zone of the
/// shop whose days and hours it shows (UTC outside a shop: the sign-in and
/// operator pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Locale {
    pub(crate) lang: Lang,
    pub(crate) zone: Tz,
}

impl Locale {
    pub(crate) const EN: Locale = Locale { lang: Lang::En, zone: Tz::UTC };
    pub(crate) const IT: Locale = Locale { lang: Lang::It, zone: Tz::UTC };

    pub(crate) fn code(self) -> &'static str {
        match self.lang {
            Lang::En => "en",
            Lang::It => "it",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Locale> {
        match code.trim().to_ascii_lowercase().split(['-', '_']).next()? {
            "en" => Some(Locale::EN),
            "it" => Some(Locale::IT),
            _ => None,
        }
    }

    /// The same language in the other one the admin speaks (the switch).
    pub(crate) fn other(self) -> Locale {
        let lang = match self.lang {
            Lang::En => Lang::It,
            Lang::It => Lang::En,
        };
        Locale { lang, ..self }
    }

    /// The same language, with the days and hours of `zone`.
    pub(crate) fn in_zone(self, zone: Tz) -> Locale {
        Locale { zone, ..self }
    }

    /// The switch's cookie, else the best of `Accept-Language` we speak,
    /// else English.
    pub(crate) fn of(headers: &HeaderMap) -> Locale {
        let chosen = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANG_COOKIE)
            .and_then(|(_, value)| Locale::parse(value));
        chosen.or_else(|| from_accept_language(headers)).unwrap_or(Locale::EN)
    }

    /// The locale's tables: the shop's pages, then marketing's, then the
    /// day-to-day operations', then the operator's agency view, then adding
    /// a channel from the catalogue.
    fn tables(self) -> [&'static [(&'static str, &'static str)]; 5] {
        match self.lang {
            Lang::En => [EN, marketing::EN, operations::EN, agency::EN, channel_install::EN],
            Lang::It => [IT, marketing::IT, operations::IT, agency::IT, channel_install::IT],
        }
    }

    fn entries(self) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
        self.tables().into_iter().flatten()
    }

    /// The text of `key`; the key itself if the table lacks it (a test
    /// keeps that from happening).
    pub(crate) fn t(self, key: &str) -> &'static str {
        self.entries().find(|(k, _)| *k == key).map_or("", |(_, v)| v)
    }

    /// The whole table, for templates (`t.orders`).
    pub(crate) fn strings(self) -> BTreeMap<&'static str, &'static str> {
        self.entries().copied().collect()
    }

    /// An integer with thousands separators: `1.234` in Italian, `1,234` in English.
    pub(crate) fn number(self, n: i64) -> String {
        let sep = match self.lang {
            Lang::En => ',',
            Lang::It => '.',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    /// An amount in minor units: `€ 1.234,50` in Italian, `€1,234.50` in English.
    pub(crate) fn money(self, amount_minor: i64, currency: &str) -> String {
        let exponent = omnistore_core::currency_exponent(currency).unwrap_or(2) as u32;
        let scale = 10i64.pow(exponent);
        let whole = self.number(amount_minor.unsigned_abs().div_euclid(scale as u64) as i64);
        let fraction = amount_minor.unsigned_abs() % scale as u64;
        let decimal = match self.lang {
            Lang::En => '.',
            Lang::It => ',',
        };
        let number = if exponent == 0 {
            whole
        } else {
            format!("{whole}{decimal}{fraction:0width$}", width = exponent as usize)
        };
        let symbol = match currency {
            "EUR" => "€",
            "USD" => "$",
            "GBP" => "£",
            other => other,
        };
        let spaced = self.lang == Lang::It || symbol.len() == 3 && symbol.is_ascii();
        let sign = if amount_minor < 0 { "-" } else { "" };
        if spaced { format!("{sign}{symbol}\u{a0}{number}") } else { format!("{sign}{symbol}{number}") }
    }

    /// A moment in the shop's time zone: `05/03/2026 14:07` in Italian,
    /// `5 Mar 2026, 14:07` in English.
    pub(crate) fn datetime(self, ms: i64) -> String {
        let t = self.local(ms);
        let (y, m, d, hh, mm) = (t.year(), t.month(), t.day(), t.hour(), t.minute());
        match self.lang {
            Lang::It => format!("{d:02}/{m:02}/{y} {hh:02}:{mm:02}"),
            Lang::En => format!("{d} {} {y}, {hh:02}:{mm:02}", MONTHS_EN[m as usize - 1]),
        }
    }

    /// A day in the shop's time zone: `05/03/2026`, `5 Mar 2026`.
    pub(crate) fn date(self, ms: i64) -> String {
        let t = self.local(ms);
        let (y, m, d) = (t.year(), t.month(), t.day());
        match self.lang {
            Lang::It => format!("{d:02}/{m:02}/{y}"),
            Lang::En => format!("{d} {} {y}", MONTHS_EN[m as usize - 1]),
        }
    }

    /// `ms` as the shop's clock shows it; times out of range read as the epoch.
    fn local(self, ms: i64) -> chrono::DateTime<Tz> {
        let utc = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        utc.with_timezone(&self.zone)
    }

    /// The Unix time (ms) at which the shop's day holding `ms` began.
    pub(crate) fn day_start(self, ms: i64) -> i64 {
        self.midnight(self.local(ms).date_naive())
    }

    /// The start of the shop's day `n` days before the one starting at
    /// `day_start` (days of 23 or 25 hours included).
    pub(crate) fn days_before(self, day_start: i64, n: u32) -> i64 {
        (0..n).fold(day_start, |start, _| self.day_start(start - 1))
    }

    /// The start of the shop's day after the one starting at `day_start`.
    pub(crate) fn next_day(self, day_start: i64) -> i64 {
        // 27 hours on lands in the next day whether this one has 23, 24 or 25.
        self.day_start(day_start + 27 * 3_600_000)
    }

    /// The Unix time (ms) at which the shop's day `YYYY-MM-DD` (as a date
    /// input sends it) begins; `None` for a day that does not exist.
    pub(crate) fn parse_day(self, text: &str) -> Option<i64> {
        let day = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
        (1970..=9999).contains(&day.year()).then(|| self.midnight(day))
    }

    /// The Unix time (ms) of a `YYYY-MM-DDTHH:MM` moment on the shop's clock,
    /// as a `datetime-local` input sends it; `None` for a moment that does
    /// not exist (the hour skipped when clocks go forward).
    pub(crate) fn parse_moment(self, text: &str) -> Option<i64> {
        let at = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").ok()?;
        if !(1970..=9999).contains(&at.year()) {
            return None;
        }
        self.zone.from_local_datetime(&at).earliest().map(|t| t.timestamp_millis())
    }

    /// A moment as a `datetime-local` input shows it, on the shop's clock.
    pub(crate) fn moment_input(self, ms: i64) -> String {
        let t = self.local(ms);
        format!("{:04}-{:02}-{:02}T{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
    }

    /// The first instant of `day` on the shop's clock: midnight, or the
    /// first hour after it where clocks skip midnight.
    fn midnight(self, day: chrono::NaiveDate) -> i64 {
        (0..3)
            .find_map(|h| self.zone.from_local_datetime(&day.and_hms_opt(h, 0, 0)?).earliest())
            .map_or(0, |t| t.timestamp_millis())
    }
}

const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn from_accept_language(headers: &HeaderMap) -> Option<Locale> {
    let header = headers.get(ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(f32, Locale)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(locale) = parts.next().and_then(Locale::parse) else { continue };
        let q = parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, locale));
        }
    }
    best.map(|(_, l)| l)
}

/// Parse an amount typed by a person into minor units: `12,50`, `12.50`,
/// `€ 1.234,50` or `1,234.50`. The last `.` or `,` followed by at most the
/// currency's digits is the decimal mark; the other marks group thousands.
pub(crate) fn parse_money(text: &str, currency: &str) -> Option<i64> {
    let exponent = omnistore_core::currency_exponent(currency).unwrap_or(2) as usize;
    let cleaned: String = text.trim().trim_start_matches(['€', '$', '£']).trim().replace([' ', '\u{a0}'], "");
    if cleaned.is_empty() || cleaned.starts_with('-') {
        return None;
    }
    let (whole, fraction) = match cleaned.rfind(['.', ',']) {
        Some(i) if cleaned.len() - i - 1 <= exponent && cleaned.len() - i - 1 > 0 && exponent > 0 => {
            (&cleaned[..i], &cleaned[i + 1..])
        }
        _ => (cleaned.as_str(), ""),
    };
    let whole: String = whole.chars().filter(|c| *c != '.' && *c != ',').collect();
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut minor = format!("{fraction:0<exponent$}");
    minor.truncate(exponent);
    let fraction: i64 = if minor.is_empty() { 0 } else { minor.parse().ok()? };
    whole.checked_mul(10i64.pow(exponent as u32))?.checked_add(fraction)
}

/// An amount as an input shows it for editing: `12,50` or `12.50`.
pub(crate) fn money_input(locale: Locale, amount_minor: i64, currency: &str) -> String {
    let exponent = omnistore_core::currency_exponent(currency).unwrap_or(2) as u32;
    let scale = 10i64.pow(exponent);
    let mark = if locale.lang == Lang::It { ',' } else { '.' };
    if exponent == 0 {
        return amount_minor.to_string();
    }
    format!(
        "{}{mark}{:0width$}",
        amount_minor.div_euclid(scale),
        amount_minor.rem_euclid(scale),
        width = exponent as usize
    )
}

mod agency;
mod channel_install;
mod marketing;
mod operations;
mod tables;
use tables::{EN, IT};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_have_the_same_keys_once() {
        let en: Vec<&str> = Locale::EN.entries().map(|(k, _)| *k).collect();
        let it: Vec<&str> = Locale::IT.entries().map(|(k, _)| *k).collect();
        let mut sorted = en.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), en.len(), "a key appears twice in EN");
        let mut sorted_it = it.clone();
        sorted_it.sort_unstable();
        sorted_it.dedup();
        assert_eq!(sorted_it.len(), it.len(), "a key appears twice in IT");
        assert_eq!(sorted, sorted_it, "EN and IT differ in keys");
        assert!(Locale::EN.entries().chain(Locale::IT.entries()).all(|(_, v)| !v.is_empty()));
    }

    #[test]
    fn money_is_written_per_locale() {
        assert_eq!(Locale::IT.money(1250, "EUR"), "€\u{a0}12,50");
        assert_eq!(Locale::EN.money(1250, "EUR"), "€12.50");
        assert_eq!(Locale::IT.money(123_456_789, "EUR"), "€\u{a0}1.234.567,89");
        assert_eq!(Locale::EN.money(123_456_789, "EUR"), "€1,234,567.89");
        assert_eq!(Locale::EN.money(-5, "EUR"), "-€0.05");
        assert_eq!(Locale::EN.money(1500, "JPY"), "JPY\u{a0}1,500");
        assert_eq!(Locale::IT.number(-1_234_567), "-1.234.567");
    }

    #[test]
    fn amounts_typed_either_way_are_read() {
        for (text, minor) in [
            ("12,50", 1250),
            ("12.50", 1250),
            ("12", 1200),
            ("€ 1.234,50", 123_450),
            ("1,234.50", 123_450),
            ("0,5", 50),
            ("1.234", 123_400),
        ] {
            assert_eq!(parse_money(text, "EUR"), Some(minor), "{text}");
        }
        for bad in ["", "-1", "abc", "1,2,3x", "€", "12,5a"] {
            assert_eq!(parse_money(bad, "EUR"), None, "{bad}");
        }
        assert_eq!(money_input(Locale::IT, 1250, "EUR"), "12,50");
    }

    #[test]
    fn dates_are_written_per_locale_and_read_back() {
        let ms = Locale::EN.parse_day("2026-03-05").unwrap() + (14 * 60 + 7) * 60_000;
        assert_eq!(Locale::IT.datetime(ms), "05/03/2026 14:07");
        assert_eq!(Locale::EN.datetime(ms), "5 Mar 2026, 14:07");
        assert_eq!(Locale::EN.parse_day("2026-02-31"), None);
        assert_eq!(Locale::EN.parse_day("1970-01-01"), Some(0));
        assert_eq!(Locale::EN.parse_moment("2026-03-05T14:07"), Some(ms));
        assert_eq!(Locale::EN.moment_input(ms), "2026-03-05T14:07");
        for bad in ["", "2026-03-05", "2026-13-01T10:00", "yesterday"] {
            assert_eq!(Locale::EN.parse_moment(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_and_hours_are_the_shops() {
        let rome = Locale::IT.in_zone(chrono_tz::Europe::Rome);
        // 23:30 UTC on 5 March is half past midnight on the 6th in Rome (UTC+1).
        let late = Locale::EN.parse_day("2026-03-05").unwrap() + (23 * 60 + 30) * 60_000;
        assert_eq!(rome.datetime(late), "06/03/2026 00:30");
        assert_eq!(rome.date(late), "06/03/2026");
        assert_eq!(Locale::IT.date(late), "05/03/2026");
        // Rome's day begins at 23:00 UTC the evening before in winter, 22:00 in summer.
        let hour = 3_600_000;
        assert_eq!(rome.parse_day("2026-03-06"), Some(Locale::EN.parse_day("2026-03-06").unwrap() - hour));
        assert_eq!(rome.parse_day("2026-07-01"), Some(Locale::EN.parse_day("2026-07-01").unwrap() - 2 * hour));
        assert_eq!(rome.day_start(late), rome.parse_day("2026-03-06").unwrap());
        // The week before 31 March 2026 holds the 23-hour day of 29 March.
        let march_31 = rome.parse_day("2026-03-31").unwrap();
        assert_eq!(rome.days_before(march_31, 6), rome.parse_day("2026-03-25").unwrap());
        assert_eq!(rome.next_day(rome.parse_day("2026-03-29").unwrap()), rome.parse_day("2026-03-30").unwrap());
        assert_eq!(rome.next_day(rome.parse_day("2026-10-25").unwrap()), rome.parse_day("2026-10-26").unwrap());
        // 02:30 does not exist in Rome on 29 March 2026 (clocks go 02:00 → 03:00).
        assert_eq!(rome.parse_moment("2026-03-29T02:30"), None);
        let nine = rome.parse_moment("2026-03-29T09:00").unwrap();
        assert_eq!(rome.moment_input(nine), "2026-03-29T09:00");
        assert_eq!(Locale::EN.moment_input(nine), "2026-03-29T07:00");
    }

    #[test]
    fn a_day_that_begins_after_midnight_begins_then() {
        // Clocks in Santiago went forward at midnight on 7 September 2025:
        // that day began at 01:00 local time.
        let santiago = Locale::EN.in_zone(chrono_tz::America::Santiago);
        let start = santiago.parse_day("2025-09-07").unwrap();
        assert_eq!(santiago.moment_input(start), "2025-09-07T01:00");
    }

    #[test]
    fn the_language_comes_from_the_switch_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(Locale::of(&h), Locale::EN);
        h.insert(ACCEPT_LANGUAGE, "de-DE, it;q=0.8, en;q=0.5".parse().unwrap());
        assert_eq!(Locale::of(&h), Locale::IT);
        h.insert(COOKIE, format!("a=b; {LANG_COOKIE}=en").parse().unwrap());
        assert_eq!(Locale::of(&h), Locale::EN);
    }
}
