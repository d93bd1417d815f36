//! The judge of what goes over the wire to a remote API: the API's own
//! OpenAPI description (a test fixture, kept unmodified), read by
//! `openapi-core` from PyPI in the judges' Python. One Python process per
//! validator loads the description once (a large one takes seconds) and
//! answers one JSON line per question, so a test binary keeps one validator
//! per description in a `OnceLock` and asks it about every request.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Value, json};

/// Reads one question per line, answers `{"ok": true, ...}` or `{"ok": false, "error": ...}`.
/// `argv[1]` is the description, `argv[2]` the server's origin that requests are addressed to.
const SCRIPT: &str = r#"
import json, sys
from urllib.parse import parse_qsl
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
import xml.etree.ElementTree as ET

with open(sys.argv[1], encoding="utf-8") as f:
    spec = OpenAPI.from_dict(json.load(f))
server = sys.argv[2]
print(json.dumps({"ok": True, "ready": True}), flush=True)

def request_of(q):
    return MockRequest(
        server, q["method"].lower(), q["path"],
        args=dict(parse_qsl(q["query"])), headers=q["headers"], data=q["body"].encode("utf-8"),
        content_type=q.get("content_type") or "application/x-www-form-urlencoded",
    )

def describe(e):
    parts = []
    while e is not None:
        parts.append(f"{type(e).__name__}: {e}")
        e = e.__cause__
    return " <- ".join(parts)

for line in sys.stdin:
    q = json.loads(line)
    try:
        if q["kind"] == "request":
            spec.validate_request(request_of(q))
            answer = {"ok": True}
        elif q["kind"] == "response":
            r = q["response"]
            spec.validate_response(request_of(q), MockResponse(
                r["body"].encode("utf-8"), status_code=r["status"], content_type=r["content_type"],
                headers=r.get("headers") or {}))
            answer = {"ok": True}
        elif q["kind"] == "xml":
            root = ET.fromstring(q["body"].encode("utf-8"))
            answer = {"ok": True, "root": root.tag,
                      "children": [{"tag": c.tag, "text": c.text or ""} for c in root]}
        else:
            answer = {"ok": False, "error": "unknown question " + q["kind"]}
    except Exception as e:
        answer = {"ok": False, "error": describe(e)}
    print(json.dumps(answer), flush=True)
"#;

struct Process {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// A validator of requests to one API and of that API's answers.
pub struct OpenApi {
    process: Mutex<Process>,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi").finish_non_exhaustive()
    }
}

impl OpenApi {
    /// Load the description at `spec` into openapi-core; requests are
    /// validated as addressed to `server` (an origin such as
    /// `https://api.twilio.com`, the path of a [`Question`] is appended to
    /// it and must fall under one of the description's `servers`).
    ///
    /// Panics, saying how to install the judges, when openapi-core is missing
    /// or cannot read the description: a test never passes without its judge.
    pub fn start(spec: &Path, server: &str) -> OpenApi {
        let python = crate::judges_dir().join("venv/bin/python");
        assert!(
            python.exists(),
            "the judges' Python ({}) is missing: run `cargo xtask judges`, which installs openapi-core as pinned in tests/judges/requirements.txt",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(spec)
            .arg(server)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("python's stdin");
        let stdout = BufReader::new(child.stdout.take().expect("python's stdout"));
        let mut process = Process { _child: child, stdin, stdout };
        let ready = read_answer(&mut process);
        assert_eq!(
            ready["ready"],
            true,
            "openapi-core did not load {} ({ready}); is openapi-core installed? run `cargo xtask judges`",
            spec.display()
        );
        OpenApi { process: Mutex::new(process) }
    }

    fn ask(&self, question: &Value) -> Value {
        let mut p = self.process.lock().unwrap_or_else(|e| e.into_inner());
        writeln!(p.stdin, "{question}").and_then(|()| p.stdin.flush()).expect("writing to the validator");
        read_answer(&mut p)
    }

    /// Whether the description accepts this request (path, query, headers
    /// with the credentials its security schemes ask for, body); the refusal
    /// says why.
    pub fn check_request(&self, request: &Question<'_>) -> Result<(), String> {
        verdict(self.ask(&request.json("request", None)))
    }

    /// Whether the description accepts this answer to `request`.
    pub fn check_response(
        &self,
        request: &Question<'_>,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> Result<(), String> {
        let response = json!({ "status": status, "content_type": content_type, "body": body });
        verdict(self.ask(&request.json("response", Some(response))))
    }

    /// An XML document read by Python's own parser: the root's tag and its
    /// children's tags and texts (entities decoded).
    pub fn parse_xml(&self, body: &str) -> Result<(String, Vec<(String, String)>), String> {
        let answer = self.ask(&json!({ "kind": "xml", "body": body }));
        verdict(answer.clone())?;
        let children = answer["children"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| {
                        (c["tag"].as_str().unwrap_or("").to_string(), c["text"].as_str().unwrap_or("").to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((answer["root"].as_str().unwrap_or("").to_string(), children))
    }
}

/// A request as the validator reads it.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    pub method: &'a str,
    /// Path and query, as sent.
    pub uri: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a str,
}

impl Question<'_> {
    fn json(&self, kind: &str, response: Option<Value>) -> Value {
        let (path, query) = self.uri.split_once('?').unwrap_or((self.uri, ""));
        let headers: serde_json::Map<String, Value> =
            self.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone()))).collect();
        let content_type = self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v);
        json!({
            "kind": kind,
            "method": self.method,
            "path": path,
            "query": query,
            "headers": headers,
            "content_type": content_type,
            "body": self.body,
            "response": response,
        })
    }
}

fn read_answer(p: &mut Process) -> Value {
    let mut line = String::new();
    let n = p.stdout.read_line(&mut line).expect("reading the validator's answer");
    assert!(n > 0, "the OpenAPI validator stopped (its error is above)");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("the validator's answer {line:?} is not JSON: {e}"))
}

fn verdict(answer: Value) -> Result<(), String> {
    if answer["ok"] == true { Ok(()) } else { Err(answer["error"].as_str().unwrap_or("no reason given").to_string()) }
}
