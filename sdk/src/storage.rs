//! Plugin-private key-value storage, scoped by the host to this tenant and
//! installation, within the installation's quota. Needs `"storage"` in
//! `[capabilities].imports`.
//!
//! Keys are at most 512 bytes. Calls run concurrently (each request in its
//! own instance), so reading a value, changing it and writing it back with
//! [`set`] can lose an update that happened in between. Change shared values
//! with [`increment`] (counters) or [`compare_and_set`] (anything else, in a
//! retry loop; [`update_json`] does that for JSON values): each is one
//! atomic step on the host.
//!
//! ```text
//! let visits = storage::increment("visits", 1)?; // never loses a visit
//! storage::update_json("tags", |tags: Option<Vec<String>>| {
//!     let mut tags = tags.unwrap_or_default();
//!     tags.push("new".into());
//!     Some(tags)
//! })?;
//! ```

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

/// Replace the value under `key` with `new` only if it is `expected` now
/// (`None`: the key is absent); `new = None` deletes the key. `Ok(true)` when
/// the swap was made, `Ok(false)` (nothing written) when the value differed:
/// read it again and retry. Held to the same quotas as [`set`].
pub fn compare_and_set(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool, HostError> {
    imp::compare_and_set(key, expected, new)
}

/// Add `delta` to the integer under `key` and return the new value, in one
/// atomic step: concurrent increments never lose each other. A missing key
/// counts as 0. The integer is stored as decimal text (`"42"`), which is also
/// JSON, so [`get_json`] reads it as a number. [`HostError::Invalid`] when the
/// stored value is not such an integer or the sum would overflow an `i64`.
pub fn increment(key: &str, delta: i64) -> Result<i64, HostError> {
    imp::increment(key, delta)
}

/// Most rounds [`update_json`] tries before it gives up.
pub const UPDATE_ATTEMPTS: u32 = 16;

/// Change the JSON value under `key` atomically: `change` gets the current
/// value (`None` when absent) and returns the new one (`None` deletes). When
/// another call changed the value meanwhile, `change` runs again on the
/// fresh value, so it must not have side effects. Returns what was stored.
/// After [`UPDATE_ATTEMPTS`] lost races it gives up with
/// [`PluginError::RetryLater`].
pub fn update_json<T: Serialize + DeserializeOwned>(
    key: &str,
    mut change: impl FnMut(Option<T>) -> Option<T>,
) -> Result<Option<T>, PluginError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let current = imp::get(key)?;
        let value =
            match &current {
                None => None,
                Some(bytes) => Some(serde_json::from_slice(bytes).map_err(|e| {
                    PluginError::Internal(format!("stored value `{key}` is not the expected JSON: {e}"))
                })?),
            };
        let next = change(value);
        let bytes = match &next {
            None => None,
            Some(v) => Some(
                serde_json::to_vec(v)
                    .map_err(|e| PluginError::Internal(format!("value for `{key}` cannot be serialized: {e}")))?,
            ),
        };
        if imp::compare_and_set(key, current.as_deref(), bytes.as_deref())? {
            return Ok(next);
        }
    }
    Err(PluginError::RetryLater(1))
}
