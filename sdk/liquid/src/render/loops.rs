//! `for` and `tablerow`.

use std::sync::Arc;

use super::*;

/// What a `for` (or `tablerow`, `render ... for`) iterates over, without copying it.
pub(super) enum Seq {
    Arr(Arc<Vec<Value>>),
    Range(i64, usize),
    Obj(Arc<Object>),
    One(Value),
    Empty,
}

impl Seq {
    pub(super) fn of(v: Value) -> Seq {
        match v {
            Value::Array(a) => Seq::Arr(a),
            Value::Range(a, b) => Seq::Range(a, usize::try_from(Value::range_len(a, b)).unwrap_or(usize::MAX)),
            Value::Object(o) => Seq::Obj(o),
            Value::Str(s) if !s.is_empty() => Seq::One(Value::Str(s)),
            _ => Seq::Empty,
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Seq::Arr(a) => a.len(),
            Seq::Range(_, n) => *n,
            Seq::Obj(o) => o.len(),
            Seq::One(_) => 1,
            Seq::Empty => 0,
        }
    }

    pub(super) fn get(&self, i: usize) -> Value {
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
    pub(super) fn bounds(&self, from: i64, limit: Option<i64>) -> (usize, usize) {
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
pub(super) fn seq_items(seq: &Seq) -> Option<Vec<Value>> {
    match seq {
        Seq::Obj(o) => Some(o.iter().map(|(k, v)| Value::array(vec![Value::Str(k.clone()), v.clone()])).collect()),
        _ => None,
    }
}

impl Renderer<'_> {
    fn integer_arg(&mut self, e: &Expr, line: usize) -> Result<Option<i64>, Error> {
        let v = self.eval(e);
        if v.is_nil() {
            return Ok(None);
        }
        to_integer(&v).map(Some).map_err(|m| Error::render(line, m))
    }

    #[inline(never)]
    pub(super) fn render_for(&mut self, f: &ForTag, out: &mut String) -> Result<Flow, Error> {
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
    pub(super) fn render_tablerow(&mut self, t: &TablerowTag, out: &mut String) -> Result<Flow, Error> {
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
}
