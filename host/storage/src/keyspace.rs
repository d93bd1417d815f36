//! Every key of the store, by owner: the one place that knows how keys are
//! laid out.
//!
//! Each crate that stores something builds its keys here, through a typed
//! constructor, instead of formatting its own prefix. That makes two things
//! one function each: listing every key of a tenant ([`tenant_ranges`], used
//! to export and to delete a tenant) and checking that namespaces never
//! overlap (the tests below).
//!
//! | namespace | key | owner |
//! |---|---|---|
//! | [`Namespace::Core`] | `t/<tenant>/<table>/<id…>` | `omnistore-core` (tables inside are the core's) |
//! | [`Namespace::Registry`] | `sys/tenants/<tenant>` | `omnistore-core` |
//! | [`Namespace::Tokens`] | `admin/token/<sha256 hex>` | admin API (global: found by hash) |
//! | [`Namespace::TokenIndex`] | `admin/tenant-token/<tenant>/<token id>` → hash hex | admin API |
//! | [`Namespace::Idempotency`] | `admin/idem/<tenant or _operator>/<sha256 hex>` | admin API |
//! | [`Namespace::Mounts`] | `host/mount/<tenant>/<channel>` | host |
//! | [`Namespace::Mail`] | `host/mail/<tenant>/{q/<id>, dead/<id>, seq, count}` | host's mail outbox and its dead letters |
//! | [`Namespace::PluginData`] | `plugin-kv\0<tenant>\0<installation>\0<key>` | runtime (plugin storage) |
//! | [`Namespace::PluginUsage`] | `plugin-kv-usage\0<tenant>\0<installation>` | runtime |
//! | [`Namespace::TenantUsage`] | `tenant-usage\0<tenant>` | runtime |
//! | [`Namespace::PluginHost`] | `plugin-host\0<tenant>\0<installation>\0<name>` | runtime (what the host keeps per installation, such as its cookie key) |
//! | [`Namespace::Files`] | `plugin-files\0<tenant>\0<installation>\0<L or D>\0<path>` | services (the merchant's files per installation, live and draft) |
//! | [`Namespace::Users`] | `admin/user/<tenant>/<e-mail>` | admin (who signs in to the tenant's admin in the browser, password hashed) |
//! | [`Namespace::Sessions`] | `admin/session/<tenant or _operator>/<sha256 hex>` | admin in the browser (a signed-in session, found by the hash of its cookie) |
//!
//! Tenant ids hold no `/`, `%` or NUL (see `omnistore_types::TenantId`), so a
//! tenant's prefix, which ends in a separator, never covers another tenant's.

use std::ops::Bound;

use omnistore_types::TenantId;

use crate::KeyRange;

/// The namespaces of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Namespace {
    Core,
    Registry,
    Tokens,
    TokenIndex,
    Idempotency,
    Mounts,
    Mail,
    PluginData,
    PluginUsage,
    TenantUsage,
    PluginHost,
    Files,
    Users,
    Sessions,
}

impl Namespace {
    /// Every namespace.
    pub const ALL: [Namespace; 14] = [
        Namespace::Core,
        Namespace::Registry,
        Namespace::Tokens,
        Namespace::TokenIndex,
        Namespace::Idempotency,
        Namespace::Mounts,
        Namespace::Mail,
        Namespace::PluginData,
        Namespace::PluginUsage,
        Namespace::TenantUsage,
        Namespace::PluginHost,
        Namespace::Files,
        Namespace::Users,
        Namespace::Sessions,
    ];

    /// The bytes every key of the namespace starts with.
    pub const fn root(self) -> &'static [u8] {
        match self {
            Namespace::Core => b"t/",
            Namespace::Registry => b"sys/tenants/",
            Namespace::Tokens => b"admin/token/",
            Namespace::TokenIndex => b"admin/tenant-token/",
            Namespace::Idempotency => b"admin/idem/",
            Namespace::Mounts => b"host/mount/",
            Namespace::Mail => b"host/mail/",
            Namespace::PluginData => b"plugin-kv\0",
            Namespace::PluginUsage => b"plugin-kv-usage\0",
            Namespace::TenantUsage => b"tenant-usage\0",
            Namespace::PluginHost => b"plugin-host\0",
            Namespace::Files => b"plugin-files\0",
            Namespace::Users => b"admin/user/",
            Namespace::Sessions => b"admin/session/",
        }
    }

    /// The namespace `key` belongs to, if any.
    pub fn of(key: &[u8]) -> Option<Namespace> {
        Namespace::ALL.into_iter().find(|ns| key.starts_with(ns.root()))
    }
}

