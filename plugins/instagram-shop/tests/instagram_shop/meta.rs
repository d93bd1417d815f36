//! A stand-in for Meta's Graph API on 127.0.0.1: every call goes through
//! the judge first (a call it refuses is answered with Graph's error 100,
//! and the verdict kept for `assert_conformant`); accepted `items_batch`
//! calls get a handle, or the scripted answer; `check_batch_request_status`
//! reports the batch finished with the scripted problems.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use omnistore_sdk_harness::{StubHttp, StubRequest, StubResponse};
use serde_json::{Value, json};

use crate::judge::{decode_form, judge};

/// What the stand-in answers the next `items_batch` call.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A handle, and these validation errors per SKU in `validation_status`.
    Accept { invalid: Vec<(&'static str, &'static str)> },
    /// Graph's error document.
    Error { status: u16, code: i64, subcode: Option<i64>, message: &'static str },
}

pub const RATE_LIMITED: Answer = Answer::Error {
    status: 400,
    code: 80014,
    subcode: None,
    message: "(#80014) There have been too many calls for this catalog.",
};
pub const EXPIRED_TOKEN: Answer = Answer::Error {
    status: 401,
    code: 190,
    subcode: Some(463),
    message: "Error validating access token: Session has expired.",
};
pub const INVALID_PARAMETER: Answer =
    Answer::Error { status: 400, code: 100, subcode: Some(2_310_068), message: "(#100) Invalid parameter" };

/// One call the plugin made, decoded.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
    pub verdict: Result<(), String>,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn is_batch(&self) -> bool {
        self.path.ends_with("/items_batch")
    }

    /// The `requests` of an `items_batch` call.
    pub fn requests(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(self.param("requests").unwrap_or("[]"))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }
}

type Shared<T> = Arc<Mutex<T>>;

pub struct Meta {
    stub: StubHttp,
    script: Shared<VecDeque<Answer>>,
    calls: Shared<Vec<Call>>,
    /// Problems `check_batch_request_status` reports: SKU → (errors, warnings).
    status_problems: Shared<BTreeMap<String, (Vec<String>, Vec<String>)>>,
}

impl Meta {
    pub fn start() -> Meta {
        let script: Shared<VecDeque<Answer>> = Arc::default();
        let calls: Shared<Vec<Call>> = Arc::default();
        let status_problems: Shared<BTreeMap<String, (Vec<String>, Vec<String>)>> = Arc::default();
        let handles: Shared<BTreeMap<String, Vec<String>>> = Arc::default();
        let (s, c, p) = (script.clone(), calls.clone(), status_problems.clone());
        let stub = StubHttp::start(move |req| answer(req, &s, &c, &p, &handles)).expect("starting the Meta stand-in");
        Meta { stub, script, calls, status_problems }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.stub.url()
    }

    pub fn then(&self, answer: Answer) {
        self.script.lock().unwrap().push_back(answer);
    }

    /// The next status poll of a batch with `sku` reports these.
    pub fn report_on_status(&self, sku: &str, errors: &[&str], warnings: &[&str]) {
        let strings = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        self.status_problems.lock().unwrap().insert(sku.into(), (strings(errors), strings(warnings)));
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn batches(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::is_batch).collect()
    }

    /// Every call passed the judge.
    pub fn assert_conformant(&self) {
        let calls = self.calls();
        assert!(!calls.is_empty(), "no call was made");
        for call in calls {
            if let Err(why) = &call.verdict {
                panic!("Meta's description refuses {} {}: {why}\n{:?}", call.method, call.path, call.params);
            }
        }
    }
}

fn answer(
    req: &StubRequest,
    script: &Mutex<VecDeque<Answer>>,
    calls: &Mutex<Vec<Call>>,
    problems: &Mutex<BTreeMap<String, (Vec<String>, Vec<String>)>>,
    handles: &Mutex<BTreeMap<String, Vec<String>>>,
) -> StubResponse {
    let (path, query) = req.uri.split_once('?').unwrap_or((&req.uri, ""));
    let mut params = decode_form(query);
    if req.method == "POST" {
        assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
        params.extend(decode_form(&req.text()));
    }
    let j = judge();
    let status_call = path.ends_with("/check_batch_request_status");
    let verdict = if status_call {
        j.check_batch_status(&req.method, path, &params)
    } else {
        j.check_items_batch(&req.method, path, &params)
    };
    let call = Call { method: req.method.clone(), path: path.into(), params, verdict: verdict.clone() };
    calls.lock().unwrap().push(call.clone());
    if let Err(why) = verdict {
        return error(400, 100, None, &format!("(#100) {why}"));
    }
    if status_call {
        let handle = call.param("handle").unwrap_or_default().to_string();
        let skus = handles.lock().unwrap().get(&handle).cloned().unwrap_or_default();
        let problems = problems.lock().unwrap();
        let (mut errors, mut warnings) = (vec![], vec![]);
        for sku in &skus {
            if let Some((e, w)) = problems.get(sku) {
                errors.extend(e.iter().map(|m| json!({"line": 0, "id": sku, "message": m})));
                warnings.extend(w.iter().map(|m| json!({"line": 0, "id": sku, "message": m})));
            }
        }
        return StubResponse::json(&json!({"data": [{
            "handle": handle, "status": "finished", "errors_total_count": errors.len(),
            "errors": errors, "warnings": warnings,
        }]}));
    }
    match script.lock().unwrap().pop_front().unwrap_or(Answer::Accept { invalid: vec![] }) {
        Answer::Error { status, code, subcode, message } => error(status, code, subcode, message),
        Answer::Accept { invalid } => {
            let mut handles = handles.lock().unwrap();
            let handle = format!("AcHandle{}", handles.len() + 1);
            let skus: Vec<String> =
                call.requests().iter().filter_map(|r| r["data"]["id"].as_str().map(str::to_string)).collect();
            let validation: Vec<Value> = invalid
                .iter()
                .filter(|(sku, _)| skus.iter().any(|s| s == sku))
                .map(|(sku, m)| json!({"retailer_id": sku, "errors": [{"message": m}], "warnings": []}))
                .collect();
            handles.insert(handle.clone(), skus);
            StubResponse::json(&json!({"handles": [handle], "validation_status": validation}))
        }
    }
}

/// Graph's error document.
fn error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> StubResponse {
    let mut e = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK"});
    if let Some(sub) = subcode {
        e["error_subcode"] = sub.into();
    }
    StubResponse::status_json(status, &json!({ "error": e }))
}
