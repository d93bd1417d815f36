//! The parsed form of a template.

use std::sync::Arc;

use crate::Filter;
use crate::filters::BuiltinFn;
use crate::value::Value;

#[derive(Debug)]
pub(crate) enum Expr {
    Lit(Value),
    Var(Box<Var>),
    Range(Box<Expr>, Box<Expr>),
}

#[derive(Debug)]
pub(crate) struct Var {
    pub root: Root,
    pub path: Vec<Seg>,
}

#[derive(Debug)]
pub(crate) enum Root {
    Name(Arc<str>),
    /// `[expr]` at the start: the name is computed.
    Dynamic(Expr),
}

#[derive(Debug)]
pub(crate) enum Seg {
    /// `.name`: may also mean `size`, `first` or `last`.
    Dot(Arc<str>),
    /// `[expr]`.
    Index(Expr),
}

/// An expression and the filters applied to it: `{{ x | f: a, k: b }}`.
#[derive(Debug)]
pub(crate) struct Filtered {
    pub expr: Option<Expr>,
    pub filters: Vec<FilterCall>,
}

pub(crate) enum FilterFn {
    Builtin(BuiltinFn),
    Custom(Arc<dyn Filter>),
    /// Liquid ignores filters it does not know.
    Unknown,
}

impl std::fmt::Debug for FilterFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FilterFn::Builtin(_) => "builtin",
            FilterFn::Custom(_) => "custom",
            FilterFn::Unknown => "unknown",
        })
    }
}

#[derive(Debug)]
pub(crate) struct FilterCall {
    pub name: Arc<str>,
    pub func: FilterFn,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(Arc<str>, Expr)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logic {
    And,
    Or,
}

#[derive(Debug)]
pub(crate) struct Comparison {
    pub left: Expr,
    pub op: Option<(Op, Expr)>,
}

/// `a and b or c`: Liquid groups from the right, `a and (b or c)`.
/// Kept flat so that a long chain cannot deepen the stack.
#[derive(Debug)]
pub(crate) struct Condition {
    pub line: usize,
    pub first: Comparison,
    pub rest: Vec<(Logic, Comparison)>,
}

#[derive(Debug)]
pub(crate) struct Branch {
    /// `None` for `else`.
    pub cond: Option<Condition>,
    pub body: Vec<Node>,
}

#[derive(Debug)]
pub(crate) enum CaseArm {
    When(Vec<Expr>, Vec<Node>),
    Else(Vec<Node>),
}

#[derive(Debug)]
pub(crate) enum Offset {
    Expr(Expr),
    /// `offset: continue`: where the last loop of the same name stopped.
    Continue,
}

#[derive(Debug)]
pub(crate) struct ForTag {
    pub var: Arc<str>,
    pub collection: Expr,
    /// `var-collection source`, the key for `offset: continue` and `forloop.name`.
    pub name: Arc<str>,
    pub reversed: bool,
    pub limit: Option<Expr>,
    pub offset: Option<Offset>,
    pub body: Vec<Node>,
    pub else_body: Vec<Node>,
    pub line: usize,
}

#[derive(Debug)]
pub(crate) struct TablerowTag {
    pub var: Arc<str>,
    pub collection: Expr,
    pub cols: Option<Expr>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
    pub body: Vec<Node>,
}

#[derive(Debug)]
pub(crate) enum Bind {
    None,
    With(Expr),
    For(Expr),
}

#[derive(Debug)]
pub(crate) struct PartialTag {
    /// `render` isolates the partial; `include` shares the caller's variables.
    pub isolated: bool,
    pub name: Expr,
    pub bind: Bind,
    pub alias: Option<Arc<str>>,
    pub args: Vec<(Arc<str>, Expr)>,
    pub line: usize,
}

#[derive(Debug)]
pub(crate) enum Node {
    Text(Box<str>),
    /// Text from `{% raw %}`: never blank, whatever it holds.
    Raw(Box<str>),
    Output(Filtered, usize),
    Assign(Arc<str>, Filtered, usize),
    Capture(Arc<str>, Vec<Node>),
    If(Vec<Branch>, bool),
    Case(Expr, Vec<CaseArm>),
    For(Box<ForTag>),
    Tablerow(Box<TablerowTag>),
    Cycle {
        group: Option<Expr>,
        key: Arc<str>,
        values: Vec<Expr>,
    },
    Increment(Arc<str>),
    Decrement(Arc<str>),
    Break,
    Continue,
    Partial(Box<PartialTag>),
    IfChanged(Vec<Node>),
}

impl Node {
    /// Liquid's `blank?`: a block made only of these renders its whitespace as nothing.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Node::Text(t) => t.chars().all(crate::lexer::is_ws),
            Node::Assign(..) | Node::Capture(..) => true,
            Node::If(branches, _) => branches.iter().all(|b| all_blank(&b.body)),
            Node::Case(_, arms) => arms.iter().all(|a| match a {
                CaseArm::When(_, body) | CaseArm::Else(body) => all_blank(body),
            }),
            Node::For(f) => all_blank(&f.body) && all_blank(&f.else_body),
            _ => false,
        }
    }
}

pub(crate) fn all_blank(nodes: &[Node]) -> bool {
    nodes.iter().all(Node::is_blank)
}

pub(crate) fn strip_blank_text(nodes: &mut Vec<Node>) {
    nodes.retain(|n| !matches!(n, Node::Text(_)));
}
