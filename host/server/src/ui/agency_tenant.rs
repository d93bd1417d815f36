//! One tenant in the agency view (operator only): the names it answers on,
//! its storage against its quota, its channels with their health, and its
//! API tokens, issued and revoked through the same functions as the JSON
//! API's `POST`/`DELETE /tenants/{tenant}/tokens…` (`AdminState::issue_token`,
//! `::revoke_token`, `::tenant_tokens`).
//!
//! An issued token's secret is shown once, in the answer to the form, and
//! never redirected to or stored: a reload of the page that followed shows
//! the list without it. A refused form — an empty or too long label, a
//! token the tenant does not have, a form whose CSRF token is stale — is
//! this page again with the message where it belongs, and nothing changed.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{CoreError, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::agency::{host_facts, storage, used_bytes};
use super::forms::{self, FieldErrors, Fields};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Operator, Session};
use super::{UiError, UiState};
use crate::admin::{AdminError, AdminState, IssuedToken, blocking};

/// Tokens listed at most (the first, in id order).
const SHOWN_TOKENS: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

/// What a render of the page carries besides the tenant's data.
struct Outcome {
    status: StatusCode,
    /// The label field as typed, and the messages next to it.
    label: String,
    errors: FieldErrors,
    /// Said in the tokens section: done (green) or refused (alert).
    done: Option<&'static str>,
    message: Option<&'static str>,
    /// The token just issued: its secret is shown this once.
    issued: Option<IssuedToken>,
}

impl Outcome {
    fn shown(status: StatusCode) -> Outcome {
        Outcome {
            status,
            label: String::new(),
            errors: FieldErrors::default(),
            done: None,
            message: None,
            issued: None,
        }
    }
}

/// The tenant's page, or — for an id no tenant has — a 404 page saying so.
async fn render(
    state: &UiState,
    session: &Session,
    locale: Locale,
    id: &str,
    outcome: Outcome,
) -> Result<Response, UiError> {
    let here = format!("/admin/agency/{id}");
    let chrome = Chrome::new(locale, Some(session), "agency", here);
    let Ok(tenant) = TenantId::new(id) else { return missing(state, &chrome, id) };
    let (admin, t) = (state.admin.clone(), tenant.clone());
    let loaded = blocking(move || load(&admin, &t, locale)).await?;
    let Some((facts, channels, tokens, used)) = loaded else { return missing(state, &chrome, id) };
    let (domains, quota) = host_facts(state, &tenant);
    let mut facts = facts;
    facts["domains"] = json!(domains);
    facts["storage"] = storage(locale, used, quota);
    let issued = outcome.issued.map(|i| json!({ "id": i.id, "label": i.label, "secret": i.secret }));
    page(
        state,
        outcome.status,
        "agency_tenant.html",
        &chrome,
        json!({
            "missing": null, "tenant": facts, "channels": channels, "tokens": tokens,
            "label": outcome.label, "errors": outcome.errors.to_json(),
            "done": outcome.done.map(|d| locale.t(d)), "message": outcome.message.map(|m| locale.t(m)),
            "issued": issued,
        }),
    )
}

