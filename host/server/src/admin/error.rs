//! The one error type of the admin API and its JSON shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use omnistore_core::CoreError;
use omnistore_storage::StorageError;

use super::wire::{ErrorBody, ErrorDetail};

/// An admin API error: `{"error": {"code": "<stable_code>", "message": "…"}}`;
/// a 500 also has `request_id`, and its message only asks to quote that id
/// (the detail is logged with it, never sent).
///
/// Codes are part of the API contract (clients switch on them); messages
/// are for people and may change. The codes:
///
/// | status | code |
/// |---|---|
/// | 400 | `malformed_json`, `invalid_body`, `invalid_query`, `invalid_path`, `invalid_idempotency_key`, `unreadable_body` |
/// | 401 | `unauthorized` |
/// | 403 | `forbidden` |
/// | 404 | `not_found`, `route_not_found` |
/// | 405 | `method_not_allowed` |
/// | 408 | `body_timeout` |
/// | 409 | `conflict`, `insufficient_stock`, `idempotency_in_progress` |
/// | 413 | `body_too_large` |
/// | 415 | `unsupported_media_type` |
/// | 422 | `validation_failed`, `idempotency_key_reused` |
/// | 500 | `storage_error`, `internal` |
/// | 501 | `not_implemented` |
/// | 503 | `busy` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for AdminError {}

impl AdminError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AdminError {
        AdminError { status, code, message: message.into() }
    }

    /// The request is well-formed but its content is not acceptable (422).
    pub fn invalid(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message)
    }

    pub fn not_found(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> AdminError {
        AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or unknown token; send `Authorization: Bearer <token>` with an operator or tenant token",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn too_large(limit: usize) -> AdminError {
        AdminError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body exceeds {limit} bytes; send less per request"),
        )
    }

    /// The body is not of a type the route takes (415).
    pub fn unsupported_media_type(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    pub fn internal(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub(crate) fn storage(err: StorageError) -> AdminError {
        AdminError::from(CoreError::Storage(err))
    }
}

impl From<CoreError> for AdminError {
    fn from(err: CoreError) -> AdminError {
        let message = err.to_string();
        match err {
            CoreError::NotFound { .. } => AdminError::not_found(message),
            CoreError::Invalid(_) => AdminError::invalid(message),
            CoreError::Conflict(_) => AdminError::conflict(message),
            CoreError::InsufficientStock { .. } => AdminError::new(StatusCode::CONFLICT, "insufficient_stock", message),
            CoreError::Storage(StorageError::Conflict) => AdminError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the store is busy with concurrent changes; nothing was applied, retry shortly",
            ),
            // Storage refuses a request only for keys beyond its size limit,
            // which only caller-supplied values can reach.
            CoreError::Storage(StorageError::Invalid(_)) => AdminError::invalid(message),
            // Logged with a request id when answered (see `into_response`).
            CoreError::Storage(StorageError::Backend { .. }) => {
                AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage_error", message)
            }
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        // A 500 carries internal detail (storage, files, tasks): the client
        // gets an id to quote and the log gets the detail.
        let error = if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            let id = crate::error::incident(self.status, &self.message);
            let message = crate::error::internal_message(&id);
            ErrorDetail { code: self.code.to_string(), message, request_id: Some(id) }
        } else {
            ErrorDetail { code: self.code.to_string(), message: self.message, request_id: None }
        };
        let body = ErrorBody { error };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

pub(crate) async fn route_not_found() -> AdminError {
    AdminError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "no admin API route at this path; see /api/v1/openapi.json",
    )
}

pub(crate) async fn method_not_allowed() -> AdminError {
    AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /api/v1/openapi.json",
    )
}
