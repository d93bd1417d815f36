//! Browser sessions of the admin.
//!
//! The cookie carries `<scope>.<64 random hex>`; the store keeps, under
//! `admin/session/<scope>/<sha256 of the secret>`, who signed in, the
//! session's CSRF token and its expiry. A copy of the store lets nobody in
//! (only hashes), a session dies with its tenant (the key is in the tenant's
//! ranges), and signing out deletes the record, so a stolen cookie stops
//! working at once. The cookie is `HttpOnly; SameSite=Lax; Path=/admin`, and
//! `Secure` when the request came over TLS.
//!
//! Every POST carries the session's CSRF token in a hidden field (`csrf`),
//! compared in constant time: `SameSite=Lax` already keeps other sites'
//! forms from carrying the cookie, the token also covers browsers and
//! subdomains where it would not.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use omnistore_core::{Core, TenantId};
use omnistore_storage::keyspace::{self, SessionScope};
use omnistore_storage::transact;
use serde::{Deserialize, Serialize};

use super::forms::Fields;
use super::i18n::Locale;
use super::{UiError, UiState};
use crate::admin::{AdminError, sha256};

pub(crate) const SESSION_COOKIE: &str = "omnistore_admin";
/// How long a sign-in lasts.
pub(crate) const SESSION_MS: i64 = 12 * 60 * 60 * 1000;

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Who {
    Operator,
    User { tenant: TenantId, email: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    who: Who,
    csrf: String,
    created_ms: i64,
    expires_ms: i64,
}

/// A live session, found from the request's cookie.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub who: Who,
    pub csrf: String,
    key: Vec<u8>,
}

impl Session {
    /// The tenant this session acts on, if it is a tenant user's.
    pub(crate) fn tenant(&self) -> Option<&TenantId> {
        match &self.who {
            Who::User { tenant, .. } => Some(tenant),
            Who::Operator => None,
        }
    }

    /// Refuse a form whose `csrf` field is not this session's token.
    pub(crate) fn check_csrf(&self, sent: Option<&str>) -> Result<(), UiError> {
        let sent = sent.unwrap_or("");
        let same = sent.len() == self.csrf.len()
            && sent.bytes().zip(self.csrf.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same { Ok(()) } else { Err(UiError::Csrf) }
    }

    /// End the session (sign out). Blocking.
    pub(crate) fn delete(&self, core: &Core) -> Result<(), AdminError> {
        transact(&**core.store(), |txn| txn.delete(&self.key)).map_err(AdminError::storage)
    }
}

fn random_hex(bytes: usize) -> Result<String, AdminError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AdminError::internal(format!("the OS random source failed: {e}")))?;
    Ok(hex::encode(buf))
}

fn scope_of(who: &Who) -> SessionScope<'_> {
    match who {
        Who::Operator => SessionScope::Operator,
        Who::User { tenant, .. } => SessionScope::Tenant(tenant),
    }
}

/// Start a session for `who`; the answer is the cookie's value. Blocking.
pub(crate) fn start(core: &Core, who: Who, now_ms: i64) -> Result<String, AdminError> {
    let secret = random_hex(32)?;
    let record = SessionRecord { who, csrf: random_hex(32)?, created_ms: now_ms, expires_ms: now_ms + SESSION_MS };
    let scope = match &record.who {
        Who::Operator => "_operator".to_owned(),
        Who::User { tenant, .. } => tenant.to_string(),
    };
    let key = keyspace::session_key(scope_of(&record.who), &sha256(secret.as_bytes()));
    let value = serde_json::to_vec(&record).map_err(|e| AdminError::internal(e.to_string()))?;
    transact(&**core.store(), |txn| txn.put(&key, &value)).map_err(AdminError::storage)?;
    Ok(format!("{scope}.{secret}"))
}