/// The tenant's record, channels (with their sync state) and tokens, and
/// the bytes it stores; `None` when there is no such tenant. Blocking.
#[allow(clippy::type_complexity)]
fn load(
    admin: &AdminState,
    tenant: &TenantId,
    locale: Locale,
) -> Result<Option<(Value, Vec<Value>, Vec<Value>, u64)>, AdminError> {
    let core = admin.core();
    let record = match core.get_tenant(tenant) {
        Ok(record) => record,
        Err(CoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let facts = json!({
        "id": record.id.to_string(), "name": record.name, "currency": record.currency,
        "created": locale.date(record.created_ms),
    });
    let mut channels = Vec::new();
    for c in core.list_channels(tenant)? {
        // The channel-wide sync state is one read: cheap enough per channel.
        let (health, message, _) = super::channel_health::channel_state(core, tenant, c.id.as_str(), locale)?;
        channels.push(json!({
            "name": c.name, "plugin": c.plugin_id, "version": c.version,
            "state": if c.enabled { locale.t("enabled") } else { locale.t("disabled") },
            "health": health, "message": message,
        }));
    }
    let tokens = admin
        .tenant_tokens(tenant, None, SHOWN_TOKENS)?
        .into_iter()
        .map(|t| json!({ "id": t.id, "label": t.label, "created": locale.datetime(t.created_ms) }))
        .collect();
    Ok(Some((facts, channels, tokens, used_bytes(core, tenant)?)))
}

fn missing(state: &UiState, chrome: &Chrome, id: &str) -> Result<Response, UiError> {
    let text = chrome.locale.t("shop_missing").replace("{id}", id);
    page(state, StatusCode::NOT_FOUND, "agency_tenant.html", chrome, json!({ "missing": text }))
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    Operator(session): Operator,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    let mut outcome = Outcome::shown(StatusCode::OK);
    outcome.done = (q.done == "revoked").then_some("done_token_revoked");
    render(&state, &session, locale, &id, outcome).await
}

/// Issue a token with the label typed; the answer shows its secret once.
pub(crate) async fn issue(
    State(state): State<UiState>,
    Operator(session): Operator,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    let mut refused = Outcome::shown(StatusCode::UNPROCESSABLE_ENTITY);
    refused.label = fields.get("label").cloned().unwrap_or_default();
    if session.check_csrf(fields.get("csrf").map(String::as_str)).is_err() {
        refused.status = StatusCode::FORBIDDEN;
        refused.errors.add("label", locale.t("err_form_expired"));
        return render(&state, &session, locale, &id, refused).await;
    }
    // Required here although the API defaults to "api": an operator naming
    // a token in a form should say what it is for. The longest label is the API's.
    let label = forms::text(&fields, "label", AdminState::MAX_TOKEN_LABEL_CHARS, locale, &mut refused.errors);
    let (Some(label), Ok(tenant)) = (label, TenantId::new(id.as_str())) else {
        return render(&state, &session, locale, &id, refused).await;
    };
    let admin = state.admin.clone();
    match blocking(move || admin.issue_token(&tenant, &label)).await {
        Ok(token) => {
            let mut outcome = Outcome::shown(StatusCode::OK);
            outcome.done = Some("token_issued");
            outcome.issued = Some(token);
            render(&state, &session, locale, &id, outcome).await
        }
        // No such tenant (deleted meanwhile): the render says so.
        Err(e) if e.status == StatusCode::NOT_FOUND => render(&state, &session, locale, &id, refused).await,
        Err(e) if e.status.is_client_error() => {
            refused.errors.add("label", format!("{} ({})", locale.t("err_refused"), e.message));
            render(&state, &session, locale, &id, refused).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Revoke one of the tenant's tokens, then back to its page.
pub(crate) async fn revoke(
    State(state): State<UiState>,
    Operator(session): Operator,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    if session.check_csrf(fields.get("csrf").map(String::as_str)).is_err() {
        let mut refused = Outcome::shown(StatusCode::FORBIDDEN);
        refused.message = Some("err_form_expired");
        return render(&state, &session, locale, &id, refused).await;
    }
    let Ok(tenant) = TenantId::new(id.as_str()) else {
        return render(&state, &session, locale, &id, Outcome::shown(StatusCode::NOT_FOUND)).await;
    };
    let admin = state.admin.clone();
    match blocking(move || admin.revoke_token(&tenant, &token)).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/agency/{id}?done=revoked")).into_response()),
        // An unknown token, or no such tenant: the render tells which.
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let mut refused = Outcome::shown(StatusCode::NOT_FOUND);
            refused.message = Some("err_token_unknown");
            render(&state, &session, locale, &id, refused).await
        }
        Err(e) => Err(e.into()),
    }
}
