//! Plugin-private key-value data on the host's store.
//!
//! Layout: `plugin-kv\0<tenant>\0<installation>\0<key>` for values and
//! `plugin-kv-usage\0<tenant>\0<installation>` for the bytes used. Tenant and
//! installation ids cannot contain `\0` (they are `[a-z0-9-]`), so no key a
//! plugin chooses can leave its own prefix: `../other-tenant/x` is just a key.

use omnistore_storage::{KeyRange, KvStore, StorageError, Txn, transact};

use crate::types::HostError;

/// Longest key a plugin may use, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Most keys returned by one `list-keys`.
pub const MAX_LIST: u32 = 1000;

#[derive(Debug, Clone)]
pub struct Scope {
    prefix: Vec<u8>,
    usage_key: Vec<u8>,
}

impl Scope {
    pub fn new(tenant: &str, installation: &str) -> Self {
        let mut prefix = b"plugin-kv\0".to_vec();
        prefix.extend_from_slice(tenant.as_bytes());
        prefix.push(0);
        prefix.extend_from_slice(installation.as_bytes());
        prefix.push(0);
        let mut usage_key = b"plugin-kv-usage\0".to_vec();
        usage_key.extend_from_slice(tenant.as_bytes());
        usage_key.push(0);
        usage_key.extend_from_slice(installation.as_bytes());
        Scope { prefix, usage_key }
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

    fn usage(&self, txn: &mut dyn Txn) -> Result<u64, StorageError> {
        Ok(txn
            .get(&self.usage_key)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    pub fn get(&self, kv: &dyn KvStore, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        let full = self.key(key)?;
        transact(kv, |txn| txn.get(&full)).map_err(unavailable)
    }

    pub fn set(&self, kv: &dyn KvStore, key: &str, value: &[u8], quota: u64, max_value: u64) -> Result<(), HostError> {
        let full = self.key(key)?;
        if value.len() as u64 > max_value {
            return Err(HostError::QuotaExceeded(format!(
                "the value is {} bytes; one value may be at most {max_value}",
                value.len()
            )));
        }
        let outcome: Result<Result<(), HostError>, StorageError> = transact(kv, |txn| {
            let old = txn.get(&full)?.map(|v| (key.len() + v.len()) as u64).unwrap_or(0);
            let used = self.usage(txn)?;
            let new_used = used - old.min(used) + (key.len() + value.len()) as u64;
            if new_used > quota {
                return Ok(Err(HostError::QuotaExceeded(format!(
                    "storing this would use {new_used} bytes; this installation's quota is {quota}"
                ))));
            }
            txn.put(&full, value)?;
            txn.put(&self.usage_key, &new_used.to_be_bytes())?;
            Ok(Ok(()))
        });
        outcome.map_err(unavailable)?
    }

    pub fn delete(&self, kv: &dyn KvStore, key: &str) -> Result<(), HostError> {
        let full = self.key(key)?;
        transact(kv, |txn| {
            if let Some(old) = txn.get(&full)? {
                let used = self.usage(txn)?;
                let freed = (key.len() + old.len()) as u64;
                txn.delete(&full)?;
                txn.put(&self.usage_key, &used.saturating_sub(freed).to_be_bytes())?;
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
        let entries = transact(kv, |txn| txn.scan(&range, limit)).map_err(unavailable)?;
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

    #[test]
    fn quota_counts_keys_and_values_and_refuses_without_writing() {
        let kv = MemoryStore::new();
        let s = Scope::new("t1", "i1");
        s.set(&kv, "a", &[0; 40], 100, 1000).unwrap();
        s.set(&kv, "a", &[0; 90], 100, 1000).unwrap(); // replaces: 91 bytes used
        assert!(matches!(s.set(&kv, "b", &[0; 10], 100, 1000), Err(HostError::QuotaExceeded(_))));
        assert_eq!(s.get(&kv, "b").unwrap(), None);
        s.delete(&kv, "a").unwrap();
        s.set(&kv, "b", &[0; 10], 100, 1000).unwrap();
    }

    #[test]
    fn scopes_do_not_overlap() {
        let kv = MemoryStore::new();
        let a = Scope::new("t1", "i1");
        let b = Scope::new("t1x", "i1");
        let c = Scope::new("t1", "i1x");
        a.set(&kv, "k", b"secret", 1000, 1000).unwrap();
        assert_eq!(b.get(&kv, "k").unwrap(), None);
        assert_eq!(c.get(&kv, "k").unwrap(), None);
        assert!(b.list_keys(&kv, "", None, 100).unwrap().is_empty());
        assert_eq!(a.list_keys(&kv, "", None, 100).unwrap(), vec!["k".to_string()]);
    }
}
