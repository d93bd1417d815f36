//! Storefront pages, feeds and webhooks: HTTP requests routed to the plugin
//! installed at the matching mount point, with streamed bodies for responses
//! that continue in pages.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::stream;
use omnistore_runtime::types::Request as PluginRequest;
use omnistore_runtime::{CallOptions, TenantId};

use crate::AppState;
use crate::error::AppError;
use crate::registry::{Mounted, normalize_host};

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

/// Headers only the host sets on a request to a plugin; any a client sends
/// under this prefix are dropped.
const HOST_HEADER_PREFIX: &str = "x-omnistore-";
/// The absolute URL of the installation's mount point, without a trailing slash.
pub const BASE_URL_HEADER: &str = "x-omnistore-base-url";
/// Set to `1` when the merchant previews draft files.
pub const PREVIEW_HEADER: &str = "x-omnistore-preview";

/// Where a request was routed: the tenant, the path below the routing
/// prefix, and what the shopper's URL looks like up to that prefix.
struct Routed {
    tenant: TenantId,
    path: String,
    /// `scheme://host[:port]` plus `/t/{tenant}` under path routing.
    origin: String,
}

/// A Host header value fit for a URL: a name or address with an optional
/// port, nothing else.
fn url_host(raw: &str) -> Option<&str> {
    let raw = raw.trim().trim_end_matches('.');
    let ok = !raw.is_empty()
        && raw.len() <= 255
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(raw)
}

/// Every request that is not the host's own (health, admin API): find the
/// tenant by host name, or by `/t/{tenant}/…` where path routing is enabled
/// for the host name asked for.
pub(crate) async fn route(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let raw_host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_string();
    let host = normalize_host(&raw_host);
    let origin = format!("{}://{}", state.scheme.as_str(), url_host(&raw_host).unwrap_or(&host).to_ascii_lowercase());
    let path = request.uri().path().to_string();
    if state.path_routing.allows(&host)
        && let Some((tenant_name, rest)) = by_path(&path)
    {
        let tenant = TenantId::new(tenant_name.to_string())
            .ok()
            .filter(|t| state.registry.has_tenant(t))
            .ok_or_else(|| AppError::UnknownTenant(tenant_name.to_string()))?;
        let origin = format!("{origin}/t/{tenant}");
        return dispatch(state, Routed { tenant, path: rest, origin }, request, CallOptions::default()).await;
    }
    let tenant = state.registry.tenant_for_host(&host).ok_or(AppError::UnknownHost(host))?;
    dispatch(state, Routed { tenant, path, origin }, request, CallOptions::default()).await
}

/// The client's headers a plugin sees: text values only, never an
/// `x-omnistore-*` (those are the host's), then the host's own.
fn plugin_headers(client: &HeaderMap, base_url: String, options: CallOptions) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = client
        .iter()
        .filter(|(k, _)| !k.as_str().starts_with(HOST_HEADER_PREFIX))
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
        .collect();
    headers.push((BASE_URL_HEADER.to_string(), base_url));
    if options.preview {
        headers.push((PREVIEW_HEADER.to_string(), "1".to_string()));
    }
    headers
}

/// `/t/{tenant}` and `/t/{tenant}/rest` → (tenant, `/rest`).
fn by_path(path: &str) -> Option<(&str, String)> {
    let after = path.strip_prefix("/t/")?;
    let (tenant, rest) = after.split_once('/').map_or((after, ""), |(t, r)| (t, r));
    (!tenant.is_empty()).then(|| (tenant, format!("/{rest}")))
}

async fn dispatch(
    state: AppState,
    routed: Routed,
    request: Request,
    options: CallOptions,
) -> Result<Response, AppError> {
    let Routed { tenant, path, origin } = routed;
    // The host's own path on every tenant's names, before any plugin mount.
    if let Some(media) = &state.media
        && path.starts_with(crate::media::PREFIX)
    {
        let (method, uri, headers) = (request.method(), request.uri(), request.headers());
        return crate::media::serve(media.clone(), tenant, method, &path, uri.query(), headers).await;
    }
    let (mounted, sub_path) = state
        .registry
        .route(&tenant, &path)
        .ok_or_else(|| AppError::NoChannel { tenant: tenant.to_string(), path: path.clone() })?;
    let (parts, body) = request.into_parts();
    let limit = state.limits.max_body_bytes;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AppError::BodyTooLarge(limit));
    }
    let body = tokio::time::timeout(state.limits.body_read_timeout, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| AppError::BodyTimeout(state.limits.body_read_timeout))?
        .map_err(|_| AppError::BodyTooLarge(limit))?;
    let mount = if mounted.mount == "/" { "" } else { mounted.mount.as_str() };
    let headers = plugin_headers(&parts.headers, format!("{origin}{mount}"), options);
    let plugin_request = PluginRequest {
        method: parts.method.as_str().to_string(),
        path: sub_path,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers,
        body: body.to_vec(),
    };
    let response =
        state.runtime.handle_request_with(&mounted.plugin, &mounted.installation, plugin_request, options).await?;
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

/// Where a streamed response stands.
struct Pull {
    cursor: String,
    pages: u64,
    bytes: u64,
}

/// A body that pulls further pages from the plugin as the client reads, so
/// memory stays bounded by one page whatever the total size. Pages are pulled
/// only while the client reads: when it goes away the body is dropped and no
/// further page is asked for. A plugin that would continue forever is cut
/// off at the caps in [`StreamLimits`](crate::StreamLimits).
fn streamed(state: AppState, mounted: Mounted, first: Vec<u8>, cursor: String) -> Body {
    let mounted = Arc::new(mounted);
    let limits = state.limits.stream;
    let deadline = tokio::time::Instant::now() + limits.max_duration;
    let start = Pull { cursor, pages: 0, bytes: first.len() as u64 };
    let first = stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(first)) });
    let rest = stream::unfold(Some(start), move |pull| {
        let state = state.clone();
        let mounted = mounted.clone();
        async move {
            let pull = pull?;
            // Headers are already sent; ending the body with an error makes
            // the client see a truncated transfer, not a short success.
            let cut = |what: &str| -> Option<(std::io::Result<Bytes>, Option<Pull>)> {
                tracing::warn!(
                    tenant = %mounted.installation.tenant,
                    installation = %mounted.installation.id,
                    plugin = %mounted.plugin.manifest.id,
                    pages = pull.pages,
                    bytes = pull.bytes,
                    "streamed response cut off: {what}"
                );
                Some((Err(std::io::Error::other(format!("streamed response cut off: {what}"))), None))
            };
            if pull.pages >= limits.max_pages {
                return cut("page cap reached");
            }
            let call = state.runtime.next_page(&mounted.plugin, &mounted.installation, pull.cursor);
            let page = match tokio::time::timeout_at(deadline, call).await {
                Err(_) => return cut("time cap reached"),
                Ok(Err(err)) => {
                    tracing::error!(plugin = %mounted.plugin.manifest.id, error = %err, "streamed response failed");
                    return Some((Err(std::io::Error::other("the plugin failed to produce the next page")), None));
                }
                Ok(Ok(page)) => page,
            };
            let (pages, bytes) = (pull.pages + 1, pull.bytes + page.data.len() as u64);
            if bytes > limits.max_bytes {
                return cut("byte cap reached");
            }
            let next = page.continuation.map(|cursor| Pull { cursor, pages, bytes });
            Some((Ok(Bytes::from(page.data)), next))
        }
    });
    Body::from_stream(futures::StreamExt::chain(first, rest))
}
