//! A stand-in for Pinterest's API v5 on 127.0.0.1: it accepts the access
//! tokens it issued (others get Pinterest's 401), answers batch, batch
//! status, Pin, feed and token calls shaped as Pinterest's own, or the next
//! scripted answer, and keeps every request so a test can read it and the
//! OpenAPI judge can check every request and every answer.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use omnistore_sdk_harness::{StubHttp, StubRequest, StubResponse};
use serde_json::{Value, json};

use crate::openapi::{Question, openapi};

const TIME: &str = "2026-03-02T10:00:00Z";

#[derive(Default)]
struct World {
    /// Access token -> refresh token it came with.
    tokens: BTreeMap<String, String>,
    /// Refresh tokens Pinterest still honours -> app credentials they belong to.
    refresh: BTreeMap<String, String>,
    /// Scripted answers, each for the next request whose "METHOD /path" starts with its prefix.
    script: VecDeque<(String, StubResponse)>,
    /// Batch id -> item ids, for the status answers.
    batches: BTreeMap<String, Vec<String>>,
    /// Item id -> errors Pinterest reports for it when its batch is read.
    item_errors: BTreeMap<String, Value>,
    answered: Vec<StubResponse>,
    next: u32,
}

pub struct Pinterest {
    stub: StubHttp,
    world: Arc<Mutex<World>>,
}

impl Pinterest {
    pub fn start() -> Pinterest {
        let world: Arc<Mutex<World>> = Arc::default();
        let w = world.clone();
        let stub = StubHttp::start(move |req| {
            let mut world = w.lock().unwrap();
            let call = format!("{} {}", req.method, req.uri.split('?').next().unwrap_or(""));
            let scripted = world.script.iter().position(|(prefix, _)| call.starts_with(prefix.as_str()));
            let response = match scripted.and_then(|i| world.script.remove(i)) {
                Some((_, scripted)) => scripted,
                None => answer(&mut world, req),
            };
            world.answered.push(response.clone());
            response
        })
        .expect("starting the Pinterest stand-in");
        Pinterest { stub, world }
    }

    pub fn url(&self) -> String {
        self.stub.url()
    }

    /// Accept `access` (issued with `refresh`).
    pub fn issue(&self, access: &str, refresh: &str) {
        let mut w = self.world.lock().unwrap();
        w.tokens.insert(access.into(), refresh.into());
        w.refresh.insert(refresh.into(), basic("app-1", "app-secret"));
    }

    /// Answer the next request with this.
    pub fn then(&self, response: StubResponse) {
        self.then_on("", response);
    }

    /// Answer the next request whose "METHOD /path" starts with `prefix` with this.
    pub fn then_on(&self, prefix: &str, response: StubResponse) {
        self.world.lock().unwrap().script.push_back((prefix.to_string(), response));
    }

    /// Report these errors for `item_id` when its batch status is read.
    pub fn item_error(&self, item_id: &str, errors: Value) {
        self.world.lock().unwrap().item_errors.insert(item_id.into(), errors);
    }

    pub fn requests(&self) -> Vec<StubRequest> {
        self.stub.requests()
    }

    /// The requests to this method and path (without query).
    pub fn calls(&self, method: &str, path: &str) -> Vec<StubRequest> {
        self.requests().into_iter().filter(|r| r.method == method && r.uri.split('?').next() == Some(path)).collect()
    }

    /// The requests to this method whose path starts with `prefix`.
    pub fn calls_starting(&self, method: &str, prefix: &str) -> Vec<StubRequest> {
        self.requests().into_iter().filter(|r| r.method == method && r.uri.starts_with(prefix)).collect()
    }

    /// Bodies of the batch calls, as JSON.
    pub fn batches(&self) -> Vec<Value> {
        self.calls("POST", "/v5/catalogs/items/batch")
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }

