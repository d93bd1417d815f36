//! Italian and English: the locale of a request, the two translation tables,
//! and money, numbers and dates written the way each language writes them.
//!
//! Every string a page shows comes from [`EN`] or [`IT`] (templates read them
//! as `t.<key>`; a key missing from the table fails the render, because the
//! template environment treats undefined values as errors). A unit test holds
//! that both tables have the same keys.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use std::collections::BTreeMap;

/// The cookie that remembers a language chosen with the switch.
pub(crate) const LANG_COOKIE: &str = "omnistore_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locale {
    En,
    It,
}

impl Locale {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::It => "it",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Locale> {
        match code.trim().to_ascii_lowercase().split(['-', '_']).next()? {
            "en" => Some(Locale::En),
            "it" => Some(Locale::It),
            _ => None,
        }
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
        chosen.or_else(|| from_accept_language(headers)).unwrap_or(Locale::En)
    }

    /// The locale's tables: the shop's pages, then marketing's, then the
    /// day-to-day operations'.
    fn tables(self) -> [&'static [(&'static str, &'static str)]; 3] {
        match self {
            Locale::En => [EN, marketing::EN, operations::EN],
            Locale::It => [IT, marketing::IT, operations::IT],
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
        let sep = match self {
            Locale::En => ',',
            Locale::It => '.',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
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
        let decimal = match self {
            Locale::En => '.',
            Locale::It => ',',
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
        let spaced = self == Locale::It || symbol.len() == 3 && symbol.is_ascii();
        let sign = if amount_minor < 0 { "-" } else { "" };
        if spaced { format!("{sign}{symbol}\u{a0}{number}") } else { format!("{sign}{symbol}{number}") }
    }

    /// A moment (UTC): `05/03/2026 14:07` in Italian, `5 Mar 2026, 14:07` in English.
    pub(crate) fn datetime(self, ms: i64) -> String {
        let (y, m, d, hh, mm) = civil(ms);
        match self {
            Locale::It => format!("{d:02}/{m:02}/{y} {hh:02}:{mm:02}"),
            Locale::En => format!("{d} {} {y}, {hh:02}:{mm:02}", MONTHS_EN[(m - 1) as usize]),
        }
    }

    /// A day (UTC): `05/03/2026`, `5 Mar 2026`.
    pub(crate) fn date(self, ms: i64) -> String {
        let (y, m, d, _, _) = civil(ms);
        match self {
            Locale::It => format!("{d:02}/{m:02}/{y}"),
            Locale::En => format!("{d} {} {y}", MONTHS_EN[(m - 1) as usize]),
        }
    }
}

const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Year, month, day, hour and minute of a Unix time in milliseconds (UTC),
/// by the days-from-civil algorithm run backwards (H. Hinnant).
pub(crate) fn civil(ms: i64) -> (i64, i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60)
}

/// The Unix time (ms) of midnight UTC of a `YYYY-MM-DD` day, as a date
/// input sends it.
pub(crate) fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = days * 86_400_000;
    // 31 February comes back as March: refuse days a month does not have.
    (civil(ms).2 == d).then_some(ms)
}

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
    let mark = if locale == Locale::It { ',' } else { '.' };
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

mod marketing;
mod operations;
mod tables;
use tables::{EN, IT};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_have_the_same_keys_once() {
        let en: Vec<&str> = Locale::En.entries().map(|(k, _)| *k).collect();
        let it: Vec<&str> = Locale::It.entries().map(|(k, _)| *k).collect();
        let mut sorted = en.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), en.len(), "a key appears twice in EN");
        let mut sorted_it = it.clone();
        sorted_it.sort_unstable();
        sorted_it.dedup();
        assert_eq!(sorted_it.len(), it.len(), "a key appears twice in IT");
        assert_eq!(sorted, sorted_it, "EN and IT differ in keys");
        assert!(Locale::En.entries().chain(Locale::It.entries()).all(|(_, v)| !v.is_empty()));
    }

    #[test]
    fn money_is_written_per_locale() {
        assert_eq!(Locale::It.money(1250, "EUR"), "€\u{a0}12,50");
        assert_eq!(Locale::En.money(1250, "EUR"), "€12.50");
        assert_eq!(Locale::It.money(123_456_789, "EUR"), "€\u{a0}1.234.567,89");
        assert_eq!(Locale::En.money(123_456_789, "EUR"), "€1,234,567.89");
        assert_eq!(Locale::En.money(-5, "EUR"), "-€0.05");
        assert_eq!(Locale::En.money(1500, "JPY"), "JPY\u{a0}1,500");
        assert_eq!(Locale::It.number(-1_234_567), "-1.234.567");
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
        assert_eq!(money_input(Locale::It, 1250, "EUR"), "12,50");
    }

    #[test]
    fn dates_are_written_per_locale_and_read_back() {
        let ms = parse_day("2026-03-05").unwrap() + (14 * 60 + 7) * 60_000;
        assert_eq!(Locale::It.datetime(ms), "05/03/2026 14:07");
        assert_eq!(Locale::En.datetime(ms), "5 Mar 2026, 14:07");
        assert_eq!(parse_day("2026-02-31"), None);
        assert_eq!(parse_day("1970-01-01"), Some(0));
    }

    #[test]
    fn the_language_comes_from_the_switch_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(Locale::of(&h), Locale::En);
        h.insert(ACCEPT_LANGUAGE, "de-DE, it;q=0.8, en;q=0.5".parse().unwrap());
        assert_eq!(Locale::of(&h), Locale::It);
        h.insert(COOKIE, format!("a=b; {LANG_COOKIE}=en").parse().unwrap());
        assert_eq!(Locale::of(&h), Locale::En);
    }
}