/// The session a cookie value names, if it exists and has not expired.
/// Blocking.
fn find(core: &Core, cookie: &str, now_ms: i64) -> Result<Option<Session>, AdminError> {
    let Some((scope, secret)) = cookie.split_once('.') else { return Ok(None) };
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let tenant;
    let scope = if scope == "_operator" {
        SessionScope::Operator
    } else {
        match TenantId::new(scope) {
            Ok(t) => {
                tenant = t;
                SessionScope::Tenant(&tenant)
            }
            Err(_) => return Ok(None),
        }
    };
    let key = keyspace::session_key(scope, &sha256(secret.as_bytes()));
    let mut txn = core.store().begin_read().map_err(AdminError::storage)?;
    let Some(bytes) = txn.get(&key).map_err(AdminError::storage)? else { return Ok(None) };
    drop(txn);
    let record: SessionRecord =
        serde_json::from_slice(&bytes).map_err(|e| AdminError::internal(format!("unreadable session: {e}")))?;
    if record.expires_ms <= now_ms {
        // Expired: forget it now rather than keep it forever.
        transact(&**core.store(), |txn| txn.delete(&key)).map_err(AdminError::storage)?;
        return Ok(None);
    }
    Ok(Some(Session { who: record.who, csrf: record.csrf, key }))
}

pub(crate) fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Whether the request came over TLS: the deployment says the host is
/// reached by HTTPS (a terminating proxy in front), or the proxy says so.
pub(crate) fn over_tls(state: &UiState, headers: &HeaderMap) -> bool {
    state.https
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` of a session (or, with `None`, the one that removes it).
pub(crate) fn set_cookie(value: Option<&str>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = match value {
        Some(v) => {
            format!("{SESSION_COOKIE}={v}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SESSION_MS / 1000)
        }
        None => format!("{SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl OptionalFromRequestParts<UiState> for Session {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Option<Self>, Self::Rejection> {
        let Some(cookie) = cookie_value(&parts.headers, SESSION_COOKIE).map(str::to_owned) else { return Ok(None) };
        let (core, now) = (state.admin.core().clone(), state.admin.now());
        Ok(crate::admin::blocking(move || find(&core, &cookie, now)).await?)
    }
}

/// A page only a signed-in tenant user sees: without a session the browser
/// is sent to sign in; the operator is sent to the agency view.
#[derive(Debug, Clone)]
pub(crate) struct Shop {
    pub session: Session,
    pub tenant: TenantId,
    /// The shop's time zone: its pages show its days and hours.
    pub zone: chrono_tz::Tz,
}

impl Shop {
    /// The reader's language, with the shop's days and hours.
    pub(crate) fn locale(&self, headers: &HeaderMap) -> Locale {
        Locale::of(headers).in_zone(self.zone)
    }
}

impl FromRequestParts<UiState> for Shop {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Self::Rejection> {
        match Option::<Session>::from_request_parts(parts, state).await? {
            None => Err(UiError::SignIn),
            Some(session) => match session.tenant().cloned() {
                Some(tenant) => {
                    let (core, t) = (state.admin.core().clone(), tenant.clone());
                    let zone = crate::admin::blocking(move || Ok(core.get_tenant(&t)?.zone())).await?;
                    Ok(Shop { session, tenant, zone })
                }
                None => Err(UiError::Redirect("/admin/agency".into())),
            },
        }
    }
}

/// A form a signed-in shop user posted: its fields, checked to carry the
/// session's CSRF token before a handler sees them, and the reader's locale
/// on the shop's clock. A body that is not a form is refused with the
/// admin's error page; nothing runs.
#[derive(Debug)]
pub(crate) struct ShopForm {
    pub shop: Shop,
    pub locale: Locale,
    pub fields: Fields,
}

impl FromRequest<UiState> for ShopForm {
    type Rejection = UiError;

    async fn from_request(request: Request, state: &UiState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let shop = Shop::from_request_parts(&mut parts, state).await?;
        let locale = shop.locale(&parts.headers);
        let Form(fields) = Form::<Fields>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| AdminError::bad_request("bad_form", format!("the form could not be read: {e}")))?;
        shop.session.check_csrf(fields.get("csrf").map(String::as_str))?;
        Ok(ShopForm { shop, locale, fields })
    }
}

/// A page only the signed-in operator sees.
#[derive(Debug, Clone)]
pub(crate) struct Operator(pub Session);

impl FromRequestParts<UiState> for Operator {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Self::Rejection> {
        match Option::<Session>::from_request_parts(parts, state).await? {
            None => Err(UiError::SignIn),
            Some(session) if session.who == Who::Operator => Ok(Operator(session)),
            Some(_) => Err(UiError::Redirect("/admin".into())),
        }
    }
}