fn key(ns: Namespace, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = ns.root().to_vec();
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// `t/<tenant>/`: the start of every core record of the tenant. The core
/// appends its own escaped table and id segments.
pub fn core_prefix(tenant: &TenantId) -> String {
    format!("t/{tenant}/")
}

/// The tenant's registry record.
pub fn registry_key(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Registry, &[tenant.as_str().as_bytes()])
}

/// The stored record of the API token whose SHA-256 is `hash`.
pub fn token_key(hash: &[u8; 32]) -> Vec<u8> {
    token_key_hex(&hex::encode(hash))
}

/// [`token_key`] for a hash already in lowercase hex (as token indexes keep it).
pub fn token_key_hex(hash_hex: &str) -> Vec<u8> {
    key(Namespace::Tokens, &[hash_hex.as_bytes()])
}

/// Where the tenant's token ids point at their hashes.
pub fn token_index_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::TokenIndex, &[tenant.as_str().as_bytes(), b"/"])
}

pub fn token_index_key(tenant: &TenantId, token_id: &str) -> Vec<u8> {
    key(Namespace::TokenIndex, &[tenant.as_str().as_bytes(), b"/", token_id.as_bytes()])
}

/// Who an idempotency key belongs to: a tenant, or the operator.
#[derive(Debug, Clone, Copy)]
pub enum IdempotencyScope<'a> {
    Tenant(&'a TenantId),
    Operator,
}

impl IdempotencyScope<'_> {
    fn segment(&self) -> &str {
        match self {
            IdempotencyScope::Tenant(t) => t.as_str(),
            // Tenant ids start with a letter or digit, so this never clashes.
            IdempotencyScope::Operator => "_operator",
        }
    }
}

/// The reservation or stored answer of one `Idempotency-Key` (its SHA-256).
pub fn idempotency_key(scope: IdempotencyScope<'_>, key_hash: &[u8; 32]) -> Vec<u8> {
    key(Namespace::Idempotency, &[scope.segment().as_bytes(), b"/", hex::encode(key_hash).as_bytes()])
}

pub fn idempotency_prefix(scope: IdempotencyScope<'_>) -> Vec<u8> {
    key(Namespace::Idempotency, &[scope.segment().as_bytes(), b"/"])
}

/// Where an installation of the tenant is mounted.
pub fn mount_key(tenant: &TenantId, channel: &str) -> Vec<u8> {
    key(Namespace::Mounts, &[tenant.as_str().as_bytes(), b"/", channel.as_bytes()])
}

pub fn mount_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Mounts, &[tenant.as_str().as_bytes(), b"/"])
}

/// The tenant's whole mail outbox (queue and counters).
pub fn mail_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/"])
}

/// The tenant's queued messages.
pub fn mail_queue_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/q/"])
}

pub fn mail_queue_key(tenant: &TenantId, message: &str) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/q/", message.as_bytes()])
}

/// Messages the relay refused for good, or that ran out of attempts, kept for
/// the merchant to read and replay.
pub fn mail_dead_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/dead/"])
}

pub fn mail_dead_key(tenant: &TenantId, message: &str) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/dead/", message.as_bytes()])
}

pub fn mail_seq_key(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/seq"])
}

pub fn mail_count_key(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Mail, &[tenant.as_str().as_bytes(), b"/count"])
}

/// Every installation's plugin data of the tenant.
pub fn plugin_data_tenant_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::PluginData, &[tenant.as_str().as_bytes(), b"\0"])
}

