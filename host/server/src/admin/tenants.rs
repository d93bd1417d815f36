//! Tenants (operator only) and the tenants' API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use omnistore_core::TenantId;
use serde::Deserialize;

use axum::body::Bytes;

use super::extract::{JsonBody, OptJsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::idempotency::Redact;
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, auth, blocking, doc, required};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Operator, "Tenants")
        .post(
            "/tenants",
            create,
            doc("createTenant", "Create a tenant and issue its first API token (shown once)")
                .body::<wire::NewTenant>()
                .created::<wire::TenantCreated>(),
        )
        .get(
            "/tenants",
            list_all,
            doc("listTenants", "Every tenant of the deployment, in id order")
                .query(PAGE_PARAMS)
                .ok::<wire::Page<wire::Tenant>>(),
        )
        .get("/tenants/{tenant}", get_one, doc("getTenant", "Get a tenant").ok::<wire::Tenant>())
        .get(
            "/tenants/{tenant}/export",
            export,
            doc(
                "exportTenant",
                "Every stored entry of the tenant as JSON lines (application/x-ndjson): a header, one line \
                 per entry, an end line; `omnistore tenant import` loads it",
            )
            .json_lines::<wire::TenantExportLine>(),
        )
        .get(
            "/tenants/{tenant}/storage-versions",
            storage_versions,
            doc("storageVersions", "How many of the tenant's stored records are in each format version")
                .ok::<wire::StorageVersions>(),
        )
        .post(
            "/tenants/{tenant}/migrate",
            migrate,
            doc("migrateTenant", "Rewrite the tenant's outdated records in the current format version; safe to repeat")
                .ok::<wire::MigrationReport>(),
        )
        .delete(
            "/tenants/{tenant}",
            delete_tenant,
            doc("deleteTenant", "Delete the tenant and everything it stored; it stops being served at once")
                .query(const { &[required("confirm", "string", "the tenant id again, to confirm")] })
                .ok::<wire::TenantDataReport>(),
        );
    r.section(Access::Tenant, "Tokens")
        .get(
            "/tenants/{tenant}/tokens",
            list_tokens,
            doc("listTokens", "The tenant's API tokens in id order (never their secrets)")
                .query(PAGE_PARAMS)
                .ok::<wire::Page<super::TokenInfo>>(),
        )
        .post(
            "/tenants/{tenant}/tokens",
            create_token,
            doc("createToken", "Issue another API token for the tenant (shown once)")
                .optional_body::<wire::NewToken>()
                .created::<super::IssuedToken>(),
        )
        .delete(
            "/tenants/{tenant}/tokens/{token}",
            revoke_token,
            doc("revokeToken", "Revoke an API token").no_content(),
        );
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
fn with_secret(status: StatusCode, body: impl serde::Serialize, pointer: &'static [&'static str]) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(Redact(pointer));
    response
}

async fn create(
    State(state): State<AdminState>,
    JsonBody(body): JsonBody<wire::NewTenant>,
) -> Result<Response, AdminError> {
    let id = TenantId::new(body.id).map_err(|e| AdminError::from(omnistore_core::CoreError::from(e)))?;
    let label = body.token_label.unwrap_or_else(|| "first".to_owned());
    let tid = id.clone();
    let tenant = state.call(move |core, now| core.create_tenant(&tid, &body.name, &body.currency, now)).await?;
    let core = state.core.clone();
    let now = state.now();
    let token = blocking(move || auth::issue(&core, &id, &label, now)).await?;
    Ok(with_secret(StatusCode::CREATED, wire::TenantCreated { tenant: tenant.into(), token }, &["/token/secret"]))
}

async fn list_all(
    State(state): State<AdminState>,
    Q(q): Q<PageQuery<TenantId>>,
) -> Result<Json<Page<wire::Tenant>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let tenants = state.call(move |core, _| core.list_tenants_page(q.after.as_ref(), limit)).await?;
    let next = cursor(&tenants, limit, |t| t.id.to_string());
    let items = tenants.into_iter().map(|t| with_domains(&state, t)).collect();
    Ok(Json(Page { items, next_after: next }))
}

