//! Extractors whose rejections are [`AdminError`]s, so a bad request gets
//! the same JSON error shape as everything else.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use omnistore_core::TenantId;
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::auth::Caller;
use super::{AdminError, AdminState};

/// The tenant a tenant route acts on, as authorised by the guard.
#[derive(Debug, Clone)]
pub(crate) struct Scope(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .and_then(|c| c.tenant.clone())
            .map(Scope)
            .ok_or_else(|| AdminError::internal("tenant route reached without its guard"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| AdminError::internal("route reached without its guard"))
    }
}

/// Path parameters, deserialized by name (`{product}` → `product`).
#[derive(Debug)]
pub(crate) struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| P(v))
            .map_err(|e| AdminError::bad_request("invalid_path", e.body_text()))
    }
}

/// Query parameters.
#[derive(Debug)]
pub(crate) struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Q<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| AdminError::bad_request("invalid_query", e.body_text()))
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            AdminError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
        Category::Data => {
            AdminError::bad_request("invalid_body", format!("the JSON body does not have the expected shape: {e}"))
        }
    })
}

async fn body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AdminError> {
    // The idempotency layer has already buffered the body within the limit;
    // this only fails if a route was mounted without it.
    Bytes::from_request(req, state).await.map_err(|e| AdminError::bad_request("unreadable_body", e.body_text()))
}

/// A required JSON body. The Content-Type header is not insisted on: the
/// body is JSON or it is refused.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse(&body(req, state).await?).map(JsonBody)
    }
}

/// A body taken as it is (an image, a theme file): no JSON, no Content-Type
/// insisted on here; the route checks what it needs.
#[derive(Debug)]
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        body(req, state).await.map(RawBody)
    }
}

/// A JSON body every field of which is optional: an empty body is `{}`.
#[derive(Debug)]
pub(crate) struct OptJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptJsonBody<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptJsonBody(T::default()));
        }
        parse(&bytes).map(OptJsonBody)
    }
}

/// Deserialize a field that distinguishes "absent" (`None`, via
/// `#[serde(default)]`) from "null" (`Some(None)`, which clears the value).
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The cursor for a paged list: the last id when the page came back full.
pub(crate) fn cursor<T>(items: &[T], limit: usize, id: impl Fn(&T) -> String) -> Option<String> {
    (items.len() >= limit).then(|| items.last().map(id)).flatten()
}

/// The query of a list paged by id: `?after=<last id of the previous page>&limit=N`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery<I> {
    pub(crate) after: Option<I>,
    pub(crate) limit: Option<usize>,
}

/// How [`PageQuery`] is documented.
pub(crate) const PAGE_PARAMS: &[super::Param] = &[
    super::param("after", "string", "cursor: the last id of the previous page (`next_after` of its answer)"),
    super::param("limit", "integer", "page size, 1-1000 (default 100)"),
];

/// Largest page a list returns.
pub(crate) const MAX_PAGE: usize = 1000;

/// A page size from a query: 100 by default, 1 to [`MAX_PAGE`] when given.
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, AdminError> {
    match limit {
        None => Ok(100),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(AdminError::invalid(format!("limit must be between 1 and {MAX_PAGE}, got {l}"))),
    }
}

/// The body of an action that takes no parameters. An empty body or `{}`
/// is accepted: refusing `{}` would only trip clients that always send one.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

/// Read every request's body within its size limit and the read timeout,
/// before authentication or anything else: a client that trickles bytes or
/// sends too many is answered without costing a token lookup.
pub(crate) async fn body_guard(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let limit = state.body_limit(request.method(), request.uri().path());
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return AdminError::too_large(limit).into_response();
    }
    let read = tokio::time::timeout(state.body_read_timeout, axum::body::to_bytes(body, limit)).await;
    let bytes = match read {
        Err(_) => {
            return AdminError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} seconds; send it promptly",
                    state.body_read_timeout.as_secs()
                ),
            )
            .into_response();
        }
        Ok(Err(e)) => {
            let inner = e.into_inner();
            return if inner.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                AdminError::too_large(limit).into_response()
            } else {
                AdminError::bad_request("unreadable_body", "could not read the request body; send it again")
                    .into_response()
            };
        }
        Ok(Ok(bytes)) => bytes,
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
