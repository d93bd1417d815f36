//! The sync state the admin API reads (a host convention): per product
//! under `sync/product/{product_id}`, for the channel under `sync/channel`.
//! Written exactly in the shape the admin expects.

use omnistore_sdk::{PluginError, clock, storage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub code: String,
    pub message: String,
}

impl Issue {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue { code: code.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSync {
    pub product_id: String,
    /// "synced", "pending", "error" or "removed".
    pub status: String,
    pub last_synced_ms: Option<i64>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

fn product_key(product_id: &str) -> String {
    format!("sync/product/{product_id}")
}

/// Change a product's state: `change` gets the current state (a fresh
/// pending one when there is none).
pub fn update_product(product_id: &str, change: impl Fn(&mut ProductSync)) -> Result<(), PluginError> {
    storage::update_json(&product_key(product_id), |current: Option<ProductSync>| {
        let mut state = current.unwrap_or_else(|| ProductSync {
            product_id: product_id.to_string(),
            status: "pending".into(),
            last_synced_ms: None,
            errors: vec![],
            warnings: vec![],
        });
        change(&mut state);
        Some(state)
    })?;
    Ok(())
}

/// Waiting to be sent (or for Pinterest to process what was sent).
pub fn pending(product_id: &str) -> Result<(), PluginError> {
    update_product(product_id, |s| {
        s.status = "pending".into();
        s.errors.clear();
    })
}

/// Pinterest refused it: the errors, kept until a later sync succeeds.
pub fn failed(product_id: &str, errors: Vec<Issue>) -> Result<(), PluginError> {
    update_product(product_id, |s| {
        s.status = "error".into();
        s.errors = errors.clone();
    })
}

/// Pinterest processed it; `warnings` are Pinterest's, such as a small image.
pub fn synced(product_id: &str, warnings: Vec<Issue>, now: i64) -> Result<(), PluginError> {
    update_product(product_id, |s| {
        s.status = "synced".into();
        s.last_synced_ms = Some(now);
        s.errors.clear();
        s.warnings = warnings.clone();
    })
}

/// Deleted from Pinterest's catalog (or never there).
pub fn removed(product_id: &str, now: i64) -> Result<(), PluginError> {
    update_product(product_id, |s| {
        s.status = "removed".into();
        s.last_synced_ms = Some(now);
        s.errors.clear();
        s.warnings.clear();
    })
}

/// A warning on a product that does not change its status (no image to pin, say).
pub fn warn(product_id: &str, warning: Issue) -> Result<(), PluginError> {
    update_product(product_id, |s| {
        if !s.warnings.contains(&warning) {
            s.warnings.push(warning.clone());
        }
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSync {
    /// "ok", "needs_reauthorization", "misconfigured" or "rate_limited".
    pub status: String,
    pub message: String,
    pub updated_ms: i64,
}

pub const CHANNEL_KEY: &str = "sync/channel";

pub fn channel() -> Result<Option<ChannelSync>, PluginError> {
    storage::get_json(CHANNEL_KEY)
}

/// Record the channel's state; an unchanged state is not rewritten.
pub fn set_channel(status: &str, message: &str) -> Result<(), PluginError> {
    if let Some(current) = channel()?
        && current.status == status
        && current.message == message
    {
        return Ok(());
    }
    let state = ChannelSync { status: status.into(), message: message.into(), updated_ms: clock::now() };
    storage::set_json(CHANNEL_KEY, &state)
}

pub fn channel_ok() -> Result<(), PluginError> {
    set_channel("ok", "Connected to Pinterest; products are kept in sync.")
}
