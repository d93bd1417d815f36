//! Tenants (operator only) and the tenants' API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use omnistore_core::TenantId;
use serde::Deserialize;

use super::extract::{JsonBody, OptJsonBody, P, Scope, list};
use super::idempotency::Redact;
use super::{Access, AdminError, AdminState, Routes, auth, blocking, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Operator, "Tenants")
        .post(
            "/tenants",
            create,
            doc("createTenant", "Create a tenant and issue its first API token (shown once)")
                .body("NewTenant")
                .created("TenantCreated"),
        )
        .get("/tenants", list_all, doc("listTenants", "List every tenant of the deployment").ok("[Tenant]"))
        .get("/tenants/{tenant}", get_one, doc("getTenant", "Get a tenant").ok("Tenant"));
    r.section(Access::Tenant, "Tokens")
        .get(
            "/tenants/{tenant}/tokens",
            list_tokens,
            doc("listTokens", "List the tenant's API tokens (never their secrets)").ok("[TokenInfo]"),
        )
        .post(
            "/tenants/{tenant}/tokens",
            create_token,
            doc("createToken", "Issue another API token for the tenant (shown once)")
                .optional_body("NewToken")
                .created("IssuedToken"),
        )
        .delete(
            "/tenants/{tenant}/tokens/{token}",
            revoke_token,
            doc("revokeToken", "Revoke an API token").no_content(),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    id: String,
    name: String,
    currency: String,
    #[serde(default)]
    token_label: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TenantPath {
    tenant: String,
}

#[derive(Debug, Deserialize)]
struct TokenPath {
    token: String,
}

/// The secret is stored nowhere, not even in the idempotency record.
fn with_secret(status: StatusCode, body: serde_json::Value, pointer: &'static [&'static str]) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(Redact(pointer));
    response
}

async fn create(State(state): State<AdminState>, JsonBody(body): JsonBody<NewTenant>) -> Result<Response, AdminError> {
    let id = TenantId::new(body.id).map_err(|e| AdminError::from(omnistore_core::CoreError::from(e)))?;
    let label = body.token_label.unwrap_or_else(|| "first".to_owned());
    let tid = id.clone();
    let tenant = state.call(move |core, now| core.create_tenant(&tid, &body.name, &body.currency, now)).await?;
    let core = state.core.clone();
    let now = state.now();
    let token = blocking(move || auth::issue(&core, &id, &label, now)).await?;
    Ok(with_secret(StatusCode::CREATED, serde_json::json!({ "tenant": tenant, "token": token }), &["/token/secret"]))
}

async fn list_all(State(state): State<AdminState>) -> Result<Json<serde_json::Value>, AdminError> {
    let tenants = state.call(|core, _| core.list_tenants()).await?;
    Ok(Json(list(tenants, None)))
}

async fn get_one(
    State(state): State<AdminState>,
    P(path): P<TenantPath>,
) -> Result<Json<omnistore_core::Tenant>, AdminError> {
    let id = TenantId::new(path.tenant.clone())
        .map_err(|_| AdminError::not_found(format!("tenant `{}` not found", path.tenant)))?;
    Ok(Json(state.call(move |core, _| core.get_tenant(&id)).await?))
}

async fn list_tokens(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
) -> Result<Json<serde_json::Value>, AdminError> {
    let core = state.core.clone();
    let tokens = blocking(move || {
        core.get_tenant(&tenant)?;
        auth::list(&core, &tenant)
    })
    .await?;
    Ok(Json(list(tokens, None)))
}

async fn create_token(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    OptJsonBody(body): OptJsonBody<NewToken>,
) -> Result<Response, AdminError> {
    let core = state.core.clone();
    let now = state.now();
    let token = blocking(move || {
        core.get_tenant(&tenant)?;
        auth::issue(&core, &tenant, body.label.as_deref().unwrap_or("api"), now)
    })
    .await?;
    Ok(with_secret(StatusCode::CREATED, serde_json::to_value(token).unwrap_or_default(), &["/secret"]))
}

async fn revoke_token(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<TokenPath>,
) -> Result<StatusCode, AdminError> {
    let core = state.core.clone();
    blocking(move || {
        core.get_tenant(&tenant)?;
        auth::revoke(&core, &tenant, &path.token)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
