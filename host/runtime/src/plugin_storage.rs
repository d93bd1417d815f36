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

impl Quotas {
    /// No limit: for writes that only shrink, which are never refused.
    const UNLIMITED: Quotas = Quotas { installation: u64::MAX, tenant: u64::MAX, value: u64::MAX };
}

fn check_value_size(value: &[u8], quotas: Quotas) -> Result<(), HostError> {
    if value.len() as u64 > quotas.value {
        return Err(HostError::QuotaExceeded(format!(
            "the value is {} bytes; one value may be at most {}",
            value.len(),
            quotas.value
        )));
    }
    Ok(())
}

/// A counter written by [`Scope::increment`]: optional `-` and ASCII
/// digits, as `i64` parses them without a `+`.
fn parse_counter(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.starts_with('+') {
        return None;
    }
    text.parse().ok()
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
        check_value_size(value, quotas)?;
        let outcome: Result<Result<(), HostError>, StorageError> =
            transact(kv, |txn| self.write(txn, &full, key, Some(value), quotas));
        outcome.map_err(unavailable)?
    }

    pub fn delete(&self, kv: &dyn KvStore, key: &str) -> Result<(), HostError> {
        let full = self.key(key)?;
        let outcome: Result<Result<(), HostError>, StorageError> =
            transact(kv, |txn| self.write(txn, &full, key, None, Quotas::UNLIMITED));
        outcome.map_err(unavailable)?
    }

    /// Replace the value under `key` by `new` (`None` deletes) only when it
    /// is `expected` now (`None`: absent). `Ok(false)` when it was not, and
    /// then nothing is written. The read and the write are one transaction.
    pub fn compare_and_set(
        &self,
        kv: &dyn KvStore,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quotas: Quotas,
    ) -> Result<bool, HostError> {
        let full = self.key(key)?;
        if let Some(value) = new {
            check_value_size(value, quotas)?;
        }
        let outcome: Result<Result<bool, HostError>, StorageError> = transact(kv, |txn| {
            if txn.get(&full)?.as_deref() != expected {
                return Ok(Ok(false));
            }
            Ok(self.write(txn, &full, key, new, quotas)?.map(|()| true))
        });
        outcome.map_err(unavailable)?
    }

    /// Add `delta` to the integer under `key` (missing: 0) and return the
    /// sum. The integer is kept as decimal ASCII, canonical (`-12`, no `+`,
    /// no leading zeros), which is also JSON, so a plugin that reads it with
    /// `get` and a JSON parser sees a number.
    pub fn increment(&self, kv: &dyn KvStore, key: &str, delta: i64, quotas: Quotas) -> Result<i64, HostError> {
        let full = self.key(key)?;
        let outcome: Result<Result<i64, HostError>, StorageError> = transact(kv, |txn| {
            let current = match txn.get(&full)? {
                None => 0,
                Some(bytes) => match parse_counter(&bytes) {
                    Some(n) => n,
                    None => {
                        return Ok(Err(HostError::Invalid(format!(
                            "the value under `{key}` is not a decimal integer, so it cannot be incremented"
                        ))));
                    }
                },
            };
            let Some(next) = current.checked_add(delta) else {
                return Ok(Err(HostError::Invalid(format!(
                    "adding {delta} to {current} under `{key}` overflows a signed 64-bit integer"
                ))));
            };
            let text = next.to_string();
            if let Err(err) = check_value_size(text.as_bytes(), quotas) {
                return Ok(Err(err));
            }
            Ok(self.write(txn, &full, key, Some(text.as_bytes()), quotas)?.map(|()| next))
        });
        outcome.map_err(unavailable)?
    }

    /// Write `value` under `full` (`None` deletes it) in `txn`, keeping both
    /// usage counters right. Growth past a quota is refused before anything
    /// is written, so the caller's transaction commits no change then;
    /// shrinking is never refused.
    fn write(
        &self,
        txn: &mut dyn Txn,
        full: &[u8],
        key: &str,
        value: Option<&[u8]>,
        quotas: Quotas,
    ) -> Result<Result<(), HostError>, StorageError> {
        let current = txn.get(full)?;
        let old = current.as_ref().map(|v| entry_cost(key.len(), v.len())).unwrap_or(0);
        let added = value.map(|v| entry_cost(key.len(), v.len())).unwrap_or(0);
        if current.is_none() && value.is_none() {
            // Deleting a missing key changes nothing.
            return Ok(Ok(()));
        }
        // Before the write: a counter derived from the data must still see
        // the entry it is about to replace.
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
        match value {
            Some(value) => txn.put(full, value)?,
            None => txn.delete(full)?,
        }
        txn.put(&self.usage_key, &encode_usage(new_used))?;
        Ok(Ok(()))
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

/// Bytes of an installation's cookie key.
pub const COOKIE_KEY_BYTES: usize = 32;

/// The installation's cookie key: 32 random bytes chosen on first use and
/// kept in the host's own namespace, so they survive restarts without the
/// runtime needing a secret of its own, and go with the tenant's data when
/// it is exported or deleted. A reinstall (a new installation id) gets a new
/// key, so cookies signed for the old installation stop verifying.
pub fn cookie_key(kv: &dyn KvStore, tenant: &TenantId, installation: &str) -> Result<Vec<u8>, StorageError> {
    let key = keyspace::plugin_host_key(tenant, installation, "cookie-key");
    if let Some(found) = kv.begin_read()?.get(&key)?.filter(|v| v.len() == COOKIE_KEY_BYTES) {
        return Ok(found);
    }
    let mut fresh = vec![0u8; COOKIE_KEY_BYTES];
    getrandom::fill(&mut fresh).map_err(|e| StorageError::backend("random", e))?;
    // Two first calls at once: the transaction lets one win, and the other
    // returns the winner's bytes.
    transact(kv, |txn| match txn.get(&key)?.filter(|v| v.len() == COOKIE_KEY_BYTES) {
        Some(found) => Ok(found),
        None => {
            txn.put(&key, &fresh)?;
            Ok(fresh.clone())
        }
    })
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
    fn compare_and_set_swaps_only_from_the_expected_value() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        let q = quotas(1000, 1000);
        // Absent expected: creates only when absent.
        assert!(s.compare_and_set(&kv, "k", None, Some(b"one"), q).unwrap());
        assert!(!s.compare_and_set(&kv, "k", None, Some(b"two"), q).unwrap());
        assert_eq!(s.get(&kv, "k").unwrap().as_deref(), Some(&b"one"[..]));
        // A stale expectation writes nothing.
        assert!(!s.compare_and_set(&kv, "k", Some(b"zero"), Some(b"two"), q).unwrap());
        assert_eq!(s.get(&kv, "k").unwrap().as_deref(), Some(&b"one"[..]));
        assert!(s.compare_and_set(&kv, "k", Some(b"one"), Some(b"two"), q).unwrap());
        assert_eq!(s.get(&kv, "k").unwrap().as_deref(), Some(&b"two"[..]));
        // `new = none` deletes, and frees the entry's quota.
        assert!(s.compare_and_set(&kv, "k", Some(b"two"), None, q).unwrap());
        assert_eq!(s.get(&kv, "k").unwrap(), None);
        assert!(!s.compare_and_set(&kv, "k", Some(b"two"), None, q).unwrap());
        // An empty value is a value, not absence.
        assert!(s.compare_and_set(&kv, "e", None, Some(b""), q).unwrap());
        assert!(!s.compare_and_set(&kv, "e", None, Some(b"x"), q).unwrap());
        assert!(s.compare_and_set(&kv, "e", Some(b""), Some(b"x"), q).unwrap());
        assert!(matches!(s.compare_and_set(&kv, "", None, Some(b"x"), q), Err(HostError::Invalid(_))));
    }

    #[test]
    fn compare_and_set_is_held_to_the_quotas_and_a_refusal_writes_nothing() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        let q = quotas(entry_cost(1, 10), u64::MAX);
        assert!(s.compare_and_set(&kv, "a", None, Some(&[1; 10]), q).unwrap());
        let grown = s.compare_and_set(&kv, "a", Some(&[1; 10]), Some(&[2; 11]), q);
        assert!(matches!(grown, Err(HostError::QuotaExceeded(_))), "{grown:?}");
        assert_eq!(s.get(&kv, "a").unwrap(), Some(vec![1; 10]));
        assert!(matches!(s.compare_and_set(&kv, "b", None, Some(b""), q), Err(HostError::QuotaExceeded(_))));
        assert_eq!(s.get(&kv, "b").unwrap(), None);
        // The value size limit holds as for `set`.
        let big = s.compare_and_set(&kv, "a", Some(&[1; 10]), Some(&[0; 1001]), quotas(u64::MAX, u64::MAX));
        assert!(matches!(big, Err(HostError::QuotaExceeded(_))), "{big:?}");
        // The tenant quota too, and deleting frees room in both.
        let tenant = quotas(u64::MAX, entry_cost(1, 10));
        let other = Scope::new(&tid("t1"), "i2");
        assert!(matches!(other.compare_and_set(&kv, "c", None, Some(b"1"), tenant), Err(HostError::QuotaExceeded(_))));
        assert!(s.compare_and_set(&kv, "a", Some(&[1; 10]), None, q).unwrap());
        assert!(other.compare_and_set(&kv, "c", None, Some(b"1"), tenant).unwrap());
    }

    #[test]
    fn increment_counts_in_decimal_from_zero_and_refuses_what_is_not_a_counter() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        let q = quotas(1000, 1000);
        assert_eq!(s.increment(&kv, "n", 1, q).unwrap(), 1);
        assert_eq!(s.increment(&kv, "n", 41, q).unwrap(), 42);
        assert_eq!(s.get(&kv, "n").unwrap().as_deref(), Some(&b"42"[..]));
        assert_eq!(s.increment(&kv, "n", -50, q).unwrap(), -8);
        assert_eq!(s.get(&kv, "n").unwrap().as_deref(), Some(&b"-8"[..]));
        assert_eq!(s.increment(&kv, "m", 0, q).unwrap(), 0, "a missing key is 0, and is then stored");
        assert_eq!(s.get(&kv, "m").unwrap().as_deref(), Some(&b"0"[..]));
        // A value written by `set` in the same format counts on.
        s.set(&kv, "j", b"7", q).unwrap();
        assert_eq!(s.increment(&kv, "j", 1, q).unwrap(), 8);
        for bad in [&b"seven"[..], b"", b"1.5", b"+1", b" 1", b"\xff"] {
            s.set(&kv, "bad", bad, q).unwrap();
            let refused = s.increment(&kv, "bad", 1, q);
            assert!(matches!(refused, Err(HostError::Invalid(_))), "{bad:?}: {refused:?}");
            assert_eq!(s.get(&kv, "bad").unwrap().as_deref(), Some(bad), "unchanged");
        }
        s.set(&kv, "max", i64::MAX.to_string().as_bytes(), q).unwrap();
        let overflow = s.increment(&kv, "max", 1, q);
        assert!(matches!(&overflow, Err(HostError::Invalid(m)) if m.contains("overflow")), "{overflow:?}");
        assert_eq!(s.increment(&kv, "max", -1, q).unwrap(), i64::MAX - 1);
        assert!(matches!(s.increment(&kv, "min", i64::MIN, q), Ok(i64::MIN)));
        assert!(matches!(s.increment(&kv, "min", -1, q), Err(HostError::Invalid(_))));
    }

    #[test]
    fn increment_is_held_to_the_quotas_and_a_refusal_writes_nothing() {
        let kv = MemoryStore::new();
        let s = Scope::new(&tid("t1"), "i1");
        // Room for a one-digit counter only.
        let q = quotas(entry_cost(1, 1), u64::MAX);
        assert_eq!(s.increment(&kv, "n", 9, q).unwrap(), 9);
        let grown = s.increment(&kv, "n", 1, q);
        assert!(matches!(grown, Err(HostError::QuotaExceeded(_))), "{grown:?}");
        assert_eq!(s.get(&kv, "n").unwrap().as_deref(), Some(&b"9"[..]));
        assert!(matches!(s.increment(&kv, "x", 1, q), Err(HostError::QuotaExceeded(_))));
        assert_eq!(s.get(&kv, "x").unwrap(), None);
        // Tenant quota across installations.
        let tenant = quotas(u64::MAX, entry_cost(1, 1));
        let other = Scope::new(&tid("t1"), "i2");
        assert!(matches!(other.increment(&kv, "y", 1, tenant), Err(HostError::QuotaExceeded(_))));
        assert_eq!(other.get(&kv, "y").unwrap(), None);
    }

    #[test]
    fn concurrent_increments_lose_no_update() {
        let kv = std::sync::Arc::new(MemoryStore::new());
        let s = Scope::new(&tid("t1"), "i1");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (kv, s) = (kv.clone(), s.clone());
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        s.increment(&*kv, "n", 1, quotas(1000, 1000)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.get(&*kv, "n").unwrap().as_deref(), Some(&b"800"[..]));
    }

    #[test]
    fn the_cookie_key_is_chosen_once_per_installation() {
        let kv = MemoryStore::new();
        let first = cookie_key(&kv, &tid("t1"), "i1").unwrap();
        assert_eq!(first.len(), COOKIE_KEY_BYTES);
        assert_eq!(cookie_key(&kv, &tid("t1"), "i1").unwrap(), first, "stable");
        assert_ne!(cookie_key(&kv, &tid("t1"), "i2").unwrap(), first, "per installation");
        assert_ne!(cookie_key(&kv, &tid("t2"), "i1").unwrap(), first, "per tenant");
        // Out of the plugin's own reach: its storage does not see it.
        let s = Scope::new(&tid("t1"), "i1");
        assert!(s.list_keys(&kv, "", None, 100).unwrap().is_empty());
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
