//! The values templates work on: JSON-like data plus Liquid's ranges and `empty`/`blank`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::number::{write_float, write_int};

/// A value seen by a template.
///
/// Cheap to clone: strings, arrays and objects are shared.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// `nil`, and anything undefined.
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Array(Arc<Vec<Value>>),
    Object(Arc<Object>),
    /// `(start..end)`, both ends included.
    Range(i64, i64),
    /// The `empty` literal.
    Empty,
    /// The `blank` literal.
    Blank,
}

/// Objects beyond this many keys get a hash index; below it a scan is
/// faster, and building the index cost more than the lookups of a page's
/// objects (a product has some 30 keys) saved.
const INDEX_AT: usize = 32;

/// A JSON object that keeps its keys in insertion order, as Ruby hashes do.
#[derive(Debug, Clone, Default)]
pub struct Object {
    entries: Vec<(Arc<str>, Value)>,
    index: Option<HashMap<Arc<str>, usize>>,
}

impl Object {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.index {
            Some(index) => index.get(key).map(|&i| &self.entries[i].1),
            None => self.entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
        }
    }

    /// Sets `key`, keeping its first position when it is already there.
    pub fn insert(&mut self, key: impl Into<Arc<str>>, value: Value) {
        let key = key.into();
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.entries.iter().position(|(k, _)| *k == key),
        };
        if let Some(i) = found {
            self.entries[i].1 = value;
            return;
        }
        self.entries.push((key.clone(), value));
        if let Some(index) = &mut self.index {
            index.insert(key, self.entries.len() - 1);
        } else {
            self.index = index_of(&self.entries);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// An object of entries whose keys are known to differ (a JSON map's),
    /// without checking each key against those before it.
    fn from_unique(entries: Vec<(Arc<str>, Value)>) -> Object {
        Object { index: index_of(&entries), entries }
    }
}

/// The hash index of `entries` when there are enough of them to need one.
fn index_of(entries: &[(Arc<str>, Value)]) -> Option<HashMap<Arc<str>, usize>> {
    (entries.len() > INDEX_AT).then(|| entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect())
}

impl FromIterator<(String, Value)> for Object {
    fn from_iter<T: IntoIterator<Item = (String, Value)>>(iter: T) -> Self {
        let mut object = Object::new();
        for (k, v) in iter {
            object.insert(k, v);
        }
        object
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    pub fn object(object: Object) -> Value {
        Value::Object(Arc::new(object))
    }

    /// Liquid truthiness: only `nil` and `false` are false.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Ruby's `empty?`, for the values that answer it.
    pub(crate) fn is_empty_value(&self) -> bool {
        match self {
            Value::Str(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::Empty | Value::Blank => true,
            _ => false,
        }
    }

    /// Rails' `blank?`: nil, false, whitespace-only strings and empty collections.
    pub(crate) fn is_blank_value(&self) -> bool {
        match self {
            Value::Nil | Value::Bool(false) => true,
            Value::Str(s) => s.chars().all(char::is_whitespace),
            other => other.is_empty_value(),
        }
    }

    /// The text `{{ value }}` writes.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    pub(crate) fn write_to(&self, out: &mut String) {
        self.write_limited(out, usize::MAX);
    }

    /// Writes like [`Value::write_to`] but stops once `out` is longer than `max`
    /// (an array of many shared copies of a big string would otherwise write without end).
    /// Returns whether it wrote everything.
    pub(crate) fn write_limited(&self, out: &mut String, max: usize) -> bool {
        if let Value::Array(items) = self {
            return items.iter().all(|v| v.write_limited(out, max) && out.len() <= max);
        }
        self.write_scalar(out);
        out.len() <= max
    }

    fn write_scalar(&self, out: &mut String) {
        match self {
            Value::Nil | Value::Empty | Value::Blank => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => write_int(*i, out),
            Value::Float(f) => write_float(*f, out),
            Value::Str(s) => out.push_str(s),
            // Ruby's Array#join flattens nested arrays.
            Value::Array(items) => items.iter().for_each(|v| v.write_scalar(out)),
            Value::Object(_) => self.write_inspect(out),
            Value::Range(a, b) => {
                let _ = write!(out, "{a}..{b}");
            }
        }
    }

    /// Ruby's `inspect`, which is how a hash renders.
    pub(crate) fn write_inspect(&self, out: &mut String) {
        match self {
            Value::Nil | Value::Empty | Value::Blank => out.push_str("nil"),
            Value::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_inspect(out);
                }
                out.push(']');
            }
            Value::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    Value::Str(k.clone()).write_inspect(out);
                    out.push_str("=>");
                    v.write_inspect(out);
                }
                out.push('}');
            }
            other => other.write_to(out),
        }
    }

    /// Ruby `==`.
    pub(crate) fn ruby_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => (*a as f64) == *b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.ruby_eq(y))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.ruby_eq(w)))
            }
            (Value::Range(a, b), Value::Range(c, d)) => a == c && b == d,
            (Value::Empty, Value::Empty) | (Value::Blank, Value::Blank) => true,
            _ => false,
        }
    }

    /// Ruby `<=>`, `None` where Ruby gives nil (incomparable types).
    pub(crate) fn ruby_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
            (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Str(a), Value::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Value::Array(a), Value::Array(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.ruby_cmp(y)? {
                        Ordering::Equal => {}
                        o => return Some(o),
                    }
                }
                Some(a.len().cmp(&b.len()))
            }
            (Value::Nil, Value::Nil) => Some(Ordering::Equal),
            (Value::Bool(a), Value::Bool(b)) if a == b => Some(Ordering::Equal),
            _ if self.ruby_eq(other) => Some(Ordering::Equal),
            _ => None,
        }
    }

    /// Number of elements a range stands for.
    pub(crate) fn range_len(a: i64, b: i64) -> u64 {
        if b < a { 0 } else { (b as i128 - a as i128 + 1) as u64 }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl Value {
    /// The value as JSON: ranges become arrays of their numbers (at most
    /// 100,000, as a render's loop budget would allow), `empty` and `blank` the
    /// empty string, floats that JSON cannot hold (NaN, infinities) `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::Array(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(o) => J::Object(o.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect()),
            Value::Range(a, b) => J::Array((*a..=*b).take(100_000).map(J::from).collect()),
            Value::Empty | Value::Blank => J::String(String::new()),
        }
    }
}

