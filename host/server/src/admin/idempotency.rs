//! The body limit and `Idempotency-Key`, for every mutating route.
//!
//! A key is bound to the first request that *succeeds* with it. Records live
//! in the core's store, per tenant (`admin/idem/{tenant}/{sha256(key)}`;
//! `_operator` for the operator's tenant-less routes) and hold the request's
//! fingerprint (HMAC-SHA256 of method, path, query and body — never the body
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
//! after, in separate transactions (the core commits its own). The
//! reservation is fenced by an owner token: while its request runs it never
//! lapses — in this process the owner is known to be alive, and for other
//! hosts on the same store the owner renews its lease every
//! [`RENEW_EVERY`] — so a retry of a slow request answers 409 instead of
//! running the mutation a second time. Only a reservation whose owner died
//! (a crash) expires, [`LEASE_MS`] after its last renewal; a retry after that
//! runs the request again. Only the owner may record the response or release
//! the key. Records are honoured for [`RETENTION_MS`].
//!
//! The fingerprint is keyed with a key that is not in the store (derived from
//! the host's secrets key, [`AdminState::fingerprint_keys`]). Bodies hold
//! passwords (`POST …/users`) and channel secrets (`PUT …/secrets/{name}`)
//! beside values an attacker may know (the e-mail, the path), so a plain hash
//! in the store would let anyone with a copy of it test guesses offline. A
//! fingerprint that left the secret fields out would not do: the same key
//! with another password would replay the first answer as if the second had
//! been set. A keyed hash still tells every body apart and reveals nothing
//! without the key; fingerprints made under an older key still match.
//!
//! Responses that carry a fresh secret (an issued token) mark it with
//! [`Redact`]; the stored copy has that field set to `null`, because a
//! secret must not be kept in plain text even for replays.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use omnistore_storage::{keyspace, transact};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::{AdminError, AdminState, blocking, sha256};

/// How long a reservation outlives its last renewal when its owner is gone.
pub const LEASE_MS: i64 = 60_000;
/// How often a running request renews its reservation in the store.
pub const RENEW_EVERY: Duration = Duration::from_millis(LEASE_MS as u64 / 4);
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
    /// `owner` is the token of the request that holds the key.
    InProgress {
        until_ms: i64,
        #[serde(default)]
        owner: String,
    },
    Done {
        status: u16,
        content_type: Option<String>,
        body: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    created_ms: i64,
    outcome: Outcome,
}

enum Reserved {
    Proceed(Owner),
    Replay {
        status: u16,
        content_type: Option<String>,
        body: String,
    },
    Reused,
    InProgress,
    /// Nobody holds the key (only from [`decide`]).
    Free,
}

/// Owner tokens of the requests running in this process.
static RUNNING: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

fn running() -> std::sync::MutexGuard<'static, HashSet<String>> {
    RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn is_running(owner: &str) -> bool {
    running().contains(owner)
}

/// The reservation of one running request. Dropping it (the request
/// finished, failed or was abandoned) stops the renewals and forgets the
/// owner, so only a lease that nobody renews can lapse.
struct Owner {
    token: String,
    renewal: Option<tokio::task::JoinHandle<()>>,
}

