use omnistore_storage::StorageError;

/// Why a core call failed. Every variant's message says what the caller can do
/// about it, because these messages reach merchants and plugin authors.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CoreError {
    /// The record does not exist in this tenant (it may exist in another one,
    /// which this tenant can never see).
    #[error("{kind} `{id}` not found in this tenant; check the id, or create it first")]
    NotFound { kind: &'static str, id: String },
    /// The request is malformed; nothing was changed.
    #[error("invalid request: {0}; fix the request and send it again")]
    Invalid(String),
    /// The request is well-formed but clashes with the current state
    /// (a duplicate SKU, a transition the order cannot make).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Not enough sellable stock for a line; nothing was reserved.
    #[error(
        "insufficient stock for SKU `{sku}`: requested {requested}, available {available}; \
         lower the quantity, pick another location, or restock"
    )]
    InsufficientStock { sku: String, requested: i64, available: i64 },
    /// The storage backend failed; the transaction did not commit.
    #[error("storage failed: {0}; the change was not applied, retry later")]
    Storage(#[from] StorageError),
}

impl CoreError {
    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        CoreError::NotFound { kind, id: id.into() }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        CoreError::Invalid(reason.into())
    }

    pub(crate) fn conflict(reason: impl Into<String>) -> Self {
        CoreError::Conflict(reason.into())
    }
}

impl From<omnistore_types::InvalidId> for CoreError {
    fn from(err: omnistore_types::InvalidId) -> Self {
        CoreError::Invalid(err.to_string())
    }
}

/// Result of core calls.
pub type CoreResult<T> = Result<T, CoreError>;
