//! Plugin-private key-value data on the host's store.
//!
//! Layout (owned by `omnistore_storage::keyspace`):
//! `plugin-kv\0<tenant>\0<installation>\0<key>` for values and
//! `plugin-kv-usage\0<tenant>\0<installation>` for the bytes used. Tenant and
//! installation ids cannot contain `\0` (they are `[a-z0-9-]`), so no key a
//! plugin chooses can leave its own prefix: `../other-tenant/x` is just a key.
//!
//! Two quotas hold: one per installation, and one per tenant over everything
//! its plugins and its mail queue store ([`TenantUsage`]). Each entry costs
//! its key, its value and [`ENTRY_OVERHEAD_BYTES`]. Usage counters change in
//! the same transaction as the data; a counter that is missing or in an
//! older format is derived again from the data, never reset to zero. A
//! reinstall gets a new installation id, but the tenant's counter still
//! holds what the old installation left behind.

use omnistore_storage::{KeyRange, KvStore, StorageError, Txn, keyspace, transact};
use omnistore_types::TenantId;

use crate::types::HostError;

/// Longest key a plugin may use, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Most keys returned by one `list-keys`.
pub const MAX_LIST: u32 = 1000;
/// What one stored entry costs beyond its key and value bytes: the store's
/// own bookkeeping, so that a byte quota also bounds the number of entries.
pub const ENTRY_OVERHEAD_BYTES: u64 = 64;

/// Quota units of one entry.
pub fn entry_cost(key_len: usize, value_len: usize) -> u64 {
    key_len as u64 + value_len as u64 + ENTRY_OVERHEAD_BYTES
}

/// Usage counters are stored as this version byte and a big-endian u64; an
/// older counter (bare u64 of key and value bytes) is derived again.
const USAGE_VERSION: u8 = 2;
/// Entries read per page when deriving a counter from the data.
const DERIVE_PAGE: usize = 1024;

fn encode_usage(used: u64) -> [u8; 9] {
    let mut out = [USAGE_VERSION; 9];
    out[1..].copy_from_slice(&used.to_be_bytes());
    out
}

fn decode_usage(bytes: &[u8]) -> Option<u64> {
    match bytes {
        [USAGE_VERSION, rest @ ..] => <[u8; 8]>::try_from(rest).ok().map(u64::from_be_bytes),
        _ => None,
    }
}

/// What every entry whose key starts with `prefix` costs; the stored key's
/// own length beyond the prefix is what the plugin chose.
fn derive_usage(txn: &mut dyn Txn, prefix: &[u8], skip: usize) -> Result<u64, StorageError> {
    let mut range = KeyRange::prefix(prefix);
    let mut used = 0u64;
    loop {
        let page = txn.scan(&range, DERIVE_PAGE)?;
        for (key, value) in &page {
            used = used.saturating_add(entry_cost(key.len().saturating_sub(skip), value.len()));
        }
        match page.last() {
            Some((last, _)) if page.len() == DERIVE_PAGE => range.start = std::ops::Bound::Excluded(last.clone()),
            _ => return Ok(used),
        }
    }
}

/// The storage quota of one tenant, shared by its plugins' data and its
/// mail queue: one counter per tenant, `tenant-usage\0<tenant>`.
#[derive(Debug, Clone)]
pub struct TenantUsage {
    key: Vec<u8>,
    plugin_prefix: Vec<u8>,
}

impl TenantUsage {
    pub fn new(tenant: &TenantId) -> Self {
        TenantUsage {
            key: keyspace::tenant_usage_key(tenant),
            plugin_prefix: keyspace::plugin_data_tenant_prefix(tenant),
        }
    }

    /// Bytes the tenant uses. A missing counter is derived from the plugin
    /// data of every installation of the tenant (mail queued before the
    /// counter existed is not counted).
    pub fn used(&self, txn: &mut dyn Txn) -> Result<u64, StorageError> {
        match txn.get(&self.key)?.as_deref().and_then(decode_usage) {
            Some(used) => Ok(used),
            None => {
                // Installation prefixes are `<installation>\0`; the plugin's
                // own key is what follows. Charging the ids too only errs on
                // the side of counting more.
                derive_usage(txn, &self.plugin_prefix, self.plugin_prefix.len())
            }
        }
    }

    /// Replace `freed` units by `added` in the tenant's counter. Growth past
    /// `quota` is refused (the message says so) and writes nothing; shrinking
    /// is always allowed.
    pub fn charge(
        &self,
        txn: &mut dyn Txn,
        freed: u64,
        added: u64,
        quota: u64,
    ) -> Result<Result<u64, String>, StorageError> {
        let used = self.used(txn)?;
        let new_used = used.saturating_sub(freed).saturating_add(added);
        if added > freed && new_used > quota {
            return Ok(Err(format!(
                "storing this would bring the shop's stored data to {new_used} bytes; its quota is {quota} \
                 (delete unused data or queued mail, or ask the operator for a larger quota)"
            )));
        }
        txn.put(&self.key, &encode_usage(new_used))?;
        Ok(Ok(new_used))
    }
}

