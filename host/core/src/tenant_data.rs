//! A tenant's whole data as one unit: export it, delete it, import it on
//! another deployment. Built on [`keyspace::tenant_ranges`], so a namespace
//! added there is exported and deleted without touching this file.
//!
//! The export format is JSON lines: a header
//! `{"format":"omnistore-tenant","version":1,"tenant":"<id>"}`, one
//! `{"key":"<base64>","value":"<base64>"}` per stored entry (secrets stay
//! sealed, tokens are stored as hashes), from version 2 one
//! `{"file":"<name>","data":"<base64>"}` per file the tenant owns outside the
//! store (its images, through [`TenantFiles`]), and a trailer
//! `{"end":true,"entries":N,"files":M}` so a cut-off file is refused on
//! import. Version 1 exports (no files) are still read.

use std::io::{BufRead, Write};
use std::ops::Bound;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use omnistore_storage::keyspace::{self, Namespace};
use omnistore_storage::{KeyRange, StorageError};
use omnistore_types::{NoFiles, TenantFiles};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};
use crate::ids::TenantId;
use crate::store::Core;

const FORMAT: &str = "omnistore-tenant";
const VERSION: u32 = 2;
/// The versions this host reads.
const READS: [u32; 2] = [1, 2];
/// Entries per transaction when deleting or importing: large enough to be
/// quick, small enough that no backend holds a huge transaction.
const BATCH: usize = 500;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    tenant: TenantId,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLine {
    file: String,
    data: String,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    end: bool,
    entries: u64,
    #[serde(default)]
    files: u64,
}

/// What an export, delete or import went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TenantDataReport {
    pub entries: u64,
    /// Files (images) exported or imported with the entries.
    pub files: u64,
}

fn io_error(what: &str, err: impl std::fmt::Display) -> CoreError {
    CoreError::Storage(StorageError::backend("tenant-data", format!("{what}: {err}")))
}

