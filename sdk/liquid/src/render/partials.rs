//! `include` and `render`.

use std::sync::Arc;

use super::*;

impl<'a> Renderer<'a> {
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
    pub(super) fn render_partial(&mut self, p: &PartialTag, out: &mut String) -> Result<Flow, Error> {
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
}