    /// Every request is one Pinterest's description accepts, and every
    /// answer one it describes for that operation.
    pub fn assert_conformant(&self) {
        let sent = self.requests();
        let answered = self.world.lock().unwrap().answered.clone();
        assert_eq!(sent.len(), answered.len(), "each request was answered once");
        for (r, a) in sent.iter().zip(&answered) {
            let body = r.text();
            let q = Question { method: &r.method, uri: &r.uri, headers: &r.headers, body: &body };
            if let Err(why) = openapi().check_request(&q) {
                panic!(
                    "Pinterest's description refuses the request {} {}: {why}\nbody: {}",
                    r.method,
                    r.uri,
                    &body[..body.len().min(2000)]
                );
            }
            let answer = String::from_utf8_lossy(&a.body);
            if let Err(why) = openapi().check_response(&q, a.status, &a.content_type, &answer) {
                panic!(
                    "Pinterest's description refuses the stand-in's answer {} to {} {}: {why}",
                    a.status, r.method, r.uri
                );
            }
        }
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

pub fn error(status: u16, code: i64, message: &str) -> StubResponse {
    StubResponse::status_json(status, &json!({ "code": code, "message": message }))
}

fn answer(world: &mut World, req: &StubRequest) -> StubResponse {
    let path = req.uri.split('?').next().unwrap_or("").to_string();
    if path == "/v5/oauth/token" {
        return token(world, req);
    }
    let bearer = req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
    if !world.tokens.contains_key(bearer) {
        return error(401, 2, "Authentication failed.");
    }
    world.next += 1;
    let n = world.next;
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    match (req.method.as_str(), path.as_str()) {
        ("POST", "/v5/catalogs/items/batch") => {
            let id = format!("batch{n:08}");
            let items = body["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["item_id"].as_str().map(String::from))
                .collect();
            world.batches.insert(id.clone(), items);
            StubResponse::json(&json!({
                "catalog_type": "RETAIL", "batch_id": id, "created_time": TIME, "completed_time": null, "status": "PROCESSING",
            }))
        }
        ("GET", p) if p.starts_with("/v5/catalogs/items/batch/") => {
            let id = &p["/v5/catalogs/items/batch/".len()..];
            let Some(items) = world.batches.get(id) else { return error(404, 4, "Batch not found.") };
            let records: Vec<Value> = items
                .iter()
                .map(|item| match world.item_errors.get(item) {
                    Some(errors) => json!({ "item_id": item, "status": "FAILURE", "errors": errors, "warnings": [] }),
                    None => json!({ "item_id": item, "status": "SUCCESS", "errors": [], "warnings": [] }),
                })
                .collect();
            StubResponse::json(&json!({
                "catalog_type": "RETAIL", "batch_id": id, "created_time": TIME, "completed_time": TIME,
                "status": "COMPLETED", "items": records,
            }))
        }
        ("POST", "/v5/pins") => StubResponse::status_json(
            201,
            &json!({
                "id": format!("{}", 813_744_226_420_000u64 + u64::from(n)), "created_at": TIME,
                "board_id": body["board_id"], "title": body["title"], "description": body["description"],
                "link": body["link"], "alt_text": body["alt_text"],
            }),
        ),
        ("POST", "/v5/catalogs/feeds") => StubResponse::status_json(
            201,
            &json!({
                "id": format!("{}", 2_680_059_592_700u64 + u64::from(n)), "catalog_type": "RETAIL",
                "created_at": TIME, "updated_at": TIME, "name": body["name"], "format": body["format"],
                "location": body["location"], "status": "ACTIVE", "default_country": body["default_country"],
                "default_locale": body["default_locale"], "default_currency": body["default_currency"],
                "credentials": null, "default_availability": null, "preferred_processing_schedule": null, "catalog_id": null,
            }),
        ),
        _ => error(404, 4, "Not found."),
    }
}

fn token(world: &mut World, req: &StubRequest) -> StubResponse {
    let form: BTreeMap<String, String> = req
        .text()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2F", "/").replace("%2B", "+").replace('+', " ")))
        .collect();
    let refresh = form.get("refresh_token").cloned().unwrap_or_default();
    let auth = req.header("authorization").unwrap_or("");
    match world.refresh.get(&refresh) {
        Some(app) if app == auth && form.get("grant_type").map(String::as_str) == Some("refresh_token") => {
            world.next += 1;
            let access = format!("pina_renewed_{}", world.next);
            let new_refresh = format!("pinr_renewed_{}", world.next);
            world.tokens.insert(access.clone(), new_refresh.clone());
            world.refresh.insert(new_refresh.clone(), app.clone());
            StubResponse::json(&json!({
                "access_token": access, "token_type": "bearer", "expires_in": 2_592_000,
                "scope": "boards:read,catalogs:read,catalogs:write,pins:write", "refresh_token": new_refresh,
                "refresh_token_expires_in": 5_184_000, "refresh_token_expires_at": 1_777_629_600,
                "response_type": "refresh_token",
            }))
        }
        _ => error(400, 1, "invalid_grant"),
    }
}
