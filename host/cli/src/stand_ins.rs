//! Local stand-ins for the platforms the demo's channels talk to (Twilio,
//! Pinterest, Meta's Graph API, an SMTP relay), so a newcomer sees every
//! call each channel makes without an account anywhere.
//!
//! Each HTTP stand-in checks what the real API would refuse first (the
//! credentials, the required parameters, the documented limits), answers in
//! the real API's shape, and keeps the last calls for `GET /_calls`. The
//! thorough judges (the published API descriptions) are in the plugins'
//! tests; these are for looking.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::Value;

mod answers;
mod mailbox;
mod smtp;

/// Calls kept per stand-in.
const KEPT_CALLS: usize = 500;
/// Body bytes kept per call.
const KEPT_BODY: usize = 8 * 1024;

/// The stand-ins this build knows, by the name used in `[development] stand_ins`.
const KNOWN: &[&str] = &["twilio", "pinterest", "meta", "smtp", "mailbox"];

/// A stand-in that is listening.
#[derive(Debug)]
pub struct Started {
    pub name: String,
    /// Where a person looks at what it received.
    pub look_at: String,
}

/// One request as a stand-in received it, and what it answered.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Call {
    pub n: u64,
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Default)]
pub(crate) struct CallLog {
    calls: Mutex<VecDeque<Call>>,
    next: AtomicU64,
}

impl CallLog {
    pub(crate) fn number(&self) -> u64 {
        self.next.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn keep(&self, mut call: Call) {
        if call.body.len() > KEPT_BODY {
            let mut end = KEPT_BODY;
            while !call.body.is_char_boundary(end) {
                end -= 1;
            }
            call.body.truncate(end);
            call.body.push('…');
        }
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if calls.len() == KEPT_CALLS {
            calls.pop_front();
        }
        calls.push_back(call);
    }

    fn all(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

/// Which API an HTTP stand-in plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Twilio,
    Pinterest,
    Meta,
}

#[derive(Clone)]
struct Shared {
    api: Api,
    log: Arc<CallLog>,
}

/// What an HTTP stand-in was asked.
pub(crate) struct Asked<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub n: u64,
}

/// Start the stand-ins named in `[development] stand_ins`; mail the SMTP
/// stand-in receives is written as `.eml` files into `mail_dir`.
pub async fn start(specs: &BTreeMap<String, String>, mail_dir: &Path) -> anyhow::Result<Vec<Started>> {
    let mut started = Vec::new();
    for (name, listen) in specs {
        let api = match name.as_str() {
            "twilio" => Some(Api::Twilio),
            "pinterest" => Some(Api::Pinterest),
            "meta" => Some(Api::Meta),
            "smtp" | "mailbox" => None,
            other => bail!("[development] stand_ins: no stand-in called `{other}`; known: {}", KNOWN.join(", ")),
        };
        let listener = tokio::net::TcpListener::bind(listen.as_str()).await.with_context(|| {
            format!("starting the {name} stand-in on {listen}; is another demo running? change [development] stand_ins")
        })?;
        let addr = listener.local_addr()?;
        let look_at = match api {
            Some(api) => {
                let shared = Shared { api, log: Arc::default() };
                let app = Router::new().fallback(answer).with_state(shared);
                tokio::spawn(async move { axum::serve(listener, app).await });
                format!("http://{addr}/_calls")
            }
            None => {
                let dir = PathBuf::from(mail_dir);
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                if name == "mailbox" {
                    let app = mailbox::router(dir);
                    tokio::spawn(async move { axum::serve(listener, app).await });
                    format!("http://{addr}/")
                } else {
                    tokio::spawn(smtp::serve(listener, dir.clone()));
                    format!("{}", dir.display())
                }
            }
        };
        started.push(Started { name: name.clone(), look_at });
    }
    Ok(started)
}

async fn answer(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    if method == Method::GET && path == "/_calls" {
        return Json(shared.log.all()).into_response();
    }
    let n = shared.log.number();
    let asked =
        Asked { method: &method, path: &path, query: uri.query().unwrap_or(""), headers: &headers, body: &body, n };
    let (status, value) = match shared.api {
        Api::Twilio => answers::twilio(&asked),
        Api::Pinterest => answers::pinterest(&asked),
        Api::Meta => answers::meta(&asked),
    };
    shared.log.keep(Call {
        n,
        at_ms: omnistore_runtime::system_now_ms(),
        method: method.to_string(),
        path: match uri.query() {
            Some(q) => format!("{path}?{}", redact_query(q)),
            None => path.clone(),
        },
        status: status.as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    (status, Json(value)).into_response()
}

/// A query string with its access token hidden, as the list of calls is for looking at.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("access_token", _)) => "access_token=…".to_owned(),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `status` with a JSON body.
pub(crate) fn reply(status: StatusCode, value: Value) -> (StatusCode, Value) {
    (status, value)
}

/// The form fields of a form-encoded body.
pub(crate) fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub(crate) fn now_iso() -> String {
    let ms = omnistore_runtime::system_now_ms();
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = omnistore_liquid::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_are_not_shown() {
        assert_eq!(redact_query("handle=h1&access_token=EAAB"), "handle=h1&access_token=…");
    }
}
