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
    #[error("no tenant answers on host `{0}`; add the domain to a tenant")]
    UnknownHost(String),
    #[error("tenant `{tenant}` has no channel mounted at `{path}`")]
    NoChannel { tenant: String, path: String },
    #[error("the request body exceeds {0} bytes; send less per request")]
    BodyTooLarge(usize),
    #[error("the request body did not arrive within {} seconds; send it promptly", .0.as_secs())]
    BodyTimeout(std::time::Duration),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A fault of the host itself; the client sees only a request id.
    #[error("{0}")]
    Internal(String),
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
            AppError::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
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

/// A fresh id for one failure, logged with its detail and returned to the
/// client instead of that detail: internal errors can name files, addresses
/// or queries that are nobody's business outside the host.
pub(crate) fn incident(status: StatusCode, detail: &str) -> String {
    let mut bytes = [0u8; 8];
    // Without randomness the id is only less unique; the log still has the detail.
    let _ = getrandom::fill(&mut bytes);
    let id = hex::encode(bytes);
    tracing::error!(request_id = %id, status = status.as_u16(), error = %detail, "request failed");
    id
}

/// The message a client sees for an internal failure.
pub(crate) fn internal_message(id: &str) -> String {
    format!("the server failed to handle this request; quote request id {id} to the operator, who has the details")
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = match &self {
            // The host's own failures and trap traces are internal detail.
            AppError::Call(CallError::Host(_) | CallError::Trap(_)) | AppError::Internal(_) => {
                let id = incident(status, &self.to_string());
                serde_json::json!({ "error": { "code": code, "message": internal_message(&id), "request_id": id } })
            }
            _ => serde_json::json!({ "error": { "code": code, "message": self.message() } }),
        };
        let mut response = (status, Json(body)).into_response();
        if let AppError::Call(CallError::Plugin(PluginError::RetryLater(s))) = &self
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(error: AppError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn host_failures_and_traps_show_only_a_request_id() {
        for error in [
            AppError::Call(CallError::Host("connecting to 10.0.0.5:5432 from /srv/omnistore failed".into())),
            AppError::Call(CallError::Trap("wasm backtrace: /srv/omnistore/cache/abc.cwasm 10.0.0.5".into())),
        ] {
            let (status, json) = body(error).await;
            assert!(status.is_server_error());
            let text = json.to_string();
            assert!(!text.contains("10.0.0.5") && !text.contains("/srv"), "{text}");
            let id = json["error"]["request_id"].as_str().unwrap();
            assert!(json["error"]["message"].as_str().unwrap().contains(id));
        }
        // A plugin's own words to its client stay as they are.
        let (_, json) = body(AppError::Call(CallError::Plugin(PluginError::Internal("out of cannoli".into())))).await;
        assert_eq!(json["error"]["message"], "out of cannoli");
    }
}
