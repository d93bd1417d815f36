//! Walks the node tree against the variables, under the render's limits.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::{
    Bind, Branch, CaseArm, Comparison, Condition, Expr, FilterFn, Filtered, ForTag, Logic, Node, Offset, Op,
    PartialTag, Root, Seg, TablerowTag, Var,
};
use crate::error::Error;
use crate::filters::{Exhausted, FilterArgs, FilterEnv, first_of, last_of, object_of, to_s};
use crate::number::{ruby_to_i, to_integer};
use crate::value::{Object, Value};
use crate::{Config, RenderOptions, Template, parser};

mod loops;
mod partials;
mod values;

use loops::{Seq, seq_items};
use values::{compare, equal, property, range_bound};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// A variable slot: a value, or a loop object (`forloop`, `tablerowloop`) read lazily
/// so that loops do not build an object per iteration.
#[derive(Debug, Clone)]
enum Slot {
    Val(Value),
    Loop(usize),
}

#[derive(Debug)]
struct LoopInfo {
    name: Arc<str>,
    index0: usize,
    length: usize,
    parent: Option<usize>,
    /// `(col, row, cols)` for `tablerow`.
    table: Option<(i64, i64, i64)>,
    /// Only `for` tags are `parentloop`s: not `tablerow`, nor the loop of `render ... for`.
    is_for_tag: bool,
}

/// The variables one template sees. `render` gives its partial a fresh one.
struct Env<'a> {
    globals: Option<&'a Object>,
    /// Where `assign` and `capture` write.
    locals: HashMap<Arc<str>, Value>,
    /// Loop variables and `include` arguments, innermost last.
    frames: Vec<Vec<(Arc<str>, Slot)>>,
    counters: HashMap<Arc<str>, i64>,
    loops: Vec<LoopInfo>,
}

impl<'a> Env<'a> {
    fn new(globals: Option<&'a Object>) -> Self {
        Env { globals, locals: HashMap::new(), frames: Vec::new(), counters: HashMap::new(), loops: Vec::new() }
    }
}

struct Renderer<'a> {
    opts: &'a RenderOptions<'a>,
    config: &'a Config,
    shared: Option<&'a Object>,
    iterations_left: u64,
    work: u64,
    depth: usize,
    partial_depth: usize,
    cycles: Vec<(Value, usize)>,
    offsets: HashMap<Arc<str>, i64>,
    ifchanged: Option<String>,
    partials: HashMap<String, Arc<Vec<Node>>>,
    env: Env<'a>,
}

pub(crate) fn render(t: &Template, globals: &Value, opts: &RenderOptions<'_>) -> Result<String, Error> {
    let globals = match globals {
        Value::Object(o) => Some(&**o),
        _ => None,
    };
    let shared = opts.shared.and_then(|s| match s {
        Value::Object(o) => Some(&**o),
        _ => None,
    });
    let mut r = Renderer {
        opts,
        config: &t.config,
        shared,
        iterations_left: opts.max_loop_iterations,
        work: 0,
        depth: 0,
        partial_depth: 0,
        cycles: Vec::new(),
        offsets: HashMap::new(),
        ifchanged: None,
        partials: HashMap::new(),
        env: Env::new(globals),
    };
    let mut out = String::new();
    r.render_nodes(&t.nodes, &mut out)?;
    Ok(out)
}

enum Cur {
    V(Value),
    L(usize),
}

impl<'a> Renderer<'a> {
    fn limit(&self, message: String) -> Error {
        Error::Limit(message)
    }

    fn spend(&mut self, n: u64) -> Result<(), Error> {
        if self.iterations_left < n {
            return Err(self.limit(format!(
                "loop limit exceeded: more than {} iterations in one render",
                self.opts.max_loop_iterations
            )));
        }
        self.iterations_left -= n;
        Ok(())
    }

    fn charge(&mut self, bytes: usize) -> Result<(), Error> {
        self.work = self.work.saturating_add(bytes as u64);
        if self.work > self.opts.max_work_bytes {
            return Err(
                self.limit(format!("render limit exceeded: more than {} bytes produced", self.opts.max_work_bytes))
            );
        }
        Ok(())
    }

    fn wrote(&mut self, out: &str, before: usize) -> Result<(), Error> {
        self.charge(out.len() - before)?;
        if out.len() > self.opts.max_output_bytes {
            return Err(self.limit(format!("output limit exceeded: more than {} bytes", self.opts.max_output_bytes)));
        }
        Ok(())
    }