/// One installation's plugin data; the plugin's own key follows.
pub fn plugin_data_prefix(tenant: &TenantId, installation: &str) -> Vec<u8> {
    key(Namespace::PluginData, &[tenant.as_str().as_bytes(), b"\0", installation.as_bytes(), b"\0"])
}

/// What one installation's plugin data costs against its quota.
pub fn plugin_usage_key(tenant: &TenantId, installation: &str) -> Vec<u8> {
    key(Namespace::PluginUsage, &[tenant.as_str().as_bytes(), b"\0", installation.as_bytes()])
}

pub fn plugin_usage_tenant_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::PluginUsage, &[tenant.as_str().as_bytes(), b"\0"])
}

/// Something the host keeps for one installation, out of the plugin's reach
/// and outside its quota (such as the installation's cookie key).
pub fn plugin_host_key(tenant: &TenantId, installation: &str, name: &str) -> Vec<u8> {
    key(Namespace::PluginHost, &[tenant.as_str().as_bytes(), b"\0", installation.as_bytes(), b"\0", name.as_bytes()])
}

/// Everything the host keeps for the tenant's installations.
pub fn plugin_host_tenant_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::PluginHost, &[tenant.as_str().as_bytes(), b"\0"])
}

/// Which of an installation's two sets of files a key is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSet {
    /// What the storefront serves.
    Live,
    /// The merchant's changes not yet published (entries and deletions).
    Draft,
}

impl FileSet {
    fn segment(self) -> &'static [u8] {
        match self {
            FileSet::Live => b"L\0",
            FileSet::Draft => b"D\0",
        }
    }
}

/// One installation's files of one set; the file's path follows.
pub fn files_prefix(tenant: &TenantId, installation: &str, set: FileSet) -> Vec<u8> {
    key(Namespace::Files, &[tenant.as_str().as_bytes(), b"\0", installation.as_bytes(), b"\0", set.segment()])
}

/// One file of an installation.
pub fn file_key(tenant: &TenantId, installation: &str, set: FileSet, path: &str) -> Vec<u8> {
    let mut key = files_prefix(tenant, installation, set);
    key.extend_from_slice(path.as_bytes());
    key
}

/// Every file (both sets) of one installation.
pub fn files_installation_prefix(tenant: &TenantId, installation: &str) -> Vec<u8> {
    key(Namespace::Files, &[tenant.as_str().as_bytes(), b"\0", installation.as_bytes(), b"\0"])
}

/// Every file of the tenant's installations.
pub fn files_tenant_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Files, &[tenant.as_str().as_bytes(), b"\0"])
}

/// One admin user of the tenant, by e-mail address (lowercased by the caller).
pub fn user_key(tenant: &TenantId, email: &str) -> Vec<u8> {
    key(Namespace::Users, &[tenant.as_str().as_bytes(), b"/", email.as_bytes()])
}

/// Every admin user of the tenant.
pub fn users_prefix(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::Users, &[tenant.as_str().as_bytes(), b"/"])
}

/// Whose browser session a session key is: a tenant's user, or the operator.
#[derive(Debug, Clone, Copy)]
pub enum SessionScope<'a> {
    Tenant(&'a TenantId),
    Operator,
}

impl SessionScope<'_> {
    fn segment(&self) -> &str {
        match self {
            SessionScope::Tenant(t) => t.as_str(),
            // Tenant ids start with a letter or digit, so this never clashes.
            SessionScope::Operator => "_operator",
        }
    }
}

/// A browser session, by the SHA-256 of the secret its cookie carries.
pub fn session_key(scope: SessionScope<'_>, secret_hash: &[u8; 32]) -> Vec<u8> {
    key(Namespace::Sessions, &[scope.segment().as_bytes(), b"/", hex::encode(secret_hash).as_bytes()])
}

/// Every browser session of a tenant's users (or of the operator).
pub fn sessions_prefix(scope: SessionScope<'_>) -> Vec<u8> {
    key(Namespace::Sessions, &[scope.segment().as_bytes(), b"/"])
}

/// What the tenant's stored data costs against its quota.
pub fn tenant_usage_key(tenant: &TenantId) -> Vec<u8> {
    key(Namespace::TenantUsage, &[tenant.as_str().as_bytes()])
}

