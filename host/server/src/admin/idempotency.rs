//! The body limit and `Idempotency-Key`, for every mutating route.
//!
//! A key is bound to the first request that *succeeds* with it. Records live
//! in the core's store, per tenant (`admin/idem/{tenant}/{sha256(key)}`;
//! `_operator` for the operator's tenant-less routes) and hold the request's
//! fingerprint (SHA-256 of method, path, query and body — never the body
//! itself) and the response (status, body):
//!
//! - same key, same request → the stored response, same status and body,
//!   with `Idempotent-Replayed: true`; nothing runs again;
//! - same key, another request → 422 `idempotency_key_reused`;
//! - same key while the first request still runs → 409
//!   `idempotency_in_progress`;
//! - a refused request (any non-2xx) changed nothing, so its key is released
//!   and may be used again, for a corrected request too.
//!
//! The key is reserved before the handler runs and the response recorded
//! after, in separate transactions (the core commits its own). A crash in
//! between leaves a reservation that expires after [`LEASE_MS`]; a retry after
//! that runs the request again. Records are honoured for [`RETENTION_MS`].
//!
//! Responses that carry a fresh secret (an issued token) mark it with
//! [`Redact`]; the stored copy has that field set to `null`, because a
//! secret must not be kept in plain text even for replays.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use omnistore_storage::transact;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::{AdminError, AdminState, blocking, sha256};

/// How long a reservation holds a key while its request runs.
pub const LEASE_MS: i64 = 60_000;
/// How long a completed request's response is replayed.
pub const RETENTION_MS: i64 = 24 * 3_600_000;
const MAX_KEY_LEN: usize = 255;
const HEADER: &str = "idempotency-key";

/// JSON pointers of fields in a response body that must not be stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Redact(pub &'static [&'static str]);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Outcome {
    InProgress { until_ms: i64 },
    Done { status: u16, content_type: Option<String>, body: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    created_ms: i64,
    outcome: Outcome,
}

enum Reserved {
    Proceed,
    Replay { status: u16, content_type: Option<String>, body: String },
    Reused,
    InProgress,
}

fn check_key(value: &HeaderValue) -> Result<String, AdminError> {
    let bytes = value.as_bytes();
    let ok = !bytes.is_empty() && bytes.len() <= MAX_KEY_LEN && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    if ok {
        Ok(String::from_utf8_lossy(bytes).into_owned())
    } else {
        Err(AdminError::bad_request(
            "invalid_idempotency_key",
            format!("Idempotency-Key must be 1-{MAX_KEY_LEN} visible ASCII characters (a UUID works)"),
        ))
    }
}

async fn read_body(body: Body, declared: Option<u64>, limit: usize) -> Result<Bytes, AdminError> {
    // A declared length over the limit is refused before anything is read.
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AdminError::too_large(limit));
    }
    to_bytes(body, limit).await.map_err(|e| {
        let inner = e.into_inner();
        if inner.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            AdminError::too_large(limit)
        } else {
            AdminError::bad_request("unreadable_body", format!("could not read the request body: {inner}"))
        }
    })
}

fn is_mutation(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub(crate) async fn middleware(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    match run(state, request, next).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run(state: AdminState, request: Request, next: Next) -> Result<Response, Response> {
    if !is_mutation(request.method()) {
        return Ok(next.run(request).await);
    }
    let key = request.headers().get(HEADER).map(check_key).transpose().map_err(IntoResponse::into_response)?;
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let limit = state.body_limit(&parts.method, parts.uri.path());
    let bytes = read_body(body, declared, limit).await.map_err(IntoResponse::into_response)?;
    let Some(key) = key else {
        return Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await);
    };
    let scope = parts
        .extensions
        .get::<Caller>()
        .map(Caller::idempotency_scope)
        .ok_or_else(|| AdminError::internal("mutation reached without its guard").into_response())?;
    let path = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let fingerprint =
        hex::encode(sha256(&[parts.method.as_str().as_bytes(), b"\n", path.as_bytes(), b"\n", &bytes].concat()));
    let record_key = format!("admin/idem/{scope}/{}", hex::encode(sha256(key.as_bytes()))).into_bytes();

    let reserved =
        reserve(&state, record_key.clone(), fingerprint.clone()).await.map_err(IntoResponse::into_response)?;
    match reserved {
        Reserved::Proceed => {}
        Reserved::Replay { status, content_type, body } => return Ok(replay(status, content_type, body)),
        Reserved::Reused => {
            return Err(AdminError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request (path or body); use a new key for a new request",
            )
            .into_response());
        }
        Reserved::InProgress => {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running; retry in a moment",
            )
            .into_response());
        }
    }

    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if !response.status().is_success() {
        release(&state, record_key, fingerprint).await;
        return Ok(response);
    }
    let (rparts, rbody) = response.into_parts();
    let Ok(rbytes) = to_bytes(rbody, usize::MAX).await else {
        release(&state, record_key, fingerprint).await;
        return Err(AdminError::internal("could not buffer the response").into_response());
    };
    let stored = match rparts.extensions.get::<Redact>() {
        Some(Redact(pointers)) => redact(&rbytes, pointers),
        None => String::from_utf8_lossy(&rbytes).into_owned(),
    };
    let content_type = rparts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let outcome = Outcome::Done { status: rparts.status.as_u16(), content_type, body: stored };
    if let Err(e) = complete(&state, record_key, fingerprint, outcome).await {
        // The change is made; answering with an error would invite a retry
        // that repeats it. The reservation expires on its own.
        tracing::warn!(error = %e, "could not record an idempotent response");
    }
    Ok(Response::from_parts(rparts, Body::from(rbytes)))
}

