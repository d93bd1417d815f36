//! The standard filters, with the argument checks and type coercions of Shopify's Liquid.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use crate::lexer::is_strip;
use crate::number::{Num, to_integer, to_number};
use crate::value::{Object, Value};

mod collections;
mod encoding;
mod math;
mod text;

use collections::*;
pub(crate) use collections::{first_of, last_of};
use encoding::*;
use math::*;
use text::*;

/// The arguments a filter was called with: `{{ x | f: a, b, key: c }}`,
/// and the render's context ([`crate::RenderOptions::with_context`]).
#[derive(Clone, Copy)]
pub struct FilterArgs<'a> {
    pub positional: &'a [Value],
    pub keyword: &'a [(Arc<str>, Value)],
    pub(crate) context: Option<&'a (dyn Any + Send + Sync)>,
}

impl std::fmt::Debug for FilterArgs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterArgs")
            .field("positional", &self.positional)
            .field("keyword", &self.keyword)
            .field("context", &self.context.is_some())
            .finish()
    }
}

impl<'a> FilterArgs<'a> {
    /// Arguments without a render context, for calling a filter directly.
    pub fn new(positional: &'a [Value], keyword: &'a [(Arc<str>, Value)]) -> Self {
        FilterArgs { positional, keyword, context: None }
    }

    /// The render's context, when it is a `T`: what a filter needs to know of the
    /// render it runs in (a page's money format, its translations). Filters take
    /// it here rather than capturing it, so a parsed template serves every render.
    pub fn context<T: Any>(&self) -> Option<&'a T> {
        self.context?.downcast_ref::<T>()
    }
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
        "json" => json,
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

/// A hash snapshot of a loop object or similar, for when a template takes it whole.
pub(crate) fn object_of(pairs: Vec<(&str, Value)>) -> Value {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(k, v);
    }
    Value::object(o)
}

pub(crate) fn escape_html(text: &str) -> String {
    text::escape_html(text, false)
}
