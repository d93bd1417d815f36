//! Files a tenant owns outside the store — the host's copies of the images
//! it uploaded — which go with its data when the tenant is exported,
//! imported or deleted. The core writes and reads them through this trait
//! without knowing where or how they are kept.

use crate::TenantId;

/// A tenant's files, by relative name (such as `media/<sha256>.png`).
/// Blocking: call it off the async executor.
pub trait TenantFiles {
    /// The names of every file of `tenant`, in a stable order.
    fn list(&self, tenant: &TenantId) -> std::io::Result<Vec<String>>;
    /// The bytes of one file.
    fn read(&self, tenant: &TenantId, name: &str) -> std::io::Result<Vec<u8>>;
    /// Keep `bytes` as the file `name` of `tenant`. A name this store does
    /// not use, or bytes that are not what the name says, are refused with
    /// `InvalidData` and nothing is kept.
    fn write(&self, tenant: &TenantId, name: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Remove every file of `tenant`; none is not an error.
    fn remove_all(&self, tenant: &TenantId) -> std::io::Result<()>;
}

/// A deployment without files of its own (and tests of the store alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl TenantFiles for NoFiles {
    fn list(&self, _: &TenantId) -> std::io::Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn read(&self, _: &TenantId, name: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("no file `{name}`")))
    }

    fn write(&self, _: &TenantId, name: &str, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("this deployment keeps no files; `{name}` cannot be imported"),
        ))
    }

    fn remove_all(&self, _: &TenantId) -> std::io::Result<()> {
        Ok(())
    }
}
