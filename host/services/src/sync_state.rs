//! What a catalog channel (Instagram, Pinterest, …) reports about its sync,
//! as the merchant reads it in the admin.
//!
//! The plugin is the only one that knows what the platform answered, so it
//! writes its report into its own storage under two well-known keys (the
//! convention is documented in `plugins/README.md`):
//!
//! - `sync/channel`: `{"status": "ok" | "needs_reauthorization" |
//!   "misconfigured" | "rate_limited", "message": "…", "updated_ms": 0}`
//! - `sync/product/{product-id}`: `{"product_id": "…", "status": "synced" |
//!   "pending" | "error" | "removed", "last_synced_ms": null, "errors":
//!   [{"code": "…", "message": "…"}], "warnings": […]}`
//!
//! What a plugin wrote is untrusted: an entry that does not parse is listed
//! as unreadable (with the reason) instead of failing the whole report, and
//! texts and lists are cut to sizes an admin page can show.

use std::ops::Bound;

use omnistore_core::TenantId;
use omnistore_storage::{KeyRange, KvStore, StorageError, keyspace};
use serde::Deserialize;

/// The key of the channel-wide report.
pub const CHANNEL_KEY: &str = "sync/channel";
/// The prefix of the per-product reports.
pub const PRODUCT_PREFIX: &str = "sync/product/";

/// Longest message or code kept, in characters.
const MAX_TEXT: usize = 1000;
/// Most errors (and most warnings) kept per product.
const MAX_ISSUES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelSyncStatus {
    Ok,
    NeedsReauthorization,
    Misconfigured,
    RateLimited,
}

/// The channel-wide state: whether it can reach the platform at all.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChannelSync {
    pub status: ChannelSyncStatus,
    /// A sentence for the merchant: what is wrong and what to do.
    #[serde(default)]
    pub message: String,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductSyncStatus {
    Synced,
    Pending,
    Error,
    Removed,
}

/// One error or warning the platform gave for a product.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SyncIssue {
    #[serde(default)]
    pub code: String,
    pub message: String,
}

/// How one product stands on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProductSync {
    pub product_id: String,
    pub status: ProductSyncStatus,
    pub last_synced_ms: Option<i64>,
    #[serde(default)]
    pub errors: Vec<SyncIssue>,
    #[serde(default)]
    pub warnings: Vec<SyncIssue>,
}

/// An entry as the plugin left it: parsed, or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported<T> {
    Read(T),
    Unreadable { key: String, reason: String },
}

fn cut(text: &mut String) {
    if let Some((at, _)) = text.char_indices().nth(MAX_TEXT) {
        text.truncate(at);
    }
}

fn tidy_issues(issues: &mut Vec<SyncIssue>) {
    issues.truncate(MAX_ISSUES);
    for i in issues {
        cut(&mut i.code);
        cut(&mut i.message);
    }
}

fn parse<T: for<'de> Deserialize<'de>>(key: &str, bytes: &[u8]) -> Reported<T> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Reported::Read(value),
        Err(e) => Reported::Unreadable {
            key: key.to_owned(),
            reason: format!("the channel stored something that is not a sync report: {e}"),
        },
    }
}

/// The channel-wide report of one installation, if it wrote one.
pub fn channel_state(
    kv: &dyn KvStore,
    tenant: &TenantId,
    installation: &str,
) -> Result<Option<Reported<ChannelSync>>, StorageError> {
    let mut key = keyspace::plugin_data_prefix(tenant, installation);
    key.extend_from_slice(CHANNEL_KEY.as_bytes());
    let mut read = kv.begin_read()?;
    Ok(read.get(&key)?.map(|bytes| match parse::<ChannelSync>(CHANNEL_KEY, &bytes) {
        Reported::Read(mut c) => {
            cut(&mut c.message);
            Reported::Read(c)
        }
        other => other,
    }))
}

/// At most `limit` product reports in product-id order, after the product
/// `after`.
pub fn product_states(
    kv: &dyn KvStore,
    tenant: &TenantId,
    installation: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Reported<ProductSync>>, StorageError> {
    let data = keyspace::plugin_data_prefix(tenant, installation);
    let mut prefix = data.clone();
    prefix.extend_from_slice(PRODUCT_PREFIX.as_bytes());
    let mut range = KeyRange::prefix(&prefix);
    if let Some(after) = after {
        let mut start = prefix.clone();
        start.extend_from_slice(after.as_bytes());
        range.start = Bound::Excluded(start);
    }
    let mut read = kv.begin_read()?;
    let entries = read.scan(&range, limit)?;
    Ok(entries
        .into_iter()
        .map(|(key, bytes)| {
            let key = String::from_utf8_lossy(&key[data.len()..]).into_owned();
            let product = key[PRODUCT_PREFIX.len()..].to_owned();
            read_product(&key, product, &bytes)
        })
        .collect())
}

/// The report of one product on one installation, if the channel wrote one.
pub fn product_state(
    kv: &dyn KvStore,
    tenant: &TenantId,
    installation: &str,
    product: &str,
) -> Result<Option<Reported<ProductSync>>, StorageError> {
    let name = format!("{PRODUCT_PREFIX}{product}");
    let mut key = keyspace::plugin_data_prefix(tenant, installation);
    key.extend_from_slice(name.as_bytes());
    let mut read = kv.begin_read()?;
    Ok(read.get(&key)?.map(|bytes| read_product(&name, product.to_owned(), &bytes)))
}

/// How many products the channel reports in each state: the progress of an
/// upload of the catalogue, read off every report it keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub synced: u64,
    pub pending: u64,
    pub error: u64,
    pub removed: u64,
    pub unreadable: u64,
}

