//! Bringing a tenant's stored records to the current storage format version
//! (see [`crate::records`]), and seeing how far along that is.
//!
//! Old records are readable without this: a read upgrades them in memory and
//! the next write of a record stores it at the current version. Migrating
//! rewrites the rest, so that a later release can drop the oldest upgrade
//! steps, and so an operator knows when no old record is left.

use std::collections::BTreeMap;
use std::ops::Bound;

use omnistore_storage::{KeyRange, keyspace};
use serde::Serialize;

use crate::catalog::{Product, Variant};
use crate::customers::Customer;
use crate::error::CoreResult;
use crate::ids::TenantId;
use crate::orders::Order;
use crate::records::{CURRENT, Record, encode, split, table_of, upgrade};
use crate::store::Core;

/// Records per transaction: small enough that a batch never holds up
/// checkouts for long, large enough to be quick.
const BATCH: usize = 200;

/// How many of a tenant's stored records are in each format version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageVersions {
    /// The version this host writes.
    pub current: u32,
    /// Records per format version (0: written before versioning).
    pub counts: BTreeMap<u32, u64>,
}

impl StorageVersions {
    /// Records not yet at the current version.
    pub fn outdated(&self) -> u64 {
        self.counts.iter().filter(|(v, _)| **v != self.current).map(|(_, n)| n).sum()
    }
}

/// What a migration went through so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    /// Records looked at.
    pub scanned: u64,
    /// Records rewritten at the current version.
    pub upgraded: u64,
}

impl Core {
    /// Count the tenant's records (its registry entry and every core record)
    /// per storage format version, in one snapshot.
    pub fn storage_versions(&self, tenant: &TenantId) -> CoreResult<StorageVersions> {
        self.get_tenant(tenant)?;
        let mut counts = BTreeMap::new();
        let mut txn = self.store().begin_read()?;
        let mut count = |key: &[u8], value: &[u8]| -> CoreResult<()> {
            let (version, _) = split(value).map_err(|e| crate::records::corrupt(key, &e))?;
            *counts.entry(version).or_insert(0) += 1;
            Ok(())
        };
        if let Some(value) = txn.get(&keyspace::registry_key(tenant))? {
            count(&keyspace::registry_key(tenant), &value)?;
        }
        let mut range = KeyRange::prefix(keyspace::core_prefix(tenant).as_bytes());
        loop {
            let page = txn.scan(&range, BATCH)?;
            for (key, value) in &page {
                count(key, value)?;
            }
            match page.last() {
                Some((last, _)) if page.len() == BATCH => range.start = Bound::Excluded(last.clone()),
                _ => break,
            }
        }
        Ok(StorageVersions { current: CURRENT, counts })
    }

    /// Rewrite every record of the tenant that is older than the current
    /// format version, in batches of one transaction each, calling
    /// `progress` after each batch. Safe while the tenant is live (each batch
    /// reads and writes in one serializable transaction) and safe to run
    /// again: an interrupted run resumes by skipping what is already current.
    /// A record in a newer version than this host reads stops the migration
    /// with an error naming it; nothing already migrated is lost.
    pub fn migrate(
        &self,
        tenant: &TenantId,
        progress: &mut dyn FnMut(&MigrationReport),
    ) -> CoreResult<MigrationReport> {
        self.get_tenant(tenant)?;
        let mut report = MigrationReport::default();
        let registry = keyspace::registry_key(tenant);
        report.scanned += 1;
        report.upgraded += self.run_write(|txn| {
            let Some(value) = txn.get(&registry)? else { return Ok(0) };
            match rewrite(&registry, &value)? {
                Some(new) => txn.put(&registry, &new).map(|()| 1).map_err(Into::into),
                None => Ok(0),
            }
        })?;
        let all = KeyRange::prefix(keyspace::core_prefix(tenant).as_bytes());
        let mut start = all.start.clone();
        loop {
            let range = KeyRange { start: start.clone(), end: all.end.clone() };
            let (scanned, upgraded, last) = self.run_write(|txn| {
                let page = txn.scan(&range, BATCH)?;
                let mut upgraded = 0u64;
                for (key, value) in &page {
                    if let Some(new) = rewrite(key, value)? {
                        txn.put(key, &new)?;
                        upgraded += 1;
                    }
                }
                Ok((page.len(), upgraded, page.last().map(|(k, _)| k.clone())))
            })?;
            report.scanned += scanned as u64;
            report.upgraded += upgraded;
            progress(&report);
            match last {
                Some(last) if scanned == BATCH => start = Bound::Excluded(last),
                _ => break,
            }
        }
        Ok(report)
    }
}

/// The value at the current version, or `None` when it already is.
/// Records with a stored type go through it, so a migrated record is
/// exactly what the core writes and one that does not fit fails here
/// instead of at its next read.
fn rewrite(key: &[u8], value: &[u8]) -> CoreResult<Option<Vec<u8>>> {
    let (version, body) = split(value).map_err(|e| crate::records::corrupt(key, &e))?;
    if version == CURRENT {
        return Ok(None);
    }
    let value = upgrade(key, version, body)?;
    let typed = |e: serde_json::Error| crate::records::corrupt(key, &format!("does not fit its stored type: {e}"));
    let bytes = match table_of(key) {
        "prd" => encode(&Product::read_value(value).map_err(typed)?)?,
        "var" => encode(&Variant::read_value(value).map_err(typed)?)?,
        "ord" => encode(&Order::read_value(value).map_err(typed)?)?,
        "cus" => encode(&Customer::read_value(value).map_err(typed)?)?,
        _ => encode(&value)?,
    };
    Ok(Some(bytes))
}