impl Owner {
    fn new(key: &[u8]) -> Owner {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let unique = format!(
            "{}\n{}\n{}\n{}",
            std::process::id(),
            started.as_nanos(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            hex::encode(key)
        );
        let token = hex::encode(sha256(unique.as_bytes()));
        running().insert(token.clone());
        Owner { token, renewal: None }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(task) = self.renewal.take() {
            task.abort();
        }
        running().remove(&self.token);
    }
}

/// What to do with a key, given its record: `running` says whether an owner
/// token belongs to a request still running in this process.
/// `fingerprints` are the request's under each key, the signing one first.
fn decide(existing: Option<Record>, fingerprints: &[String], now: i64, running: impl Fn(&str) -> bool) -> Reserved {
    let live = existing.filter(|r| match &r.outcome {
        Outcome::InProgress { until_ms, owner } => *until_ms > now || running(owner),
        Outcome::Done { .. } => r.created_ms.saturating_add(RETENTION_MS) > now,
    });
    match live {
        Some(r) if !fingerprints.contains(&r.fingerprint) => Reserved::Reused,
        Some(Record { outcome: Outcome::Done { status, content_type, body }, .. }) => {
            Reserved::Replay { status, content_type, body }
        }
        Some(_) => Reserved::InProgress,
        None => Reserved::Free,
    }
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
    let caller = parts
        .extensions
        .get::<Caller>()
        .ok_or_else(|| AdminError::internal("mutation reached without its guard").into_response())?;
    let path = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let request_text = [parts.method.as_str().as_bytes(), b"\n", path.as_bytes(), b"\n", &bytes].concat();
    let fingerprints: Vec<String> = state.fingerprint_keys().iter().map(|k| fingerprint(k, &request_text)).collect();
    let fingerprint = fingerprints.first().cloned().unwrap_or_default();
    let record_key = keyspace::idempotency_key(caller.idempotency_scope(), &sha256(key.as_bytes()));

    let reserved = reserve(&state, record_key.clone(), fingerprints).await.map_err(IntoResponse::into_response)?;
    let mut owner = match reserved {
        Reserved::Proceed(owner) => owner,
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
        Reserved::Free => return Err(AdminError::internal("idempotency key neither free nor taken").into_response()),
    };
    owner.renewal = Some(tokio::spawn(renew(state.clone(), record_key.clone(), owner.token.clone())));

    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if !response.status().is_success() {
        release(&state, record_key, &owner).await;
        return Ok(response);
    }
    let (rparts, rbody) = response.into_parts();
    let Ok(rbytes) = to_bytes(rbody, usize::MAX).await else {
        release(&state, record_key, &owner).await;
        return Err(AdminError::internal("could not buffer the response").into_response());
    };
    let stored = match rparts.extensions.get::<Redact>() {
        Some(Redact(pointers)) => redact(&rbytes, pointers),
        None => String::from_utf8_lossy(&rbytes).into_owned(),
    };
    let content_type = rparts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let outcome = Outcome::Done { status: rparts.status.as_u16(), content_type, body: stored };
    if let Err(e) = complete(&state, record_key, fingerprint, &owner, outcome).await {
        // The change is made; answering with an error would invite a retry
        // that repeats it. The reservation expires on its own.
        tracing::warn!(error = %e, "could not record an idempotent response");
    }
    drop(owner);
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

/// HMAC-SHA256 of the request under `key`, in hex.
fn fingerprint(key: &[u8; 32], request: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(request);
    hex::encode(mac.finalize().into_bytes())
}

async fn reserve(state: &AdminState, key: Vec<u8>, fingerprints: Vec<String>) -> Result<Reserved, AdminError> {
    let core = state.core.clone();
    let now = state.now();
    let owner = Owner::new(&key);
    let token = owner.token.clone();
    let decided = blocking(move || {
        transact(&**core.store(), |txn| {
            let existing = txn.get(&key)?.as_deref().and_then(decode);
            let decided = decide(existing, &fingerprints, now, is_running);
            if matches!(decided, Reserved::Free) {
                let record = Record {
                    fingerprint: fingerprints.first().cloned().unwrap_or_default(),
                    created_ms: now,
                    outcome: Outcome::InProgress { until_ms: now.saturating_add(LEASE_MS), owner: token.clone() },
                };
                txn.put(&key, &encode(&record))?;
            }
            Ok(decided)
        })
        .map_err(AdminError::storage)
    })
    .await?;
    Ok(match decided {
        Reserved::Free => Reserved::Proceed(owner),
        other => other,
    })
}

/// Whether the record under `key` is the reservation of `owner`.
fn owned_by(
    txn: &mut dyn omnistore_storage::Txn,
    key: &[u8],
    owner: &str,
) -> Result<Option<Record>, omnistore_storage::StorageError> {
    Ok(txn
        .get(key)?
        .as_deref()
        .and_then(decode)
        .filter(|r| matches!(&r.outcome, Outcome::InProgress { owner: o, .. } if o == owner)))
}

/// Keep a running request's reservation alive for the other hosts on the
/// store, until the request ends (the task is aborted) or loses the key.
async fn renew(state: AdminState, key: Vec<u8>, owner: String) {
    let mut ticks = tokio::time::interval(RENEW_EVERY);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let core = state.core.clone();
        let until = state.now().saturating_add(LEASE_MS);
        let (key, owner) = (key.clone(), owner.clone());
        let renewed = blocking(move || {
            transact(&**core.store(), |txn| {
                let Some(mut record) = owned_by(txn, &key, &owner)? else {
                    return Ok(false);
                };
                record.outcome = Outcome::InProgress { until_ms: until, owner: owner.clone() };
                txn.put(&key, &encode(&record))?;
                Ok(true)
            })
            .map_err(AdminError::storage)
        })
        .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(error = %e, "could not renew an idempotency reservation"),
        }
    }
}

/// Write the outcome over our own reservation (never over another
/// request's, should ours have been taken over after a crash).
async fn complete(
    state: &AdminState,
    key: Vec<u8>,
    fingerprint: String,
    owner: &Owner,
    outcome: Outcome,
) -> Result<(), AdminError> {
    let core = state.core.clone();
    let now = state.now();
    let token = owner.token.clone();
    blocking(move || {
        transact(&**core.store(), |txn| {
            if owned_by(txn, &key, &token)?.is_some() {
                let record = Record { fingerprint: fingerprint.clone(), created_ms: now, outcome: outcome.clone() };
                txn.put(&key, &encode(&record))?;
            }
            Ok(())
        })
        .map_err(AdminError::storage)
    })
    .await
}

async fn release(state: &AdminState, key: Vec<u8>, owner: &Owner) {
    let core = state.core.clone();
    let token = owner.token.clone();
    let outcome = blocking(move || {
        transact(&**core.store(), |txn| {
            if owned_by(txn, &key, &token)?.is_some() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn in_progress(until_ms: i64, owner: &str) -> Option<Record> {
        Some(Record {
            fingerprint: "f".into(),
            created_ms: 0,
            outcome: Outcome::InProgress { until_ms, owner: owner.into() },
        })
    }

    #[test]
    fn a_running_owner_keeps_its_key_past_the_lease() {
        let alive = |o: &str| o == "alive";
        let f = ["f".to_owned()];
        let other = ["other".to_owned()];
        assert!(matches!(decide(in_progress(10, "alive"), &f, 1_000_000, alive), Reserved::InProgress));
        // Another host's request that renews its lease.
        assert!(matches!(decide(in_progress(2_000, "elsewhere"), &f, 1_000, alive), Reserved::InProgress));
        // A crashed owner's lease lapses.
        assert!(matches!(decide(in_progress(10, "crashed"), &f, 1_000, alive), Reserved::Free));
        assert!(matches!(decide(in_progress(10, "alive"), &other, 1_000, alive), Reserved::Reused));
        assert!(matches!(decide(None, &f, 1_000, alive), Reserved::Free));
    }
}
