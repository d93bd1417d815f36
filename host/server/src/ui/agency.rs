//! The agency view: the operator's list of every tenant of the deployment,
//! with its domains, storage against its quota, channels and API tokens;
//! each links to its page ([`super::agency_tenant`]).
//!
//! Domains and the quota come from the host through the installer
//! (`ChannelInstaller::domains`, `::tenant_storage_quota_bytes`: the routing
//! table and the runtime's limits), the bytes used from the runtime's own
//! counter (`TenantUsage`), so the page shows what the host enforces.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use omnistore_core::{Core, TenantId};
use omnistore_runtime::TenantUsage;
use omnistore_storage::{Entry, KeyRange, ReadTxn, StorageError, Txn};
use serde_json::{Value, json};

use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::Operator;
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Tenants shown at most (the first, in id order).
const SHOWN: usize = 500;

/// Where the host stands on a tenant: the names it answers on and its
/// storage quota. Without an installer (a bare admin API) there are no
/// names, and the quota is the runtime's default.
pub(super) fn host_facts(state: &UiState, tenant: &TenantId) -> (Vec<String>, u64) {
    match state.admin.installer() {
        Some(installer) => (installer.domains(tenant), installer.tenant_storage_quota_bytes()),
        None => (Vec::new(), omnistore_runtime::DEFAULT_TENANT_STORAGE_QUOTA_BYTES),
    }
}

/// A read-only snapshot seen as a [`Txn`], because `TenantUsage::used`
/// reads through one: reading a counter must not take the store's write
/// lock (redb has a single writer), and a write through it is refused.
struct ReadOnly<'a>(Box<dyn ReadTxn + 'a>);

impl Txn for ReadOnly<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.get(key)
    }

    fn put(&mut self, _key: &[u8], _value: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::Invalid("the agency view only reads the usage counter".into()))
    }

    fn delete(&mut self, _key: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::Invalid("the agency view only reads the usage counter".into()))
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        self.0.scan(range, limit)
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
}

/// Bytes the tenant stores against its quota, as the runtime counts them
/// (its plugins' data and its mail queue). Blocking.
pub(super) fn used_bytes(core: &Core, tenant: &TenantId) -> Result<u64, AdminError> {
    let snapshot = core.store().begin_read().map_err(AdminError::storage)?;
    TenantUsage::new(tenant).used(&mut ReadOnly(snapshot)).map_err(AdminError::storage)
}

/// A size as people read it, in binary units (a quota of `64 << 20` is
/// "64 MB"): whole bytes, else one decimal in the locale's way.
pub(super) fn size(locale: Locale, bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{} B", locale.number(bytes as i64));
    }
    let mut unit = 0;
    let mut scale = 1024u64;
    while unit + 1 < UNITS.len() && bytes >= scale * 1024 {
        scale *= 1024;
        unit += 1;
    }
    // Tenths, rounded: 1.25 MB is "1.3 MB" (integers only, no float drift).
    let tenths = |scale: u64| (u128::from(bytes) * 10 + u128::from(scale) / 2) / u128::from(scale);
    // Just under a unit rounds up to it: "1 MB", not "1,024 KB".
    if tenths(scale) >= 10_240 && unit + 1 < UNITS.len() {
        scale *= 1024;
        unit += 1;
    }
    let tenths = tenths(scale);
    let (whole, tenth) = ((tenths / 10) as i64, tenths % 10);
    let mark = if locale.code() == "it" { ',' } else { '.' };
    if tenth == 0 {
        format!("{} {}", locale.number(whole), UNITS[unit])
    } else {
        format!("{}{mark}{tenth} {}", locale.number(whole), UNITS[unit])
    }
}

/// What a page needs to draw the storage meter.
pub(super) fn storage(locale: Locale, used: u64, quota: u64) -> Value {
    let text = locale.t("storage_of").replace("{used}", &size(locale, used)).replace("{quota}", &size(locale, quota));
    // The meter turns to its warning colour past nine tenths.
    json!({ "text": text, "used": used.min(quota), "quota": quota.max(1), "high": quota / 10 * 9 })
}

pub(crate) async fn view(
    State(state): State<UiState>,
    Operator(session): Operator,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    let core = state.admin.core().clone();
    let tenants = blocking(move || {
        let mut rows = Vec::new();
        for tenant in core.list_tenants_page(None, SHOWN)? {
            let channels = core.list_channels(&tenant.id)?.len();
            let tokens = crate::admin::token_count(&core, &tenant.id)?;
            let used = used_bytes(&core, &tenant.id)?;
            rows.push((tenant, channels, tokens, used));
        }
        Ok(rows)
    })
    .await?;
    let rows: Vec<Value> = tenants
        .iter()
        .map(|(t, channels, tokens, used)| {
            let (domains, quota) = host_facts(&state, &t.id);
            json!({
                "id": t.id.to_string(), "name": t.name, "currency": t.currency,
                "created": locale.date(t.created_ms),
                "domains": domains,
                "storage": storage(locale, *used, quota),
                "channels": locale.number(*channels as i64),
                "tokens": locale.number(*tokens as i64),
            })
        })
        .collect();
    let chrome = Chrome::new(locale, Some(&session), "agency", "/admin/agency");
    page(&state, StatusCode::OK, "agency.html", &chrome, json!({ "tenants": rows }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_per_locale() {
        assert_eq!(size(Locale::EN, 0), "0 B");
        assert_eq!(size(Locale::EN, 1023), "1,023 B");
        assert_eq!(size(Locale::EN, 1024), "1 KB");
        assert_eq!(size(Locale::EN, (1 << 20) - 1), "1 MB");
        assert_eq!(size(Locale::IT, 1_258_291), "1,2 MB");
        assert_eq!(size(Locale::EN, 1_258_291), "1.2 MB");
        assert_eq!(size(Locale::EN, 64 << 20), "64 MB");
        assert_eq!(size(Locale::EN, 256 << 20), "256 MB");
        assert_eq!(size(Locale::IT, 1536 << 30), "1,5 TB");
        assert_eq!(size(Locale::EN, 2048 << 40), "2,048 TB");
    }
}
