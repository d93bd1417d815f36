//! The standard filters, with the argument checks and type coercions of Shopify's Liquid.

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use crate::lexer::is_strip;
use crate::number::{Num, to_integer, to_number};
use crate::value::{Object, Value};

/// The arguments a filter was called with: `{{ x | f: a, b, key: c }}`.
#[derive(Debug, Clone, Copy)]
pub struct FilterArgs<'a> {
    pub positional: &'a [Value],
    pub keyword: &'a [(Arc<str>, Value)],
}

impl FilterArgs<'_> {
    /// The positional argument at `i`, or nil.
    pub fn get(&self, i: usize) -> &Value {
        self.positional.get(i).unwrap_or(&Value::Nil)
    }

    /// The keyword argument `name`, if given.
    pub fn keyword(&self, name: &str) -> Option<&Value> {
        self.keyword.iter().rev().find(|(k, _)| &**k == name).map(|(_, v)| v)
    }

    /// Checks the argument count the way Ruby checks a method's arity: keyword
    /// arguments travel as one extra trailing hash.
    pub fn expect(&self, name: &str, min: usize, max: usize) -> Result<(), String> {
        let given = self.positional.len() + usize::from(!self.keyword.is_empty());
        if given < min || given > max {
            let wanted = if min == max { format!("{min}") } else { format!("{min}..{max}") };
            return Err(format!("wrong number of arguments for '{name}' (given {given}, expected {wanted})"));
        }
        Ok(())
    }
}

/// What a builtin filter may need from the render.
pub(crate) struct FilterEnv {
    pub now: Option<i64>,
    /// Loop iterations left in the render; turning a range into an array spends them.
    pub budget: Cell<u64>,
    /// Longest string a filter may make.
    pub max_bytes: usize,
    /// Set when a filter stopped because a limit was reached.
    pub exhausted: Cell<Option<Exhausted>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    Items,
    Bytes,
}

impl FilterEnv {
    fn too_big(&self) -> String {
        self.exhausted.set(Some(Exhausted::Bytes));
        "result too large".into()
    }
}

pub(crate) type BuiltinFn = fn(&Value, &FilterArgs<'_>, &FilterEnv) -> Result<Value, String>;

pub(crate) fn builtin(name: &str) -> Option<BuiltinFn> {
    Some(match name {
        "abs" => abs,
        "append" => append,
        "at_least" => at_least,
        "at_most" => at_most,
        "base64_decode" => base64_decode,
        "base64_encode" => base64_encode,
        "base64_url_safe_decode" => base64_url_safe_decode,
        "base64_url_safe_encode" => base64_url_safe_encode,
        "capitalize" => capitalize,
        "ceil" => ceil,
        "compact" => compact,
        "concat" => concat,
        "date" => crate::date::date_filter,
        "default" => default,
        "divided_by" => divided_by,
        "downcase" => downcase,
        "escape" | "h" => escape,
        "escape_once" => escape_once,
        "find" => find,
        "find_index" => find_index,
        "first" => first,
        "floor" => floor,
        "has" => has,
        "join" => join,
        "last" => last,
        "lstrip" => lstrip,
        "map" => map,
        "minus" => minus,
        "modulo" => modulo,
        "newline_to_br" => newline_to_br,
        "plus" => plus,
        "prepend" => prepend,
        "reject" => reject,
        "remove" => remove,
        "remove_first" => remove_first,
        "remove_last" => remove_last,
        "replace" => replace,
        "replace_first" => replace_first,
        "replace_last" => replace_last,
        "reverse" => reverse,
        "round" => round,
        "rstrip" => rstrip,
        "size" => size,
        "slice" => slice,
        "sort" => sort,
        "sort_natural" => sort_natural,
        "split" => split,
        "strip" => strip,
        "strip_html" => strip_html,
        "strip_newlines" => strip_newlines,
        "squish" => squish,
        "sum" => sum,
        "times" => times,
        "truncate" => truncate,
        "truncatewords" => truncatewords,
        "uniq" => uniq,
        "upcase" => upcase,
        "url_decode" => url_decode,
        "url_encode" => url_encode,
        "where" => where_filter,
        _ => return None,
    })
}

type R = Result<Value, String>;

/// Longest text a filter makes of a non-string value; past it the result would be
/// refused by the output limit anyway, so the rest is not written out.
const TO_S_MAX: usize = 64 << 20;

pub(crate) fn to_s(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Str(s) => Cow::Borrowed(s),
        other => {
            let mut out = String::new();
            other.write_limited(&mut out, TO_S_MAX);
            Cow::Owned(out)
        }
    }
}

