//! The merchant's files per installation (theme overrides and the like):
//! a live set the storefront serves and a draft the merchant edits and
//! previews, then publishes in one transaction.
//!
//! The draft holds only changes: a path with a draft entry reads that entry
//! (bytes, or "deleted"), any other path reads the live file. So a fresh
//! draft reads exactly like the live files, publishing applies the changes
//! and empties the draft, and discarding just empties it. Keys are built by
//! `omnistore_storage::keyspace` (namespace `Files`), so a tenant's export
//! and deletion cover its files.

use std::collections::BTreeMap;
use std::sync::Arc;

use omnistore_core::TenantId;
use omnistore_storage::keyspace::{self, FileSet};
use omnistore_storage::{KeyRange, KvStore, ReadTxn, StorageError, Txn};

/// The longest path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// The largest single file.
pub const MAX_FILE_BYTES: usize = 2 << 20;
/// The most all of an installation's files (as the draft reads) may take.
pub const MAX_INSTALLATION_BYTES: usize = 16 << 20;

/// A draft entry: the file's new bytes follow this tag...
const DRAFT_PUT: u8 = 1;
/// ...or the file is deleted in the draft.
const DRAFT_DELETED: u8 = 0;

/// Which files a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileVersion {
    /// The published files.
    Live,
    /// The published files with the merchant's unpublished changes.
    Draft,
}

/// Why a files operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("file path `{path}` is not allowed: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("file `{path}` is {size} bytes; a file may have at most {limit}")]
    TooLarge { path: String, size: usize, limit: usize },
    #[error("the installation's files would take {would_be} bytes; the quota is {limit}")]
    QuotaExceeded { would_be: usize, limit: usize },
    #[error("the store failed: {0}")]
    Storage(#[from] StorageError),
}

/// Check a file path: relative, `/`-separated, non-empty segments, no `..`
/// or `.` segment, no backslash or NUL, at most [`MAX_PATH_BYTES`].
pub fn validate_path(path: &str) -> Result<(), FilesError> {
    let refuse = |reason| Err(FilesError::InvalidPath { path: path.escape_debug().to_string(), reason });
    if path.is_empty() {
        return refuse("it is empty");
    }
    if path.len() > MAX_PATH_BYTES {
        return refuse("it is longer than 512 bytes");
    }
    if path.starts_with('/') {
        return refuse("it starts with `/`; paths are relative");
    }
    if path.contains('\\') {
        return refuse("it contains a backslash; separate folders with `/`");
    }
    if path.contains('\0') {
        return refuse("it contains a NUL character");
    }
    if path.chars().any(char::is_control) {
        return refuse("it contains a control character");
    }
    for segment in path.split('/') {
        match segment {
            "" => return refuse("it has an empty segment (`//` or a trailing `/`)"),
            ".." => return refuse("it contains `..`"),
            "." => return refuse("it contains a `.` segment"),
            _ => {}
        }
    }
    Ok(())
}

/// A prefix for listing: empty, or a path-like string (it may end in `/`).
fn validate_prefix(prefix: &str) -> Result<(), FilesError> {
    match prefix.strip_suffix('/') {
        _ if prefix.is_empty() => Ok(()),
        Some(dir) => validate_path(dir),
        None => validate_path(prefix),
    }
}

/// The files of every installation, over the host's store.
#[derive(Clone)]
pub struct FileStore {
    kv: Arc<dyn KvStore>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileStore")
    }
}

/// A stored key and its value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// A read-write or read-only transaction, for the reads both do here.
trait Scan {
    fn scan_range(&mut self, range: &KeyRange) -> Result<Vec<KeyValue>, StorageError>;
}

impl Scan for dyn Txn + '_ {
    fn scan_range(&mut self, range: &KeyRange) -> Result<Vec<KeyValue>, StorageError> {
        self.scan(range, usize::MAX)
    }
}

