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

/// What a `for` (or `tablerow`, `render ... for`) iterates over, without copying it.
enum Seq {
    Arr(Arc<Vec<Value>>),
    Range(i64, usize),
    Obj(Arc<Object>),
    One(Value),
    Empty,
}

impl Seq {
    fn of(v: Value) -> Seq {
        match v {
            Value::Array(a) => Seq::Arr(a),
            Value::Range(a, b) => Seq::Range(a, usize::try_from(Value::range_len(a, b)).unwrap_or(usize::MAX)),
            Value::Object(o) => Seq::Obj(o),
            Value::Str(s) if !s.is_empty() => Seq::One(Value::Str(s)),
            _ => Seq::Empty,
        }
    }

    fn len(&self) -> usize {
        match self {
            Seq::Arr(a) => a.len(),
            Seq::Range(_, n) => *n,
            Seq::Obj(o) => o.len(),
            Seq::One(_) => 1,
            Seq::Empty => 0,
        }
    }

    fn get(&self, i: usize) -> Value {
        match self {
            Seq::Arr(a) => a.get(i).cloned().unwrap_or_default(),
            Seq::Range(start, _) => Value::Int(start.saturating_add(i as i64)),
            Seq::Obj(o) => {
                o.iter().nth(i).map(|(k, v)| Value::array(vec![Value::Str(k.clone()), v.clone()])).unwrap_or_default()
            }
            Seq::One(v) => v.clone(),
            Seq::Empty => Value::Nil,
        }
    }

    /// Liquid's `slice_collection`: the items from `from` up to `from + limit`.
    fn bounds(&self, from: i64, limit: Option<i64>) -> (usize, usize) {
        let len = self.len();
        if let Seq::One(_) = self {
            return (0, 1);
        }
        let clamp = |x: i64| x.clamp(0, len as i64) as usize;
        let start = clamp(from);
        let end = limit.map_or(len, |l| clamp(from.saturating_add(l)));
        (start, end.max(start))
    }
}

