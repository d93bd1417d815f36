//! Bearer tokens.
//!
//! The operator token is given at startup and only its SHA-256 is kept in
//! memory. Tenant tokens are `osk_` + 64 hex digits from the OS's random
//! source; the store keeps only their SHA-256, so a copy of the database does
//! not let anyone in:
//!
//! - `admin/token/{sha256 hex}` → [`TokenRecord`] (tenant, id, label);
//! - `admin/tenant-token/{tenant}/{token id}` → the hash, to list and revoke.
//!
//! A presented token is hashed and looked up by its hash, so no comparison
//! of secrets ever happens and lookups take the same time for any token.

use axum::extract::{RawPathParams, Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use omnistore_core::{Core, TenantId};
use omnistore_storage::{KeyRange, StorageError, keyspace, transact};
use serde::{Deserialize, Serialize};

use super::{AdminError, AdminState, blocking, sha256};

const TOKEN_PREFIX: &str = "osk_";

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    Operator,
    Tenant { tenant: TenantId, token_id: String },
}

/// What the guards put in the request for the handlers and the idempotency
/// layer: the caller and the tenant the route acts on.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub principal: Principal,
    /// The tenant in the path (tenant routes only).
    pub tenant: Option<TenantId>,
}

impl Caller {
    /// Where this caller's idempotency keys live: per tenant, and one space
    /// for the operator's tenant-less routes.
    pub(crate) fn idempotency_scope(&self) -> keyspace::IdempotencyScope<'_> {
        match &self.tenant {
            Some(t) => keyspace::IdempotencyScope::Tenant(t),
            None => keyspace::IdempotencyScope::Operator,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    id: String,
    tenant: TenantId,
    label: String,
    created_ms: i64,
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TokenInfo {
    pub id: String,
    pub label: String,
    pub created_ms: i64,
}

/// A newly issued token: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct IssuedToken {
    pub id: String,
    pub label: String,
    pub created_ms: i64,
    /// The bearer token. Not stored anywhere; lost if not copied now (null
    /// when the answer is replayed for the same `Idempotency-Key`).
    #[schemars(with = "Option<String>")]
    pub secret: String,
}

fn random_hex(bytes: usize) -> Result<String, AdminError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AdminError::internal(format!("the OS random source failed: {e}")))?;
    Ok(hex::encode(buf))
}

/// Longest token label, in characters (the API and the agency view's form).
pub(crate) const MAX_LABEL_CHARS: usize = 100;

fn check_label(label: &str) -> Result<String, AdminError> {
    let label = label.trim();
    let label = if label.is_empty() { "api" } else { label };
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(AdminError::invalid(format!(
            "token label must be at most {MAX_LABEL_CHARS} characters without control characters"
        )));
    }
    Ok(label.to_owned())
}

/// Issue a token for `tenant` (which the caller has checked exists). Blocking.
pub(crate) fn issue(core: &Core, tenant: &TenantId, label: &str, now_ms: i64) -> Result<IssuedToken, AdminError> {
    let label = check_label(label)?;
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    let id = format!("tok_{}", random_hex(8)?);
    let hash = sha256(secret.as_bytes());
    let record = TokenRecord { id: id.clone(), tenant: tenant.clone(), label: label.clone(), created_ms: now_ms };
    let value = serde_json::to_vec(&record).map_err(|e| AdminError::internal(e.to_string()))?;
    let index_key = keyspace::token_index_key(tenant, &id);
    transact(&**core.store(), |txn| {
        txn.put(&keyspace::token_key(&hash), &value)?;
        txn.put(&index_key, hex::encode(hash).as_bytes())
    })
    .map_err(AdminError::storage)?;
    Ok(IssuedToken { id, label, created_ms: now_ms, secret })
}

