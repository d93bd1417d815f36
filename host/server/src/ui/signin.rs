//! Signing in and out, and the language switch.
//!
//! A tenant's user signs in with the shop's id, an e-mail address and a
//! password; the operator with the operator token. The sign-in form carries
//! a token that must equal a cookie set with the form (there is no session
//! yet to hold one), so another site cannot sign a browser in to an account
//! of its choosing. Wrong passwords are throttled per account ([`Throttle`]).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::TenantId;
use serde::Deserialize;
use serde_json::json;

use super::forms::{FieldErrors, Fields, local_path};
use super::i18n::{LANG_COOKIE, Locale};
use super::render::{Chrome, page};
use super::session::{self, Session, Who, cookie_value, over_tls, set_cookie};
use super::{UiError, UiState};
use crate::admin::blocking;

/// The cookie that the sign-in form's token must match.
const SIGNIN_COOKIE: &str = "omnistore_signin";

/// Failures allowed before an account is locked for a while.
const FREE_FAILURES: u32 = 5;
/// The first lock; each further failure doubles it, up to [`MAX_LOCK_MS`].
const FIRST_LOCK_MS: i64 = 30_000;
const MAX_LOCK_MS: i64 = 15 * 60_000;
/// Accounts remembered at most; past that, those not locked are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Wrong sign-ins per account (shop and e-mail, or the operator), in
/// memory: a restart forgets them, which costs an attacker a restart of the
/// host per few guesses.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl Throttle {
    /// Milliseconds the account must still wait, if it is locked.
    fn locked(&self, account: &str, now_ms: i64) -> Option<i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(account).map(|(_, until)| until - now_ms).filter(|wait| *wait > 0)
    }

    fn failed(&self, account: &str, now_ms: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, until)| *until > now_ms);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let entry = map.entry(account.to_owned()).or_insert((0, 0));
        entry.0 += 1;
        if entry.0 >= FREE_FAILURES {
            let doublings = (entry.0 - FREE_FAILURES).min(10);
            entry.1 = now_ms + (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS);
        }
    }

    fn succeeded(&self, account: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(account);
    }
}

fn random_hex() -> Result<String, UiError> {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf)
        .map_err(|e| crate::admin::AdminError::internal(format!("the OS random source failed: {e}")))?;
    Ok(hex::encode(buf))
}