/// The tenant as the API answers it: the core's record and the host names
/// the host routes to it.
fn with_domains(state: &AdminState, tenant: omnistore_core::Tenant) -> wire::Tenant {
    let domains = state.installer.as_ref().map(|i| i.domains(&tenant.id)).unwrap_or_default();
    wire::Tenant { domains, ..tenant.into() }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmQuery {
    confirm: Option<String>,
}

fn existing_tenant(path: &TenantPath) -> Result<TenantId, AdminError> {
    TenantId::new(path.tenant.clone()).map_err(|_| AdminError::not_found(format!("tenant `{}` not found", path.tenant)))
}

/// Export lines handed from the writer on the blocking pool to the response body.
struct ChannelWriter(tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn export(State(state): State<AdminState>, P(path): P<TenantPath>) -> Result<Response, AdminError> {
    let tenant = existing_tenant(&path)?;
    let id = tenant.clone();
    state.call(move |core, _| core.get_tenant(&id)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let core = state.core.clone();
    let media = state.media.clone();
    let name = tenant.clone();
    tokio::task::spawn_blocking(move || {
        // Buffered so the channel carries pages, not single lines.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, ChannelWriter(tx.clone()));
        let files: &dyn omnistore_core::TenantFiles = match &media {
            Some(m) => m.as_ref(),
            None => &omnistore_core::NoFiles,
        };
        let mut progress = |n| tracing::debug!(%tenant, entries = n, "exporting");
        let result = core.export_tenant_with(&tenant, &mut out, files, &mut progress);
        let result =
            result.map_err(|e| e.to_string()).and_then(|_| std::io::Write::flush(&mut out).map_err(|e| e.to_string()));
        if let Err(e) = result {
            tracing::error!(%tenant, error = %e, "tenant export failed");
            // The body ends with an error, so the client sees a broken export, not a short one.
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let body = axum::body::Body::from_stream(tokio_stream_of(rx));
    Response::builder()
        .header("content-type", "application/x-ndjson")
        .header("content-disposition", format!("attachment; filename=\"{name}.omnistore-tenant.jsonl\""))
        .body(body)
        .map_err(|e| AdminError::internal(e.to_string()))
}

fn tokio_stream_of(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn storage_versions(
    State(state): State<AdminState>,
    P(path): P<TenantPath>,
) -> Result<Json<wire::StorageVersions>, AdminError> {
    let tenant = existing_tenant(&path)?;
    Ok(Json(state.call(move |core, _| core.storage_versions(&tenant)).await?.into()))
}

async fn migrate(
    State(state): State<AdminState>,
    P(path): P<TenantPath>,
    OptJsonBody(_): OptJsonBody<super::extract::Empty>,
) -> Result<Json<wire::MigrationReport>, AdminError> {
    let tenant = existing_tenant(&path)?;
    let report = state
        .call(move |core, _| {
            core.migrate(
                &tenant,
                &mut |r| tracing::debug!(%tenant, scanned = r.scanned, upgraded = r.upgraded, "migrating"),
            )
        })
        .await?;
    Ok(Json(report.into()))
}

async fn delete_tenant(
    State(state): State<AdminState>,
    P(path): P<TenantPath>,
    Q(q): Q<ConfirmQuery>,
) -> Result<Json<wire::TenantDataReport>, AdminError> {
    let tenant = existing_tenant(&path)?;
    if q.confirm.as_deref() != Some(tenant.as_str()) {
        return Err(AdminError::invalid(format!(
            "deleting a tenant cannot be undone; repeat its id as `?confirm={tenant}` (export it first to keep a copy)"
        )));
    }
    let id = tenant.clone();
    let channels = state.call(move |core, _| core.list_channels(&id)).await?;
    if let Some(installer) = &state.installer {
        for channel in &channels {
            installer.changed(&tenant, &channel.id, None).await;
        }
        installer.tenant_removed(&tenant).await;
    }
    let id = tenant.clone();
    let report = state
        .call(move |core, _| {
            core.delete_tenant(&id, &mut |n| tracing::info!(tenant = %id, entries = n, "deleting the tenant"))
        })
        .await?;
    tracing::info!(%tenant, entries = report.entries, "tenant deleted");
    Ok(Json(report.into()))
}

async fn get_one(State(state): State<AdminState>, P(path): P<TenantPath>) -> Result<Json<wire::Tenant>, AdminError> {
    let id = TenantId::new(path.tenant.clone())
        .map_err(|_| AdminError::not_found(format!("tenant `{}` not found", path.tenant)))?;
    let tenant = state.call(move |core, _| core.get_tenant(&id)).await?;
    Ok(Json(with_domains(&state, tenant)))
}

async fn list_tokens(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<String>>,
) -> Result<Json<Page<auth::TokenInfo>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let tokens = blocking(move || state.tenant_tokens(&tenant, q.after.as_deref(), limit)).await?;
    let next = cursor(&tokens, limit, |t| t.id.clone());
    Ok(Json(Page { items: tokens, next_after: next }))
}

async fn create_token(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    OptJsonBody(body): OptJsonBody<wire::NewToken>,
) -> Result<Response, AdminError> {
    let token = blocking(move || state.issue_token(&tenant, body.label.as_deref().unwrap_or("api"))).await?;
    Ok(with_secret(StatusCode::CREATED, token, &["/secret"]))
}

async fn revoke_token(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<TokenPath>,
) -> Result<StatusCode, AdminError> {
    blocking(move || state.revoke_token(&tenant, &path.token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A tenant's tokens listed and revoked (issuing is [`AdminState::issue_token`]):
/// the one path of the JSON handlers above and of the browser's agency view.
impl AdminState {
    /// Longest token label, in characters.
    pub(crate) const MAX_TOKEN_LABEL_CHARS: usize = auth::MAX_LABEL_CHARS;

    /// A page of an existing tenant's tokens in id order, after `after`
    /// (never their secrets). Blocking.
    pub(crate) fn tenant_tokens(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<auth::TokenInfo>, AdminError> {
        self.core.get_tenant(tenant)?;
        auth::list(&self.core, tenant, after, limit)
    }

    /// Revoke one of an existing tenant's tokens; `NotFound` for an id it
    /// does not have. Blocking.
    pub(crate) fn revoke_token(&self, tenant: &TenantId, id: &str) -> Result<(), AdminError> {
        self.core.get_tenant(tenant)?;
        auth::revoke(&self.core, tenant, id)
    }
}