fn redact(body: &[u8], pointers: &[&str]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            for p in pointers {
                if let Some(field) = value.pointer_mut(p) {
                    *field = serde_json::Value::Null;
                }
            }
            value.to_string()
        }
        // Not JSON: keep nothing rather than risk keeping the secret.
        Err(_) => String::new(),
    }
}

fn replay(status: u16, content_type: Option<String>, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.remove(CONTENT_TYPE);
    if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(CONTENT_TYPE, ct);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

fn decode(bytes: &[u8]) -> Option<Record> {
    serde_json::from_slice(bytes).ok()
}

fn encode(record: &Record) -> Vec<u8> {
    serde_json::to_vec(record).unwrap_or_default()
}

async fn reserve(state: &AdminState, key: Vec<u8>, fingerprint: String) -> Result<Reserved, AdminError> {
    let core = state.core.clone();
    let now = state.now();
    blocking(move || {
        transact(&**core.store(), |txn| {
            let existing = txn.get(&key)?.as_deref().and_then(decode);
            let live = existing.filter(|r| match r.outcome {
                Outcome::InProgress { until_ms } => until_ms > now,
                Outcome::Done { .. } => r.created_ms.saturating_add(RETENTION_MS) > now,
            });
            Ok(match live {
                Some(r) if r.fingerprint != fingerprint => Reserved::Reused,
                Some(Record { outcome: Outcome::Done { status, content_type, body }, .. }) => {
                    Reserved::Replay { status, content_type, body }
                }
                Some(_) => Reserved::InProgress,
                None => {
                    let record = Record {
                        fingerprint: fingerprint.clone(),
                        created_ms: now,
                        outcome: Outcome::InProgress { until_ms: now.saturating_add(LEASE_MS) },
                    };
                    txn.put(&key, &encode(&record))?;
                    Reserved::Proceed
                }
            })
        })
        .map_err(AdminError::storage)
    })
    .await
}

/// Write the outcome over our own reservation (not over a newer request's,
/// should ours have expired meanwhile).
async fn complete(state: &AdminState, key: Vec<u8>, fingerprint: String, outcome: Outcome) -> Result<(), AdminError> {
    let core = state.core.clone();
    let now = state.now();
    blocking(move || {
        transact(&**core.store(), |txn| {
            let ours = txn
                .get(&key)?
                .as_deref()
                .and_then(decode)
                .is_some_and(|r| r.fingerprint == fingerprint && matches!(r.outcome, Outcome::InProgress { .. }));
            if ours {
                let record = Record { fingerprint: fingerprint.clone(), created_ms: now, outcome: outcome.clone() };
                txn.put(&key, &encode(&record))?;
            }
            Ok(())
        })
        .map_err(AdminError::storage)
    })
    .await
}

async fn release(state: &AdminState, key: Vec<u8>, fingerprint: String) {
    let core = state.core.clone();
    let outcome = blocking(move || {
        transact(&**core.store(), |txn| {
            let ours = txn
                .get(&key)?
                .as_deref()
                .and_then(decode)
                .is_some_and(|r| r.fingerprint == fingerprint && matches!(r.outcome, Outcome::InProgress { .. }));
            if ours {
                txn.delete(&key)?;
            }
            Ok(())
        })
        .map_err(AdminError::storage)
    })
    .await;
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "could not release an idempotency key; it frees itself when its lease ends");
    }
}
