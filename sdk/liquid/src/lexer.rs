//! Splits a template into text, `{{ output }}` and `{% tag %}` tokens, and tag markup
//! into expression tokens.

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    /// `{{ ... }}` (or an unterminated `{{`, which is an error once parsed).
    Output,
    /// `{% ... %}` (or an unterminated `{%`).
    Tag,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'s> {
    pub kind: Kind,
    /// The whole token, delimiters included.
    pub src: &'s str,
    pub line: usize,
}

impl Token<'_> {
    pub(crate) fn trims_left(&self) -> bool {
        self.kind != Kind::Text && self.src.as_bytes().get(2) == Some(&b'-')
    }

    pub(crate) fn trims_right(&self) -> bool {
        let b = self.src.as_bytes();
        self.kind != Kind::Text && b.len() >= 5 && b[b.len() - 3] == b'-'
    }
}

/// Tokenizes like Shopify's Liquid: a tag runs to the first `%}`; an output runs to
/// the first `}` (or `}}`), and becomes a tag token if a `{%` comes first.
pub(crate) fn tokenize(src: &str) -> Vec<Token<'_>> {
    let bytes = src.as_bytes();
    let mut finder = Finder::new(bytes);
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    while pos < bytes.len() {
        let Some(start) = find_open(bytes, pos) else {
            tokens.push(Token { kind: Kind::Text, src: &src[pos..], line });
            break;
        };
        if start > pos {
            tokens.push(Token { kind: Kind::Text, src: &src[pos..start], line });
            line += count_lines(&src[pos..start]);
        }
        let (kind, end) = if bytes[start + 1] == b'%' {
            match finder.tag_end(start + 2) {
                Some(i) => (Kind::Tag, i + 2),
                None => (Kind::Tag, start + 2),
            }
        } else {
            scan_output(bytes, &mut finder, start)
        };
        tokens.push(Token { kind, src: &src[start..end], line });
        line += count_lines(&src[start..end]);
        pos = end;
    }
    tokens
}

fn scan_output(bytes: &[u8], finder: &mut Finder<'_>, start: usize) -> (Kind, usize) {
    let brace = finder.close_brace(start + 2);
    let tag = finder.tag_open(start + 2);
    match (brace, tag) {
        (Some(i), t) if t.is_none_or(|t| i < t) => {
            let end = if bytes.get(i + 1) == Some(&b'}') { i + 2 } else { i + 1 };
            (Kind::Output, end)
        }
        (_, Some(t)) => match finder.tag_end(t + 2) {
            Some(j) => (Kind::Tag, j + 2),
            None => (Kind::Output, start + 2),
        },
        _ => (Kind::Output, start + 2),
    }
}

/// Finds the next `}`, `{%` and `%}` at or after a position. Positions only grow while
/// tokenizing, so each answer is remembered: a run of unterminated `{{` or `{%` costs
/// linear time instead of a scan to the end for each one.
struct Finder<'s> {
    bytes: &'s [u8],
    cache: [(usize, Option<usize>); 3],
}

impl<'s> Finder<'s> {
    fn new(bytes: &'s [u8]) -> Self {
        Finder { bytes, cache: [(usize::MAX, None); 3] }
    }

    fn next(&mut self, slot: usize, from: usize, needle: &[u8]) -> Option<usize> {
        let (searched_from, found) = self.cache[slot];
        if searched_from != usize::MAX && searched_from <= from {
            match found {
                None => return None,
                Some(i) if i >= from => return Some(i),
                Some(_) => {}
            }
        }
        let found = find(self.bytes, from, needle);
        self.cache[slot] = (from, found);
        found
    }

    fn close_brace(&mut self, from: usize) -> Option<usize> {
        self.next(0, from, b"}")
    }

    fn tag_open(&mut self, from: usize) -> Option<usize> {
        self.next(1, from, b"{%")
    }

    fn tag_end(&mut self, from: usize) -> Option<usize> {
        self.next(2, from, b"%}")
    }
}

