//! The people who sign in to a tenant's admin in the browser (`crate::ui`):
//! an e-mail address and a password, stored under
//! `admin/user/<tenant>/<e-mail>` with the password only as an Argon2id hash
//! (a PHC string: algorithm, parameters and salt travel with the hash, so the
//! parameters can be raised later without breaking stored users).
//!
//! The admin API creates them (`POST /tenants/{tenant}/users`); the browser
//! admin checks them at sign-in ([`verify`]).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{Core, TenantId};
use omnistore_storage::{StorageError, keyspace, transact};
use serde::{Deserialize, Serialize};

use super::extract::{JsonBody, Scope};
use super::wire;
use super::{Access, AdminError, AdminState, Routes, blocking, doc};

/// Shortest password accepted: shorter ones fall to guessing even when hashed.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, so hashing cost stays bounded.
pub const MAX_PASSWORD_CHARS: usize = 200;
/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Users").post(
        "/tenants/{tenant}/users",
        create_route,
        doc(
            "createUser",
            "Let someone sign in to the tenant's admin in the browser with an e-mail address and a password \
             (stored only as an Argon2id hash)",
        )
        .body::<wire::NewUser>()
        .created::<wire::User>(),
    );
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct UserRecord {
    email: String,
    /// PHC string of the Argon2id hash.
    password_hash: String,
    created_ms: i64,
}

/// A signed-in user as the browser admin knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub email: String,
    pub created_ms: i64,
}

/// Why an e-mail address or password is refused, per field, so a form can
/// say it next to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFieldError {
    EmailInvalid,
    PasswordTooShort,
    PasswordTooLong,
}

/// The address as stored and compared: trimmed and lowercased.
pub fn normalize_email(email: &str) -> Result<String, UserFieldError> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@').ok_or(UserFieldError::EmailInvalid)?;
    let bad = local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || email.chars().count() > MAX_EMAIL_CHARS
        || email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/');
    if bad { Err(UserFieldError::EmailInvalid) } else { Ok(email) }
}

/// Whether a password may be set.
pub fn check_password(password: &str) -> Result<(), UserFieldError> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(UserFieldError::PasswordTooShort),
        n if n > MAX_PASSWORD_CHARS => Err(UserFieldError::PasswordTooLong),
        _ => Ok(()),
    }
}

fn field_message(e: UserFieldError) -> String {
    match e {
        UserFieldError::EmailInvalid => "email must be an address such as owner@example.com".into(),
        UserFieldError::PasswordTooShort => format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
        UserFieldError::PasswordTooLong => format!("password must be at most {MAX_PASSWORD_CHARS} characters"),
    }
}

fn hash_password(password: &str) -> Result<String, AdminError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AdminError::internal(format!("the OS random source failed: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AdminError::internal(format!("encoding a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::internal(format!("hashing a password: {e}")))
}

/// Create an admin user of `tenant`. Blocking (the hash takes tens of
/// milliseconds on purpose): call it off the executor.
pub(crate) fn create(
    core: &Core,
    tenant: &TenantId,
    email: &str,
    password: &str,
    now_ms: i64,
) -> Result<UserInfo, AdminError> {
    let email = normalize_email(email).map_err(|e| AdminError::invalid(field_message(e)))?;
    check_password(password).map_err(|e| AdminError::invalid(field_message(e)))?;
    core.get_tenant(tenant)?;
    let record = UserRecord { email: email.clone(), password_hash: hash_password(password)?, created_ms: now_ms };
    let value = serde_json::to_vec(&record).map_err(|e| AdminError::internal(e.to_string()))?;
    let key = keyspace::user_key(tenant, &email);
    let created = transact(&**core.store(), |txn| {
        if txn.get(&key)?.is_some() {
            return Ok(false);
        }
        txn.put(&key, &value)?;
        Ok::<_, StorageError>(true)
    })
    .map_err(AdminError::storage)?;
    if !created {
        return Err(AdminError::conflict(format!("a user with the e-mail address {email} already exists")));
    }
    Ok(UserInfo { email, created_ms: now_ms })
}

/// Whether a user of `tenant` exists with this address.
pub(crate) fn exists(core: &Core, tenant: &TenantId, email: &str) -> Result<bool, AdminError> {
    let Ok(email) = normalize_email(email) else { return Ok(false) };
    let mut txn = core.store().begin_read().map_err(AdminError::storage)?;
    Ok(txn.get(&keyspace::user_key(tenant, &email)).map_err(AdminError::storage)?.is_some())
}

/// A hash to check a password against when the user does not exist, so a
/// sign-in takes as long for an unknown address as for a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown users").unwrap_or_default())
}

/// The user whose address and password these are, if any. Blocking.
pub fn verify(core: &Core, tenant: &TenantId, email: &str, password: &str) -> Result<Option<UserInfo>, AdminError> {
    let record = match normalize_email(email) {
        Ok(email) => {
            let mut txn = core.store().begin_read().map_err(AdminError::storage)?;
            txn.get(&keyspace::user_key(tenant, &email)).map_err(AdminError::storage)?
        }
        Err(_) => None,
    };
    let record: Option<UserRecord> = record
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(|e| AdminError::internal(format!("unreadable user record: {e}")))?;
    let stored = record.as_ref().map_or(decoy_hash(), |r| r.password_hash.as_str());
    let hash = PasswordHash::new(stored).map_err(|e| AdminError::internal(format!("unreadable password hash: {e}")))?;
    let matches = password.chars().count() <= MAX_PASSWORD_CHARS
        && Argon2::default().verify_password(password.as_bytes(), &hash).is_ok();
    Ok(record.filter(|_| matches).map(|r| UserInfo { email: r.email, created_ms: r.created_ms }))
}

impl AdminState {
    /// Create an admin user outside HTTP (the demo creates its shop owner
    /// this way). Blocking: call it off the async executor.
    pub fn create_user(&self, tenant: &TenantId, email: &str, password: &str) -> Result<UserInfo, AdminError> {
        create(&self.core, tenant, email, password, self.now())
    }

    /// Whether the tenant has a user with this address. Blocking.
    pub fn user_exists(&self, tenant: &TenantId, email: &str) -> Result<bool, AdminError> {
        exists(&self.core, tenant, email)
    }
}

async fn create_route(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewUser>,
) -> Result<(StatusCode, Json<wire::User>), AdminError> {
    let (core, now) = (state.core.clone(), state.now());
    let user = blocking(move || create(&core, &tenant, &body.email, &body.password, now)).await?;
    Ok((StatusCode::CREATED, Json(wire::User { email: user.email, created_ms: user.created_ms })))
}