impl Core {
    /// Write every entry of `tenant` to `out` in the export format, calling
    /// `progress` with the running count after each batch; no files.
    pub fn export_tenant(
        &self,
        tenant: &TenantId,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> CoreResult<TenantDataReport> {
        self.export_tenant_with(tenant, out, &NoFiles, progress)
    }

    /// [`Core::export_tenant`] with the tenant's `files` after its entries.
    pub fn export_tenant_with(
        &self,
        tenant: &TenantId,
        out: &mut dyn Write,
        files: &dyn TenantFiles,
        progress: &mut dyn FnMut(u64),
    ) -> CoreResult<TenantDataReport> {
        self.get_tenant(tenant)?;
        let mut w = ExportWriter { out };
        w.line(&Header { format: FORMAT.into(), version: VERSION, tenant: tenant.clone() })?;
        // One snapshot for the whole export, so it is consistent.
        let mut txn = self.store().begin_read()?;
        let token_index = keyspace::token_index_prefix(tenant);
        let mut entries = 0u64;
        for mut range in keyspace::tenant_ranges(tenant) {
            loop {
                let page = txn.scan(&range, BATCH)?;
                for (key, value) in &page {
                    w.entry(key, value)?;
                    entries += 1;
                    if key.starts_with(&token_index) {
                        // The token itself is a global key found by its hash.
                        let token_key = keyspace::token_key_hex(&String::from_utf8_lossy(value));
                        if let Some(token) = txn.get(&token_key)? {
                            w.entry(&token_key, &token)?;
                            entries += 1;
                        }
                    }
                }
                progress(entries);
                match page.last() {
                    Some((last, _)) if page.len() == BATCH => range.start = Bound::Excluded(last.clone()),
                    _ => break,
                }
            }
        }
        let names = files.list(tenant).map_err(|e| io_error("listing the tenant's files", e))?;
        for name in &names {
            let data = files.read(tenant, name).map_err(|e| io_error(&format!("reading the file {name}"), e))?;
            w.line(&FileLine { file: name.clone(), data: BASE64.encode(data) })?;
            progress(entries + 1);
        }
        let files = names.len() as u64;
        w.line(&Trailer { end: true, entries, files })?;
        w.out.flush().map_err(|e| io_error("writing the export", e))?;
        Ok(TenantDataReport { entries, files })
    }
    /// Delete every entry of `tenant`. The registry record goes first, in
    /// its own transaction, so the tenant stops being served at once; the
    /// rest goes in batches. Running it again after an interruption finishes
    /// the job (a tenant already gone is not an error then).
    pub fn delete_tenant(&self, tenant: &TenantId, progress: &mut dyn FnMut(u64)) -> CoreResult<TenantDataReport> {
        let mut entries = 0u64;
        let registry = keyspace::registry_key(tenant);
        entries += u64::from(self.run_write(|txn| {
            let existed = txn.get(&registry)?.is_some();
            txn.delete(&registry)?;
            Ok::<_, CoreError>(existed)
        })?);
        for range in keyspace::tenant_ranges(tenant) {
            loop {
                let deleted = self.run_write(|txn| {
                    let page = txn.scan(&range, BATCH)?;
                    let mut tokens = 0;
                    for (key, value) in &page {
                        if key.starts_with(&keyspace::token_index_prefix(tenant)) {
                            let token = keyspace::token_key_hex(&String::from_utf8_lossy(value));
                            if txn.get(&token)?.is_some() {
                                txn.delete(&token)?;
                                tokens += 1;
                            }
                        }
                        txn.delete(key)?;
                    }
                    Ok::<_, CoreError>((page.len(), tokens))
                })?;
                let (deleted, tokens) = deleted;
                entries += (deleted + tokens) as u64;
                progress(entries);
                if deleted < BATCH {
                    break;
                }
            }
        }
        Ok(TenantDataReport { entries, files: 0 })
    }

    /// Load an export into this store (its files refused: see
    /// [`Core::import_tenant_with`]).
    pub fn import_tenant(&self, input: &mut dyn BufRead, progress: &mut dyn FnMut(u64)) -> CoreResult<TenantId> {
        self.import_tenant_with(input, &NoFiles, progress)
    }

    /// Load an export into this store, its files into `files`. The tenant must not exist here; every
    /// entry must belong to the tenant the header names (a token must name
    /// it too), and the file must be whole, or nothing is written.
    pub fn import_tenant_with(
        &self,
        input: &mut dyn BufRead,
        files: &dyn TenantFiles,
        progress: &mut dyn FnMut(u64),
    ) -> CoreResult<TenantId> {
        let mut lines = input.lines();
        let mut next =
            || -> CoreResult<Option<String>> { lines.next().transpose().map_err(|e| io_error("reading", e)) };
        let header: Header = next()?
            .as_deref()
            .and_then(|l| serde_json::from_str(l).ok())
            .filter(|h: &Header| h.format == FORMAT)
            .ok_or_else(|| {
                CoreError::invalid("this is not an omnistore tenant export (its first line is no header)")
            })?;
        if !READS.contains(&header.version) {
            return Err(CoreError::invalid(format!(
                "the export is version {}, this host reads versions 1 to {VERSION}; upgrade the host",
                header.version
            )));
        }
        let tenant = header.tenant;
        if self.get_tenant(&tenant).is_ok() {
            return Err(CoreError::Conflict(format!(
                "tenant `{tenant}` already exists here; delete it first or import into another deployment"
            )));
        }
        let result = self.import_body(&tenant, &mut next, files, progress);
        if result.is_err() {
            // Files are written as they are read; a refused import keeps none.
            let _ = files.remove_all(&tenant);
        }
        result.map(|()| tenant)
    }

    fn import_body(
        &self,
        tenant: &TenantId,
        next: &mut dyn FnMut() -> CoreResult<Option<String>>,
        files: &dyn TenantFiles,
        progress: &mut dyn FnMut(u64),
    ) -> CoreResult<()> {
        let tenant = tenant.clone();
        let ranges = keyspace::tenant_ranges(&tenant);
        let mut file_count = 0u64;
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut trailer = None;
        while let Some(text) = next()? {
            let number = entries.len() + 2;
            if trailer.is_some() {
                return Err(CoreError::invalid(format!("line {number} follows the end of the export")));
            }
            if let Ok(t) = serde_json::from_str::<Trailer>(&text) {
                trailer = Some(t);
                continue;
            }
            if let Ok(f) = serde_json::from_str::<FileLine>(&text) {
                let data = BASE64
                    .decode(&f.data)
                    .map_err(|e| CoreError::invalid(format!("line {number}: the file's data is not base64: {e}")))?;
                files.write(&tenant, &f.file, &data).map_err(|e| {
                    CoreError::invalid(format!("line {number}: the file {} cannot be kept: {e}", f.file))
                })?;
                file_count += 1;
                continue;
            }
            let line: Line = serde_json::from_str(&text)
                .map_err(|e| CoreError::invalid(format!("line {number} is not an export entry: {e}")))?;
            let decode = |field: &str, what| {
                BASE64
                    .decode(field)
                    .map_err(|e| CoreError::invalid(format!("line {number}: {what} is not base64: {e}")))
            };
            let (key, value) = (decode(&line.key, "key")?, decode(&line.value, "value")?);
            check_belongs(&tenant, &ranges, &key, &value, number)?;
            entries.push((key, value));
        }
        match trailer {
            Some(t) if t.end && t.entries == entries.len() as u64 && t.files == file_count => {}
            Some(t) => {
                return Err(CoreError::invalid(format!(
                    "the export promises {} entries and {} files but holds {} and {}; it is damaged",
                    t.entries,
                    t.files,
                    entries.len(),
                    file_count
                )));
            }
            None => return Err(CoreError::invalid("the export is cut off (it has no end line); nothing was imported")),
        }
        // The registry record is written last: until then the tenant does
        // not exist, and an interrupted import can be deleted and retried.
        let registry = keyspace::registry_key(&tenant);
        entries.sort_by_key(|(k, _)| *k == registry);
        let mut written = 0u64;
        for batch in entries.chunks(BATCH) {
            self.run_write(|txn| {
                for (key, value) in batch {
                    txn.put(key, value)?;
                }
                Ok::<_, CoreError>(())
            })?;
            written += batch.len() as u64;
            progress(written);
        }
        Ok(())
    }
}

fn check_belongs(tenant: &TenantId, ranges: &[KeyRange], key: &[u8], value: &[u8], line: usize) -> CoreResult<()> {
    if ranges.iter().any(|r| r.contains(key)) {
        return Ok(());
    }
    if Namespace::of(key) == Some(Namespace::Tokens) {
        let owner = serde_json::from_slice::<serde_json::Value>(value)
            .ok()
            .and_then(|v| v.get("tenant").and_then(|t| t.as_str()).map(str::to_owned));
        if owner.as_deref() == Some(tenant.as_str()) {
            return Ok(());
        }
    }
    Err(CoreError::invalid(format!("line {line} holds a key that is not tenant `{tenant}`'s; nothing was imported")))
}

struct ExportWriter<'a> {
    out: &'a mut dyn Write,
}

impl ExportWriter<'_> {
    fn line<T: Serialize>(&mut self, line: &T) -> CoreResult<()> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| io_error("encoding the export", e))?;
        bytes.push(b'\n');
        self.out.write_all(&bytes).map_err(|e| io_error("writing the export", e))
    }

    fn entry(&mut self, key: &[u8], value: &[u8]) -> CoreResult<()> {
        self.line(&Line { key: BASE64.encode(key), value: BASE64.encode(value) })
    }
}
