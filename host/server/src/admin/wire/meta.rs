//! What is not a resource: the error body and the description itself.

use schemars::JsonSchema;
use serde::Serialize;

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Error", deny_unknown_fields)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ErrorDetail {
    /// Stable, for programs: malformed_json, invalid_body, invalid_query,
    /// invalid_path, invalid_idempotency_key, unauthorized, forbidden,
    /// not_found, route_not_found, method_not_allowed, conflict,
    /// insufficient_stock, idempotency_in_progress, body_too_large,
    /// body_timeout, unreadable_body, validation_failed,
    /// idempotency_key_reused, storage_error, busy, not_implemented, internal.
    pub code: String,
    /// For people: what failed and what to do.
    pub message: String,
    /// On 500s only: the id to quote; the detail is in the server's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An OpenAPI 3.1 document.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "OpenApi")]
pub(crate) struct OpenApiDocument(pub serde_json::Map<String, serde_json::Value>);
