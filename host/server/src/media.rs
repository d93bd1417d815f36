//! Product images on the shop's own host names: `GET /media/{image id}/{sha256}.{ext}[?width=N]`.
//!
//! The URL names the content, so an answer never changes: it is cached for a
//! year as `immutable`, with a strong ETag (hash and width) for revalidation.
//! The tenant is the one the host name (or `/t/{tenant}`) found; an image id
//! issued in another tenant, a malformed name or a file the tenant does not
//! have is 404, alike. Reading and resizing run off the async executor.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use omnistore_core::ImageId;
use omnistore_media::{ImageKey, MediaError, MediaStore};
use omnistore_runtime::TenantId;

use crate::async_core::off_executor;
use crate::error::AppError;

/// Where image URLs start.
pub(crate) const PREFIX: &str = "/media/";

const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// Answer a request for `path` (which starts with [`PREFIX`]) of `tenant`.
pub(crate) async fn serve(
    media: Arc<MediaStore>,
    tenant: TenantId,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("no such image in this shop".into());
    if method != Method::GET && method != Method::HEAD {
        return Err(AppError::MethodNotAllowed("images are read with GET or HEAD".into()));
    }
    let rest = path.strip_prefix(PREFIX).ok_or_else(not_found)?;
    let (id, file) = rest.split_once('/').ok_or_else(not_found)?;
    let id = ImageId::new(id);
    let key = ImageKey::parse(file).filter(|_| id.issued_in(&tenant)).ok_or_else(not_found)?;
    let width = requested_width(query.unwrap_or(""))?;
    let span = tracing::debug_span!("media.request", %tenant, image = %id, ?width);
    let served = off_executor(move || {
        let _in = span.entered();
        media.serve(&tenant, &key, width)
    })
    .await
    .map_err(|e| AppError::Internal(format!("image task failed: {e}")))?
    .map_err(|e| match e {
        MediaError::BadWidth(_) => AppError::BadRequest(e.to_string()),
        e => AppError::Internal(format!("serving an image: {e}")),
    })?
    .ok_or_else(not_found)?;
    let etag = HeaderValue::from_str(&served.etag).map_err(|e| AppError::Internal(e.to_string()))?;
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == served.etag || tag.trim() == "*");
    let mut response = if fresh {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let len = served.bytes.len();
        let mut r = Response::new(if method == Method::HEAD { Body::empty() } else { Body::from(served.bytes) });
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(served.format.mime()));
        r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_FOREVER));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// `width=N` from a query string; other parameters are ignored (cache
/// busters, trackers), a width that is not a number is refused.
fn requested_width(query: &str) -> Result<Option<u32>, AppError> {
    let mut width = None;
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("width=") {
            let n = v.parse::<u32>().map_err(|_| {
                AppError::BadRequest(format!("width `{v}` is not a number of pixels; ask for 1 to 4096"))
            })?;
            width = Some(n);
        }
    }
    Ok(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_comes_from_the_query() {
        assert_eq!(requested_width("").unwrap(), None);
        assert_eq!(requested_width("v=3&width=320").unwrap(), Some(320));
        assert!(requested_width("width=big").is_err());
        assert!(requested_width("width=-1").is_err());
    }
}