fn string(s: impl Into<String>) -> Value {
    Value::from(s.into())
}

/// Liquid's `InputIterator`: arrays flattened, a hash or scalar as a one-item list, nil as none.
pub(crate) fn items(v: &Value, env: &FilterEnv) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    match v {
        Value::Nil => {}
        Value::Array(a) => flatten_into(a, &mut out),
        Value::Range(a, b) => {
            let len = Value::range_len(*a, *b);
            let left = env.budget.get();
            if len > left {
                env.exhausted.set(Some(Exhausted::Items));
                return Err("range is too large".into());
            }
            env.budget.set(left - len);
            if len > 0 {
                out.extend((*a..=*b).map(Value::Int));
            }
        }
        other => out.push(other.clone()),
    }
    Ok(out)
}

fn flatten_into(a: &[Value], out: &mut Vec<Value>) {
    for v in a {
        match v {
            Value::Array(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

fn no_args(name: &'static str, f: fn(&Value) -> R) -> impl Fn(&Value, &FilterArgs<'_>) -> R {
    move |v, a| {
        a.expect(name, 0, 0)?;
        f(v)
    }
}

fn num_result(n: Num) -> Value {
    n.to_value()
}

fn abs(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("abs", |v| Ok(num_result(to_number(v).abs())))(v, a)
}

fn plus(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("plus", 1, 1)?;
    Ok(num_result(to_number(v).add(to_number(a.get(0)))))
}

fn minus(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("minus", 1, 1)?;
    Ok(num_result(to_number(v).sub(to_number(a.get(0)))))
}

fn times(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("times", 1, 1)?;
    Ok(num_result(to_number(v).mul(to_number(a.get(0)))))
}

fn divided_by(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("divided_by", 1, 1)?;
    to_number(v).div(to_number(a.get(0))).map(num_result).ok_or_else(|| "divided by 0".into())
}

fn modulo(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("modulo", 1, 1)?;
    to_number(v).rem(to_number(a.get(0))).map(num_result).ok_or_else(|| "divided by 0".into())
}

fn round(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("round", 0, 1)?;
    let digits = match to_number(a.get(0)) {
        Num::Int(i) => i,
        n => n.to_f64() as i64,
    };
    let r = to_number(v).round(digits);
    // BigDecimal#round gives an Integer for no (or negative) decimal places.
    if digits <= 0 {
        return Ok(match r {
            Num::Int(i) => Value::Int(i),
            other => other.floor(),
        });
    }
    Ok(num_result(r))
}

fn ceil(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("ceil", |v| Ok(to_number(v).ceil()))(v, a)
}

fn floor(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("floor", |v| Ok(to_number(v).floor()))(v, a)
}

fn at_least(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("at_least", 1, 1)?;
    let (x, y) = (to_number(v), to_number(a.get(0)));
    Ok(num_result(if y.cmp_num(x) == Ordering::Greater { y } else { x }))
}

fn at_most(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("at_most", 1, 1)?;
    let (x, y) = (to_number(v), to_number(a.get(0)));
    Ok(num_result(if y.cmp_num(x) == Ordering::Less { y } else { x }))
}

fn append(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("append", 1, 1)?;
    Ok(string(format!("{}{}", to_s(v), to_s(a.get(0)))))
}

fn prepend(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("prepend", 1, 1)?;
    Ok(string(format!("{}{}", to_s(a.get(0)), to_s(v))))
}

fn capitalize(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("capitalize", |v| {
        let s = to_s(v);
        let mut chars = s.chars();
        Ok(match chars.next() {
            Some(c) => string(c.to_uppercase().chain(chars.as_str().to_lowercase().chars()).collect::<String>()),
            None => string(""),
        })
    })(v, a)
}

fn downcase(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("downcase", |v| Ok(string(to_s(v).to_lowercase())))(v, a)
}

fn upcase(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("upcase", |v| Ok(string(to_s(v).to_uppercase())))(v, a)
}

fn escape_html(s: &str, once: bool) -> String {
    let mut out = String::with_capacity(s.len());
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

/// Whether text after `&` completes an entity: `name;` or `#digits;`.
fn is_entity(rest: &str) -> bool {
    let (body, numeric) = match rest.strip_prefix('#') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let len = body.bytes().take_while(|b| if numeric { b.is_ascii_digit() } else { b.is_ascii_alphabetic() }).count();
    len > 0 && body.as_bytes().get(len) == Some(&b';')
}

fn escape(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("escape", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    Ok(string(escape_html(&to_s(v), false)))
}

fn escape_once(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("escape_once", 0, 0)?;
    Ok(string(escape_html(&to_s(v), true)))
}

fn lstrip(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("lstrip", |v| Ok(string(to_s(v).trim_start_matches(is_strip))))(v, a)
}

fn rstrip(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("rstrip", |v| Ok(string(to_s(v).trim_end_matches(is_strip))))(v, a)
}

fn strip(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("strip", |v| Ok(string(to_s(v).trim_matches(is_strip))))(v, a)
}

fn squish(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("squish", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let s = to_s(v);
    Ok(string(s.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")))
}

fn strip_newlines(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("strip_newlines", |v| Ok(string(to_s(v).replace("\r\n", "").replace('\n', ""))))(v, a)
}

fn newline_to_br(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    no_args("newline_to_br", |v| Ok(string(to_s(v).replace("\r\n", "\n").replace('\n', "<br />\n"))))(v, a)
}

/// Removes `<open ... close>` spans. Like Liquid's, the match is case-sensitive.
fn remove_spans(s: &str, open: &str, close: &str) -> String {
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

fn strip_html(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("strip_html", 0, 0)?;
    let s = to_s(v);
    let s = remove_spans(&s, "<script", "</script>");
    let s = remove_spans(&s, "<!--", "-->");
    let s = remove_spans(&s, "<style", "</style>");
    Ok(string(remove_spans(&s, "<", ">")))
}

fn truncate(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
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

fn truncatewords(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
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
fn ruby_split(s: &str, pattern: &str) -> Vec<Value> {
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

fn split(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("split", 1, 1)?;
    Ok(Value::array(ruby_split(&to_s(v), &to_s(a.get(0)))))
}

fn replace(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("replace", 1, 2)?;
    let (s, from, to) = (to_s(v), to_s(a.get(0)), to_s(a.get(1)));
    // Replacing can multiply the size: check before building it.
    let hits = if from.is_empty() { s.chars().count() + 1 } else { s.matches(&*from).count() };
    if s.len().saturating_add(hits.saturating_mul(to.len())) > env.max_bytes {
        return Err(env.too_big());
    }
    Ok(string(replace_all(&s, &from, &to)))
}

fn replace_all(s: &str, from: &str, to: &str) -> String {
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

fn replace_first(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("replace_first", 1, 2)?;
    Ok(string(to_s(v).replacen(&*to_s(a.get(0)), &to_s(a.get(1)), 1)))
}

fn replace_last_str(s: &str, from: &str, to: &str) -> String {
    match s.rfind(from) {
        Some(i) => format!("{}{}{}", &s[..i], to, &s[i + from.len()..]),
        None => s.to_string(),
    }
}

fn replace_last(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("replace_last", 2, 2)?;
    Ok(string(replace_last_str(&to_s(v), &to_s(a.get(0)), &to_s(a.get(1)))))
}

fn remove(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("remove", 1, 1)?;
    Ok(string(replace_all(&to_s(v), &to_s(a.get(0)), "")))
}

fn remove_first(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("remove_first", 1, 1)?;
    Ok(string(to_s(v).replacen(&*to_s(a.get(0)), "", 1)))
}

fn remove_last(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("remove_last", 1, 1)?;
    Ok(string(replace_last_str(&to_s(v), &to_s(a.get(0)), "")))
}

/// Ruby's `slice(start, length)`: `None` where Ruby gives nil.
fn slice_range(len: usize, start: i64, count: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start.checked_add(len)? } else { start };
    if start < 0 || start > len || count < 0 {
        return None;
    }
    let end = start.saturating_add(count).min(len);
    Some((start as usize, end as usize))
}

fn slice(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
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

fn size(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("size", 0, 0)?;
    Ok(Value::Int(match v {
        Value::Str(s) => s.chars().count() as i64,
        Value::Array(items) => items.len() as i64,
        Value::Object(o) => o.len() as i64,
        Value::Range(x, y) => Value::range_len(*x, *y) as i64,
        // Ruby's Integer#size: the bytes in a machine word.
        Value::Int(_) => 8,
        _ => 0,
    }))
}

pub(crate) fn first_of(v: &Value) -> Value {
    match v {
        Value::Array(items) => items.first().cloned().unwrap_or_default(),
        Value::Object(o) => {
            o.iter().next().map(|(k, v)| Value::array(vec![Value::Str(k.clone()), v.clone()])).unwrap_or_default()
        }
        Value::Range(x, _) => Value::Int(*x),
        Value::Str(s) => s.chars().next().map(|c| string(c.to_string())).unwrap_or_default(),
        _ => Value::Nil,
    }
}

pub(crate) fn last_of(v: &Value) -> Value {
    match v {
        Value::Array(items) => items.last().cloned().unwrap_or_default(),
        Value::Range(_, y) => Value::Int(*y),
        Value::Str(s) => s.chars().next_back().map(|c| string(c.to_string())).unwrap_or_default(),
        _ => Value::Nil,
    }
}

fn first(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("first", 0, 0)?;
    Ok(first_of(v))
}

fn last(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("last", 0, 0)?;
    Ok(last_of(v))
}

fn join(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("join", 0, 1)?;
    let glue: Cow<'_, str> = if a.positional.is_empty() { Cow::Borrowed(" ") } else { to_s(a.get(0)) };
    let mut out = String::new();
    for (i, item) in items(v, env)?.iter().enumerate() {
        if i > 0 {
            out.push_str(&glue);
        }
        if !item.write_limited(&mut out, env.max_bytes) {
            return Err(env.too_big());
        }
    }
    Ok(string(out))
}

fn reverse(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("reverse", 0, 0)?;
    let mut list = items(v, env)?;
    list.reverse();
    Ok(Value::array(list))
}

fn concat(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("concat", 1, 1)?;
    let Value::Array(more) = a.get(0) else {
        return Err("concat filter requires an array argument".into());
    };
    let mut list = items(v, env)?;
    list.extend(more.iter().cloned());
    Ok(Value::array(list))
}

fn compact(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("compact", 0, 1)?;
    let list = items(v, env)?;
    let prop = a.get(0);
    if prop.is_nil() {
        return Ok(Value::array(list.into_iter().filter(|x| !x.is_nil()).collect()));
    }
    let mut out = Vec::new();
    for item in list {
        if !property(&item, prop)?.unwrap_or_default().is_nil() {
            out.push(item);
        }
    }
    Ok(Value::array(out))
}

fn default(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    if a.positional.len() > 1 {
        return Err(format!("wrong number of arguments for 'default' (given {}, expected 0..1)", a.positional.len()));
    }
    let allow_false = a.keyword("allow_false").is_some_and(Value::is_truthy);
    let falsy = if allow_false { v.is_nil() } else { !v.is_truthy() };
    if falsy || v.is_empty_value() {
        return Ok(a.positional.first().cloned().unwrap_or_else(|| Value::str("")));
    }
    Ok(v.clone())
}

/// Ruby's `item[property]`. `Err` for a type error (the filter fails);
/// `Ok(None)` when the item has no `[]` at all.
fn property(item: &Value, prop: &Value) -> Result<Option<Value>, String> {
    let bad = || Err(format!("cannot select the property '{}'", to_s(prop)));
    Ok(Some(match (item, prop) {
        (Value::Object(o), Value::Str(k)) => o.get(k).cloned().unwrap_or_default(),
        (Value::Object(_), _) => Value::Nil,
        (Value::Array(list), Value::Int(i)) => index(list, *i),
        (Value::Array(list), Value::Float(f)) => index(list, *f as i64),
        (Value::Array(_), _) => return bad(),
        (Value::Str(s), Value::Str(p)) => {
            if s.contains(&**p) {
                Value::Str(p.clone())
            } else {
                Value::Nil
            }
        }
        (Value::Str(s), Value::Int(i)) => {
            let n = s.chars().count() as i64;
            let i = if *i < 0 { i + n } else { *i };
            if (0..n).contains(&i) {
                s.chars().nth(i as usize).map(|c| string(c.to_string())).unwrap_or_default()
            } else {
                Value::Nil
            }
        }
        // Liquid's filters give up (nil) rather than fail on a string asked for a nil property.
        (Value::Str(_), Value::Nil) => return Ok(None),
        (Value::Str(_), _) => return bad(),
        // Integer#[] reads a bit.
        (Value::Int(n), Value::Int(k)) => Value::Int(bit(*n, *k)),
        (Value::Int(n), Value::Float(k)) => Value::Int(bit(*n, *k as i64)),
        (Value::Int(_), _) => return bad(),
        _ => return Ok(None),
    }))
}

fn bit(n: i64, k: i64) -> i64 {
    if k < 0 {
        0
    } else if k >= 64 {
        i64::from(n < 0)
    } else {
        (n >> k) & 1
    }
}

fn index(list: &[Value], i: i64) -> Value {
    let i = if i < 0 { i + list.len() as i64 } else { i };
    if i < 0 { Value::Nil } else { list.get(i as usize).cloned().unwrap_or_default() }
}

fn map(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("map", 1, 1)?;
    let prop = a.get(0);
    let mut out = Vec::new();
    for item in items(v, env)? {
        out.push(property(&item, prop)?.unwrap_or_default());
    }
    Ok(Value::array(out))
}

/// Which items the `where` family picks: truthy property, or property equal to a target.
/// `Ok(None)` when an item cannot be indexed at all, which makes Liquid's filter return nil.
fn select(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv, name: &str) -> Result<Option<Vec<(Value, bool)>>, String> {
    a.expect(name, 1, 2)?;
    let (prop, target) = (a.get(0), a.get(1));
    let mut out = Vec::new();
    for item in items(v, env)? {
        let Some(got) = property(&item, prop)? else {
            return Ok(None);
        };
        let hit = if target.is_nil() { got.is_truthy() } else { got.ruby_eq(target) };
        out.push((item, hit));
    }
    Ok(Some(out))
}

fn where_filter(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "where")?
        .map(|l| Value::array(l.into_iter().filter(|x| x.1).map(|x| x.0).collect()))
        .unwrap_or_default())
}

fn reject(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "reject")?
        .map(|l| Value::array(l.into_iter().filter(|x| !x.1).map(|x| x.0).collect()))
        .unwrap_or_default())
}

fn find(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "find")?.and_then(|l| l.into_iter().find(|x| x.1)).map(|x| x.0).unwrap_or_default())
}

fn find_index(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "find_index")?
        .and_then(|l| l.into_iter().position(|x| x.1))
        .map(|i| Value::Int(i as i64))
        .unwrap_or_default())
}

fn has(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "has")?.map(|l| Value::Bool(l.iter().any(|x| x.1))).unwrap_or_default())
}

/// Sorts with a comparison that may fail, as Ruby's `sort` raises on incomparable values.
fn sort_with(list: &mut [(Value, Value)], cmp: impl Fn(&Value, &Value) -> Option<Ordering>) -> Result<(), String> {
    let failed = Cell::new(false);
    list.sort_by(|a, b| {
        cmp(&a.1, &b.1).unwrap_or_else(|| {
            failed.set(true);
            Ordering::Equal
        })
    });
    if failed.get() { Err("cannot sort values of incompatible types".into()) } else { Ok(()) }
}

fn nil_safe(a: &Value, b: &Value, cmp: impl Fn(&Value, &Value) -> Option<Ordering>) -> Option<Ordering> {
    match (a.is_nil(), b.is_nil()) {
        (true, true) => Some(Ordering::Equal),
        (true, false) => Some(Ordering::Greater),
        (false, true) => Some(Ordering::Less),
        _ => cmp(a, b),
    }
}

fn keyed(v: &Value, prop: &Value, env: &FilterEnv) -> Result<Option<Vec<(Value, Value)>>, String> {
    let list = items(v, env)?;
    if prop.is_nil() {
        return Ok(Some(list.into_iter().map(|x| (x.clone(), x)).collect()));
    }
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        match property(&item, prop)? {
            Some(key) => out.push((item, key)),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

fn sort(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("sort", 0, 1)?;
    let Some(mut list) = keyed(v, a.get(0), env)? else { return Ok(Value::Nil) };
    sort_with(&mut list, |x, y| nil_safe(x, y, Value::ruby_cmp))?;
    Ok(Value::array(list.into_iter().map(|x| x.0).collect()))
}

fn sort_natural(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("sort_natural", 0, 1)?;
    let Some(mut list) = keyed(v, a.get(0), env)? else { return Ok(Value::Nil) };
    sort_with(&mut list, |x, y| {
        nil_safe(x, y, |x, y| Some(to_s(x).to_ascii_lowercase().cmp(&to_s(y).to_ascii_lowercase())))
    })?;
    Ok(Value::array(list.into_iter().map(|x| x.0).collect()))
}

/// A string equal for two values exactly when Ruby's `eql?` holds.
fn uniq_key(v: &Value) -> String {
    let mut key = String::from(match v {
        Value::Int(_) => "i",
        Value::Float(_) => "f",
        Value::Str(_) => "s",
        _ => "o",
    });
    v.write_inspect(&mut key);
    key
}

fn uniq(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("uniq", 0, 1)?;
    let Some(list) = keyed(v, a.get(0), env)? else { return Ok(Value::Nil) };
    let mut seen = HashSet::new();
    Ok(Value::array(list.into_iter().filter(|(_, k)| seen.insert(uniq_key(k))).map(|x| x.0).collect()))
}

fn sum(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("sum", 0, 1)?;
    let prop = a.get(0);
    let mut values = Vec::new();
    for item in items(v, env)? {
        if prop.is_nil() {
            values.push(item);
        } else {
            values.push(property(&item, prop)?.unwrap_or(Value::Int(0)));
        }
    }
    let mut total = Num::Int(0);
    let mut any_float = false;
    for item in items(&Value::array(values), env)? {
        let n = match item {
            // Ruby adds floats as floats, only strings go through BigDecimal.
            Value::Float(f) => {
                any_float = true;
                Num::Float(f)
            }
            other => to_number(&other),
        };
        total = if any_float { Num::Float(total.to_f64() + n.to_f64()) } else { total.add(n) };
    }
    Ok(num_result(total))
}

fn url_encode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("url_encode", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let mut out = String::new();
    for b in to_s(v).bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(string(out))
}

fn url_decode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("url_decode", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let s = to_s(v);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map(string).map_err(|_| "invalid byte sequence in url_decode".into())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(data: &[u8], url_safe: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                let mut c = B64[((n >> (18 - 6 * i)) & 63) as usize];
                if url_safe {
                    c = match c {
                        b'+' => b'-',
                        b'/' => b'_',
                        c => c,
                    };
                }
                out.push(c as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_decode(s: &str, url_safe: bool) -> Option<Vec<u8>> {
    let mut s = s.to_string();
    if url_safe && !s.len().is_multiple_of(4) && !s.ends_with('=') {
        s.extend(std::iter::repeat_n('=', 4 - s.len() % 4));
    }
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !url_safe => 62,
            b'/' if !url_safe => 63,
            b'-' if url_safe => 62,
            b'_' if url_safe => 63,
            _ => return None,
        } as u32)
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (ci, chunk) in bytes.chunks(4).enumerate() {
        let last = ci == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

fn base64_encode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_encode", 0, 0)?;
    Ok(string(b64_encode(to_s(v).as_bytes(), false)))
}

fn base64_url_safe_encode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_url_safe_encode", 0, 0)?;
    Ok(string(b64_encode(to_s(v).as_bytes(), true)))
}

fn base64_decode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_decode", 0, 0)?;
    b64_decode(&to_s(v), false)
        .map(|b| string(String::from_utf8_lossy(&b).into_owned()))
        .ok_or_else(|| "invalid base64 provided to base64_decode".into())
}

fn base64_url_safe_decode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_url_safe_decode", 0, 0)?;
    b64_decode(&to_s(v), true)
        .map(|b| string(String::from_utf8_lossy(&b).into_owned()))
        .ok_or_else(|| "invalid base64 provided to base64_url_safe_decode".into())
}

/// A hash snapshot of a loop object or similar, for when a template takes it whole.
pub(crate) fn object_of(pairs: Vec<(&str, Value)>) -> Value {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(k, v);
    }
    Value::object(o)
}
