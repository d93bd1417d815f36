//! Plugin-private key-value storage, scoped by the host to this tenant and
//! installation, within the installation's quota. Needs `"storage"` in
//! `[capabilities].imports`.
//!
//! Keys are at most 512 bytes. Writes are not transactions: two concurrent
//! calls that read, change and write the same key can lose one update.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::__private::bindings::omnistore::plugin::storage as imp;
use crate::{HostError, PluginError};

/// The value stored under `key`, or `None`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, HostError> {
    imp::get(key)
}

/// Store `value` under `key`. [`HostError::QuotaExceeded`] when the
/// installation's quota would be exceeded; nothing is written then.
pub fn set(key: &str, value: &[u8]) -> Result<(), HostError> {
    imp::set(key, value)
}

/// Remove `key`; removing a missing key is not an error.
pub fn delete(key: &str) -> Result<(), HostError> {
    imp::delete(key)
}

/// Keys starting with `prefix`, in byte order, after `start_after` when given,
/// at most `limit` (the host caps it at 1000). Page by passing the last key
/// of one call as `start_after` of the next.
pub fn list_keys(prefix: &str, start_after: Option<&str>, limit: u32) -> Result<Vec<String>, HostError> {
    imp::list_keys(prefix, start_after, limit)
}

/// The JSON value stored under `key`, or `None`. A stored value that is not
/// the expected JSON is an internal error.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    match imp::get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PluginError::Internal(format!("stored value `{key}` is not the expected JSON: {e}"))),
    }
}

/// Store `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), PluginError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| PluginError::Internal(format!("value for `{key}` cannot be serialized: {e}")))?;
    Ok(imp::set(key, &bytes)?)
}
