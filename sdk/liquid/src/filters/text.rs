//! String filters.

use super::*;

pub(super) fn append(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("append", 1, 1)?;
    Ok(string(format!("{}{}", to_s(v), to_s(a.get(0)))))
}

pub(super) fn prepend(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("prepend", 1, 1)?;
    Ok(string(format!("{}{}", to_s(a.get(0)), to_s(v))))
}

pub(super) fn capitalize(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("capitalize", |v| {
        let s = to_s(v);
        let mut chars = s.chars();
        Ok(match chars.next() {
            Some(c) => string(c.to_uppercase().chain(chars.as_str().to_lowercase().chars()).collect::<String>()),
            None => string(""),
        })
    })(v, a)
}

pub(super) fn downcase(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("downcase", |v| Ok(string(to_s(v).to_lowercase())))(v, a)
}

pub(super) fn upcase(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("upcase", |v| Ok(string(to_s(v).to_uppercase())))(v, a)
}

pub(super) fn escape_html(s: &str, once: bool) -> String {
    let mut out = String::with_capacity(s.len());
    // The characters escaped are ASCII, so the text between them is copied
    // in runs rather than a character at a time.
    let mut copied = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' if once && is_entity(&s[i + 1..]) => continue,
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[copied..i]);
        out.push_str(entity);
        copied = i + 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// Whether text after `&` completes an entity: `name;` or `#digits;`.
pub(super) fn is_entity(rest: &str) -> bool {
    let (body, numeric) = match rest.strip_prefix('#') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let len = body.bytes().take_while(|b| if numeric { b.is_ascii_digit() } else { b.is_ascii_alphabetic() }).count();
    len > 0 && body.as_bytes().get(len) == Some(&b';')
}