impl Scan for dyn ReadTxn + '_ {
    fn scan_range(&mut self, range: &KeyRange) -> Result<Vec<KeyValue>, StorageError> {
        self.scan(range, usize::MAX)
    }
}

/// The paths and contents of one set, from `prefix` on.
fn scan_set<T: Scan + ?Sized>(
    txn: &mut T,
    tenant: &TenantId,
    installation: &str,
    set: FileSet,
    prefix: &str,
) -> Result<BTreeMap<String, Vec<u8>>, StorageError> {
    let root = keyspace::files_prefix(tenant, installation, set);
    let range = KeyRange::prefix(&keyspace::file_key(tenant, installation, set, prefix));
    let mut out = BTreeMap::new();
    for (key, value) in txn.scan_range(&range)? {
        let path = String::from_utf8_lossy(&key[root.len()..]).into_owned();
        out.insert(path, value);
    }
    Ok(out)
}

/// What the draft makes of every file from `prefix` on: `None` = deleted.
fn draft_view<T: Scan + ?Sized>(
    txn: &mut T,
    tenant: &TenantId,
    installation: &str,
    prefix: &str,
) -> Result<BTreeMap<String, Vec<u8>>, StorageError> {
    let mut files = scan_set(txn, tenant, installation, FileSet::Live, prefix)?;
    for (path, entry) in scan_set(txn, tenant, installation, FileSet::Draft, prefix)? {
        match entry.split_first() {
            Some((&DRAFT_PUT, bytes)) => {
                files.insert(path, bytes.to_vec());
            }
            _ => {
                files.remove(&path);
            }
        }
    }
    Ok(files)
}

impl FileStore {
    pub fn new(kv: Arc<dyn KvStore>) -> Self {
        FileStore { kv }
    }

    /// The file at `path` as `version` reads it, or `None`.
    pub fn get(
        &self,
        tenant: &TenantId,
        installation: &str,
        version: FileVersion,
        path: &str,
    ) -> Result<Option<Vec<u8>>, FilesError> {
        validate_path(path)?;
        let mut txn = self.kv.begin_read()?;
        if version == FileVersion::Draft
            && let Some(entry) = txn.get(&keyspace::file_key(tenant, installation, FileSet::Draft, path))?
        {
            return Ok(match entry.split_first() {
                Some((&DRAFT_PUT, bytes)) => Some(bytes.to_vec()),
                _ => None,
            });
        }
        Ok(txn.get(&keyspace::file_key(tenant, installation, FileSet::Live, path))?)
    }

    /// The paths starting with `prefix` as `version` reads them, in byte order.
    pub fn list(
        &self,
        tenant: &TenantId,
        installation: &str,
        version: FileVersion,
        prefix: &str,
    ) -> Result<Vec<String>, FilesError> {
        validate_prefix(prefix)?;
        let mut txn = self.kv.begin_read()?;
        let files = match version {
            FileVersion::Live => scan_set(&mut *txn, tenant, installation, FileSet::Live, prefix)?,
            FileVersion::Draft => draft_view(&mut *txn, tenant, installation, prefix)?,
        };
        Ok(files.into_keys().collect())
    }

    /// Write a file into the draft, within the size limits.
    pub fn put_draft(&self, tenant: &TenantId, installation: &str, path: &str, bytes: &[u8]) -> Result<(), FilesError> {
        validate_path(path)?;
        if bytes.len() > MAX_FILE_BYTES {
            return Err(FilesError::TooLarge { path: path.to_owned(), size: bytes.len(), limit: MAX_FILE_BYTES });
        }
        let key = keyspace::file_key(tenant, installation, FileSet::Draft, path);
        let mut entry = Vec::with_capacity(bytes.len() + 1);
        entry.push(DRAFT_PUT);
        entry.extend_from_slice(bytes);
        omnistore_storage::transact(&*self.kv, |txn| {
            let files = draft_view(txn, tenant, installation, "")?;
            let others: usize = files.iter().filter(|(p, _)| p.as_str() != path).map(|(p, b)| p.len() + b.len()).sum();
            let would_be = others + path.len() + bytes.len();
            if would_be > MAX_INSTALLATION_BYTES {
                return Ok(Err(FilesError::QuotaExceeded { would_be, limit: MAX_INSTALLATION_BYTES }));
            }
            txn.put(&key, &entry)?;
            Ok::<_, StorageError>(Ok(()))
        })?
    }