/// Iterating an object hands out `[key, value]` pairs; index them once, not per step.
fn seq_items(seq: &Seq) -> Option<Vec<Value>> {
    match seq {
        Seq::Obj(o) => Some(o.iter().map(|(k, v)| Value::array(vec![Value::Str(k.clone()), v.clone()])).collect()),
        _ => None,
    }
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

    fn integer_arg(&mut self, e: &Expr, line: usize) -> Result<Option<i64>, Error> {
        let v = self.eval(e);
        if v.is_nil() {
            return Ok(None);
        }
        to_integer(&v).map(Some).map_err(|m| Error::render(line, m))
    }

    #[inline(never)]
    fn render_for(&mut self, f: &ForTag, out: &mut String) -> Result<Flow, Error> {
        let seq = Seq::of(self.eval(&f.collection));
        let from = match &f.offset {
            None => 0,
            Some(Offset::Continue) => self.offsets.get(&f.name).copied().unwrap_or(0),
            Some(Offset::Expr(e)) => self.integer_arg(e, f.line)?.unwrap_or(0),
        };
        let limit = match &f.limit {
            Some(e) => self.integer_arg(e, f.line)?,
            None => None,
        };
        let (start, end) = seq.bounds(from, limit);
        let count = end - start;
        self.offsets.insert(f.name.clone(), from.saturating_add(count as i64));
        if count == 0 {
            return self.render_nodes(&f.else_body, out);
        }
        let pairs = seq_items(&seq);
        let parent = self.env.loops.iter().rposition(|l| l.is_for_tag);
        let id = self.env.loops.len();
        self.env.loops.push(LoopInfo {
            name: f.name.clone(),
            index0: 0,
            length: count,
            parent,
            table: None,
            is_for_tag: true,
        });
        self.env.frames.push(vec![(f.var.clone(), Slot::Val(Value::Nil)), (Arc::from("forloop"), Slot::Loop(id))]);
        let mut result = Ok(Flow::Normal);
        for k in 0..count {
            let idx = if f.reversed { end - 1 - k } else { start + k };
            if let Err(e) = self.spend(1) {
                result = Err(e);
                break;
            }
            let item = match &pairs {
                Some(p) => p[idx].clone(),
                None => seq.get(idx),
            };
            self.env.loops[id].index0 = k;
            if let Some(frame) = self.env.frames.last_mut() {
                frame[0].1 = Slot::Val(item);
            }
            match self.render_nodes(&f.body, out) {
                Ok(Flow::Break) => break,
                Ok(_) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.env.frames.pop();
        self.env.loops.pop();
        result
    }

    #[inline(never)]
    fn render_tablerow(&mut self, t: &TablerowTag, out: &mut String) -> Result<Flow, Error> {
        let collection = self.eval(&t.collection);
        if collection.is_nil() {
            return Ok(Flow::Normal);
        }
        let seq = Seq::of(collection);
        // Unlike `for`, `tablerow` reads its numbers leniently (Ruby's `to_i`).
        let to_int = |r: &Self, e: &Expr| range_bound(&r.eval(e));
        let from = match &t.offset {
            Some(e) => to_int(self, e),
            None => 0,
        };
        let limit = t.limit.as_ref().map(|e| to_int(self, e));
        let (start, end) = seq.bounds(from, limit);
        let count = end - start;
        let cols = match &t.cols {
            Some(e) => to_int(self, e),
            None => count as i64,
        };
        let pairs = seq_items(&seq);
        self.write_str("<tr class=\"row1\">\n", out)?;
        let id = self.env.loops.len();
        self.env.loops.push(LoopInfo {
            name: Arc::from(""),
            index0: 0,
            length: count,
            parent: None,
            table: Some((1, 1, cols)),
            is_for_tag: false,
        });
        self.env.frames.push(vec![(t.var.clone(), Slot::Val(Value::Nil)), (Arc::from("tablerowloop"), Slot::Loop(id))]);
        let result = self.tablerow_cells(t, &seq, pairs.as_deref(), start, count, id, out);
        self.env.frames.pop();
        self.env.loops.pop();
        result?;
        self.write_str("</tr>\n", out)?;
        Ok(Flow::Normal)
    }

    #[allow(clippy::too_many_arguments)]
    fn tablerow_cells(
        &mut self,
        t: &TablerowTag,
        seq: &Seq,
        pairs: Option<&[Value]>,
        start: usize,
        count: usize,
        id: usize,
        out: &mut String,
    ) -> Result<(), Error> {
        for k in 0..count {
            self.spend(1)?;
            let item = match pairs {
                Some(p) => p[start + k].clone(),
                None => seq.get(start + k),
            };
            self.env.loops[id].index0 = k;
            if let Some(frame) = self.env.frames.last_mut() {
                frame[0].1 = Slot::Val(item);
            }
            let (col, row, cols) = self.env.loops[id].table.unwrap_or((1, 1, 1));
            self.write_str(&format!("<td class=\"col{col}\">"), out)?;
            let flow = self.render_nodes(&t.body, out)?;
            self.write_str("</td>", out)?;
            if flow == Flow::Break {
                break;
            }
            if col == cols && k + 1 < count {
                self.write_str(&format!("</tr>\n<tr class=\"row{}\">", row + 1), out)?;
            }
            let next = if col == cols { (1, row + 1, cols) } else { (col + 1, row, cols) };
            self.env.loops[id].table = Some(next);
        }
        Ok(())
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

    fn load_partial(&mut self, name: &str, line: usize) -> Result<Arc<Vec<Node>>, Error> {
        if let Some(nodes) = self.partials.get(name) {
            return Ok(nodes.clone());
        }
        if let Some(template) = self.opts.partials.and_then(|p| p.parsed(name)) {
            self.partials.insert(name.to_string(), template.nodes.clone());
            return Ok(template.nodes);
        }
        let source = self
            .opts
            .partials
            .and_then(|p| p.get(name))
            .ok_or_else(|| Error::render(line, format!("could not find partial '{name}'")))?;
        if source.len() > self.opts.max_template_bytes {
            return Err(self.limit(format!(
                "partial '{name}' is {} bytes, more than the {} allowed",
                source.len(),
                self.opts.max_template_bytes
            )));
        }
        let nodes = parser::parse_document(&source, self.config).map_err(|e| match e {
            Error::Syntax { line, message } => {
                Error::Syntax { line, message: format!("{message} (in partial '{name}')") }
            }
            other => other,
        })?;
        let nodes = Arc::new(nodes);
        self.partials.insert(name.to_string(), nodes.clone());
        Ok(nodes)
    }

    #[inline(never)]
    fn render_partial(&mut self, p: &PartialTag, out: &mut String) -> Result<Flow, Error> {
        let Value::Str(name) = self.eval(&p.name) else {
            return Err(Error::render(p.line, "the name of a partial must be a string"));
        };
        if self.partial_depth >= self.opts.max_partial_depth {
            return Err(self.limit(format!("partials nested more than {} deep", self.opts.max_partial_depth)));
        }
        let nodes = self.load_partial(&name, p.line)?;
        let var: Arc<str> = match &p.alias {
            Some(a) => a.clone(),
            None => Arc::from(name.rsplit('/').next().unwrap_or(&name)),
        };
        let args: Vec<(Arc<str>, Value)> = p.args.iter().map(|(k, e)| (k.clone(), self.eval(e))).collect();
        self.partial_depth += 1;
        let result = if p.isolated {
            self.render_isolated(p, &name, &nodes, var, args, out)
        } else {
            self.render_included(p, &name, &nodes, var, args, out)
        };
        self.partial_depth -= 1;
        result
    }

    fn render_isolated(
        &mut self,
        p: &PartialTag,
        name: &Arc<str>,
        nodes: &[Node],
        var: Arc<str>,
        args: Vec<(Arc<str>, Value)>,
        out: &mut String,
    ) -> Result<Flow, Error> {
        let bound = match &p.bind {
            Bind::With(e) | Bind::For(e) => self.eval(e),
            Bind::None => Value::Nil,
        };
        let fresh = |args: &[(Arc<str>, Value)]| {
            let mut env = Env::new(None);
            env.locals.extend(args.iter().cloned());
            env
        };
        if matches!(p.bind, Bind::For(_)) && matches!(bound, Value::Array(_) | Value::Range(..) | Value::Object(_)) {
            let seq = Seq::of(bound);
            let pairs = seq_items(&seq);
            let len = seq.len();
            for i in 0..len {
                self.spend(1)?;
                let item = match &pairs {
                    Some(p) => p[i].clone(),
                    None => seq.get(i),
                };
                let mut env = fresh(&args);
                env.loops.push(LoopInfo {
                    name: name.clone(),
                    index0: i,
                    length: len,
                    parent: None,
                    table: None,
                    is_for_tag: false,
                });
                env.frames.push(vec![(Arc::from("forloop"), Slot::Loop(0))]);
                env.locals.insert(var.clone(), item);
                self.with_env(env, |r| r.render_nodes(nodes, out))?;
            }
        } else {
            let mut env = fresh(&args);
            if !bound.is_nil() {
                env.locals.insert(var, bound);
            }
            self.with_env(env, |r| r.render_nodes(nodes, out))?;
        }
        Ok(Flow::Normal)
    }

    fn with_env<T>(&mut self, env: Env<'a>, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::replace(&mut self.env, env);
        let result = f(self);
        self.env = saved;
        result
    }

    fn render_included(
        &mut self,
        p: &PartialTag,
        name: &str,
        nodes: &[Node],
        var: Arc<str>,
        args: Vec<(Arc<str>, Value)>,
        out: &mut String,
    ) -> Result<Flow, Error> {
        let bound = match &p.bind {
            Bind::With(e) | Bind::For(e) => self.eval(e),
            Bind::None => self.materialize(self.lookup_name(name)),
        };
        let mut frame: Vec<(Arc<str>, Slot)> = args.into_iter().map(|(k, v)| (k, Slot::Val(v))).collect();
        frame.push((var, Slot::Val(Value::Nil)));
        self.env.frames.push(frame);
        let result = match &bound {
            Value::Array(items) => {
                let mut flow = Ok(Flow::Normal);
                for item in items.iter() {
                    if let Err(e) = self.spend(1) {
                        flow = Err(e);
                        break;
                    }
                    self.set_last_slot(item.clone());
                    flow = self.render_nodes(nodes, out);
                    if !matches!(flow, Ok(Flow::Normal)) {
                        break;
                    }
                }
                flow
            }
            other => {
                self.set_last_slot(other.clone());
                self.render_nodes(nodes, out)
            }
        };
        self.env.frames.pop();
        result
    }

    fn set_last_slot(&mut self, v: Value) {
        if let Some(slot) = self.env.frames.last_mut().and_then(|f| f.last_mut()) {
            slot.1 = Slot::Val(v);
        }
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
            let fa = FilterArgs { positional: &args, keyword: &kwargs };
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

fn range_bound(v: &Value) -> i64 {
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
fn compare(l: &Value, op: Op, r: &Value) -> Result<bool, String> {
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
