//! Turns tokens into the node tree, one tag at a time.

use std::sync::Arc;

use crate::Config;
use crate::ast::{
    Bind, Branch, CaseArm, Expr, ForTag, Node, Offset, PartialTag, TablerowTag, all_blank, strip_blank_text,
};
use crate::error::Error;
use crate::expr::{ExprParser, parse_condition, parse_expression, parse_filtered};
use crate::lexer::{Kind, Tok, Token, is_strip, lex, split_name, split_tag, tokenize, trailing_tag_name};

#[derive(Debug, Clone, Copy)]
enum Tk<'s> {
    Text(&'s str),
    Output(&'s str),
    Tag(&'s str, &'s str),
    /// A `{{` or `{%` that never closes properly.
    Malformed,
}

#[derive(Debug, Clone, Copy)]
struct Item<'s> {
    tk: Tk<'s>,
    /// The token as written (a line, inside `{% liquid %}`).
    src: &'s str,
    line: usize,
    trim_left: bool,
    trim_right: bool,
}

fn classify(t: Token<'_>) -> Item<'_> {
    let tk = match t.kind {
        Kind::Text => Tk::Text(t.src),
        Kind::Output => match t.src.strip_prefix("{{").and_then(|s| s.strip_suffix("}}")) {
            Some(inner) => {
                let inner = inner.strip_prefix('-').unwrap_or(inner);
                Tk::Output(inner.strip_suffix('-').unwrap_or(inner))
            }
            None => Tk::Malformed,
        },
        Kind::Tag => match split_tag(t.src) {
            Some((name, markup)) => Tk::Tag(name, markup),
            None => Tk::Malformed,
        },
    };
    Item { tk, src: t.src, line: t.line, trim_left: t.trims_left(), trim_right: t.trims_right() }
}

/// The tag that ended a block: its name, markup and line.
type Delim<'s> = (&'s str, &'s str, usize, bool);

pub(crate) struct Parser<'s, 'c> {
    items: Vec<Item<'s>>,
    pos: usize,
    config: &'c Config,
    depth: usize,
    trim_next: bool,
    liquid_tag: bool,
}

const END_TAGS: &[&str] = &[
    "else",
    "elsif",
    "when",
    "endif",
    "endunless",
    "endcase",
    "endfor",
    "endtablerow",
    "endcapture",
    "endifchanged",
    "endcomment",
    "endraw",
    "enddoc",
];

pub(crate) fn parse_document(src: &str, config: &Config) -> Result<Vec<Node>, Error> {
    let items = tokenize(src).into_iter().map(classify).collect();
    let mut p = Parser { items, pos: 0, config, depth: 0, trim_next: false, liquid_tag: false };
    p.parse_all()
}

impl<'s, 'c> Parser<'s, 'c> {
    fn parse_all(&mut self) -> Result<Vec<Node>, Error> {
        let mut body = Vec::new();
        if let Some((name, _, line, _)) = self.parse_body(&mut body, &[])? {
            return Err(Error::syntax(line, format!("unexpected tag '{name}'")));
        }
        Ok(body)
    }

    /// Parses nodes into `body` until one of the `until` tags, which is returned;
    /// `None` at the end of the tokens.
    fn parse_body(&mut self, body: &mut Vec<Node>, until: &[&str]) -> Result<Option<Delim<'s>>, Error> {
        self.depth += 1;
        if self.depth > self.config.max_nesting_depth {
            let line = self.items.get(self.pos).map_or(1, |i| i.line);
            return Err(Error::syntax(line, format!("tags nested more than {} deep", self.config.max_nesting_depth)));
        }
        let result = self.parse_body_inner(body, until);
        self.depth -= 1;
        result
    }

    fn parse_body_inner(&mut self, body: &mut Vec<Node>, until: &[&str]) -> Result<Option<Delim<'s>>, Error> {
        while let Some(item) = self.items.get(self.pos).copied() {
            self.pos += 1;
            if item.trim_left
                && let Some(Node::Text(t)) = body.last_mut()
            {
                *t = t.trim_end_matches(is_strip).into();
            }
            let trim_next = std::mem::replace(&mut self.trim_next, item.trim_right);
            match item.tk {
                Tk::Text(text) => {
                    let text = if trim_next { text.trim_start_matches(is_strip) } else { text };
                    if !text.is_empty() {
                        body.push(Node::Text(text.into()));
                    }
                }
                Tk::Malformed => {
                    let what = if item.src.starts_with("{{") { "Variable" } else { "Tag" };
                    let shown: String = item.src.chars().take(40).collect();
                    return Err(Error::syntax(item.line, format!("{what} '{shown}' was not properly terminated")));
                }
                Tk::Output(markup) => {
                    body.push(Node::Output(parse_filtered(markup, item.line, self.config)?, item.line))
                }
                Tk::Tag(name, markup) => {
                    if until.contains(&name) {
                        return Ok(Some((name, markup, item.line, item.trim_right)));
                    }
                    self.parse_tag(body, name, markup, item)?;
                }
            }
        }
        Ok(None)
    }

    fn closed(&mut self, body: &mut Vec<Node>, tag: &str, until: &[&str]) -> Result<Delim<'s>, Error> {
        let line = self.items.get(self.pos.saturating_sub(1)).map_or(1, |i| i.line);
        self.parse_body(body, until)?.ok_or_else(|| Error::syntax(line, format!("'{tag}' tag was never closed")))
    }

    fn parse_tag(&mut self, body: &mut Vec<Node>, name: &'s str, markup: &'s str, item: Item<'s>) -> Result<(), Error> {
        let line = item.line;
        let cfg = self.config;
        match name {
            "assign" => {
                let (target, value) = markup
                    .split_once('=')
                    .filter(|(t, _)| is_variable_signature(t.trim()))
                    .ok_or_else(|| Error::syntax(line, "syntax error in 'assign': use {% assign name = value %}"))?;
                body.push(Node::Assign(Arc::from(target.trim()), parse_filtered(value, line, cfg)?, line));
            }
            "capture" => {
                let target = markup
                    .split(|c: char| !is_signature_char(c))
                    .find(|s| !s.is_empty())
                    .ok_or_else(|| Error::syntax(line, "syntax error in 'capture': use {% capture name %}"))?;
                let mut inner = Vec::new();
                self.closed(&mut inner, "capture", &["endcapture"])?;
                body.push(Node::Capture(Arc::from(target), inner));
            }
            "if" | "unless" => {
                let end = if name == "if" { "endif" } else { "endunless" };
                let mut branches = Vec::new();
                let mut cond = Some(parse_condition(markup, line)?);
                loop {
                    let mut inner = Vec::new();
                    let (delim, m, l, _) = self.closed(&mut inner, name, &["elsif", "else", end])?;
                    branches.push(Branch { cond: cond.take(), body: inner });
                    match delim {
                        "elsif" => cond = Some(parse_condition(m, l)?),
                        "else" => {}
                        _ => break,
                    }
                }
                let blank = branches.iter().all(|b| all_blank(&b.body));
                if blank {
                    branches.iter_mut().for_each(|b| strip_blank_text(&mut b.body));
                }
                body.push(Node::If(branches, name == "unless"));
            }
            "case" => {
                let subject = parse_expression(markup, line)?;
                let mut arms = Vec::new();
                let mut ignored = Vec::new();
                let (mut delim, mut m, mut l, _) = self.closed(&mut ignored, "case", &["when", "else", "endcase"])?;
                while delim != "endcase" {
                    let mut inner = Vec::new();
                    let next = self.closed(&mut inner, "case", &["when", "else", "endcase"])?;
                    if delim == "when" {
                        arms.push(CaseArm::When(parse_when(m, l)?, inner));
                    } else {
                        arms.push(CaseArm::Else(inner));
                    }
                    (delim, m, l, _) = next;
                }
                let blank = arms.iter().all(|a| match a {
                    CaseArm::When(_, b) | CaseArm::Else(b) => all_blank(b),
                });
                if blank {
                    for arm in &mut arms {
                        match arm {
                            CaseArm::When(_, b) | CaseArm::Else(b) => strip_blank_text(b),
                        }
                    }
                }
                body.push(Node::Case(subject, arms));
            }
            "for" => body.push(Node::For(Box::new(self.parse_for(markup, line)?))),
            "tablerow" => body.push(Node::Tablerow(Box::new(self.parse_tablerow(markup, line)?))),
            "cycle" => body.push(parse_cycle(markup, line)?),
            "increment" => body.push(Node::Increment(Arc::from(markup.trim()))),
            "decrement" => body.push(Node::Decrement(Arc::from(markup.trim()))),
            "echo" => body.push(Node::Output(parse_filtered(markup, line, cfg)?, line)),
            "break" => body.push(Node::Break),
            "continue" => body.push(Node::Continue),
            "include" | "render" => body.push(Node::Partial(Box::new(parse_partial(name == "render", markup, line)?))),
            // Shopify themes: `{% section 'header' %}` renders the partial
            // `sections/header` in isolation, as `render` does.
            "section" => body.push(parse_section(markup, line)?),
            // A section's settings schema is JSON for the theme editor, never output.
            "schema" => {
                self.raw_body("schema", line)?;
            }
            "ifchanged" => {
                let mut inner = Vec::new();
                self.closed(&mut inner, "ifchanged", &["endifchanged"])?;
                body.push(Node::IfChanged(inner));
            }
            "comment" => self.skip_comment(line)?,
            "raw" => {
                let text = self.raw_body("raw", line)?;
                if !text.is_empty() {
                    body.push(Node::Raw(text.into()));
                }
            }
            "doc" => {
                if !markup.is_empty() {
                    return Err(Error::syntax(line, "'doc' takes no arguments"));
                }
                self.raw_body("doc", line)?;
            }
            "#" => {
                let bad = markup
                    .split('\n')
                    .skip(1)
                    .any(|l| l.trim_start_matches(crate::lexer::is_ws).chars().next().is_some_and(|c| c != '#'));
                if bad && !self.liquid_tag {
                    return Err(Error::syntax(line, "every line of an inline comment must start with '#'"));
                }
            }
            "liquid" => {
                // Line numbers inside count from the tag's own line, so keep the markup's leading newlines.
                let raw = item.src.find("liquid").map_or(markup, |i| {
                    let rest = &item.src[i + "liquid".len()..];
                    let rest = rest.strip_suffix("%}").unwrap_or(rest);
                    rest.strip_suffix('-').unwrap_or(rest)
                });
                self.parse_liquid(body, raw, line)?
            }
            _ if END_TAGS.contains(&name) => return Err(Error::syntax(line, format!("unexpected tag '{name}'"))),
            _ => return Err(Error::syntax(line, format!("unknown tag '{name}'"))),
        }
        Ok(())
    }

    fn parse_for(&mut self, markup: &str, line: usize) -> Result<ForTag, Error> {
        let toks = lex(markup, line)?;
        let mut p = ExprParser::new(&toks, line);
        let var = p.ident()?;
        if !p.eat_word("in") {
            return Err(p.err("syntax error in 'for': use {% for item in collection %}"));
        }
        let start = markup.find(" in ").map_or(0, |i| i + 4);
        let collection = p.expression()?;
        let name = collection_source(markup, start);
        let reversed = p.eat_word("reversed");
        let (mut limit, mut offset) = (None, None);
        loop {
            p.eat(Tok::Comma);
            match p.peek() {
                Tok::Ident(attr @ ("limit" | "offset")) => {
                    p.next();
                    p.expect(Tok::Colon)?;
                    if attr == "limit" {
                        limit = Some(p.expression()?);
                    } else if p.peek() == Tok::Ident("continue") {
                        p.next();
                        offset = Some(Offset::Continue);
                    } else {
                        offset = Some(Offset::Expr(p.expression()?));
                    }
                }
                Tok::End => break,
                t => return Err(p.err(format!("unexpected {} in 'for'", t.describe()))),
            }
        }
        let mut body = Vec::new();
        let mut else_body = Vec::new();
        let (delim, ..) = self.closed(&mut body, "for", &["else", "endfor"])?;
        if delim == "else" {
            self.closed(&mut else_body, "for", &["endfor"])?;
        }
        if all_blank(&body) && all_blank(&else_body) {
            strip_blank_text(&mut body);
            strip_blank_text(&mut else_body);
        }
        let name = Arc::from(format!("{var}-{name}"));
        Ok(ForTag { var: Arc::from(var), collection, name, reversed, limit, offset, body, else_body, line })
    }

    fn parse_tablerow(&mut self, markup: &str, line: usize) -> Result<TablerowTag, Error> {
        let toks = lex(markup, line)?;
        let mut p = ExprParser::new(&toks, line);
        let var = p.ident()?;
        if !p.eat_word("in") {
            return Err(p.err("syntax error in 'tablerow': use {% tablerow item in collection cols: 3 %}"));
        }
        let collection = p.expression()?;
        let (mut cols, mut limit, mut offset) = (None, None, None);
        loop {
            p.eat(Tok::Comma);
            match p.peek() {
                Tok::Ident(attr) => {
                    p.next();
                    p.expect(Tok::Colon)?;
                    let e = p.expression()?;
                    match attr {
                        "cols" => cols = Some(e),
                        "limit" => limit = Some(e),
                        "offset" => offset = Some(e),
                        _ => {}
                    }
                }
                Tok::End => break,
                t => return Err(p.err(format!("unexpected {} in 'tablerow'", t.describe()))),
            }
        }
        let mut body = Vec::new();
        self.closed(&mut body, "tablerow", &["endtablerow"])?;
        Ok(TablerowTag { var: Arc::from(var), collection, cols, limit, offset, body })
    }

    /// Skips a comment, which may nest and may hold `raw` blocks, without parsing it.
    fn skip_comment(&mut self, line: usize) -> Result<(), Error> {
        let mut depth = 1;
        while let Some(item) = self.items.get(self.pos).copied() {
            self.pos += 1;
            if let Tk::Tag(name, _) = item.tk {
                match name {
                    "comment" => depth += 1,
                    "endcomment" => depth -= 1,
                    "raw" if !self.liquid_tag => {
                        self.raw_body("raw", item.line)?;
                    }
                    _ => {}
                }
                if depth == 0 {
                    self.trim_next = item.trim_right;
                    return Ok(());
                }
            }
        }
        Err(Error::syntax(line, "'comment' tag was never closed"))
    }

    /// The text up to `{% end<tag> %}`, taken as written.
    fn raw_body(&mut self, tag: &str, line: usize) -> Result<String, Error> {
        let mut text = String::new();
        let end = format!("end{tag}");
        while let Some(item) = self.items.get(self.pos).copied() {
            self.pos += 1;
            if !matches!(item.tk, Tk::Text(_))
                && let Some((before, name)) = trailing_tag_name(item.src)
            {
                if name == end {
                    text.push_str(before);
                    self.trim_next = item.trim_right;
                    return Ok(text);
                }
                if tag == "doc" && name == "doc" {
                    return Err(Error::syntax(item.line, "'doc' tags cannot be nested"));
                }
            }
            text.push_str(item.src);
        }
        Err(Error::syntax(line, format!("'{tag}' tag was never closed")))
    }

    /// `{% liquid %}`: one tag per line, parsed into the enclosing block.
    fn parse_liquid(&mut self, body: &mut Vec<Node>, markup: &'s str, line: usize) -> Result<(), Error> {
        let mut items = Vec::new();
        for (i, l) in markup.split('\n').enumerate() {
            let Some((name, rest)) = split_name(l) else {
                if l.trim_matches(crate::lexer::is_ws).is_empty() {
                    continue;
                }
                return Err(Error::syntax(line + i, format!("invalid line in 'liquid' tag: \"{}\"", l.trim())));
            };
            items.push(Item { tk: Tk::Tag(name, rest), src: l, line: line + i, trim_left: false, trim_right: false });
        }
        let mut sub =
            Parser { items, pos: 0, config: self.config, depth: self.depth, trim_next: false, liquid_tag: true };
        if let Some((name, _, l, _)) = sub.parse_body(body, &[])? {
            return Err(Error::syntax(l, format!("unexpected tag '{name}'")));
        }
        Ok(())
    }
}