/// The quotas a `set` must stay within.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    /// Per installation, in [`entry_cost`] units.
    pub installation: u64,
    /// Per tenant, over plugin data and the mail queue.
    pub tenant: u64,
    /// Largest single value, in bytes.
    pub value: u64,
}

#[derive(Debug, Clone)]
pub struct Scope {
    prefix: Vec<u8>,
    usage_key: Vec<u8>,
    tenant: TenantUsage,
}

impl Scope {
    pub fn new(tenant: &TenantId, installation: &str) -> Self {
        Scope {
            prefix: keyspace::plugin_data_prefix(tenant, installation),
            usage_key: keyspace::plugin_usage_key(tenant, installation),
            tenant: TenantUsage::new(tenant),
        }
    }

    fn key(&self, key: &str) -> Result<Vec<u8>, HostError> {
        if key.is_empty() {
            return Err(HostError::Invalid("storage keys must not be empty".into()));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(HostError::Invalid(format!(
                "storage key is {} bytes; the limit is {MAX_KEY_BYTES}",
                key.len()
            )));
        }
        let mut full = self.prefix.clone();
        full.extend_from_slice(key.as_bytes());
        Ok(full)
    }

    /// This installation's usage; derived from its data when the counter is
    /// missing or in an older format.
    fn usage(&self, txn: &mut dyn Txn) -> Result<u64, StorageError> {
        match txn.get(&self.usage_key)?.as_deref().and_then(decode_usage) {
            Some(used) => Ok(used),
            None => derive_usage(txn, &self.prefix, self.prefix.len()),
        }
    }

    pub fn get(&self, kv: &dyn KvStore, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        let full = self.key(key)?;
        let mut read = kv.begin_read().map_err(unavailable)?;
        read.get(&full).map_err(unavailable)
    }

    pub fn set(&self, kv: &dyn KvStore, key: &str, value: &[u8], quotas: Quotas) -> Result<(), HostError> {
        let full = self.key(key)?;
        if value.len() as u64 > quotas.value {
            return Err(HostError::QuotaExceeded(format!(
                "the value is {} bytes; one value may be at most {}",
                value.len(),
                quotas.value
            )));
        }
        let outcome: Result<Result<(), HostError>, StorageError> = transact(kv, |txn| {
            let old = txn.get(&full)?.map(|v| entry_cost(key.len(), v.len())).unwrap_or(0);
            let added = entry_cost(key.len(), value.len());
            let used = self.usage(txn)?;
            let new_used = used.saturating_sub(old).saturating_add(added);
            if added > old && new_used > quotas.installation {
                return Ok(Err(HostError::QuotaExceeded(format!(
                    "storing this would use {new_used} bytes (each entry counts its key, its value and \
                     {ENTRY_OVERHEAD_BYTES} bytes); this installation's quota is {}",
                    quotas.installation
                ))));
            }
            if let Err(message) = self.tenant.charge(txn, old, added, quotas.tenant)? {
                return Ok(Err(HostError::QuotaExceeded(message)));
            }
            txn.put(&full, value)?;
            txn.put(&self.usage_key, &encode_usage(new_used))?;
            Ok(Ok(()))
        });
        outcome.map_err(unavailable)?
    }

    pub fn delete(&self, kv: &dyn KvStore, key: &str) -> Result<(), HostError> {
        let full = self.key(key)?;
        transact(kv, |txn| {
            if let Some(old) = txn.get(&full)? {
                let used = self.usage(txn)?;
                let freed = entry_cost(key.len(), old.len());
                // Before the delete: a counter derived from the data must
                // still see the entry it is about to free. Shrinking is
                // never refused.
                let _ = self.tenant.charge(txn, freed, 0, u64::MAX)?;
                txn.delete(&full)?;
                txn.put(&self.usage_key, &encode_usage(used.saturating_sub(freed)))?;
            }
            Ok::<_, StorageError>(())
        })
        .map_err(unavailable)
    }

