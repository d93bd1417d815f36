//! The page that lists what the SMTP stand-in received: newest first, with
//! sender, recipients, subject and date, each message readable as sent.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;

/// Messages listed on the page.
const LISTED: usize = 200;

pub(crate) fn router(dir: PathBuf) -> Router {
    Router::new().route("/", axum::routing::get(list)).route("/{file}", axum::routing::get(one)).with_state(dir)
}

async fn list(State(dir): State<PathBuf>) -> Response {
    let dir2 = dir.clone();
    let rows = tokio::task::spawn_blocking(move || messages(&dir2)).await.unwrap_or_default();
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Demo mailbox</title></head>\n<body>\n\
         <h1>Mail the demo sent</h1>\n",
    );
    if rows.is_empty() {
        html.push_str("<p>Nothing yet: place an order in the demo shop, or send the demo campaign.</p>\n");
    } else {
        html.push_str("<table>\n<tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr>\n");
        for m in rows.iter().take(LISTED) {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/{}\">{}</a></td></tr>\n",
                escape(&m.date),
                escape(&m.from),
                escape(&m.to),
                escape(&m.file),
                escape(if m.subject.is_empty() { "(no subject)" } else { &m.subject }),
            ));
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body>\n</html>\n");
    Html(html).into_response()
}

async fn one(State(dir): State<PathBuf>, UrlPath(file): UrlPath<String>) -> Response {
    // Only the stand-in's own file names: no way out of the folder.
    let ok = file.ends_with(".eml") && file.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !ok || file.starts_with('.') {
        return (StatusCode::NOT_FOUND, "no such message").into_response();
    }
    match tokio::fs::read(dir.join(&file)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "no such message").into_response(),
    }
}

#[derive(Debug, Default)]
struct Listed {
    file: String,
    date: String,
    from: String,
    to: String,
    subject: String,
}

fn messages(dir: &Path) -> Vec<Listed> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    // Named `{ms}-{n}.eml`: newest first.
    files.sort_unstable_by(|a, b| b.cmp(a));
    files
        .into_iter()
        .take(LISTED)
        .map(|file| {
            let text = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
            let header = |name: &str| decode_words(&header_value(&text, name));
            Listed { date: header("Date"), from: header("From"), to: header("To"), subject: header("Subject"), file }
        })
        .collect()
}

/// A header's value, its folded lines joined.
fn header_value(message: &str, name: &str) -> String {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let mut value: Option<String> = None;
    for line in head.lines() {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line.trim_start_matches([' ', '\t'])),
            Some(_) => break,
            None => {
                if let Some((n, v)) = line.split_once(':')
                    && n.eq_ignore_ascii_case(name)
                {
                    value = Some(v.trim().to_owned());
                }
            }
        }
    }
    value.unwrap_or_default()
}

/// RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?utf-8?Q?…?=`) decoded for
/// reading; anything else left as it is.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        let decoded = from[2..].split_once('?').and_then(|(_charset, r)| {
            let (enc, r) = r.split_once('?')?;
            let (text, after) = r.split_once("?=")?;
            let bytes = match enc {
                "B" | "b" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
                "Q" | "q" => q_decode(text)?,
                _ => return None,
            };
            Some((String::from_utf8_lossy(&bytes).into_owned(), after))
        });
        match decoded {
            Some((word, after)) => {
                // Whitespace between two encoded words is not part of the text.
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&word);
                rest = after;
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

fn q_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_subjects_and_folded_headers_read_as_text() {
        assert_eq!(decode_words("=?utf-8?Q?La_colomba_=C3=A8_arrivata?="), "La colomba è arrivata");
        assert_eq!(decode_words("=?utf-8?B?Q2lhbw==?= =?utf-8?B?IEdpdWxpYQ==?="), "Ciao Giulia");
        assert_eq!(decode_words("plain =?x"), "plain =?x");
        let m = "To: a@x.it,\r\n b@x.it\r\nSubject: Hi\r\n\r\nSubject: body";
        assert_eq!((header_value(m, "to"), header_value(m, "Subject")), ("a@x.it,b@x.it".into(), "Hi".into()));
    }
}