/// Reports read per scan while counting.
const COUNT_PAGE: usize = 1000;

pub fn count_products(kv: &dyn KvStore, tenant: &TenantId, installation: &str) -> Result<SyncCounts, StorageError> {
    let mut counts = SyncCounts::default();
    let mut after: Option<String> = None;
    loop {
        let page = product_states(kv, tenant, installation, after.as_deref(), COUNT_PAGE)?;
        let full = page.len() == COUNT_PAGE;
        for report in &page {
            match report {
                Reported::Read(p) => match p.status {
                    ProductSyncStatus::Synced => counts.synced += 1,
                    ProductSyncStatus::Pending => counts.pending += 1,
                    ProductSyncStatus::Error => counts.error += 1,
                    ProductSyncStatus::Removed => counts.removed += 1,
                },
                Reported::Unreadable { .. } => counts.unreadable += 1,
            }
        }
        after = match page.last() {
            Some(Reported::Read(p)) => Some(p.product_id.clone()),
            Some(Reported::Unreadable { key, .. }) => Some(key[PRODUCT_PREFIX.len()..].to_owned()),
            None => None,
        };
        if !full {
            return Ok(counts);
        }
    }
}

fn read_product(key: &str, product: String, bytes: &[u8]) -> Reported<ProductSync> {
    match parse::<ProductSync>(key, bytes) {
        Reported::Read(mut p) => {
            // The key names the product; a body that says otherwise must not
            // make one product's state show on another.
            p.product_id = product;
            tidy_issues(&mut p.errors);
            tidy_issues(&mut p.warnings);
            Reported::Read(p)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use omnistore_storage::MemoryStore;

    use super::*;

    fn put(kv: &dyn KvStore, tenant: &TenantId, installation: &str, key: &str, value: &str) {
        let mut full = keyspace::plugin_data_prefix(tenant, installation);
        full.extend_from_slice(key.as_bytes());
        let mut w = kv.begin().unwrap();
        w.put(&full, value.as_bytes()).unwrap();
        w.commit().unwrap();
    }

    #[test]
    fn reports_are_read_per_installation_and_bad_entries_are_named() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let (a, b) = (TenantId::new("alpha").unwrap(), TenantId::new("beta").unwrap());
        put(
            &*kv,
            &a,
            "pins",
            CHANNEL_KEY,
            r#"{"status":"needs_reauthorization","message":"sign in again","updated_ms":5}"#,
        );
        let long = "x".repeat(5000);
        put(
            &*kv,
            &a,
            "pins",
            "sync/product/p1",
            &format!(
                r#"{{"product_id":"p9","status":"error","last_synced_ms":null,"errors":[{{"code":"E","message":"{long}"}}]}}"#
            ),
        );
        put(&*kv, &a, "pins", "sync/product/p2", "not json");
        put(&*kv, &a, "pins", "sync/product/p3", r#"{"product_id":"p3","status":"synced","last_synced_ms":7}"#);
        put(&*kv, &b, "pins", "sync/product/p4", r#"{"product_id":"p4","status":"synced","last_synced_ms":7}"#);

        let channel = channel_state(&*kv, &a, "pins").unwrap().unwrap();
        assert!(matches!(channel, Reported::Read(ChannelSync { status: ChannelSyncStatus::NeedsReauthorization, .. })));
        assert_eq!(channel_state(&*kv, &a, "other").unwrap(), None);

        let all = product_states(&*kv, &a, "pins", None, 10).unwrap();
        assert_eq!(all.len(), 3, "only this tenant's installation: {all:?}");
        let Reported::Read(first) = &all[0] else { panic!("{:?}", all[0]) };
        assert_eq!(first.product_id, "p1", "the key names the product, not the body");
        assert_eq!(first.errors[0].message.chars().count(), MAX_TEXT);
        assert!(matches!(&all[1], Reported::Unreadable { key, .. } if key == "sync/product/p2"));
        let next = product_states(&*kv, &a, "pins", Some("p2"), 10).unwrap();
        assert!(matches!(&next[..], [Reported::Read(p)] if p.product_id == "p3"));

        let one = product_state(&*kv, &a, "pins", "p1").unwrap().unwrap();
        assert!(
            matches!(&one, Reported::Read(p) if p.product_id == "p1" && p.errors[0].message.chars().count() == MAX_TEXT)
        );
        assert!(matches!(product_state(&*kv, &a, "pins", "p2").unwrap(), Some(Reported::Unreadable { .. })));
        assert_eq!(product_state(&*kv, &b, "pins", "p1").unwrap(), None, "another tenant's report is not read");
        assert_eq!(product_state(&*kv, &a, "pins", "p4").unwrap(), None);

        let counts = count_products(&*kv, &a, "pins").unwrap();
        assert_eq!(counts, SyncCounts { synced: 1, error: 1, unreadable: 1, ..SyncCounts::default() });
    }

    #[test]
    fn counting_reads_every_page_of_reports() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let a = TenantId::new("alpha").unwrap();
        for i in 0..(COUNT_PAGE + 5) {
            let status = if i % 2 == 0 { "synced" } else { "pending" };
            let body = format!(r#"{{"product_id":"x","status":"{status}","last_synced_ms":null}}"#);
            put(&*kv, &a, "pins", &format!("sync/product/p{i:05}"), &body);
        }
        let counts = count_products(&*kv, &a, "pins").unwrap();
        assert_eq!((counts.synced, counts.pending), (503, 502));
    }
}
