//! How values are read, compared and tested in conditions.

use super::*;

pub(super) fn range_bound(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Str(s) => ruby_to_i(s),
        _ => 0,
    }
}

/// `object.key`/`object[key]`, with Liquid's `size`, `first` and `last` for dotted names.
pub(crate) fn property(v: &Value, key: &Value, dot: bool) -> Value {
    let command = match key {
        Value::Str(k) if dot => Some(&**k),
        _ => None,
    };
    match (v, key) {
        (Value::Object(o), Value::Str(k)) => {
            if let Some(found) = o.get(k) {
                return found.clone();
            }
            match command {
                Some("size") => Value::Int(o.len() as i64),
                Some("first") => first_of(v),
                _ => Value::Nil,
            }
        }
        (Value::Array(a), Value::Int(i)) => {
            let i = if *i < 0 { i + a.len() as i64 } else { *i };
            if i < 0 { Value::Nil } else { a.get(i as usize).cloned().unwrap_or_default() }
        }
        (Value::Array(a), _) => match command {
            Some("size") => Value::Int(a.len() as i64),
            Some("first") => first_of(v),
            Some("last") => last_of(v),
            _ => Value::Nil,
        },
        (Value::Str(s), _) => match command {
            Some("size") => Value::Int(s.chars().count() as i64),
            Some("first") => first_of(v),
            Some("last") => last_of(v),
            _ => Value::Nil,
        },
        (Value::Range(a, b), _) => match command {
            Some("size") => Value::Int(Value::range_len(*a, *b) as i64),
            Some("first") => first_of(v),
            Some("last") => last_of(v),
            _ => Value::Nil,
        },
        (Value::Int(_), _) if command == Some("size") => Value::Int(8),
        _ => Value::Nil,
    }
}

/// Liquid `==`, where `empty` and `blank` ask the other side whether it is empty or blank.
pub(crate) fn equal(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Empty, Value::Empty) | (Value::Blank, Value::Blank) => true,
        (Value::Empty, Value::Blank) | (Value::Blank, Value::Empty) => false,
        (Value::Empty, x) | (x, Value::Empty) => x.is_empty_value(),
        (Value::Blank, x) | (x, Value::Blank) => x.is_blank_value(),
        _ => l.ruby_eq(r),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "Integer",
        Value::Float(_) => "Float",
        _ => "String",
    }
}

/// Only numbers and strings order; like Ruby, a string against a number is an error
/// and anything else (nil, arrays, hashes) compares false.
pub(super) fn compare(l: &Value, op: Op, r: &Value) -> Result<bool, String> {
    use std::cmp::Ordering::*;
    Ok(match op {
        Op::Eq => equal(l, r),
        Op::Ne => !equal(l, r),
        Op::Contains => contains(l, r),
        _ => {
            let num = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
            let text = |v: &Value| matches!(v, Value::Str(_));
            if (num(l) && text(r)) || (text(l) && num(r)) {
                return Err(format!("comparison of {} with {} failed", type_name(l), type_name(r)));
            }
            if !((num(l) && num(r)) || (text(l) && text(r))) {
                return Ok(false);
            }
            let Some(ord) = l.ruby_cmp(r) else { return Ok(false) };
            match op {
                Op::Lt => ord == Less,
                Op::Gt => ord == Greater,
                Op::Le => ord != Greater,
                _ => ord != Less,
            }
        }
    })
}

fn contains(l: &Value, r: &Value) -> bool {
    if !r.is_truthy() {
        return false;
    }
    match l {
        Value::Str(s) => s.contains(&*to_s(r)),
        Value::Array(items) => items.iter().any(|x| x.ruby_eq(r)),
        Value::Object(o) => matches!(r, Value::Str(k) if o.get(k).is_some()),
        Value::Range(a, b) => match r {
            Value::Int(i) => a <= i && i <= b,
            Value::Float(f) => (*a as f64) <= *f && *f <= (*b as f64),
            _ => false,
        },
        _ => false,
    }
}