/// Render the sign-in page with a fresh form token (and its cookie).
fn form_page(
    state: &UiState,
    headers: &HeaderMap,
    status: StatusCode,
    values: serde_json::Value,
    errors: &FieldErrors,
    message: Option<String>,
) -> Result<Response, UiError> {
    let locale = Locale::of(headers);
    let token = random_hex()?;
    let mut chrome = Chrome::new(locale, None, "sign-in", "/admin/sign-in");
    chrome.csrf = token.clone();
    let mut response = page(
        state,
        status,
        "sign_in.html",
        &chrome,
        json!({ "values": values, "errors": errors.to_json(), "message": message }),
    )?;
    let secure = if over_tls(state, headers) { "; Secure" } else { "" };
    let cookie = format!("{SIGNIN_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    Ok(response)
}

pub(crate) async fn form(
    State(state): State<UiState>,
    headers: HeaderMap,
    session: Option<Session>,
) -> Result<Response, UiError> {
    if session.is_some() {
        return Err(UiError::Redirect("/admin".into()));
    }
    form_page(&state, &headers, StatusCode::OK, json!({ "shop": "", "email": "" }), &FieldErrors::default(), None)
}

/// The sign-in form's token must be the one its page set in the cookie.
fn check_form_token(headers: &HeaderMap, fields: &Fields) -> Result<(), UiError> {
    let cookie = cookie_value(headers, SIGNIN_COOKIE).unwrap_or("");
    let sent = fields.get("csrf").map(String::as_str).unwrap_or("");
    if cookie.len() == 32 && cookie == sent { Ok(()) } else { Err(UiError::Csrf) }
}

/// Answer a successful sign-in: the session cookie, and on to `to`.
fn signed_in(state: &UiState, headers: &HeaderMap, cookie: &str, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(SET_COOKIE, set_cookie(Some(cookie), over_tls(state, headers)));
    let secure = if over_tls(state, headers) { "; Secure" } else { "" };
    if let Ok(v) =
        HeaderValue::from_str(&format!("{SIGNIN_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{secure}"))
    {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

fn wait_message(locale: Locale, wait_ms: i64) -> String {
    locale.t("signin_locked").replace("{seconds}", &((wait_ms + 999) / 1000).to_string())
}

pub(crate) async fn sign_in(
    State(state): State<UiState>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, UiError> {
    check_form_token(&headers, &fields)?;
    let locale = Locale::of(&headers);
    let shop = fields.get("shop").map(|s| s.trim().to_owned()).unwrap_or_default();
    let email = fields.get("email").map(|s| s.trim().to_owned()).unwrap_or_default();
    let password = fields.get("password").cloned().unwrap_or_default();
    let values = json!({ "shop": shop, "email": email });
    let mut errors = FieldErrors::default();
    for (name, value) in [("shop", &shop), ("email", &email), ("password", &password)] {
        if value.is_empty() {
            errors.add(name, locale.t("err_required"));
        }
    }
    let tenant = TenantId::new(shop.to_ascii_lowercase()).ok();
    if tenant.is_none() && !shop.is_empty() {
        errors.add("shop", locale.t("err_shop_id"));
    }
    let Some(tenant) = tenant.filter(|_| errors.is_empty()) else {
        return form_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, values, &errors, None);
    };
    let account = format!("{tenant}/{}", email.to_lowercase());
    let now = state.admin.now();
    if let Some(wait) = state.throttle.locked(&account, now) {
        let message = wait_message(locale, wait);
        return form_page(&state, &headers, StatusCode::TOO_MANY_REQUESTS, values, &errors, Some(message));
    }
    let core = state.admin.core().clone();
    let (t, e) = (tenant.clone(), email.clone());
    let user = blocking(move || crate::admin::users::verify(&core, &t, &e, &password)).await?;
    let Some(user) = user else {
        state.throttle.failed(&account, now);
        let message = locale.t("signin_wrong").to_owned();
        return form_page(&state, &headers, StatusCode::UNAUTHORIZED, values, &errors, Some(message));
    };
    state.throttle.succeeded(&account);
    let core = state.admin.core().clone();
    let who = Who::User { tenant, email: user.email };
    let cookie = blocking(move || session::start(&core, who, now)).await?;
    Ok(signed_in(&state, &headers, &cookie, "/admin"))
}

pub(crate) async fn sign_in_operator(
    State(state): State<UiState>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, UiError> {
    check_form_token(&headers, &fields)?;
    let locale = Locale::of(&headers);
    let values = json!({ "shop": "", "email": "" });
    let token = fields.get("token").map(|s| s.trim().to_owned()).unwrap_or_default();
    let mut errors = FieldErrors::default();
    if token.is_empty() {
        errors.add("token", locale.t("err_required"));
        return form_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, values, &errors, None);
    }
    let now = state.admin.now();
    if let Some(wait) = state.throttle.locked("_operator", now) {
        let message = wait_message(locale, wait);
        return form_page(&state, &headers, StatusCode::TOO_MANY_REQUESTS, values, &errors, Some(message));
    }
    if !state.admin.is_operator_token(&token) {
        state.throttle.failed("_operator", now);
        let message = locale.t("signin_wrong_token").to_owned();
        return form_page(&state, &headers, StatusCode::UNAUTHORIZED, values, &errors, Some(message));
    }
    state.throttle.succeeded("_operator");
    let core = state.admin.core().clone();
    let cookie = blocking(move || session::start(&core, Who::Operator, now)).await?;
    Ok(signed_in(&state, &headers, &cookie, "/admin/agency"))
}

pub(crate) async fn sign_out(
    State(state): State<UiState>,
    headers: HeaderMap,
    session: Option<Session>,
    Form(fields): Form<Fields>,
) -> Result<Response, UiError> {
    let Some(session) = session else { return Err(UiError::SignIn) };
    session.check_csrf(fields.get("csrf").map(String::as_str))?;
    let core = state.admin.core().clone();
    blocking(move || session.delete(&core)).await?;
    let mut response = Redirect::to("/admin/sign-in").into_response();
    response.headers_mut().append(SET_COOKIE, set_cookie(None, over_tls(&state, &headers)));
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LanguageQuery {
    to: Option<String>,
    back: Option<String>,
}

/// Remember a language and go back where the switch was clicked. Only a
/// preference changes, so a plain link (GET) does it.
pub(crate) async fn language(
    State(state): State<UiState>,
    headers: HeaderMap,
    Query(q): Query<LanguageQuery>,
) -> Response {
    let back = local_path(q.back.as_deref());
    let mut response = Redirect::to(&back).into_response();
    if let Some(locale) = q.to.as_deref().and_then(Locale::parse) {
        let secure = if over_tls(&state, &headers) { "; Secure" } else { "" };
        let cookie = format!("{LANG_COOKIE}={}; Path=/admin; SameSite=Lax; Max-Age=31536000{secure}", locale.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}
