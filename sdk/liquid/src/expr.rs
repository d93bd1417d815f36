//! Parses expressions, filter chains and conditions from lexed markup.

use std::sync::Arc;

use crate::Config;
use crate::ast::{Comparison, Condition, Expr, FilterCall, FilterFn, Filtered, Logic, Op, Root, Seg, Var};
use crate::error::Error;
use crate::lexer::{Tok, lex};
use crate::value::Value;

/// Brackets and ranges nest; past this depth the markup is refused rather than recursed into.
const MAX_EXPR_DEPTH: usize = 32;

pub(crate) struct ExprParser<'t, 's> {
    toks: &'t [Tok<'s>],
    pos: usize,
    line: usize,
    depth: usize,
}

impl<'t, 's> ExprParser<'t, 's> {
    pub(crate) fn new(toks: &'t [Tok<'s>], line: usize) -> Self {
        ExprParser { toks, pos: 0, line, depth: 0 }
    }

    pub(crate) fn peek(&self) -> Tok<'s> {
        self.toks[self.pos.min(self.toks.len() - 1)]
    }

    pub(crate) fn peek_at(&self, n: usize) -> Tok<'s> {
        self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    pub(crate) fn next(&mut self) -> Tok<'s> {
        let t = self.peek();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn eat(&mut self, tok: Tok<'_>) -> bool {
        if self.peek() == tok {
            self.next();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_word(&mut self, word: &str) -> bool {
        if self.peek() == Tok::Ident(word) {
            self.next();
            true
        } else {
            false
        }
    }

    pub(crate) fn err(&self, message: impl Into<String>) -> Error {
        Error::syntax(self.line, message)
    }

    pub(crate) fn expect(&mut self, tok: Tok<'_>) -> Result<(), Error> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.err(format!("expected {} but found {}", tok.describe(), self.peek().describe())))
        }
    }

    pub(crate) fn expect_end(&mut self) -> Result<(), Error> {
        match self.peek() {
            Tok::End => Ok(()),
            t => Err(self.err(format!("unexpected {}", t.describe()))),
        }
    }

    pub(crate) fn ident(&mut self) -> Result<&'s str, Error> {
        match self.next() {
            Tok::Ident(s) => Ok(s),
            t => Err(self.err(format!("expected a name but found {}", t.describe()))),
        }
    }

    pub(crate) fn expression(&mut self) -> Result<Expr, Error> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.err("expression nested too deeply"));
        }
        let expr = self.expression_inner();
        self.depth -= 1;
        expr
    }

    fn expression_inner(&mut self) -> Result<Expr, Error> {
        match self.next() {
            Tok::Ident(name) => {
                let path = self.lookups()?;
                if path.is_empty() {
                    let lit = match name {
                        "nil" | "null" => Some(Value::Nil),
                        "true" => Some(Value::Bool(true)),
                        "false" => Some(Value::Bool(false)),
                        "empty" => Some(Value::Empty),
                        "blank" => Some(Value::Blank),
                        _ => None,
                    };
                    if let Some(lit) = lit {
                        return Ok(Expr::Lit(lit));
                    }
                }
                Ok(Expr::Var(Box::new(Var { root: Root::Name(Arc::from(name)), path })))
            }
            Tok::LBracket => {
                let inner = self.expression()?;
                self.expect(Tok::RBracket)?;
                let path = self.lookups()?;
                Ok(Expr::Var(Box::new(Var { root: Root::Dynamic(inner), path })))
            }
            Tok::Str(s) => Ok(Expr::Lit(Value::str(s))),
            Tok::Num(n) => Ok(Expr::Lit(parse_number(n))),
            Tok::LParen => {
                let start = self.expression()?;
                self.expect(Tok::DotDot)?;
                let end = self.expression()?;
                self.expect(Tok::RParen)?;
                Ok(Expr::Range(Box::new(start), Box::new(end)))
            }
            t => Err(self.err(format!("{} is not a valid expression", t.describe()))),
        }
    }

    fn lookups(&mut self) -> Result<Vec<Seg>, Error> {
        let mut path = Vec::new();
        loop {
            match self.peek() {
                Tok::LBracket => {
                    self.next();
                    let e = self.expression()?;
                    self.expect(Tok::RBracket)?;
                    path.push(Seg::Index(e));
                }
                Tok::Dot => {
                    self.next();
                    let name = self.ident()?;
                    path.push(Seg::Dot(Arc::from(name)));
                }
                _ => return Ok(path),
            }
        }
    }

    /// `expr | filter: args | filter`, up to the end of the markup or a stop word.
    pub(crate) fn filtered(&mut self, config: &Config) -> Result<Filtered, Error> {
        if self.peek() == Tok::End {
            return Ok(Filtered { expr: None, filters: Vec::new() });
        }
        let expr = self.expression()?;
        let mut filters = Vec::new();
        while self.eat(Tok::Pipe) {
            let name = self.ident()?;
            let mut args = Vec::new();
            let mut kwargs = Vec::new();
            if self.eat(Tok::Colon) {
                loop {
                    if let (Tok::Ident(key), Tok::Colon) = (self.peek(), self.peek_at(1)) {
                        self.next();
                        self.next();
                        kwargs.push((Arc::from(key), self.expression()?));
                    } else {
                        args.push(self.expression()?);
                    }
                    if !self.eat(Tok::Comma) {
                        break;
                    }
                }
            }
            let func = config.lookup_filter(name);
            if matches!(func, FilterFn::Unknown) && config.strict_filters {
                return Err(self.err(format!("unknown filter '{name}'")));
            }
            filters.push(FilterCall { name: Arc::from(name), func, args, kwargs });
        }
        Ok(Filtered { expr: Some(expr), filters })
    }

    pub(crate) fn condition(&mut self) -> Result<Condition, Error> {
        let first = self.comparison()?;
        let mut rest = Vec::new();
        loop {
            let logic = if self.eat_word("and") {
                Logic::And
            } else if self.eat_word("or") {
                Logic::Or
            } else {
                break;
            };
            rest.push((logic, self.comparison()?));
        }
        Ok(Condition { line: self.line, first, rest })
    }

    fn comparison(&mut self) -> Result<Comparison, Error> {
        let left = self.expression()?;
        let op = match self.peek() {
            Tok::Cmp(op) => {
                self.next();
                let op = match op {
                    "==" => Op::Eq,
                    "!=" | "<>" => Op::Ne,
                    "<" => Op::Lt,
                    ">" => Op::Gt,
                    "<=" => Op::Le,
                    ">=" => Op::Ge,
                    _ => Op::Contains,
                };
                Some((op, self.expression()?))
            }
            _ => None,
        };
        Ok(Comparison { left, op })
    }
}

pub(crate) fn parse_number(n: &str) -> Value {
    if n.contains('.') {
        Value::Float(n.parse().unwrap_or(0.0))
    } else {
        n.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::Float(n.parse().unwrap_or(0.0)))
    }
}

pub(crate) fn parse_filtered(markup: &str, line: usize, config: &Config) -> Result<Filtered, Error> {
    let toks = lex(markup, line)?;
    let mut p = ExprParser::new(&toks, line);
    let f = p.filtered(config)?;
    p.expect_end()?;
    Ok(f)
}

pub(crate) fn parse_condition(markup: &str, line: usize) -> Result<Condition, Error> {
    let toks = lex(markup, line)?;
    let mut p = ExprParser::new(&toks, line);
    let c = p.condition()?;
    p.expect_end()?;
    Ok(c)
}

pub(crate) fn parse_expression(markup: &str, line: usize) -> Result<Expr, Error> {
    let toks = lex(markup, line)?;
    let mut p = ExprParser::new(&toks, line);
    let e = p.expression()?;
    p.expect_end()?;
    Ok(e)
}
