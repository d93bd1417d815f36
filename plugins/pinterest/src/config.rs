//! The merchant's settings, checked before anything is sent: a missing one
//! marks the channel `misconfigured` with a sentence naming the setting, and
//! the event fails with the same sentence (it is retried, then dead-lettered
//! where the merchant sees it, never dropped in silence).

use omnistore_sdk::{PluginError, settings, storage};
use serde::{Deserialize, Serialize};

use crate::state;

#[derive(Debug, Clone)]
pub struct Config {
    /// Pinterest's origin, without a trailing slash; paths add `/v5/...`.
    pub api: String,
    pub country: String,
    pub language: String,
    pub shop_url: String,
    pub ad_account_id: Option<String>,
    /// The board new products are pinned to; `None` when pinning is off.
    pub board_id: Option<String>,
    pub register_feed: bool,
    pub feed_base_url: Option<String>,
    pub google_product_category: Option<String>,
}

fn non_empty(key: &str) -> Option<String> {
    settings::get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn is_on(key: &str, default: bool) -> bool {
    match non_empty(key) {
        Some(v) => matches!(v.to_ascii_lowercase().as_str(), "on" | "true" | "yes" | "1"),
        None => default,
    }
}

/// The settings, or the misconfiguration (recorded as the channel's state).
pub fn load() -> Result<Config, PluginError> {
    match read() {
        Ok(config) => Ok(config),
        Err(message) => {
            state::set_channel("misconfigured", &message)?;
            Err(PluginError::Internal(message))
        }
    }
}

fn read() -> Result<Config, String> {
    if non_empty("access_token").is_none() {
        return Err("The setting `access_token` (Pinterest access token) is empty: connect your Pinterest account and paste its access token in the channel's settings.".into());
    }
    let country = non_empty("country").map(|c| c.to_ascii_uppercase()).unwrap_or_default();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "The setting `country` is {}: set the two-letter code of the country you sell in, such as IT or US.",
            if country.is_empty() { "empty".to_string() } else { format!("`{country}`, not a two-letter code") }
        ));
    }
    let shop_url = non_empty("shop_url").unwrap_or_default();
    if !(shop_url.starts_with("https://") || shop_url.starts_with("http://")) {
        return Err("The setting `shop_url` (address of your online shop) is missing or does not start with https://: Pinterest links every product to its page there.".into());
    }
    let board_id = if is_on("create_pins", true) {
        match non_empty("board_id") {
            Some(b) if b.bytes().all(|c| c.is_ascii_digit()) => Some(b),
            Some(b) => {
                return Err(format!(
                    "The setting `board_id` is `{b}`, but a Pinterest board ID is only digits: copy it from the board's API answer, or turn `create_pins` off."
                ));
            }
            None => {
                return Err("The setting `board_id` is empty while `create_pins` is on: set the ID of the board new products are pinned to, or turn `create_pins` off.".into());
            }
        }
    } else {
        None
    };
    let language = non_empty("language")
        .unwrap_or_else(|| settings::shop().primary_language().to_string())
        .split(['-', '_'])
        .next()
        .unwrap_or("en")
        .to_ascii_uppercase();
    Ok(Config {
        api: settings::get_or("api_base_url", "https://api.pinterest.com").trim_end_matches('/').to_string(),
        country,
        language,
        shop_url: shop_url.trim_end_matches('/').to_string(),
        ad_account_id: non_empty("ad_account_id"),
        board_id,
        register_feed: is_on("register_feed", false),
        feed_base_url: non_empty("feed_base_url").map(|u| u.trim_end_matches('/').to_string()),
        google_product_category: non_empty("google_product_category"),
    })
}

/// The OAuth tokens in use: the settings' until a refresh renewed them;
/// renewed ones live in storage (settings are read-only to the plugin),
/// tied to the settings they came from, so tokens the merchant pastes
/// later win over older renewed ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Fingerprint of the settings' tokens these were renewed from.
    pub basis: String,
}

const TOKENS_KEY: &str = "auth/tokens";

fn settings_basis() -> String {
    fingerprint(&format!(
        "{}\u{0}{}",
        settings::get("access_token").unwrap_or_default(),
        settings::get("refresh_token").unwrap_or_default()
    ))
}

pub fn tokens() -> Result<Tokens, PluginError> {
    let basis = settings_basis();
    if let Some(stored) = storage::get_json::<Tokens>(TOKENS_KEY)?
        && stored.basis == basis
    {
        return Ok(stored);
    }
    Ok(Tokens {
        access_token: non_empty("access_token").unwrap_or_default(),
        refresh_token: non_empty("refresh_token"),
        basis,
    })
}

pub fn store_tokens(access_token: &str, refresh_token: Option<String>) -> Result<Tokens, PluginError> {
    let tokens = Tokens { access_token: access_token.to_string(), refresh_token, basis: settings_basis() };
    storage::set_json(TOKENS_KEY, &tokens)?;
    Ok(tokens)
}

/// FNV-1a, 64 bits, as hex: tells token sets apart without storing them twice.
pub fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_differ_for_different_tokens() {
        assert_ne!(super::fingerprint("a\u{0}b"), super::fingerprint("a\u{0}c"));
        assert_eq!(super::fingerprint(""), "cbf29ce484222325");
    }
}
