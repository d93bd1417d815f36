//! A stand-in for Twilio's Messages API on 127.0.0.1: answers each request
//! with the next scripted answer (a created message by default), shaped as
//! Twilio's own, and keeps what it was sent so a test can read it and the
//! OpenAPI judge can check every request and every answer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use omnistore_sdk_harness::{StubHttp, StubRequest, StubResponse};
use serde_json::json;

use crate::openapi::{Question, openapi};

/// What the stand-in answers next.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 201 with the created message, status `queued`.
    Created,
    /// An error document as Twilio writes them.
    Error { status: u16, code: i64, message: &'static str },
}

/// Twilio's answer when the recipient texted STOP to the sender.
pub const UNSUBSCRIBED: Answer =
    Answer::Error { status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient" };
pub const TOO_MANY_REQUESTS: Answer = Answer::Error { status: 429, code: 20429, message: "Too Many Requests" };
pub const SERVICE_UNAVAILABLE: Answer = Answer::Error { status: 503, code: 20503, message: "Service Unavailable" };
pub const INVALID_TO: Answer =
    Answer::Error { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." };

type Shared<T> = Arc<Mutex<T>>;

pub struct Twilio {
    stub: StubHttp,
    script: Shared<VecDeque<Answer>>,
    answered: Shared<Vec<StubResponse>>,
}

/// One message request the plugin sent, its form decoded.
#[derive(Debug, Clone)]
pub struct Sent {
    pub request: StubRequest,
    pub form: Vec<(String, String)>,
}

impl Sent {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn question(&self) -> Question<'_> {
        Question {
            method: &self.request.method,
            uri: &self.request.uri,
            headers: &self.request.headers,
            body: std::str::from_utf8(&self.request.body).unwrap_or(""),
        }
    }
}

impl Twilio {
    pub fn start() -> Twilio {
        let script: Shared<VecDeque<Answer>> = Arc::default();
        let answered: Shared<Vec<StubResponse>> = Arc::default();
        let next_sid = Arc::new(AtomicU32::new(1));
        let (s, a) = (script.clone(), answered.clone());
        let stub = StubHttp::start(move |req| {
            let answer = s.lock().unwrap().pop_front().unwrap_or(Answer::Created);
            let response = respond(req, &answer, next_sid.fetch_add(1, Ordering::SeqCst));
            a.lock().unwrap().push(response.clone());
            response
        })
        .expect("starting the Twilio stand-in");
        Twilio { stub, script, answered }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.stub.url()
    }

    /// Answer the next request with `answer` (after those queued before it).
    pub fn then(&self, answer: Answer) {
        self.script.lock().unwrap().push_back(answer);
    }

    /// Every request received, oldest first.
    pub fn sent(&self) -> Vec<Sent> {
        self.stub.requests().into_iter().map(|request| Sent { form: decode_form(&request.text()), request }).collect()
    }

    /// Every request was one Twilio's description accepts, and every
    /// message the stand-in created is one it describes.
    pub fn assert_conformant(&self) {
        let sent = self.sent();
        let answered = self.answered.lock().unwrap().clone();
        assert_eq!(sent.len(), answered.len(), "each request was answered once");
        for (s, answer) in sent.iter().zip(&answered) {
            let q = s.question();
            if let Err(why) = openapi().check_request(&q) {
                panic!("Twilio's description refuses the request {} {}: {why}\nbody: {}", q.method, q.uri, q.body);
            }
            // The description documents only the 201 of this operation; error
            // documents follow Twilio's error format (code, message, more_info, status).
            if answer.status == 201 {
                let body = String::from_utf8_lossy(&answer.body);
                if let Err(why) = openapi().check_response(&q, answer.status, &answer.content_type, &body) {
                    panic!("Twilio's description refuses the stand-in's answer {body}: {why}");
                }
            }
        }
    }
}

fn respond(req: &StubRequest, answer: &Answer, n: u32) -> StubResponse {
    let form = decode_form(&req.text());
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let account = req.uri.split('/').nth(3).unwrap_or("").to_string();
    match answer {
        Answer::Created => {
            let sid = format!("SM{n:032x}");
            let uri = format!("/2010-04-01/Accounts/{account}/Messages/{sid}");
            StubResponse::status_json(
                201,
                &json!({
                    "account_sid": account,
                    "api_version": "2010-04-01",
                    "body": get("Body"),
                    "date_created": "Mon, 02 Mar 2026 10:00:00 +0000",
                    "date_sent": null,
                    "date_updated": "Mon, 02 Mar 2026 10:00:00 +0000",
                    "direction": "outbound-api",
                    "error_code": null,
                    "error_message": null,
                    "from": get("From"),
                    "messaging_service_sid": get("MessagingServiceSid"),
                    "num_media": "0",
                    "num_segments": "1",
                    "price": null,
                    "price_unit": null,
                    "sid": sid,
                    "status": "queued",
                    "subresource_uris": { "media": format!("{uri}/Media.json") },
                    "to": get("To"),
                    "uri": format!("{uri}.json"),
                }),
            )
        }
        Answer::Error { status, code, message } => StubResponse::status_json(
            *status,
            &json!({
                "code": code,
                "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            }),
        ),
    }
}

/// `application/x-www-form-urlencoded` pairs, decoded (`+` is a space).
pub fn decode_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
