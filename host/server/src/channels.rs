//! Storefront pages, feeds and webhooks: HTTP requests routed to the plugin
//! installed at the matching mount point, with streamed bodies for responses
//! that continue in pages.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::stream;
use omnistore_runtime::TenantId;
use omnistore_runtime::types::Request as PluginRequest;

use crate::AppState;
use crate::error::AppError;
use crate::registry::Mounted;

/// Headers a plugin may not set: they belong to the connection or the host.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "proxy-authenticate",
    "content-length",
];

pub(crate) async fn by_path(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    request: Request,
) -> Result<Response, AppError> {
    let tenant_name = params.iter().find(|(k, _)| k == "tenant").map(|(_, v)| v.clone()).unwrap_or_default();
    let rest = params.iter().find(|(k, _)| k == "rest").map(|(_, v)| v.as_str()).unwrap_or("");
    let tenant = TenantId::new(tenant_name.clone())
        .ok()
        .filter(|t| state.registry.has_tenant(t))
        .ok_or(AppError::UnknownTenant(tenant_name))?;
    let path = format!("/{rest}");
    dispatch(state, tenant, path, request).await
}

pub(crate) async fn by_host(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().host().map(str::to_string))
        .unwrap_or_default();
    let tenant = state.registry.tenant_for_host(&host).ok_or(AppError::UnknownHost(host))?;
    let path = request.uri().path().to_string();
    dispatch(state, tenant, path, request).await
}

async fn dispatch(state: AppState, tenant: TenantId, path: String, request: Request) -> Result<Response, AppError> {
    let (mounted, sub_path) = state
        .registry
        .route(&tenant, &path)
        .ok_or_else(|| AppError::NoChannel { tenant: tenant.to_string(), path: path.clone() })?;
    let (parts, body) = request.into_parts();
    let limit = state.max_body_bytes;
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| AppError::BodyTooLarge(limit))?;
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
        .collect();
    let plugin_request = PluginRequest {
        method: parts.method.as_str().to_string(),
        path: sub_path,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers,
        body: body.to_vec(),
    };
    let response = state.runtime.handle_request(&mounted.plugin, &mounted.installation, plugin_request).await?;
    let status = StatusCode::from_u16(response.status)
        .map_err(|_| AppError::BadRequest(format!("the plugin answered with invalid status {}", response.status)))?;
    let mut headers = HeaderMap::new();
    for (k, v) in &response.headers {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) else {
            tracing::warn!(plugin = %mounted.plugin.manifest.id, header = %k, "dropping an invalid response header");
            continue;
        };
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        headers.append(name, value);
    }
    let body = match response.continuation {
        None => Body::from(response.body),
        Some(cursor) => streamed(state, mounted, response.body, cursor),
    };
    let mut out = Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// A body that pulls further pages from the plugin as the client reads, so
/// memory stays bounded by one page whatever the total size.
fn streamed(state: AppState, mounted: Mounted, first: Vec<u8>, cursor: String) -> Body {
    let mounted = Arc::new(mounted);
    let first = stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(first)) });
    let rest = stream::unfold(Some(cursor), move |cursor| {
        let state = state.clone();
        let mounted = mounted.clone();
        async move {
            let cursor = cursor?;
            match state.runtime.next_page(&mounted.plugin, &mounted.installation, cursor).await {
                Ok(page) => Some((Ok(Bytes::from(page.data)), page.continuation)),
                Err(err) => {
                    // Headers are already sent; ending the body with an error
                    // makes the client see a truncated transfer, not a short success.
                    tracing::error!(plugin = %mounted.plugin.manifest.id, error = %err, "streamed response failed");
                    Some((Err(std::io::Error::other(err.to_string())), None))
                }
            }
        }
    });
    Body::from_stream(futures::StreamExt::chain(first, rest))
}