/// Every range that holds the tenant's data and nothing else's. The
/// tenant's tokens are global keys found through its token index; see
/// [`token_key_hex`].
pub fn tenant_ranges(tenant: &TenantId) -> Vec<KeyRange> {
    let exact = |key: Vec<u8>| KeyRange { start: Bound::Included(key.clone()), end: Bound::Included(key) };
    vec![
        KeyRange::prefix(core_prefix(tenant).as_bytes()),
        exact(registry_key(tenant)),
        KeyRange::prefix(&token_index_prefix(tenant)),
        KeyRange::prefix(&idempotency_prefix(IdempotencyScope::Tenant(tenant))),
        KeyRange::prefix(&mount_prefix(tenant)),
        KeyRange::prefix(&mail_prefix(tenant)),
        KeyRange::prefix(&plugin_data_tenant_prefix(tenant)),
        KeyRange::prefix(&plugin_usage_tenant_prefix(tenant)),
        exact(tenant_usage_key(tenant)),
        KeyRange::prefix(&plugin_host_tenant_prefix(tenant)),
        KeyRange::prefix(&files_tenant_prefix(tenant)),
        KeyRange::prefix(&users_prefix(tenant)),
        KeyRange::prefix(&sessions_prefix(SessionScope::Tenant(tenant))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_namespace_root_is_a_prefix_of_another() {
        for a in Namespace::ALL {
            for b in Namespace::ALL {
                if a != b {
                    assert!(!b.root().starts_with(a.root()), "{a:?} covers {b:?}");
                }
            }
        }
    }

    #[test]
    fn a_tenants_ranges_never_reach_a_tenant_whose_id_extends_it() {
        let short = TenantId::new("shop").unwrap();
        let long = TenantId::new("shop2").unwrap();
        let long_keys = [
            core_prefix(&long).into_bytes(),
            registry_key(&long),
            token_index_key(&long, "tok_1"),
            idempotency_key(IdempotencyScope::Tenant(&long), &[7; 32]),
            mount_key(&long, "chn_1"),
            mail_seq_key(&long),
            plugin_data_prefix(&long, "chn_1"),
            plugin_usage_key(&long, "chn_1"),
            tenant_usage_key(&long),
            plugin_host_key(&long, "chn_1", "cookie-key"),
            file_key(&long, "chn_1", FileSet::Live, "templates/product.liquid"),
            user_key(&long, "owner@example.com"),
            session_key(SessionScope::Tenant(&long), &[9; 32]),
        ];
        for range in tenant_ranges(&short) {
            for key in &long_keys {
                assert!(!range.contains(key), "a range of `shop` holds {:?}", String::from_utf8_lossy(key));
            }
        }
        for (key, range) in long_keys.iter().zip(tenant_ranges(&long)) {
            assert!(range.contains(key), "{:?}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn every_key_belongs_to_the_namespace_it_was_built_for() {
        let t = TenantId::new("shop").unwrap();
        assert_eq!(Namespace::of(&registry_key(&t)), Some(Namespace::Registry));
        assert_eq!(Namespace::of(&token_key(&[1; 32])), Some(Namespace::Tokens));
        assert_eq!(Namespace::of(&plugin_usage_key(&t, "c")), Some(Namespace::PluginUsage));
        assert_eq!(Namespace::of(&plugin_data_prefix(&t, "c")), Some(Namespace::PluginData));
        assert_eq!(Namespace::of(&mail_count_key(&t)), Some(Namespace::Mail));
        assert_eq!(Namespace::of(&plugin_host_key(&t, "c", "cookie-key")), Some(Namespace::PluginHost));
        assert_eq!(Namespace::of(&file_key(&t, "c", FileSet::Draft, "a.css")), Some(Namespace::Files));
        assert_eq!(Namespace::of(&user_key(&t, "a@example.com")), Some(Namespace::Users));
        assert_eq!(Namespace::of(&session_key(SessionScope::Operator, &[1; 32])), Some(Namespace::Sessions));
        assert_eq!(Namespace::of(b"elsewhere/x"), None);
    }
}
