//! Which tenant owns which host name, and which installation answers which
//! path. Plugins can be swapped (upgrade, hot reload) while requests run:
//! a request keeps the `Arc<Plugin>` it started with.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use omnistore_runtime::{Installation, Plugin, TenantId};

/// An installation mounted at a path prefix of its tenant.
#[derive(Debug, Clone)]
pub struct Mounted {
    /// Path prefix, "/" or "/name" without a trailing slash.
    pub mount: String,
    pub installation: Installation,
    pub plugin: Arc<Plugin>,
}

#[derive(Debug, Default)]
struct Tables {
    tenants: HashMap<TenantId, Vec<Mounted>>,
    domains: HashMap<String, TenantId>,
}

/// The routing table of a host.
#[derive(Debug, Default)]
pub struct Registry {
    tables: RwLock<Tables>,
}

/// Mount paths follow the one installer's rule.
pub use omnistore_services::installer::normalize_mount;

/// A `Host` header's name: lowercase, without port or trailing dot
/// (`Shop.Example:8080` → `shop.example`, `[::1]:80` → `[::1]`).
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(host.to_string(), |(addr, _)| format!("[{addr}]")),
        None => host.split(':').next().unwrap_or(host).to_string(),
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a tenant (idempotent) with the host names it answers on.
    pub fn add_tenant(&self, tenant: TenantId, domains: &[String]) {
        let mut t = self.tables.write().unwrap_or_else(|p| p.into_inner());
        t.tenants.entry(tenant.clone()).or_default();
        for d in domains {
            t.domains.insert(normalize_host(d), tenant.clone());
        }
    }

    /// Forget a tenant: its mounts and host names.
    pub fn remove_tenant(&self, tenant: &TenantId) {
        let mut t = self.tables.write().unwrap_or_else(|p| p.into_inner());
        t.tenants.remove(tenant);
        t.domains.retain(|_, owner| owner != tenant);
    }

    /// Mount an installation, replacing one with the same id.
    pub fn mount(&self, mounted: Mounted) {
        let mut t = self.tables.write().unwrap_or_else(|p| p.into_inner());
        let list = t.tenants.entry(mounted.installation.tenant.clone()).or_default();
        list.retain(|m| m.installation.id != mounted.installation.id);
        list.push(mounted);
        // Longest mount first, so the most specific prefix wins.
        list.sort_by_key(|m| std::cmp::Reverse(m.mount.len()));
    }

    /// Swap the plugin of an installation (upgrade or hot reload).
    pub fn replace_plugin(&self, tenant: &TenantId, installation: &str, plugin: Arc<Plugin>) -> bool {
        let mut t = self.tables.write().unwrap_or_else(|p| p.into_inner());
        let Some(list) = t.tenants.get_mut(tenant) else { return false };
        let Some(m) = list.iter_mut().find(|m| m.installation.id == installation) else { return false };
        m.plugin = plugin;
        true
    }

    /// Remove an installation (uninstalled or disabled).
    pub fn unmount(&self, tenant: &TenantId, installation: &str) -> bool {
        let mut t = self.tables.write().unwrap_or_else(|p| p.into_inner());
        let Some(list) = t.tenants.get_mut(tenant) else { return false };
        let before = list.len();
        list.retain(|m| m.installation.id != installation);
        list.len() != before
    }

    /// The mounted installation with this id.
    pub fn find(&self, tenant: &TenantId, installation: &str) -> Option<Mounted> {
        let t = self.tables.read().unwrap_or_else(|p| p.into_inner());
        t.tenants.get(tenant)?.iter().find(|m| m.installation.id == installation).cloned()
    }

    pub fn has_tenant(&self, tenant: &TenantId) -> bool {
        self.tables.read().unwrap_or_else(|p| p.into_inner()).tenants.contains_key(tenant)
    }

    /// The host names `tenant` answers on, sorted (the agency view lists
    /// them; the table is keyed by name, so this walks it).
    pub fn domains_of(&self, tenant: &TenantId) -> Vec<String> {
        let t = self.tables.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> =
            t.domains.iter().filter(|(_, owner)| *owner == tenant).map(|(name, _)| name.clone()).collect();
        names.sort_unstable();
        names
    }

    pub fn tenant_for_host(&self, host: &str) -> Option<TenantId> {
        let host = normalize_host(host);
        self.tables.read().unwrap_or_else(|p| p.into_inner()).domains.get(&host).cloned()
    }

    /// The installation serving `path` for `tenant`, and the path below its mount.
    pub fn route(&self, tenant: &TenantId, path: &str) -> Option<(Mounted, String)> {
        let t = self.tables.read().unwrap_or_else(|p| p.into_inner());
        for m in t.tenants.get(tenant)? {
            if m.mount == "/" {
                return Some((m.clone(), path.to_string()));
            }
            if let Some(rest) = path.strip_prefix(&m.mount)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                let rest = if rest.is_empty() { "/".to_string() } else { rest.to_string() };
                return Some((m.clone(), rest));
            }
        }
        None
    }

    /// Every mounted installation, for listings.
    pub fn installations(&self) -> Vec<Mounted> {
        let t = self.tables.read().unwrap_or_else(|p| p.into_inner());
        t.tenants.values().flatten().cloned().collect()
    }
}
