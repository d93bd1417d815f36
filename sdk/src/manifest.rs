//! Reads the plugin's embedded `plugin.toml` to answer `describe`.
//!
//! A full TOML parser would add tens of kilobytes to every plugin for one call,
//! so this reads only the subset that plugin manifests use: `[table]` and
//! `[[array-of-tables]]` headers, `key = value` with basic and literal strings
//! (also multi-line), booleans, numbers and arrays (also over several lines).
//! The build (`omnistore plugin build`) validates the same file with the
//! host's full parser, so anything beyond that subset is caught there.

use crate::{PluginInfo, SettingSpec};

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    Array(Vec<Value>),
    /// Numbers, inline tables, dates: nothing `describe` needs.
    Other,
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn starts_with(&self, p: &str) -> bool {
        self.s[self.pos..].starts_with(p.as_bytes())
    }

    fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some(b'#') {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.pos += 1;
            }
        }
    }

    /// Whitespace, newlines and comments, as allowed inside arrays.
    fn skip_ws_multiline(&mut self) {
        loop {
            self.skip_inline_ws();
            self.skip_comment();
            match self.peek() {
                Some(b'\n' | b'\r') => self.pos += 1,
                _ => return,
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == b'\n' {
                return;
            }
        }
    }

    fn key(&mut self) -> Result<String, String> {
        let mut parts = Vec::new();
        loop {
            self.skip_inline_ws();
            let part = match self.peek() {
                Some(b'"') => self.basic_string()?,
                Some(b'\'') => self.literal_string()?,
                _ => {
                    let start = self.pos;
                    while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                        self.pos += 1;
                    }
                    if start == self.pos {
                        return Err(format!("expected a key at byte {start}"));
                    }
                    String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
                }
            };
            parts.push(part);
            self.skip_inline_ws();
            if self.peek() == Some(b'.') {
                self.pos += 1;
            } else {
                return Ok(parts.join("."));
            }
        }
    }

    fn basic_string(&mut self) -> Result<String, String> {
        let multi = self.starts_with("\"\"\"");
        self.pos += if multi { 3 } else { 1 };
        if multi && self.peek() == Some(b'\n') {
            self.pos += 1;
        }
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else { return Err("unterminated string".into()) };
            if multi && self.starts_with("\"\"\"") {
                self.pos += 3;
                break;
            }
            self.pos += 1;
            match c {
                b'"' if !multi => break,
                b'\n' if !multi => return Err("newline in a string".into()),
                b'\\' => {
                    let e = self.peek().ok_or("unterminated escape")?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'e' => out.push(27),
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'u' | b'U' | b'x' => {
                            let n = match e {
                                b'u' => 4,
                                b'U' => 8,
                                _ => 2,
                            };
                            let hex = self.s.get(self.pos..self.pos + n).ok_or("short unicode escape")?;
                            let hex = std::str::from_utf8(hex).map_err(|_| "bad unicode escape")?;
                            let code = u32::from_str_radix(hex, 16).map_err(|_| "bad unicode escape")?;
                            let ch = char::from_u32(code).ok_or("bad unicode escape")?;
                            self.pos += n;
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        // A line-ending backslash joins lines in multi-line strings.
                        b'\n' | b' ' | b'\t' | b'\r' if multi => {
                            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                                self.pos += 1;
                            }
                        }
                        _ => return Err(format!("unknown escape \\{}", e as char)),
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| "string is not UTF-8".into())
    }

    fn literal_string(&mut self) -> Result<String, String> {
        let multi = self.starts_with("'''");
        self.pos += if multi { 3 } else { 1 };
        if multi && self.peek() == Some(b'\n') {
            self.pos += 1;
        }
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some(b'\'') if !multi => break,
                Some(b'\n') if !multi => return Err("newline in a string".into()),
                _ if multi && self.starts_with("'''") => break,
                _ => self.pos += 1,
            }
        }
        let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        self.pos += if multi { 3 } else { 1 };
        Ok(text)
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_inline_ws();
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.basic_string()?)),
            Some(b'\'') => Ok(Value::Str(self.literal_string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws_multiline();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Value::Array(items));
                    }
                    items.push(self.value()?);
                    self.skip_ws_multiline();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {}
                        _ => return Err("expected `,` or `]` in an array".into()),
                    }
                }
            }
            Some(b'{') => {
                // Skip an inline table, minding strings that may hold braces.
                let mut depth = 0usize;
                loop {
                    match self.peek() {
                        None => return Err("unterminated inline table".into()),
                        Some(b'"') => drop(self.basic_string()?),
                        Some(b'\'') => drop(self.literal_string()?),
                        Some(c) => {
                            self.pos += 1;
                            if c == b'{' {
                                depth += 1;
                            } else if c == b'}' {
                                depth -= 1;
                                if depth == 0 {
                                    return Ok(Value::Other);
                                }
                            }
                        }
                    }
                }
            }
            _ if self.starts_with("true") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            _ if self.starts_with("false") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            _ => {
                while !matches!(self.peek(), None | Some(b'\n' | b'\r' | b',' | b']' | b'#')) {
                    self.pos += 1;
                }
                Ok(Value::Other)
            }
        }
    }
}