pub(super) fn escape(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("escape", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    Ok(string(escape_html(&to_s(v), false)))
}

pub(super) fn escape_once(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("escape_once", 0, 0)?;
    Ok(string(escape_html(&to_s(v), true)))
}

pub(super) fn lstrip(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("lstrip", |v| Ok(string(to_s(v).trim_start_matches(is_strip))))(v, a)
}

pub(super) fn rstrip(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("rstrip", |v| Ok(string(to_s(v).trim_end_matches(is_strip))))(v, a)
}

pub(super) fn strip(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("strip", |v| Ok(string(to_s(v).trim_matches(is_strip))))(v, a)
}

pub(super) fn squish(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("squish", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let s = to_s(v);
    Ok(string(s.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")))
}

pub(super) fn strip_newlines(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("strip_newlines", |v| Ok(string(to_s(v).replace("\r\n", "").replace('\n', ""))))(v, a)
}

pub(super) fn newline_to_br(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("newline_to_br", |v| Ok(string(to_s(v).replace("\r\n", "\n").replace('\n', "<br />\n"))))(v, a)
}

/// Removes `<open ... close>` spans. Like Liquid's, the match is case-sensitive.
pub(super) fn remove_spans(s: &str, open: &str, close: &str) -> String {
    let lower = s;
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(i) = lower[pos..].find(open) {
        let start = pos + i;
        match lower[start + open.len()..].find(close) {
            Some(j) => {
                out.push_str(&s[pos..start]);
                pos = start + open.len() + j + close.len();
            }
            None => break,
        }
    }
    out.push_str(&s[pos..]);
    out
}

pub(super) fn strip_html(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("strip_html", 0, 0)?;
    let s = to_s(v);
    let s = remove_spans(&s, "<script", "</script>");
    let s = remove_spans(&s, "<!--", "-->");
    let s = remove_spans(&s, "<style", "</style>");
    Ok(string(remove_spans(&s, "<", ">")))
}

pub(super) fn truncate(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("truncate", 0, 2)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let s = to_s(v);
    let length = if a.positional.is_empty() { 50 } else { to_integer(a.get(0))? };
    let ellipsis: Cow<'_, str> = if a.positional.len() > 1 { to_s(a.get(1)) } else { Cow::Borrowed("...") };
    let char_len = s.chars().count() as i64;
    if char_len <= length {
        return Ok(string(s.into_owned()));
    }
    let keep = length.saturating_sub(ellipsis.chars().count() as i64).max(0) as usize;
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(&ellipsis);
    Ok(string(out))
}

pub(super) fn truncatewords(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("truncatewords", 0, 2)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let s = to_s(v);
    let words =
        usize::try_from(if a.positional.is_empty() { 15 } else { to_integer(a.get(0))? }.max(1)).unwrap_or(usize::MAX);
    let ellipsis: Cow<'_, str> = if a.positional.len() > 1 { to_s(a.get(1)) } else { Cow::Borrowed("...") };
    let list: Vec<&str> =
        s.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()).take(words.saturating_add(1)).collect();
    if list.len() <= words {
        return Ok(string(s.into_owned()));
    }
    let mut out = list[..words].join(" ");
    out.push_str(&ellipsis);
    Ok(string(out))
}

/// Ruby's `String#split` with a string pattern.
pub(super) fn ruby_split(s: &str, pattern: &str) -> Vec<Value> {
    let mut parts: Vec<&str> = if pattern == " " {
        s.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()).collect()
    } else if pattern.is_empty() {
        s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect()
    } else {
        s.split(pattern).collect()
    };
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts.into_iter().map(Value::str).collect()
}

pub(super) fn split(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("split", 1, 1)?;
    Ok(Value::array(ruby_split(&to_s(v), &to_s(a.get(0)))))
}

pub(super) fn replace(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("replace", 1, 2)?;
    let (s, from, to) = (to_s(v), to_s(a.get(0)), to_s(a.get(1)));
    // Replacing can multiply the size: check before building it.
    let hits = if from.is_empty() { s.chars().count() + 1 } else { s.matches(&*from).count() };
    if s.len().saturating_add(hits.saturating_mul(to.len())) > env.max_bytes {
        return Err(env.too_big());
    }
    Ok(string(replace_all(&s, &from, &to)))
}

pub(super) fn replace_all(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        let mut out = String::with_capacity(s.len() * (to.len() + 1) + to.len());
        out.push_str(to);
        for c in s.chars() {
            out.push(c);
            out.push_str(to);
        }
        return out;
    }
    s.replace(from, to)
}

pub(super) fn replace_first(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("replace_first", 1, 2)?;
    Ok(string(to_s(v).replacen(&*to_s(a.get(0)), &to_s(a.get(1)), 1)))
}

pub(super) fn replace_last_str(s: &str, from: &str, to: &str) -> String {
    match s.rfind(from) {
        Some(i) => format!("{}{}{}", &s[..i], to, &s[i + from.len()..]),
        None => s.to_string(),
    }
}

pub(super) fn replace_last(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("replace_last", 2, 2)?;
    Ok(string(replace_last_str(&to_s(v), &to_s(a.get(0)), &to_s(a.get(1)))))
}

pub(super) fn remove(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("remove", 1, 1)?;
    Ok(string(replace_all(&to_s(v), &to_s(a.get(0)), "")))
}

pub(super) fn remove_first(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("remove_first", 1, 1)?;
    Ok(string(to_s(v).replacen(&*to_s(a.get(0)), "", 1)))
}

pub(super) fn remove_last(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("remove_last", 1, 1)?;
    Ok(string(replace_last_str(&to_s(v), &to_s(a.get(0)), "")))
}

/// Ruby's `slice(start, length)`: `None` where Ruby gives nil.
pub(super) fn slice_range(len: usize, start: i64, count: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start.checked_add(len)? } else { start };
    if start < 0 || start > len || count < 0 {
        return None;
    }
    let end = start.saturating_add(count).min(len);
    Some((start as usize, end as usize))
}

pub(super) fn slice(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("slice", 1, 2)?;
    let start = to_integer(a.get(0))?;
    let count = if a.get(1).is_nil() { 1 } else { to_integer(a.get(1))? };
    if let Value::Array(items) = v {
        return Ok(Value::array(match slice_range(items.len(), start, count) {
            Some((s, e)) => items[s..e].to_vec(),
            None => Vec::new(),
        }));
    }
    let s = to_s(v);
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    Ok(string(match slice_range(chars.len(), start, count) {
        Some((b, e)) => {
            let from = chars.get(b).map_or(s.len(), |c| c.0);
            let to = chars.get(e).map_or(s.len(), |c| c.0);
            s[from..to].to_string()
        }
        None => String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Escaping one character at a time, as the filter is specified.
    fn escaped_by_character(s: &str, once: bool) -> String {
        let mut out = String::new();
        for (i, c) in s.char_indices() {
            match c {
                '&' if once && is_entity(&s[i + 1..]) => out.push('&'),
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, ..ProptestConfig::default() })]

        #[test]
        fn escaping_in_runs_escapes_every_character(s in "([&<>\"'#;a-z0-9 ]|&amp;|&#39;|é|€)*", once: bool) {
            prop_assert_eq!(escape_html(&s, once), escaped_by_character(&s, once));
        }
    }
}
