//! The merchant's settings and secrets for this installation, as declared in
//! `[[settings]]` of `plugin.toml`. Needs `"settings"` in `[capabilities].imports`.

use crate::__private::bindings::omnistore::plugin::settings as imp;
use crate::{PluginError, Shop};

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

/// The shop as its channels present it: name, currency (ISO 4217, the
/// currency of every price), languages (BCP 47, the primary first) and
/// contact.
pub fn shop() -> Shop {
    imp::shop()
}

/// `n` bytes from the host's cryptographic random source, for tokens that
/// must not be guessed (a visitor id, a nonce). The host caps `n` at 1024.
pub fn random_bytes(n: u32) -> Vec<u8> {
    imp::random_bytes(n)
}

/// A random token of `bytes` random bytes as lower-case hex (twice as many
/// characters): cookie-safe and URL-safe.
pub fn random_token(bytes: u32) -> String {
    crate::web::to_hex(&random_bytes(bytes))
}

impl Shop {
    /// The primary language (the first), `en` when the shop lists none.
    ///
    /// ```
    /// use omnistore_sdk::Shop;
    /// let shop = Shop { name: "Dolce Vita".into(), currency: "EUR".into(), languages: vec!["it".into(), "en".into()],
    ///     contact_email: None, contact_phone: None };
    /// assert_eq!(shop.primary_language(), "it");
    /// assert!(shop.speaks("EN") && !shop.speaks("de"));
    /// ```
    pub fn primary_language(&self) -> &str {
        self.languages.first().map(String::as_str).unwrap_or("en")
    }

    /// Whether the shop offers `language` (compared without regard to case).
    pub fn speaks(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l.eq_ignore_ascii_case(language))
    }
}