    fn write_str(&mut self, s: &str, out: &mut String) -> Result<(), Error> {
        let before = out.len();
        out.push_str(s);
        self.wrote(out, before)
    }

    fn write_value(&mut self, v: &Value, out: &mut String) -> Result<(), Error> {
        let before = out.len();
        v.write_limited(out, self.opts.max_output_bytes.saturating_add(1));
        self.wrote(out, before)
    }

    fn render_nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, Error> {
        if self.depth >= self.opts.max_render_depth {
            return Err(self.limit(format!("blocks nested more than {} deep", self.opts.max_render_depth)));
        }
        self.depth += 1;
        let result = self.render_nodes_inner(nodes, out);
        self.depth -= 1;
        result
    }

    fn render_nodes_inner(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, Error> {
        for node in nodes {
            let flow = match self.render_node(node, out) {
                Ok(flow) => flow,
                // Like Liquid's lax rendering: show the error where it happened and go on.
                // Limits and syntax errors in partials still end the render.
                Err(e @ Error::Render { .. }) if self.opts.inline_errors => {
                    self.write_str(&e.to_string(), out)?;
                    Flow::Normal
                }
                Err(e) => return Err(e),
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn render_node(&mut self, node: &Node, out: &mut String) -> Result<Flow, Error> {
        Ok({
            match node {
                Node::Text(t) | Node::Raw(t) => {
                    self.write_str(t, out)?;
                    Flow::Normal
                }
                Node::Output(f, line) => {
                    let v = self.eval_filtered(f, *line)?;
                    self.write_value(&v, out)?;
                    Flow::Normal
                }
                Node::Assign(name, f, line) => {
                    let v = self.eval_filtered(f, *line)?;
                    self.env.locals.insert(name.clone(), v);
                    Flow::Normal
                }
                Node::Capture(name, body) => self.render_capture(name, body)?,
                Node::If(branches, unless) => self.render_if(branches, *unless, out)?,
                Node::Case(subject, arms) => self.render_case(subject, arms, out)?,
                Node::For(f) => self.render_for(f, out)?,
                Node::Tablerow(t) => self.render_tablerow(t, out)?,
                Node::Cycle { group, key, values } => self.render_cycle(group.as_ref(), key, values, out)?,
                Node::Increment(name) => self.render_counter(name, 1, out)?,
                Node::Decrement(name) => self.render_counter(name, -1, out)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
                Node::Partial(p) => self.render_partial(p, out)?,
                Node::IfChanged(body) => self.render_ifchanged(body, out)?,
            }
        })
    }

    #[inline(never)]
    fn render_capture(&mut self, name: &Arc<str>, body: &[Node]) -> Result<Flow, Error> {
        let mut buf = String::new();
        let flow = self.render_nodes(body, &mut buf)?;
        self.env.locals.insert(name.clone(), Value::from(buf));
        Ok(flow)
    }

    #[inline(never)]
    fn render_ifchanged(&mut self, body: &[Node], out: &mut String) -> Result<Flow, Error> {
        let mut buf = String::new();
        let flow = self.render_nodes(body, &mut buf)?;
        if self.ifchanged.as_deref() != Some(buf.as_str()) {
            self.write_str(&buf, out)?;
            self.ifchanged = Some(buf);
        }
        Ok(flow)
    }

    #[inline(never)]
    fn render_if(&mut self, branches: &[Branch], unless: bool, out: &mut String) -> Result<Flow, Error> {
        for (i, branch) in branches.iter().enumerate() {
            let hit = match &branch.cond {
                None => true,
                Some(c) => self.eval_condition(c)? != (unless && i == 0),
            };
            if hit {
                return self.render_nodes(&branch.body, out);
            }
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn render_case(&mut self, subject: &Expr, arms: &[CaseArm], out: &mut String) -> Result<Flow, Error> {
        let subject = self.eval(subject);
        let mut run_else = true;
        for arm in arms {
            match arm {
                CaseArm::When(values, body) => {
                    for v in values {
                        let v = self.eval(v);
                        if equal(&subject, &v) {
                            run_else = false;
                            let flow = self.render_nodes(body, out)?;
                            if flow != Flow::Normal {
                                return Ok(flow);
                            }
                        }
                    }
                }
                CaseArm::Else(body) if run_else => {
                    let flow = self.render_nodes(body, out)?;
                    if flow != Flow::Normal {
                        return Ok(flow);
                    }
                }
                CaseArm::Else(_) => {}
            }
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn render_cycle(
        &mut self,
        group: Option<&Expr>,
        key: &Arc<str>,
        values: &[Expr],
        out: &mut String,
    ) -> Result<Flow, Error> {
        let key = match group {
            Some(g) => self.eval(g),
            None => Value::Str(key.clone()),
        };
        let slot = self.cycles.iter().position(|(k, _)| k.ruby_eq(&key));
        let iteration = slot.map_or(0, |i| self.cycles[i].1);
        let value = values.get(iteration).map(|e| self.eval(e)).unwrap_or_default();
        self.write_value(&value, out)?;
        let next = if iteration + 1 >= values.len() { 0 } else { iteration + 1 };
        match slot {
            Some(i) => self.cycles[i].1 = next,
            None => self.cycles.push((key, next)),
        }
        Ok(Flow::Normal)
    }

    fn render_counter(&mut self, name: &Arc<str>, step: i64, out: &mut String) -> Result<Flow, Error> {
        let current = match self.env.counters.get(name) {
            Some(c) => *c,
            None => match self.env.globals.and_then(|g| g.get(name)) {
                Some(Value::Int(i)) => *i,
                _ => 0,
            },
        };
        let next = current.saturating_add(step);
        let shown = if step > 0 { current } else { next };
        self.env.counters.insert(name.clone(), next);
        self.write_value(&Value::Int(shown), out)?;
        Ok(Flow::Normal)
    }

    fn eval_filtered(&mut self, f: &Filtered, line: usize) -> Result<Value, Error> {
        let Some(expr) = &f.expr else {
            return Ok(Value::Nil);
        };
        let mut value = self.eval(expr);
        for call in &f.filters {
            if matches!(call.func, FilterFn::Unknown) {
                continue;
            }
            let args: Vec<Value> = call.args.iter().map(|a| self.eval(a)).collect();
            let kwargs: Vec<(Arc<str>, Value)> = call.kwargs.iter().map(|(k, a)| (k.clone(), self.eval(a))).collect();
            let fa = FilterArgs { positional: &args, keyword: &kwargs, context: self.opts.context };
            let env = FilterEnv {
                now: self.opts.now,
                budget: Cell::new(self.iterations_left),
                max_bytes: self.opts.max_output_bytes,
                exhausted: Cell::new(None),
            };
            let result = match &call.func {
                FilterFn::Builtin(f) => f(&value, &fa, &env),
                FilterFn::Custom(f) => f.apply(&value, &fa),
                FilterFn::Unknown => Ok(value.clone()),
            };
            self.iterations_left = env.budget.get();
            match env.exhausted.get() {
                Some(Exhausted::Items) => {
                    return Err(self.limit(format!(
                        "loop limit exceeded: filter '{}' would make more than {} items",
                        call.name, self.opts.max_loop_iterations
                    )));
                }
                Some(Exhausted::Bytes) => {
                    return Err(self.limit(format!(
                        "output limit exceeded: filter '{}' would make more than {} bytes",
                        call.name, self.opts.max_output_bytes
                    )));
                }
                None => {}
            }
            value = result.map_err(|m| Error::render(line, format!("{}: {m}", call.name)))?;
            let size = match &value {
                Value::Str(s) => s.len(),
                Value::Array(a) => a.len(),
                _ => 0,
            };
            self.charge(size)?;
            if size > self.opts.max_output_bytes {
                return Err(self.limit(format!(
                    "output limit exceeded: filter '{}' made a value of more than {} bytes",
                    call.name, self.opts.max_output_bytes
                )));
            }
        }
        Ok(value)
    }

    fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Lit(v) => v.clone(),
            Expr::Var(v) => self.lookup(v),
            Expr::Range(a, b) => Value::Range(range_bound(&self.eval(a)), range_bound(&self.eval(b))),
        }
    }

    fn lookup(&self, var: &Var) -> Value {
        let mut cur = match &var.root {
            Root::Name(n) => self.lookup_name(n),
            Root::Dynamic(e) => match self.eval(e) {
                Value::Str(s) => self.lookup_name(&s),
                _ => return Value::Nil,
            },
        };
        for seg in &var.path {
            cur = match seg {
                Seg::Dot(k) => self.get(cur, &Value::Str(k.clone()), true),
                Seg::Index(e) => self.get(cur, &self.eval(e), false),
            };
            if let Cur::V(Value::Nil) = cur {
                return Value::Nil;
            }
        }
        self.materialize(cur)
    }

    fn lookup_name(&self, name: &str) -> Cur {
        for frame in self.env.frames.iter().rev() {
            if let Some((_, slot)) = frame.iter().rev().find(|(k, _)| &**k == name) {
                return match slot {
                    Slot::Val(v) => Cur::V(v.clone()),
                    Slot::Loop(i) => Cur::L(*i),
                };
            }
        }
        if let Some(v) = self.env.locals.get(name) {
            return Cur::V(v.clone());
        }
        if let Some(c) = self.env.counters.get(name) {
            return Cur::V(Value::Int(*c));
        }
        if let Some(v) = self.env.globals.and_then(|g| g.get(name)) {
            return Cur::V(v.clone());
        }
        Cur::V(self.shared.and_then(|g| g.get(name)).cloned().unwrap_or_default())
    }

    fn get(&self, cur: Cur, key: &Value, dot: bool) -> Cur {
        match cur {
            Cur::L(i) => self.loop_property(i, key),
            Cur::V(v) => Cur::V(property(&v, key, dot)),
        }
    }

    fn loop_property(&self, i: usize, key: &Value) -> Cur {
        let Some(l) = self.env.loops.get(i) else { return Cur::V(Value::Nil) };
        let Value::Str(k) = key else { return Cur::V(Value::Nil) };
        let (index0, length) = (l.index0 as i64, l.length as i64);
        let v = match (&**k, l.table) {
            ("index", _) => Value::Int(index0 + 1),
            ("index0", _) => Value::Int(index0),
            ("rindex", _) => Value::Int(length - index0),
            ("rindex0", _) => Value::Int(length - index0 - 1),
            ("first", _) => Value::Bool(index0 == 0),
            ("last", _) => Value::Bool(index0 == length - 1),
            ("length", _) => Value::Int(length),
            ("name", None) => Value::Str(l.name.clone()),
            ("parentloop", None) => return l.parent.map_or(Cur::V(Value::Nil), Cur::L),
            ("col", Some((col, _, _))) => Value::Int(col),
            ("col0", Some((col, _, _))) => Value::Int(col - 1),
            ("col_first", Some((col, _, _))) => Value::Bool(col == 1),
            ("col_last", Some((col, _, cols))) => Value::Bool(col == cols),
            ("row", Some((_, row, _))) => Value::Int(row),
            _ => Value::Nil,
        };
        Cur::V(v)
    }

    fn materialize(&self, cur: Cur) -> Value {
        match cur {
            Cur::V(v) => v,
            Cur::L(i) => {
                let keys: &[&str] = if self.env.loops.get(i).is_some_and(|l| l.table.is_some()) {
                    &[
                        "col",
                        "col0",
                        "col_first",
                        "col_last",
                        "first",
                        "index",
                        "index0",
                        "last",
                        "length",
                        "rindex",
                        "rindex0",
                        "row",
                    ]
                } else {
                    &["first", "index", "index0", "last", "length", "name", "parentloop", "rindex", "rindex0"]
                };
                let pairs =
                    keys.iter().map(|k| (*k, self.materialize(self.loop_property(i, &Value::str(k))))).collect();
                object_of(pairs)
            }
        }
    }

    fn eval_condition(&self, c: &Condition) -> Result<bool, Error> {
        // Liquid groups `a and b or c` as `a and (b or c)`: fold from the right.
        let mut acc = match c.rest.last() {
            Some((_, cmp)) => self.eval_comparison(cmp, c.line)?,
            None => return self.eval_comparison(&c.first, c.line),
        };
        for i in (0..c.rest.len()).rev() {
            let left = if i == 0 { &c.first } else { &c.rest[i - 1].1 };
            acc = match c.rest[i].0 {
                Logic::And => self.eval_comparison(left, c.line)? && acc,
                Logic::Or => self.eval_comparison(left, c.line)? || acc,
            };
        }
        Ok(acc)
    }

    fn eval_comparison(&self, c: &Comparison, line: usize) -> Result<bool, Error> {
        let left = self.eval(&c.left);
        let Some((op, right)) = &c.op else {
            return Ok(left.is_truthy());
        };
        let right = self.eval(right);
        compare(&left, *op, &right).map_err(|m| Error::render(line, m))
    }
}