    /// Delete a file in the draft (it stays live until the draft is published).
    pub fn delete_draft(&self, tenant: &TenantId, installation: &str, path: &str) -> Result<(), FilesError> {
        validate_path(path)?;
        let draft = keyspace::file_key(tenant, installation, FileSet::Draft, path);
        let live = keyspace::file_key(tenant, installation, FileSet::Live, path);
        omnistore_storage::transact(&*self.kv, |txn| {
            if txn.get(&live)?.is_some() {
                txn.put(&draft, &[DRAFT_DELETED])?;
            } else {
                txn.delete(&draft)?;
            }
            Ok::<_, StorageError>(())
        })?;
        Ok(())
    }

    /// Make the draft live in one transaction and empty it. Returns how many
    /// files changed (written or deleted).
    pub fn publish(&self, tenant: &TenantId, installation: &str) -> Result<u32, FilesError> {
        let changed = omnistore_storage::transact(&*self.kv, |txn| {
            let draft = scan_set(txn, tenant, installation, FileSet::Draft, "")?;
            let mut changed = 0u32;
            for (path, entry) in &draft {
                let live = keyspace::file_key(tenant, installation, FileSet::Live, path);
                let current = txn.get(&live)?;
                match entry.split_first() {
                    Some((&DRAFT_PUT, bytes)) => {
                        if current.as_deref() != Some(bytes) {
                            txn.put(&live, bytes)?;
                            changed += 1;
                        }
                    }
                    _ => {
                        if current.is_some() {
                            txn.delete(&live)?;
                            changed += 1;
                        }
                    }
                }
                txn.delete(&keyspace::file_key(tenant, installation, FileSet::Draft, path))?;
            }
            Ok::<_, StorageError>(changed)
        })?;
        tracing::info!(tenant = %tenant, installation, changed, "draft files published");
        Ok(changed)
    }

    /// Drop every change of the draft.
    pub fn discard_draft(&self, tenant: &TenantId, installation: &str) -> Result<(), FilesError> {
        self.delete_prefix(&keyspace::files_prefix(tenant, installation, FileSet::Draft))
    }

    /// Remove every file of the installation, live and draft (on uninstall).
    pub fn remove_installation(&self, tenant: &TenantId, installation: &str) -> Result<(), FilesError> {
        self.delete_prefix(&keyspace::files_installation_prefix(tenant, installation))
    }