fn is_signature_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']' | '(' | ')')
}

fn is_variable_signature(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_signature_char)
}

/// The collection's source text, for the loop's name: up to `reversed`, `limit` or `offset`.
fn collection_source(markup: &str, start: usize) -> String {
    let rest = markup.get(start..).unwrap_or("").trim_start();
    let mut end = rest.len();
    for word in [" reversed", " limit", " offset", ",", "\tlimit", "\toffset"] {
        if let Some(i) = rest.find(word) {
            end = end.min(i);
        }
    }
    rest[..end].trim().to_string()
}

fn parse_when(markup: &str, line: usize) -> Result<Vec<Expr>, Error> {
    let toks = lex(markup, line)?;
    let mut p = ExprParser::new(&toks, line);
    let mut values = vec![p.expression()?];
    while p.eat(Tok::Comma) || p.eat_word("or") {
        values.push(p.expression()?);
    }
    p.expect_end()?;
    Ok(values)
}

fn parse_cycle(markup: &str, line: usize) -> Result<Node, Error> {
    let toks = lex(markup, line)?;
    let mut p = ExprParser::new(&toks, line);
    let first = p.expression()?;
    let (group, mut values) =
        if p.eat(Tok::Colon) { (Some(first), vec![p.expression()?]) } else { (None, vec![first]) };
    while p.eat(Tok::Comma) {
        values.push(p.expression()?);
    }
    p.expect_end()?;
    // Unnamed cycles of the same literals share their position; with a variable among the
    // values, Liquid keys the tag by its parsed objects, so every such tag cycles alone.
    let key = if values.iter().all(|v| matches!(v, Expr::Lit(_))) {
        toks.iter().map(Tok::describe).collect::<Vec<_>>().join(" ")
    } else {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        format!("#{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    };
    Ok(Node::Cycle { group, key: Arc::from(key), values })
}

/// Out of line: `parse_tag` recurses for every nested block, so its frame stays small.
#[inline(never)]
fn parse_section(markup: &str, line: usize) -> Result<Node, Error> {
    let mut tag = parse_partial(true, markup, line)?;
    if let Expr::Lit(crate::Value::Str(name)) = &tag.name {
        tag.name = Expr::Lit(crate::Value::Str(format!("sections/{name}").into()));
    }
    Ok(Node::Partial(Box::new(tag)))
}

fn parse_partial(isolated: bool, markup: &str, line: usize) -> Result<PartialTag, Error> {
    let toks = lex(markup, line)?;
    let mut p = ExprParser::new(&toks, line);
    let name = p.expression()?;
    if isolated && !matches!(name, Expr::Lit(crate::Value::Str(_))) {
        return Err(p.err("the name given to 'render' must be a quoted string"));
    }
    let bind = if p.eat_word("with") {
        Bind::With(p.expression()?)
    } else if p.eat_word("for") {
        Bind::For(p.expression()?)
    } else {
        Bind::None
    };
    let alias = if p.eat_word("as") { Some(Arc::from(p.ident()?)) } else { None };
    let mut args = Vec::new();
    loop {
        p.eat(Tok::Comma);
        match p.peek() {
            Tok::End => break,
            _ => {
                let key = p.ident()?;
                p.expect(Tok::Colon)?;
                args.push((Arc::from(key), p.expression()?));
            }
        }
    }
    Ok(PartialTag { isolated, name, bind, alias, args, line })
}
