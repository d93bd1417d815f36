//! The `date` filter: reading timestamps and date strings, and Ruby's `strftime`.
//! Times are UTC unless the input names an offset; "now" comes from the caller's clock.

use crate::filters::{FilterArgs, FilterEnv, to_s};
use crate::value::Value;

/// A point in time and the UTC offset it is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time {
    pub secs: i64,
    pub offset: i32,
}

pub(crate) fn date_filter(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> Result<Value, String> {
    a.expect("date", 1, 1)?;
    let format = to_s(a.get(0));
    if format.is_empty() {
        return Ok(v.clone());
    }
    let time = match v {
        Value::Int(i) => Some(Time { secs: *i, offset: 0 }),
        Value::Str(s) => {
            let lower = s.trim().to_ascii_lowercase();
            match lower.as_str() {
                "" => return Ok(v.clone()),
                "now" | "today" => env.now.map(|secs| Time { secs, offset: 0 }),
                t if t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok().map(|secs| Time { secs, offset: 0 }),
                t => parse_date(t, env.now),
            }
        }
        _ => None,
    };
    Ok(match time {
        Some(t) => Value::from(strftime(t, &format)),
        None => v.clone(),
    })
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Reads the common ways a date is written: ISO 8601, RFC 2822, "March 14, 2016",
/// "14 Mar 2016 10:00", "2016/03/14". Lowercase input.
pub(crate) fn parse_date(s: &str, now: Option<i64>) -> Option<Time> {
    let (mut year, mut month, mut day) = (None::<i64>, None::<i64>, None::<i64>);
    let (mut hour, mut min, mut sec) = (0i64, 0i64, 0i64);
    let mut offset: i32 = 0;
    let mut pm = None;
    let mut numbers = Vec::new();
    let mut saw_clock = false;
    let cleaned: String = s.chars().map(|c| if c == ',' { ' ' } else { c }).collect();
    for raw in cleaned.split_whitespace() {
        let mut word = raw;
        // ISO: 2016-03-14t10:00:00z / 2016-03-14
        if let Some((date, rest)) = split_iso(word) {
            year = Some(date.0);
            month = Some(date.1);
            day = Some(date.2);
            word = rest;
            if word.is_empty() {
                continue;
            }
        }
        if word.contains(':') && word.starts_with(|c: char| c.is_ascii_digit()) {
            let (clock, zone) = split_zone(word);
            let clock = if let Some(c) = clock.strip_suffix("pm") {
                pm = Some(true);
                c
            } else if let Some(c) = clock.strip_suffix("am") {
                pm = Some(false);
                c
            } else {
                clock
            };
            let mut parts = clock.split(':');
            saw_clock = true;
            hour = parts.next()?.parse().ok()?;
            min = parts.next().unwrap_or("0").parse().ok()?;
            let s = parts.next().unwrap_or("0");
            sec = s.split('.').next()?.parse().ok()?;
            if let Some(zone) = zone {
                offset = parse_offset(zone)?;
            }
        } else if word == "am" || word == "pm" {
            pm = Some(word == "pm");
        } else if word == "z" || word == "utc" || word == "gmt" {
            offset = 0;
        } else if (word.starts_with('+') || word.starts_with('-')) && word.len() >= 3 {
            offset = parse_offset(word)?;
        } else if let Some(m) = MONTHS.iter().position(|m| word.starts_with(m)) {
            month = Some(m as i64 + 1);
        } else if let Some((a, b, c)) = split3(word, '/') {
            if a.len() == 4 {
                (year, month, day) = (Some(a.parse().ok()?), Some(b.parse().ok()?), Some(c.parse().ok()?));
            } else {
                (month, day, year) = (Some(a.parse().ok()?), Some(b.parse().ok()?), Some(c.parse().ok()?));
            }
        } else if word.bytes().all(|b| b.is_ascii_digit()) {
            numbers.push(word);
        } else if let Some(d) =
            word.strip_suffix("st").or(word.strip_suffix("nd")).or(word.strip_suffix("rd")).or(word.strip_suffix("th"))
        {
            numbers.push(d);
        } else if DAY_NAMES.iter().any(|d| d.to_ascii_lowercase().starts_with(word.trim_end_matches('.'))) {
        } else {
            return None;
        }
    }
    for n in numbers {
        let value: i64 = n.parse().ok()?;
        if n.len() >= 3 && year.is_none() {
            year = Some(value);
        } else if day.is_none() {
            day = Some(value);
        } else if year.is_none() {
            year = Some(value);
        } else {
            return None;
        }
    }
    if let Some(pm) = pm {
        if hour == 12 {
            hour = 0;
        }
        if pm {
            hour += 12;
        }
    }
    // A time alone is on today's date, when the caller gave a clock.
    if year.is_none() && month.is_none() && day.is_none() && saw_clock {
        let today = fields(Time { secs: now?, offset: 0 });
        (year, month, day) = (Some(today.year), Some(today.month), Some(today.day));
    }
    let (year, month, day) = (year?, month?, day.unwrap_or(1));
    if !(-100_000..=100_000).contains(&year) {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 24 || min > 59 || sec > 60 {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
    Some(Time { secs: local - offset as i64, offset })
}

fn split3(s: &str, sep: char) -> Option<(&str, &str, &str)> {
    let mut it = s.split(sep);
    let parts = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some()
        || [parts.0, parts.1, parts.2].iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(parts)
}

fn split_iso(word: &str) -> Option<((i64, i64, i64), &str)> {
    let b = word.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = word[..4].parse().ok()?;
    let m = word[5..7].parse().ok()?;
    let d = word[8..10].parse().ok()?;
    let rest = &word[10..];
    Some(((y, m, d), rest.strip_prefix('t').unwrap_or(rest)))
}

fn split_zone(word: &str) -> (&str, Option<&str>) {
    if let Some(clock) = word.strip_suffix('z') {
        return (clock, Some("+00:00"));
    }
    match word.find(['+', '-']) {
        Some(i) => (&word[..i], Some(&word[i..])),
        None => (word, None),
    }
}

fn parse_offset(zone: &str) -> Option<i32> {
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() || digits.len() > 4 {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        (digits[..digits.len() - 2].parse::<i32>().ok()?, digits[digits.len() - 2..].parse::<i32>().ok()?)
    };
    Some(sign * (h * 3600 + m * 60))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Year, month, day of a day count since 1970-01-01, proleptic Gregorian
/// (Howard Hinnant's algorithm); the one calendar of the SDK and the host's
/// tools.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    min: i64,
    sec: i64,
    wday: i64,
    yday: i64,
}

fn fields(t: Time) -> Fields {
    let local = t.secs.saturating_add(t.offset as i64);
    let days = local.div_euclid(86400);
    let rem = local.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    Fields {
        year,
        month,
        day,
        hour: rem / 3600,
        min: rem % 3600 / 60,
        sec: rem % 60,
        wday: (days + 4).rem_euclid(7),
        yday: days - days_from_civil(year, 1, 1) + 1,
    }
}

/// ISO 8601 week-based year and week number.
fn iso_week(f: &Fields) -> (i64, i64) {
    let wday = if f.wday == 0 { 7 } else { f.wday };
    let week = (f.yday - wday + 10) / 7;
    let weeks_in = |y: i64| {
        let jan1 = (days_from_civil(y, 1, 1) + 4).rem_euclid(7);
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if jan1 == 4 || (leap && jan1 == 3) { 53 } else { 52 }
    };
    if week < 1 {
        (f.year - 1, weeks_in(f.year - 1))
    } else if week > weeks_in(f.year) {
        (f.year + 1, 1)
    } else {
        (f.year, week)
    }
}

/// Ruby's `Time#strftime` for the directives themes use.
pub(crate) fn strftime(t: Time, format: &str) -> String {
    let f = fields(t);
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::from("%");
        let (mut pad, mut upper, mut swap) = (None::<char>, false, false);
        while let Some(&fl) = chars.peek() {
            match fl {
                '-' => pad = Some('\0'),
                '_' => pad = Some(' '),
                '0' => pad = Some('0'),
                '^' => upper = true,
                '#' => swap = true,
                _ => break,
            }
            spec.push(fl);
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            spec.push(d);
            chars.next();
        }
        // A width is for padding a field, not for making megabytes of spaces.
        let width: Option<usize> = width.parse::<usize>().ok().map(|w| w.min(64));
        let colon = chars.peek() == Some(&':');
        if colon {
            chars.next();
        }
        let Some(d) = chars.next() else {
            out.push_str(&spec);
            break;
        };
        let num = |n: i64, w: usize, default_pad: char| -> String {
            let p = pad.unwrap_or(default_pad);
            let w = width.unwrap_or(w);
            let s = n.abs().to_string();
            let sign = if n < 0 { "-" } else { "" };
            if p == '\0' || s.len() + sign.len() >= w {
                return format!("{sign}{s}");
            }
            let fill: String = std::iter::repeat_n(p, w - s.len() - sign.len()).collect();
            if p == '0' { format!("{sign}{fill}{s}") } else { format!("{fill}{sign}{s}") }
        };
        let text = |s: &str| -> String {
            let s = if upper || (swap && s.chars().any(|c| c.is_lowercase())) {
                s.to_uppercase()
            } else if swap {
                s.to_lowercase()
            } else {
                s.to_string()
            };
            match width {
                Some(w) if w > s.chars().count() && pad != Some('\0') => {
                    let p = if pad == Some('0') { '0' } else { ' ' };
                    let fill: String = std::iter::repeat_n(p, w - s.chars().count()).collect();
                    format!("{fill}{s}")
                }
                _ => s,
            }
        };
        let hour12 = if f.hour % 12 == 0 { 12 } else { f.hour % 12 };
        let piece = match d {
            'Y' => num(f.year, if f.year < 0 { 5 } else { 4 }, '0'),
            'C' => num(f.year.div_euclid(100), 2, '0'),
            'y' => num(f.year.rem_euclid(100), 2, '0'),
            'm' => num(f.month, 2, '0'),
            'B' => text(MONTH_NAMES[(f.month - 1) as usize]),
            'b' | 'h' => text(&MONTH_NAMES[(f.month - 1) as usize][..3]),
            'd' => num(f.day, 2, '0'),
            'e' => num(f.day, 2, ' '),
            'j' => num(f.yday, 3, '0'),
            'H' => num(f.hour, 2, '0'),
            'k' => num(f.hour, 2, ' '),
            'I' => num(hour12, 2, '0'),
            'l' => num(hour12, 2, ' '),
            'M' => num(f.min, 2, '0'),
            'S' => num(f.sec, 2, '0'),
            'L' => num(0, 3, '0'),
            'N' => num(0, 9, '0'),
            'p' => {
                let s = if f.hour < 12 { "AM" } else { "PM" };
                if swap { s.to_lowercase() } else { text(s) }
            }
            'P' => text(if f.hour < 12 { "am" } else { "pm" }),
            'A' => text(DAY_NAMES[f.wday as usize]),
            'a' => text(&DAY_NAMES[f.wday as usize][..3]),
            'u' => num(if f.wday == 0 { 7 } else { f.wday }, 1, '0'),
            'w' => num(f.wday, 1, '0'),
            'U' => num((f.yday + 6 - f.wday) / 7, 2, '0'),
            'W' => num((f.yday + 6 - (f.wday + 6) % 7) / 7, 2, '0'),
            'G' => num(iso_week(&f).0, 4, '0'),
            'g' => num(iso_week(&f).0.rem_euclid(100), 2, '0'),
            'V' => num(iso_week(&f).1, 2, '0'),
            's' => num(t.secs, 1, '0'),
            'z' => {
                let sign = if t.offset < 0 { '-' } else { '+' };
                let (h, m) = (t.offset.abs() / 3600, t.offset.abs() % 3600 / 60);
                if colon { format!("{sign}{h:02}:{m:02}") } else { format!("{sign}{h:02}{m:02}") }
            }
            'Z' => text(if t.offset == 0 { "UTC" } else { "" }),
            'c' => text(&strftime(t, "%a %b %e %H:%M:%S %Y")),
            'x' | 'D' => text(&strftime(t, "%m/%d/%y")),
            'X' | 'T' => text(&strftime(t, "%H:%M:%S")),
            'F' => text(&strftime(t, "%Y-%m-%d")),
            'R' => text(&strftime(t, "%H:%M")),
            'r' => text(&strftime(t, "%I:%M:%S %p")),
            'v' => text(&strftime(t, "%e-%^b-%Y")),
            '+' => text(&strftime(t, "%a %b %e %H:%M:%S %Z %Y")),
            'n' => "\n".into(),
            't' => "\t".into(),
            '%' => "%".into(),
            other => {
                spec.push(other);
                spec
            }
        };
        out.push_str(&piece);
    }
    out
}