    pub fn list_keys(
        &self,
        kv: &dyn KvStore,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, HostError> {
        let mut range_prefix = self.prefix.clone();
        range_prefix.extend_from_slice(prefix.as_bytes());
        let mut range = KeyRange::prefix(&range_prefix);
        if let Some(after) = start_after {
            let mut start = self.prefix.clone();
            start.extend_from_slice(after.as_bytes());
            if start >= range_prefix {
                range.start = std::ops::Bound::Excluded(start);
            }
        }
        let limit = limit.clamp(1, MAX_LIST) as usize;
        let mut read = kv.begin_read().map_err(unavailable)?;
        let entries = read.scan(&range, limit).map_err(unavailable)?;
        Ok(entries.into_iter().map(|(k, _)| String::from_utf8_lossy(&k[self.prefix.len()..]).into_owned()).collect())
    }
}

fn unavailable(err: StorageError) -> HostError {
    tracing::error!(error = %err, blame = "host", "plugin storage failed");
    HostError::Unavailable(format!("storage is unavailable: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use omnistore_storage::MemoryStore;

    fn tid(id: &str) -> TenantId {
        TenantId::new(id).unwrap()
    }

    fn quotas(installation: u64, tenant: u64) -> Quotas {
        Quotas { installation, tenant, value: 1000 }
    }

    #[test]
    fn quota_counts_keys_values_and_entry_overhead_and_refuses_without_writing() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        let q = quotas(2 * ENTRY_OVERHEAD_BYTES + 100, u64::MAX);
        s.set(&kv, "a", &[0; 40], q).unwrap();
        s.set(&kv, "a", &[0; 90], q).unwrap(); // replaces: 91 + overhead used
        assert!(matches!(s.set(&kv, "b", &[0; 10], q), Err(HostError::QuotaExceeded(_))));
        assert_eq!(s.get(&kv, "b").unwrap(), None);
        s.delete(&kv, "a").unwrap();
        s.set(&kv, "b", &[0; 10], q).unwrap();
    }

    #[test]
    fn empty_values_still_cost_their_entry() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        let q = quotas(1000, u64::MAX);
        let mut stored = 0;
        for i in 0..1000 {
            match s.set(&kv, &format!("k{i:03}"), b"", q) {
                Ok(()) => stored += 1,
                Err(HostError::QuotaExceeded(message)) => {
                    assert!(message.contains("quota"), "{message}");
                    break;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(stored, 1000 / entry_cost(4, 0), "each empty entry costs its key and the overhead");
    }

    #[test]
    fn tenant_quota_spans_installations_and_survives_a_reinstall() {
        let kv = MemoryStore::new();
        let q = quotas(u64::MAX, 3 * entry_cost(1, 100));
        let first = Scope::new(&tid("t1"), "chn-1");
        for key in ["a", "b", "c"] {
            first.set(&kv, key, &[7; 100], q).unwrap();
        }
        // Reinstalled: a new installation id with an empty scope of its own,
        // but the tenant's data is still there and still counted.
        let second = Scope::new(&tid("t1"), "chn-2");
        let refused = second.set(&kv, "x", b"1", q);
        assert!(matches!(&refused, Err(HostError::QuotaExceeded(m)) if m.contains("quota")), "{refused:?}");
        assert_eq!(second.get(&kv, "x").unwrap(), None);
        // Another tenant has its own quota.
        Scope::new(&tid("t2"), "chn-1").set(&kv, "x", &[1; 100], q).unwrap();
        // Freeing data of the old installation makes room for the new one.
        first.delete(&kv, "a").unwrap();
        second.set(&kv, "x", &[1; 100], q).unwrap();
        // Overwriting with a smaller value is always allowed, even when full.
        second.set(&kv, "x", b"", q).unwrap();
    }

    #[test]
    fn lost_or_old_usage_counters_are_derived_from_the_data() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        // Derived tenant usage also counts the installation id in each key.
        let q = quotas(2 * entry_cost(1, 100), 3 * entry_cost(4, 100));
        s.set(&kv, "a", &[0; 100], q).unwrap();
        s.set(&kv, "b", &[0; 100], q).unwrap();
        // An older host's counters (bare u64 of key and value bytes, here
        // zero), or none at all for the tenant.
        transact(&kv, |txn| {
            txn.put(&s.usage_key, &0u64.to_be_bytes())?;
            txn.delete(&TenantUsage::new(&tid("t1")).key)
        })
        .unwrap();
        assert!(matches!(s.set(&kv, "c", &[0; 100], q), Err(HostError::QuotaExceeded(_))));
        let other = Scope::new(&tid("t1"), "i2");
        other.set(&kv, "c", &[0; 100], q).unwrap();
        assert!(matches!(other.set(&kv, "d", b"", q), Err(HostError::QuotaExceeded(_))), "tenant quota re-derived");
    }

    #[test]
    fn scopes_do_not_overlap() {
        let kv = MemoryStore::new();
        let a = Scope::new(&tid("t1"), "i1");
        let b = Scope::new(&tid("t1x"), "i1");
        let c = Scope::new(&tid("t1"), "i1x");
        a.set(&kv, "k", b"secret", quotas(1000, 1000)).unwrap();
        assert_eq!(b.get(&kv, "k").unwrap(), None);
        assert_eq!(c.get(&kv, "k").unwrap(), None);
        assert!(b.list_keys(&kv, "", None, 100).unwrap().is_empty());
        assert_eq!(a.list_keys(&kv, "", None, 100).unwrap(), vec!["k".to_string()]);
    }
}
