//! What a catalog channel reports about its sync with its platform.

use omnistore_services::sync_state as domain;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChannelSyncStatus {
    /// The channel reaches its platform.
    Ok,
    /// The platform refused the channel's credentials: the merchant must sign in again.
    NeedsReauthorization,
    /// A setting the channel needs is missing or wrong; the message names it.
    Misconfigured,
    /// The platform asked the channel to slow down; it retries by itself.
    RateLimited,
    /// The channel stored something that is not a sync report.
    Unreadable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProductSyncStatus {
    Synced,
    /// Sent, or waiting to be sent; the platform has not confirmed it yet.
    Pending,
    Error,
    /// Taken off the platform.
    Removed,
    /// The channel stored something that is not a sync report.
    Unreadable,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SyncIssue {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ProductSync {
    pub product_id: String,
    pub status: ProductSyncStatus,
    pub last_synced_ms: Option<i64>,
    pub errors: Vec<SyncIssue>,
    pub warnings: Vec<SyncIssue>,
}

/// The channel's own state and one page of its products'.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ChannelSync {
    /// `None` until the channel has reported anything.
    pub status: Option<ChannelSyncStatus>,
    pub message: Option<String>,
    pub updated_ms: Option<i64>,
    pub products: Vec<ProductSync>,
    /// Pass as `after` for the next page of products; absent on the last.
    pub next_after: Option<String>,
}

impl From<domain::ChannelSyncStatus> for ChannelSyncStatus {
    fn from(s: domain::ChannelSyncStatus) -> Self {
        match s {
            domain::ChannelSyncStatus::Ok => ChannelSyncStatus::Ok,
            domain::ChannelSyncStatus::NeedsReauthorization => ChannelSyncStatus::NeedsReauthorization,
            domain::ChannelSyncStatus::Misconfigured => ChannelSyncStatus::Misconfigured,
            domain::ChannelSyncStatus::RateLimited => ChannelSyncStatus::RateLimited,
        }
    }
}

impl From<domain::ProductSyncStatus> for ProductSyncStatus {
    fn from(s: domain::ProductSyncStatus) -> Self {
        match s {
            domain::ProductSyncStatus::Synced => ProductSyncStatus::Synced,
            domain::ProductSyncStatus::Pending => ProductSyncStatus::Pending,
            domain::ProductSyncStatus::Error => ProductSyncStatus::Error,
            domain::ProductSyncStatus::Removed => ProductSyncStatus::Removed,
        }
    }
}

fn issues(list: Vec<domain::SyncIssue>) -> Vec<SyncIssue> {
    list.into_iter().map(|i| SyncIssue { code: i.code, message: i.message }).collect()
}

impl From<domain::Reported<domain::ProductSync>> for ProductSync {
    fn from(r: domain::Reported<domain::ProductSync>) -> Self {
        match r {
            domain::Reported::Read(p) => ProductSync {
                product_id: p.product_id,
                status: p.status.into(),
                last_synced_ms: p.last_synced_ms,
                errors: issues(p.errors),
                warnings: issues(p.warnings),
            },
            domain::Reported::Unreadable { key, reason } => ProductSync {
                product_id: key.strip_prefix(domain::PRODUCT_PREFIX).unwrap_or(&key).to_owned(),
                status: ProductSyncStatus::Unreadable,
                last_synced_ms: None,
                errors: vec![SyncIssue { code: "unreadable".into(), message: reason }],
                warnings: Vec::new(),
            },
        }
    }
}

impl ChannelSync {
    pub(crate) fn new(
        channel: Option<domain::Reported<domain::ChannelSync>>,
        products: Vec<ProductSync>,
        next_after: Option<String>,
    ) -> Self {
        let (status, message, updated_ms) = match channel {
            None => (None, None, None),
            Some(domain::Reported::Read(c)) => (Some(c.status.into()), Some(c.message), Some(c.updated_ms)),
            Some(domain::Reported::Unreadable { reason, .. }) => {
                (Some(ChannelSyncStatus::Unreadable), Some(reason), None)
            }
        };
        ChannelSync { status, message, updated_ms, products, next_after }
    }
}

/// What publishing every active product did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PublishedAll {
    /// Products that were not shown on the channel before.
    pub newly_published: u64,
    /// Products the channel shows now.
    pub published: u64,
}