    fn delete_prefix(&self, prefix: &[u8]) -> Result<(), FilesError> {
        let range = KeyRange::prefix(prefix);
        omnistore_storage::transact(&*self.kv, |txn| {
            for (key, _) in txn.scan(&range, usize::MAX)? {
                txn.delete(&key)?;
            }
            Ok::<_, StorageError>(())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omnistore_storage::MemoryStore;

    fn store() -> (FileStore, TenantId) {
        (FileStore::new(Arc::new(MemoryStore::new())), TenantId::new("shop").unwrap())
    }

    #[test]
    fn paths_are_checked_in_one_place() {
        for good in ["templates/product.liquid", "a", "assets/css/site.css", "x..y/z"] {
            assert!(validate_path(good).is_ok(), "{good}");
        }
        for bad in ["", "/etc/passwd", "../secrets", "a/../b", "a//b", "a/", "a\\b", "a\0b", "./a", "a\nb"] {
            assert!(matches!(validate_path(bad), Err(FilesError::InvalidPath { .. })), "{bad:?}");
        }
        assert!(validate_path(&"a".repeat(MAX_PATH_BYTES)).is_ok());
        assert!(validate_path(&"a".repeat(MAX_PATH_BYTES + 1)).is_err());
    }

    #[test]
    fn the_draft_reads_as_live_plus_changes_until_published() {
        let (files, t) = store();
        files.put_draft(&t, "web", "a.liquid", b"one").unwrap();
        assert_eq!(files.get(&t, "web", FileVersion::Live, "a.liquid").unwrap(), None);
        assert_eq!(files.get(&t, "web", FileVersion::Draft, "a.liquid").unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(files.publish(&t, "web").unwrap(), 1);
        assert_eq!(files.get(&t, "web", FileVersion::Live, "a.liquid").unwrap().as_deref(), Some(&b"one"[..]));
        // A fresh draft reads like the live files.
        assert_eq!(files.list(&t, "web", FileVersion::Draft, "").unwrap(), vec!["a.liquid".to_string()]);
        files.put_draft(&t, "web", "b.css", b"two").unwrap();
        files.delete_draft(&t, "web", "a.liquid").unwrap();
        assert_eq!(files.get(&t, "web", FileVersion::Draft, "a.liquid").unwrap(), None);
        assert_eq!(files.get(&t, "web", FileVersion::Live, "a.liquid").unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(files.list(&t, "web", FileVersion::Draft, "").unwrap(), vec!["b.css".to_string()]);
        assert_eq!(files.list(&t, "web", FileVersion::Live, "").unwrap(), vec!["a.liquid".to_string()]);
        assert_eq!(files.publish(&t, "web").unwrap(), 2);
        assert_eq!(files.list(&t, "web", FileVersion::Live, "").unwrap(), vec!["b.css".to_string()]);
        assert_eq!(files.publish(&t, "web").unwrap(), 0, "an empty draft changes nothing");
        // Discarding drops the changes; another installation never sees them.
        files.put_draft(&t, "web", "c.txt", b"three").unwrap();
        assert!(files.get(&t, "other", FileVersion::Draft, "c.txt").unwrap().is_none());
        files.discard_draft(&t, "web").unwrap();
        assert_eq!(files.list(&t, "web", FileVersion::Draft, "").unwrap(), vec!["b.css".to_string()]);
        files.remove_installation(&t, "web").unwrap();
        assert!(files.list(&t, "web", FileVersion::Live, "").unwrap().is_empty());
    }

    #[test]
    fn sizes_are_bounded_and_a_refusal_writes_nothing() {
        let (files, t) = store();
        let big = vec![7u8; MAX_FILE_BYTES + 1];
        assert!(matches!(files.put_draft(&t, "web", "big.bin", &big), Err(FilesError::TooLarge { .. })));
        let chunk = vec![1u8; MAX_FILE_BYTES];
        for i in 0..7 {
            files.put_draft(&t, "web", &format!("f{i}"), &chunk).unwrap();
        }
        let err = files.put_draft(&t, "web", "f7", &chunk).unwrap_err();
        assert!(matches!(err, FilesError::QuotaExceeded { .. }), "{err}");
        assert!(files.get(&t, "web", FileVersion::Draft, "f7").unwrap().is_none());
        // Replacing a file counts its new size only.
        files.put_draft(&t, "web", "f0", b"small").unwrap();
        files.put_draft(&t, "web", "f7", &chunk).unwrap();
    }

    #[test]
    fn listing_is_by_prefix_in_byte_order() {
        let (files, t) = store();
        for p in ["templates/product.liquid", "assets/site.css", "templates/cart.liquid"] {
            files.put_draft(&t, "web", p, b"x").unwrap();
        }
        files.publish(&t, "web").unwrap();
        assert_eq!(
            files.list(&t, "web", FileVersion::Live, "templates/").unwrap(),
            vec!["templates/cart.liquid".to_string(), "templates/product.liquid".to_string()]
        );
        assert!(matches!(files.list(&t, "web", FileVersion::Live, "../"), Err(FilesError::InvalidPath { .. })));
    }
}