/// One `(table path, key, value)` triple per assignment; array-of-tables
/// entries get their index in the path, such as `settings.0`.
fn entries(text: &str) -> Result<Vec<(String, String, Value)>, String> {
    let mut p = Parser { s: text.as_bytes(), pos: 0 };
    let mut table = String::new();
    let mut array_counts: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    loop {
        p.skip_ws_multiline();
        match p.peek() {
            None => return Ok(out),
            Some(b'[') => {
                let array = p.starts_with("[[");
                p.pos += if array { 2 } else { 1 };
                let name = p.key()?;
                p.skip_inline_ws();
                let close = if array { "]]" } else { "]" };
                if !p.starts_with(close) {
                    return Err(format!("expected `{close}` after table name `{name}`"));
                }
                p.pos += close.len();
                table = if array {
                    let index = match array_counts.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, count)) => {
                            *count += 1;
                            *count - 1
                        }
                        None => {
                            array_counts.push((name.clone(), 1));
                            0
                        }
                    };
                    format!("{name}.{index}")
                } else {
                    name
                };
            }
            Some(_) => {
                let key = p.key()?;
                p.skip_inline_ws();
                if p.peek() != Some(b'=') {
                    return Err(format!("expected `=` after key `{key}`"));
                }
                p.pos += 1;
                let value = p.value()?;
                out.push((table.clone(), key, value));
            }
        }
        p.skip_inline_ws();
        p.skip_comment();
        p.skip_line();
    }
}

fn parse(text: &str) -> Result<PluginInfo, String> {
    let entries = entries(text)?;
    let find = |table: &str, key: &str| entries.iter().find(|(t, k, _)| t == table && k == key).map(|(_, _, v)| v);
    let string = |table: &str, key: &str| match find(table, key) {
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{table}.{key} must be a string")),
        None => Err(format!("{table}.{key} is missing")),
    };
    let events = match find("capabilities", "events") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                _ => Err("capabilities.events must hold strings".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err("capabilities.events must be an array".into()),
        None => Vec::new(),
    };
    let mut settings = Vec::new();
    for index in 0.. {
        let table = format!("settings.{index}");
        if !entries.iter().any(|(t, _, _)| *t == table) {
            break;
        }
        let flag = |key: &str| match find(&table, key) {
            Some(Value::Bool(b)) => Ok(*b),
            None => Ok(false),
            Some(_) => Err(format!("{table}.{key} must be true or false")),
        };
        settings.push(SettingSpec {
            key: string(&table, "key")?,
            label: string(&table, "label")?,
            secret: flag("secret")?,
            required: flag("required")?,
            default_value: match find(&table, "default") {
                Some(Value::Str(s)) => Some(s.clone()),
                None => None,
                Some(_) => return Err(format!("{table}.default must be a string")),
            },
        });
    }
    Ok(PluginInfo {
        id: string("plugin", "id")?,
        name: string("plugin", "name")?,
        version: string("plugin", "version")?,
        events,
        settings,
    })
}

/// The plugin's `describe` answer, read from its embedded `plugin.toml`.
///
/// # Panics
///
/// When the manifest uses TOML this reader does not understand. The build
/// checks every manifest first, so this means a bug in the SDK.
pub fn describe(manifest: &str) -> PluginInfo {
    match parse(manifest) {
        Ok(info) => info,
        Err(e) => panic!("omnistore-sdk could not read the embedded plugin.toml: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_manifest() {
        let info = describe(
            r#"
# A comment
[plugin]
id = "hello-channel"   # trailing comment
name = 'Hello "channel"'
version = "1.2.3"
publisher = "Omnistore \"examples\" \u00e9"
description = """
Multi-line, with [brackets] and # hashes
"""
contract = "^0.1"

[capabilities]
imports = [
    "storage", # why
    "settings",
]
http = ["https://api.example.com"]
events = ["order.placed", "installed"]

[[settings]]
key = "greeting"
label = "Greeting, [shown]"
default = "Hello"

[[settings]]
key = "api_token"
label = "Token"
secret = true
required = true
"#,
        );
        assert_eq!(info.id, "hello-channel");
        assert_eq!(info.name, "Hello \"channel\"");
        assert_eq!(info.version, "1.2.3");
        assert_eq!(info.events, ["order.placed", "installed"]);
        assert_eq!(
            info.settings,
            [
                SettingSpec {
                    key: "greeting".into(),
                    label: "Greeting, [shown]".into(),
                    secret: false,
                    required: false,
                    default_value: Some("Hello".into()),
                },
                SettingSpec {
                    key: "api_token".into(),
                    label: "Token".into(),
                    secret: true,
                    required: true,
                    default_value: None,
                },
            ]
        );
    }

    #[test]
    fn minimal_manifest_has_no_events_or_settings() {
        let info = describe("[plugin]\nid=\"x\"\nname=\"X\"\nversion=\"0.1.0\"\npublisher=\"p\"\ncontract=\"^0.1\"\n");
        assert_eq!((info.id.as_str(), info.events.len(), info.settings.len()), ("x", 0, 0));
    }

    #[test]
    fn crlf_and_inline_tables_are_tolerated() {
        let info =
            parse("[plugin]\r\nid = \"x\"\r\nname = \"X\"\r\nversion = \"0.1.0\"\r\nmeta = { a = \"}\" }\r\n").unwrap();
        assert_eq!(info.name, "X");
    }

    #[test]
    fn missing_id_is_an_error() {
        assert!(parse("[plugin]\nname = \"x\"\nversion = \"1.0.0\"\n").unwrap_err().contains("plugin.id"));
    }
}