/// Written as JSON with objects in their keys' order, as Ruby writes a hash,
/// and with nothing built in between: the `json` filter and plugins that
/// answer with the objects their pages render use it. The values are those
/// of [`Value::to_json`].
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::Str(text) => s.serialize_str(text),
            Value::Array(items) => s.collect_seq(items.iter()),
            Value::Object(o) => s.collect_map(o.iter().map(|(k, v)| (&**k, v))),
            Value::Range(a, b) => s.collect_seq((*a..=*b).take(100_000)),
            Value::Empty | Value::Blank => s.serialize_str(""),
        }
    }
}

impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(items) => Value::array(items.iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => Value::object(Object::from_unique(
                map.iter().map(|(k, v)| (Arc::<str>::from(k.as_str()), Value::from(v))).collect(),
            )),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        Value::from(&json)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Arc::from(s))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Deserializing straight into a `Value` keeps object keys in document order,
/// which `serde_json::Value` only does with a feature this workspace does not enable.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map(Value::Int).unwrap_or(Value::Float(u as f64)))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Object::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            object.insert(k, v);
        }
        Ok(Value::object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small objects are scanned and large ones indexed; both must find
    /// every key, keep the order keys came in and keep a key's place when it
    /// is set again, however they were built.
    #[test]
    fn objects_of_every_size_find_keys_and_keep_their_order() {
        for size in [0, 1, INDEX_AT, INDEX_AT + 1, 3 * INDEX_AT] {
            let keys: Vec<String> = (0..size).rev().map(|i| format!("k{i}")).collect();
            let mut inserted = Object::new();
            let mut json = serde_json::Map::new();
            for (i, key) in keys.iter().enumerate() {
                inserted.insert(key.as_str(), Value::Int(i as i64));
                json.insert(key.clone(), serde_json::json!(i));
            }
            let Value::Object(converted) = Value::from(serde_json::Value::Object(json)) else {
                panic!("not an object")
            };
            for object in [&inserted, &*converted] {
                assert_eq!(object.len(), size);
                for key in &keys {
                    let found = object.get(key).unwrap_or_else(|| panic!("{key} missing at size {size}"));
                    assert!(matches!(found, Value::Int(_)));
                }
                assert!(object.get("absent").is_none());
            }
            let order: Vec<&str> = inserted.iter().map(|(k, _)| &**k).collect();
            assert_eq!(order, keys.iter().map(String::as_str).collect::<Vec<_>>());
            let mut again = (*converted).clone();
            if let Some(first) = keys.first() {
                again.insert(first.as_str(), Value::Bool(true));
                assert_eq!(again.len(), size);
                assert!(matches!(again.get(first), Some(Value::Bool(true))));
                again.insert("new", Value::Nil);
                assert_eq!(again.iter().last().map(|(k, _)| &**k), Some("new"));
                assert!(again.get("new").is_some_and(Value::is_nil));
            }
        }
    }
}
