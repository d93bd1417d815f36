//! The sync state the admin API reads (a host convention: these keys and
//! shapes exactly): `sync/product/{product_id}` per product and
//! `sync/channel` for the connection as a whole.

use omnistore_sdk::{PluginError, clock, storage};
use serde::{Deserialize, Serialize};

/// A problem Meta reported, or the plugin met, for the merchant to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductState {
    pub product_id: String,
    /// `synced`, `pending`, `error` or `removed`.
    pub status: String,
    pub last_synced_ms: Option<i64>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelState {
    /// `ok`, `needs_reauthorization`, `misconfigured` or `rate_limited`.
    pub status: String,
    pub message: String,
    pub updated_ms: i64,
}

pub const CHANNEL_KEY: &str = "sync/channel";

pub fn product_key(product_id: &str) -> String {
    format!("sync/product/{product_id}")
}

/// What a batch said about one product's SKUs.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// The product's changes wait to be sent.
pub fn mark_pending(product_id: &str) -> Result<(), PluginError> {
    let key = product_key(product_id);
    // Spare the write when it is already pending (1,000 stock changes of a
    // product in a second write it once).
    if storage::get_json::<ProductState>(&key)?.is_some_and(|s| s.status == "pending") {
        return Ok(());
    }
    storage::update_json(&key, |s: Option<ProductState>| {
        let mut s = s.unwrap_or_else(|| blank(product_id));
        s.status = "pending".into();
        Some(s)
    })?;
    Ok(())
}

/// Meta took the product's changes for `skus` (or refused them): their
/// earlier problems are replaced by these.
pub fn record_sent(product_id: &str, skus: &[String], outcome: &Outcome, removed: bool) -> Result<(), PluginError> {
    let now = clock::now();
    let ours = |p: &Problem| skus.iter().any(|s| p.message.starts_with(&format!("{s}: ")));
    storage::update_json(&product_key(product_id), |s: Option<ProductState>| {
        let mut s = s.unwrap_or_else(|| blank(product_id));
        s.errors.retain(|p| !ours(p));
        s.warnings.retain(|p| !ours(p));
        s.errors.extend(outcome.errors.iter().cloned());
        s.warnings.extend(outcome.warnings.iter().cloned());
        s.status = if !s.errors.is_empty() {
            "error"
        } else if removed {
            "removed"
        } else {
            "synced"
        }
        .into();
        if s.errors.is_empty() {
            s.last_synced_ms = Some(now);
        }
        Some(s)
    })?;
    Ok(())
}

/// A product that was never sent was removed: nothing to tell Meta.
pub fn mark_removed(product_id: &str) -> Result<(), PluginError> {
    storage::update_json(&product_key(product_id), |s: Option<ProductState>| {
        let mut s = s.unwrap_or_else(|| blank(product_id));
        s.status = "removed".into();
        Some(s)
    })?;
    Ok(())
}

fn blank(product_id: &str) -> ProductState {
    ProductState {
        product_id: product_id.into(),
        status: "pending".into(),
        last_synced_ms: None,
        errors: vec![],
        warnings: vec![],
    }
}

pub fn channel() -> Result<Option<ChannelState>, PluginError> {
    storage::get_json(CHANNEL_KEY)
}

/// Set the channel's state; unchanged states are not rewritten.
pub fn set_channel(status: &str, message: &str) -> Result<(), PluginError> {
    if channel()?.is_some_and(|c| c.status == status && c.message == message) {
        return Ok(());
    }
    storage::set_json(
        CHANNEL_KEY,
        &ChannelState { status: status.into(), message: message.into(), updated_ms: clock::now() },
    )
}

pub fn channel_ok() -> Result<(), PluginError> {
    set_channel("ok", "Your catalog is connected to Meta and kept up to date.")
}
