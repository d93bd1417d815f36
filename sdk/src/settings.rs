//! The merchant's settings and secrets for this installation, as declared in
//! `[[settings]]` of `plugin.toml`. Needs `"settings"` in `[capabilities].imports`.

use crate::__private::bindings::omnistore::plugin::settings as imp;
use crate::PluginError;

/// The value of a setting or secret, or `None` when unset.
pub fn get(key: &str) -> Option<String> {
    imp::get(key)
}

/// The value of a setting, or `default` when unset.
pub fn get_or(key: &str, default: &str) -> String {
    imp::get(key).unwrap_or_else(|| default.to_string())
}

/// The value of a setting the plugin cannot work without; an internal error
/// that tells the operator what to set when it is missing or empty.
pub fn require(key: &str) -> Result<String, PluginError> {
    match imp::get(key) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(PluginError::Internal(format!(
            "the setting `{key}` is not set; set it in the admin for this installation"
        ))),
    }
}

/// All settings that are not secrets, as (key, value) pairs.
pub fn list() -> Vec<(String, String)> {
    imp::list()
}