fn find_open(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && (bytes[i + 1] == b'{' || bytes[i + 1] == b'%') {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

pub(crate) fn count_lines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

/// A well-formed tag token split into name and markup: `{%- name markup -%}`.
/// `None` when the token is not a complete tag starting with `{%`.
pub(crate) fn split_tag(src: &str) -> Option<(&str, &str)> {
    let inner = src.strip_prefix("{%")?.strip_suffix("%}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    split_name(inner)
}

/// The tag name at the start of `s` (after whitespace) and the rest, trimmed.
pub(crate) fn split_name(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(is_ws);
    if let Some(rest) = s.strip_prefix('#') {
        return Some(("#", rest));
    }
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((&s[..end], s[end..].trim_matches(is_ws)))
}

/// The tag name of any token that ends with a tag, whatever precedes it, as Liquid's
/// `raw` and `doc` look for their end tag. Returns the text before the tag too.
pub(crate) fn trailing_tag_name(src: &str) -> Option<(&str, &str)> {
    let body = src.strip_suffix("%}")?;
    let open = src.rfind("{%")?;
    let inner = body.get(open + 2..)?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let (name, _) = split_name(inner)?;
    if name == "#" {
        return None;
    }
    Some((&src[..open], name))
}

pub(crate) fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Ruby's `strip` family: ASCII whitespace and NUL.
pub(crate) fn is_strip(c: char) -> bool {
    is_ws(c) || c == '\0'
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok<'s> {
    Ident(&'s str),
    Str(&'s str),
    Num(&'s str),
    Cmp(&'s str),
    DotDot,
    Dot,
    Pipe,
    Colon,
    Comma,
    LBracket,
    RBracket,
    LParen,
    RParen,
    End,
}

impl Tok<'_> {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Num(s) | Tok::Cmp(s) => format!("'{s}'"),
            Tok::Str(s) => format!("'\"{s}\"'"),
            Tok::DotDot => "'..'".into(),
            Tok::Dot => "'.'".into(),
            Tok::Pipe => "'|'".into(),
            Tok::Colon => "':'".into(),
            Tok::Comma => "','".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::End => "end of tag".into(),
        }
    }
}

/// Lexes tag or output markup, the way Liquid's strict parser does.
pub(crate) fn lex(markup: &str, line: usize) -> Result<Vec<Tok<'_>>, Error> {
    let b = markup.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if is_ws(c as char) {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            b'=' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Cmp("==")
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Cmp("!=")
            }
            b'<' | b'>' => {
                i += 1;
                if b.get(i) == Some(&b'=') || (c == b'<' && b.get(i) == Some(&b'>')) {
                    i += 1;
                }
                Tok::Cmp(&markup[start..i])
            }
            b'\'' | b'"' => match b[i + 1..].iter().position(|&x| x == c) {
                Some(len) => {
                    i += len + 2;
                    Tok::Str(&markup[start + 1..i - 1])
                }
                None => return Err(Error::syntax(line, format!("unterminated string in \"{}\"", markup.trim()))),
            },
            b'0'..=b'9' => {
                i = scan_number(b, i);
                Tok::Num(&markup[start..i])
            }
            b'-' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = scan_number(b, i + 1);
                Tok::Num(&markup[start..i])
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                    i += 1;
                }
                if b.get(i) == Some(&b'?') {
                    i += 1;
                }
                let word = &markup[start..i];
                if word == "contains" && b.get(i).is_some_and(|&x| is_ws(x as char)) {
                    Tok::Cmp("contains")
                } else {
                    Tok::Ident(word)
                }
            }
            b'.' if b.get(i + 1) == Some(&b'.') => {
                i += 2;
                Tok::DotDot
            }
            _ => {
                i += 1;
                match c {
                    b'.' => Tok::Dot,
                    b'|' => Tok::Pipe,
                    b':' => Tok::Colon,
                    b',' => Tok::Comma,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    _ => {
                        let ch = markup[start..].chars().next().unwrap_or('?');
                        return Err(Error::syntax(
                            line,
                            format!("unexpected character '{ch}' in \"{}\"", markup.trim()),
                        ));
                    }
                }
            }
        };
        toks.push(tok);
    }
    toks.push(Tok::End);
    Ok(toks)
}

fn scan_number(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}
