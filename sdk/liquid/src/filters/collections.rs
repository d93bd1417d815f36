//! Array and hash filters, Liquid's `InputIterator` semantics included.

use super::*;

pub(super) fn size(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
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

pub(super) fn first(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("first", 0, 0)?;
    Ok(first_of(v))
}

pub(super) fn last(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("last", 0, 0)?;
    Ok(last_of(v))
}

pub(super) fn join(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
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

pub(super) fn reverse(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("reverse", 0, 0)?;
    let mut list = items(v, env)?;
    list.reverse();
    Ok(Value::array(list))
}

pub(super) fn concat(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("concat", 1, 1)?;
    let Value::Array(more) = a.get(0) else {
        return Err("concat filter requires an array argument".into());
    };
    let mut list = items(v, env)?;
    list.extend(more.iter().cloned());
    Ok(Value::array(list))
}

pub(super) fn compact(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
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

pub(super) fn default(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
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
pub(super) fn property(item: &Value, prop: &Value) -> Result<Option<Value>, String> {
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

pub(super) fn bit(n: i64, k: i64) -> i64 {
    if k < 0 {
        0
    } else if k >= 64 {
        i64::from(n < 0)
    } else {
        (n >> k) & 1
    }
}

pub(super) fn index(list: &[Value], i: i64) -> Value {
    let i = if i < 0 { i + list.len() as i64 } else { i };
    if i < 0 { Value::Nil } else { list.get(i as usize).cloned().unwrap_or_default() }
}

pub(super) fn map(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
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
pub(super) fn select(
    v: &Value,
    a: &FilterArgs<'_>,
    env: &FilterEnv,
    name: &str,
) -> Result<Option<Vec<(Value, bool)>>, String> {
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

pub(super) fn where_filter(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "where")?
        .map(|l| Value::array(l.into_iter().filter(|x| x.1).map(|x| x.0).collect()))
        .unwrap_or_default())
}

pub(super) fn reject(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "reject")?
        .map(|l| Value::array(l.into_iter().filter(|x| !x.1).map(|x| x.0).collect()))
        .unwrap_or_default())
}

pub(super) fn find(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "find")?.and_then(|l| l.into_iter().find(|x| x.1)).map(|x| x.0).unwrap_or_default())
}

pub(super) fn find_index(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "find_index")?
        .and_then(|l| l.into_iter().position(|x| x.1))
        .map(|i| Value::Int(i as i64))
        .unwrap_or_default())
}

pub(super) fn has(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    Ok(select(v, a, env, "has")?.map(|l| Value::Bool(l.iter().any(|x| x.1))).unwrap_or_default())
}

/// Sorts with a comparison that may fail, as Ruby's `sort` raises on incomparable values.
pub(super) fn sort_with(
    list: &mut [(Value, Value)],
    cmp: impl Fn(&Value, &Value) -> Option<Ordering>,
) -> Result<(), String> {
    let failed = Cell::new(false);
    list.sort_by(|a, b| {
        cmp(&a.1, &b.1).unwrap_or_else(|| {
            failed.set(true);
            Ordering::Equal
        })
    });
    if failed.get() { Err("cannot sort values of incompatible types".into()) } else { Ok(()) }
}

pub(super) fn nil_safe(a: &Value, b: &Value, cmp: impl Fn(&Value, &Value) -> Option<Ordering>) -> Option<Ordering> {
    match (a.is_nil(), b.is_nil()) {
        (true, true) => Some(Ordering::Equal),
        (true, false) => Some(Ordering::Greater),
        (false, true) => Some(Ordering::Less),
        _ => cmp(a, b),
    }
}

pub(super) fn keyed(v: &Value, prop: &Value, env: &FilterEnv) -> Result<Option<Vec<(Value, Value)>>, String> {
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

pub(super) fn sort(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("sort", 0, 1)?;
    let Some(mut list) = keyed(v, a.get(0), env)? else { return Ok(Value::Nil) };
    sort_with(&mut list, |x, y| nil_safe(x, y, Value::ruby_cmp))?;
    Ok(Value::array(list.into_iter().map(|x| x.0).collect()))
}

pub(super) fn sort_natural(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("sort_natural", 0, 1)?;
    let Some(mut list) = keyed(v, a.get(0), env)? else { return Ok(Value::Nil) };
    sort_with(&mut list, |x, y| {
        nil_safe(x, y, |x, y| Some(to_s(x).to_ascii_lowercase().cmp(&to_s(y).to_ascii_lowercase())))
    })?;
    Ok(Value::array(list.into_iter().map(|x| x.0).collect()))
}

/// A string equal for two values exactly when Ruby's `eql?` holds.
pub(super) fn uniq_key(v: &Value) -> String {
    let mut key = String::from(match v {
        Value::Int(_) => "i",
        Value::Float(_) => "f",
        Value::Str(_) => "s",
        _ => "o",
    });
    v.write_inspect(&mut key);
    key
}

pub(super) fn uniq(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
    a.expect("uniq", 0, 1)?;
    let Some(list) = keyed(v, a.get(0), env)? else { return Ok(Value::Nil) };
    let mut seen = HashSet::new();
    Ok(Value::array(list.into_iter().filter(|(_, k)| seen.insert(uniq_key(k))).map(|x| x.0).collect()))
}

pub(super) fn sum(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> R {
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