/// A page of the tenant's tokens in id order, after `after`. Blocking.
pub(crate) fn list(
    core: &Core,
    tenant: &TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<TokenInfo>, AdminError> {
    let mut range = KeyRange::prefix(&keyspace::token_index_prefix(tenant));
    if let Some(after) = after {
        range.start = std::ops::Bound::Excluded(keyspace::token_index_key(tenant, after));
    }
    let run = || -> Result<Vec<TokenInfo>, StorageError> {
        let mut txn = core.store().begin_read()?;
        let entries = txn.scan(&range, limit)?;
        let mut out = Vec::with_capacity(entries.len());
        for (_, hash_hex) in entries {
            let key = keyspace::token_key_hex(&String::from_utf8_lossy(&hash_hex));
            if let Some(bytes) = txn.get(&key)?
                && let Ok(r) = serde_json::from_slice::<TokenRecord>(&bytes)
            {
                out.push(TokenInfo { id: r.id, label: r.label, created_ms: r.created_ms });
            }
        }
        Ok(out)
    };
    run().map_err(AdminError::storage)
}

/// Revoke one of the tenant's tokens; `NotFound` for ids of other tenants.
/// Blocking.
pub(crate) fn revoke(core: &Core, tenant: &TenantId, id: &str) -> Result<(), AdminError> {
    let index_key = keyspace::token_index_key(tenant, id);
    let found = transact(&**core.store(), |txn| {
        let Some(hash_hex) = txn.get(&index_key)? else {
            return Ok(false);
        };
        txn.delete(&keyspace::token_key_hex(&String::from_utf8_lossy(&hash_hex)))?;
        txn.delete(&index_key)?;
        Ok::<_, StorageError>(true)
    })
    .map_err(AdminError::storage)?;
    if found { Ok(()) } else { Err(AdminError::not_found(format!("token `{id}` not found in this tenant"))) }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Equality of two hashes without an early exit, so the time taken says
/// nothing about how much of the operator token's hash a guess matched.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate(state: &AdminState, headers: &HeaderMap) -> Result<Principal, AdminError> {
    let token = bearer(headers).ok_or_else(AdminError::unauthorized)?;
    let hash = sha256(token.as_bytes());
    if same(&hash, &state.operator_hash) {
        return Ok(Principal::Operator);
    }
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(AdminError::unauthorized());
    }
    let core = state.core.clone();
    let record = blocking(move || {
        let mut txn = core.store().begin_read().map_err(AdminError::storage)?;
        txn.get(&keyspace::token_key(&hash)).map_err(AdminError::storage)
    })
    .await?
    .ok_or_else(AdminError::unauthorized)?;
    let record: TokenRecord =
        serde_json::from_slice(&record).map_err(|e| AdminError::internal(format!("unreadable token record: {e}")))?;
    Ok(Principal::Tenant { tenant: record.tenant, token_id: record.id })
}

/// Guard of the operator routes.
pub(crate) async fn operator(State(state): State<AdminState>, mut request: Request, next: Next) -> Response {
    match authenticate(&state, request.headers()).await {
        Ok(Principal::Operator) => {
            request.extensions_mut().insert(Caller { principal: Principal::Operator, tenant: None });
            next.run(request).await
        }
        Ok(Principal::Tenant { .. }) => AdminError::forbidden(
            "this route needs the operator token; tenant tokens reach only their own tenant's routes",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Guard of the routes under `/tenants/{tenant}`: the operator, or a token of
/// that very tenant. A tenant token aimed at another tenant is refused before
/// anything is read, and with the same answer whether that tenant exists or
/// not.
pub(crate) async fn tenant(
    State(state): State<AdminState>,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Response {
    let principal = match authenticate(&state, request.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let in_path = params.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v.to_owned()).unwrap_or_default();
    let tenant = match &principal {
        Principal::Tenant { tenant, .. } if tenant.as_str() == in_path => tenant.clone(),
        Principal::Tenant { .. } => {
            return AdminError::forbidden("this token belongs to another tenant").into_response();
        }
        Principal::Operator => match TenantId::new(in_path.clone()) {
            Ok(t) => t,
            Err(_) => {
                return AdminError::not_found(format!("tenant `{in_path}` not found")).into_response();
            }
        },
    };
    request.extensions_mut().insert(Caller { principal, tenant: Some(tenant) });
    next.run(request).await
}
