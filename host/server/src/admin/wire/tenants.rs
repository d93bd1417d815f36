//! Tenants, their API tokens and their data as a unit.

use std::collections::BTreeMap;

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::admin::IssuedToken;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTenant {
    /// 1-64 of `a-z0-9-`: used in host names, paths and keys.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]{0,63}$"))]
    pub id: String,
    pub name: String,
    /// ISO 4217.
    pub currency: String,
    /// Label of the first API token; "first" when absent.
    #[serde(default)]
    pub token_label: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Tenant {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub created_ms: i64,
    /// The host names the tenant's storefronts answer on (the deployment
    /// file's `domains`, as the host routes them), sorted; empty when none.
    pub domains: Vec<String>,
}

impl From<domain::Tenant> for Tenant {
    /// Without domains: the core does not know them; the handler adds the host's.
    fn from(t: domain::Tenant) -> Tenant {
        Tenant { id: t.id.to_string(), name: t.name, currency: t.currency, created_ms: t.created_ms, domains: vec![] }
    }
}

/// A new tenant and its first API token (shown only in this answer).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct TenantCreated {
    pub tenant: Tenant,
    pub token: IssuedToken,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// "api" when absent.
    #[serde(default)]
    pub label: Option<String>,
}

/// Records of a tenant per storage format version (0: before versioning).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct StorageVersions {
    /// The version this host writes.
    pub current: u32,
    pub counts: BTreeMap<u32, u64>,
}

impl From<domain::StorageVersions> for StorageVersions {
    fn from(v: domain::StorageVersions) -> StorageVersions {
        StorageVersions { current: v.current, counts: v.counts }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct MigrationReport {
    pub scanned: u64,
    pub upgraded: u64,
}

impl From<domain::MigrationReport> for MigrationReport {
    fn from(r: domain::MigrationReport) -> MigrationReport {
        MigrationReport { scanned: r.scanned, upgraded: r.upgraded }
    }
}

/// How many entries a tenant operation went through.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct TenantDataReport {
    pub entries: u64,
}

impl From<domain::TenantDataReport> for TenantDataReport {
    fn from(r: domain::TenantDataReport) -> TenantDataReport {
        TenantDataReport { entries: r.entries }
    }
}

/// One line of a tenant export (JSON lines): the header, an entry (base64
/// key and value) or the trailer. Written by the core's export; described here.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum TenantExportLine {
    Header { format: String, version: u32, tenant: String },
    Entry { key: String, value: String },
    End { end: bool, entries: u64 },
}
