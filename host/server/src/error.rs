use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use omnistore_runtime::CallError;
use omnistore_runtime::types::PluginError;

/// Every error the HTTP layer returns: one JSON shape, a stable code, a
/// message that says what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no tenant `{0}`")]
    UnknownTenant(String),
    #[error("no host name is configured for `{0}`; use /t/{{tenant}}/… or add the domain to a tenant")]
    UnknownHost(String),
    #[error("tenant `{tenant}` has no channel mounted at `{path}`")]
    NoChannel { tenant: String, path: String },
    #[error("the request body exceeds {0} bytes")]
    BodyTooLarge(usize),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Call(#[from] CallError),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::UnknownTenant(_) | AppError::UnknownHost(_) | AppError::NoChannel { .. } => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            AppError::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Call(err) => match err {
                CallError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "plugin_timeout"),
                CallError::MemoryExceeded { .. } => (StatusCode::BAD_GATEWAY, "plugin_memory_exceeded"),
                CallError::Trap(_) => (StatusCode::BAD_GATEWAY, "plugin_trap"),
                CallError::ResponseTooLarge { .. } => (StatusCode::BAD_GATEWAY, "plugin_response_too_large"),
                CallError::LimitExceeded { .. } => (StatusCode::BAD_GATEWAY, "plugin_limit_exceeded"),
                CallError::Denied { .. } => (StatusCode::BAD_GATEWAY, "plugin_capability_denied"),
                CallError::NotSubscribed(_) => (StatusCode::BAD_REQUEST, "not_subscribed"),
                CallError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
                CallError::Host(_) => (StatusCode::INTERNAL_SERVER_ERROR, "host_error"),
                CallError::Plugin(p) => match p {
                    PluginError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
                    PluginError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                    PluginError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
                    PluginError::RetryLater(_) => (StatusCode::SERVICE_UNAVAILABLE, "retry_later"),
                    PluginError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
                    PluginError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "plugin_error"),
                },
            },
        }
    }

    fn message(&self) -> String {
        match self {
            AppError::Call(CallError::Plugin(p)) => match p {
                PluginError::BadRequest(m)
                | PluginError::NotFound(m)
                | PluginError::Unauthorized(m)
                | PluginError::Internal(m) => m.clone(),
                PluginError::RetryLater(s) => format!("try again in {s} seconds"),
                PluginError::Upstream(u) => format!("upstream service answered {}: {}", u.status, u.message),
            },
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({ "error": { "code": code, "message": self.message() } });
        let mut response = (status, Json(body)).into_response();
        if let AppError::Call(CallError::Plugin(PluginError::RetryLater(s))) = &self
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
