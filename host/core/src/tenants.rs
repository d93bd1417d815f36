//! Tenants (the data fence), channels (installed plugins) and locations
//! (places that hold stock) — three separate things.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{CoreError, CoreResult};
use crate::event_kind::{DomainEventKind, EventKind};
use crate::ids::{ChannelId, LocationId, TenantId};
use crate::money::validate_currency;
use crate::records::{decode, encode};
use crate::store::{Core, Tx, registry_key, registry_prefix};
use crate::validate;

/// A merchant. Everything else belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// The currency every price of this tenant is in.
    pub currency: String,
    pub created_ms: i64,
    /// BCP 47 tags of the shop's languages, the primary first. Empty in
    /// records from before shops had languages: read as [`DEFAULT_LANGUAGE`]
    /// ([`Tenant::languages`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Where shoppers reach the shop, as its channels show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// The IANA time zone the shop lives in (`Europe/Rome`): its days and
    /// hours. `None` in records from before shops had one: read as UTC
    /// ([`Tenant::zone`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// The language of a shop that named none.
pub const DEFAULT_LANGUAGE: &str = "en";

impl Tenant {
    /// The shop's time zone; UTC when it named none (or a name this build
    /// does not know any more).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.as_deref().and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC)
    }

    /// The shop's languages, the primary first; never empty.
    pub fn languages(&self) -> Vec<String> {
        if self.languages.is_empty() { vec![DEFAULT_LANGUAGE.to_owned()] } else { self.languages.clone() }
    }
}

/// How the shop presents itself; `None` leaves a field as it is, and
/// `Some(None)` clears a contact.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShopPatch {
    pub name: Option<String>,
    pub languages: Option<Vec<String>>,
    pub contact_email: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
    /// An IANA time zone name such as `Europe/Rome`.
    pub time_zone: Option<String>,
}

/// An IANA time zone name this build knows, as the database spells it.
pub fn check_time_zone(name: &str) -> CoreResult<String> {
    let name = name.trim();
    match name.parse::<chrono_tz::Tz>() {
        Ok(zone) => Ok(zone.name().to_owned()),
        Err(_) => Err(CoreError::invalid(format!(
            "`{name}` is not a time zone; give an IANA name such as `Europe/Rome` or `America/New_York`"
        ))),
    }
}

/// A BCP 47 tag in its usual shape (`it`, `en-GB`, `zh-Hant-TW`): letters
/// and digits in segments of 1 to 8, joined by `-`, starting with 2 to 3 letters.
fn check_language(tag: &str) -> CoreResult<String> {
    let tag = tag.trim();
    let mut segments = tag.split('-');
    let primary_ok =
        segments.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok = segments.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok || tag.len() > 35 {
        return Err(CoreError::invalid(format!("`{tag}` is not a language tag such as `it` or `en-GB`")));
    }
    Ok(tag.to_owned())
}

/// A channel: one installed plugin in one tenant, with its settings and
/// grants. Secret values are kept apart and never appear here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub plugin_id: String,
    pub version: String,
    pub name: String,
    pub settings: BTreeMap<String, serde_json::Value>,
    /// Names of the secrets set for this installation (values: [`Core::channel_secret`]).
    pub secret_keys: Vec<String>,
    /// Capabilities the merchant granted ("catalog", "orders", "http:api.example.com", …).
    pub capabilities: Vec<String>,
    /// Event kinds the plugin wants: exact (`order.placed`), prefix (`order.*`) or `*`.
    pub subscriptions: Vec<String>,
    pub enabled: bool,
    /// Units of every variant this channel does not sell, so that the last
    /// units are kept for other channels while its feed catches up.
    pub safety_buffer: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Channel {
    /// Whether this channel wants events of `kind`.
    pub fn subscribes_to(&self, kind: EventKind) -> bool {
        self.subscriptions.iter().any(|s| kind.matches(s))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewChannel {
    pub plugin_id: String,
    pub version: String,
    pub name: String,
    pub settings: BTreeMap<String, serde_json::Value>,
    pub capabilities: Vec<String>,
    pub subscriptions: Vec<String>,
    pub enabled: bool,
    pub safety_buffer: i64,
}

/// Fields to change on a channel; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelPatch {
    pub version: Option<String>,
    pub name: Option<String>,
    pub settings: Option<BTreeMap<String, serde_json::Value>>,
    pub capabilities: Option<Vec<String>>,
    pub subscriptions: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub safety_buffer: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Warehouse,
    Shop,
}

/// A place that holds stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    /// Customers may collect orders here (pickup and ship-to-store).
    pub pickup_enabled: bool,
    /// Inactive locations keep their stock but are not allocated from.
    pub active: bool,
    pub address: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewLocation {
    pub name: String,
    pub kind: LocationKind,
    pub pickup_enabled: bool,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LocationPatch {
    pub name: Option<String>,
    pub pickup_enabled: Option<bool>,
    pub active: Option<bool>,
    pub address: Option<Option<String>>,
}

fn check_buffer(buffer: i64) -> CoreResult<i64> {
    if !(0..=1_000_000).contains(&buffer) {
        return Err(CoreError::invalid(format!("safety buffer must be between 0 and 1000000, got {buffer}")));
    }
    Ok(buffer)
}

fn check_strings(field: &str, values: &[String]) -> CoreResult<Vec<String>> {
    let mut out = Vec::new();
    for v in values {
        out.push(validate::text(field, v, 256)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub(crate) fn load_channel(tx: &mut Tx<'_>, id: &ChannelId) -> CoreResult<Channel> {
    tx.must("channel", id.as_str())
}

pub(crate) fn load_location(tx: &mut Tx<'_>, id: &LocationId) -> CoreResult<Location> {
    tx.must("location", id.as_str())
}

pub(crate) fn all_locations(tx: &mut Tx<'_>) -> CoreResult<Vec<Location>> {
    Ok(tx.scan::<Location>(&["loc"])?.into_iter().map(|(_, l)| l).collect())
}

/// Subscriptions name channel event kinds: exactly, as a prefix pattern
/// (`order.*`) or `*`. One that matches no kind would silently receive
/// nothing, so it is refused.
fn check_subscriptions(subscriptions: &[String]) -> CoreResult<Vec<String>> {
    let checked = check_strings("subscription", subscriptions)?;
    for s in &checked {
        if !EventKind::ALL.into_iter().any(|k| k.matches(s)) {
            return Err(CoreError::invalid(format!(
                "subscription `{s}` matches no event kind; use one of {}, a prefix such as `order.*`, or `*`",
                EventKind::ALL.map(EventKind::as_str).join(", ")
            )));
        }
    }
    Ok(checked)
}

impl Core {
    /// Create a tenant. Fails with `Conflict` if the id is taken.
    pub fn create_tenant(&self, id: &TenantId, name: &str, currency: &str, now_ms: i64) -> CoreResult<Tenant> {
        let name = validate::text("tenant name", name, 200)?;
        validate_currency(currency)?;
        if now_ms < 0 {
            return Err(CoreError::invalid("time must not be negative"));
        }
        let tenant = Tenant {
            id: id.clone(),
            name,
            currency: currency.to_owned(),
            created_ms: now_ms,
            languages: vec![],
            contact_email: None,
            contact_phone: None,
            time_zone: None,
        };
        self.run_write(|txn| {
            if txn.get(&registry_key(id))?.is_some() {
                return Err(CoreError::conflict(format!("tenant `{id}` already exists; pick another id")));
            }
            txn.put(&registry_key(id), &encode(&tenant)?)?;
            let mut tx = Tx::new(txn, id, now_ms);
            tx.put(&["tenant"], &tenant)?;
            tx.set_tenant_record(tenant.clone());
            tx.emit(DomainEventKind::TenantCreated, id.as_str(), json!({ "tenant": tenant }));
            tx.finish()?;
            Ok(tenant.clone())
        })
    }

    /// Change how the shop presents itself (name, languages, contact).
    pub fn update_shop(&self, id: &TenantId, patch: ShopPatch, now_ms: i64) -> CoreResult<Tenant> {
        let name = patch.name.as_deref().map(|n| validate::text("tenant name", n, 200)).transpose()?;
        let languages = match &patch.languages {
            Some(tags) if tags.len() > 20 => return Err(CoreError::invalid("a shop has at most 20 languages")),
            Some(tags) => {
                let mut checked: Vec<String> = Vec::with_capacity(tags.len());
                for tag in tags {
                    let tag = check_language(tag)?;
                    if !checked.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                        checked.push(tag);
                    }
                }
                Some(checked)
            }
            None => None,
        };
        let email = match &patch.contact_email {
            Some(Some(e)) => Some(Some(crate::customers::Identity::email(e)?.value)),
            Some(None) => Some(None),
            None => None,
        };
        let phone = match &patch.contact_phone {
            Some(Some(p)) => Some(Some(crate::customers::Identity::phone(p)?.value)),
            Some(None) => Some(None),
            None => None,
        };
        let zone = patch.time_zone.as_deref().map(check_time_zone).transpose()?;
        self.run_write(|txn| {
            let Some(raw) = txn.get(&registry_key(id))? else {
                return Err(CoreError::not_found("tenant", id.as_str()));
            };
            let mut tenant: Tenant = decode(&registry_key(id), &raw)?;
            if let Some(n) = &name {
                tenant.name = n.clone();
            }
            if let Some(l) = &languages {
                tenant.languages = l.clone();
            }
            if let Some(e) = &email {
                tenant.contact_email = e.clone();
            }
            if let Some(z) = &zone {
                tenant.time_zone = Some(z.clone());
            }
            if let Some(p) = &phone {
                tenant.contact_phone = p.clone();
            }
            txn.put(&registry_key(id), &encode(&tenant)?)?;
            let mut tx = Tx::new(txn, id, now_ms);
            tx.put(&["tenant"], &tenant)?;
            tx.set_tenant_record(tenant.clone());
            tx.finish()?;
            Ok(tenant)
        })
    }

    pub fn get_tenant(&self, tenant: &TenantId) -> CoreResult<Tenant> {
        self.read(tenant, |tx| Ok(tx.tenant_record().clone()))
    }

    /// Every tenant of the deployment (operator view).
    pub fn list_tenants(&self) -> CoreResult<Vec<Tenant>> {
        let mut txn = self.store().begin_read()?;
        let entries = txn.scan(&omnistore_storage::KeyRange::prefix(registry_prefix()), usize::MAX)?;
        entries.iter().map(|(k, v)| decode(k, v)).collect()
    }

    /// A page of tenants in id order, after `after` (1 to 1000; 0 means 100).
    pub fn list_tenants_page(&self, after: Option<&TenantId>, limit: usize) -> CoreResult<Vec<Tenant>> {
        let limit = if limit == 0 { 100 } else { limit.min(1000) };
        let mut range = omnistore_storage::KeyRange::prefix(registry_prefix());
        if let Some(after) = after {
            range.start = std::ops::Bound::Excluded(registry_key(after));
        }
        let mut txn = self.store().begin_read()?;
        txn.scan(&range, limit)?.iter().map(|(k, v)| decode(k, v)).collect()
    }

    pub fn install_channel(&self, tenant: &TenantId, new: NewChannel, now_ms: i64) -> CoreResult<Channel> {
        let plugin_id = validate::text("plugin id", &new.plugin_id, 128)?;
        let version = validate::text("plugin version", &new.version, 64)?;
        let name = validate::opt_text("channel name", Some(&new.name), 200)?.unwrap_or_else(|| plugin_id.clone());
        let capabilities = check_strings("capability", &new.capabilities)?;
        let subscriptions = check_subscriptions(&new.subscriptions)?;
        let safety_buffer = check_buffer(new.safety_buffer)?;
        self.write(tenant, now_ms, |tx| {
            let id = ChannelId::new(tx.new_id(ChannelId::PREFIX)?);
            let channel = Channel {
                id: id.clone(),
                plugin_id: plugin_id.clone(),
                version: version.clone(),
                name: name.clone(),
                settings: new.settings.clone(),
                secret_keys: Vec::new(),
                capabilities: capabilities.clone(),
                subscriptions: subscriptions.clone(),
                enabled: new.enabled,
                safety_buffer,
                created_ms: now_ms,
                updated_ms: now_ms,
            };
            tx.put(&["chn", id.as_str()], &channel)?;
            tx.emit(
                DomainEventKind::ChannelInstalled,
                id.as_str(),
                json!({ "channel_id": id, "plugin_id": plugin_id }),
            );
            Ok(channel)
        })
    }

    pub fn get_channel(&self, tenant: &TenantId, id: &ChannelId) -> CoreResult<Channel> {
        self.read(tenant, |tx| load_channel(tx, id))
    }

    pub fn list_channels(&self, tenant: &TenantId) -> CoreResult<Vec<Channel>> {
        self.read(tenant, |tx| Ok(tx.scan::<Channel>(&["chn"])?.into_iter().map(|(_, c)| c).collect()))
    }

    /// A page of installed channels in id order, after `after`.
    pub fn list_channels_page(
        &self,
        tenant: &TenantId,
        after: Option<&ChannelId>,
        limit: usize,
    ) -> CoreResult<Vec<Channel>> {
        self.page(tenant, "chn", after.map(ChannelId::as_str), limit)
    }

    /// Change settings, grants, version (an upgrade), subscriptions, the
    /// enabled flag or the safety buffer.
    pub fn update_channel(
        &self,
        tenant: &TenantId,
        id: &ChannelId,
        patch: ChannelPatch,
        now_ms: i64,
    ) -> CoreResult<Channel> {
        let version = patch.version.as_deref().map(|v| validate::text("plugin version", v, 64)).transpose()?;
        let name = patch.name.as_deref().map(|v| validate::text("channel name", v, 200)).transpose()?;
        let capabilities = patch.capabilities.as_deref().map(|v| check_strings("capability", v)).transpose()?;
        let subscriptions = patch.subscriptions.as_deref().map(check_subscriptions).transpose()?;
        let safety_buffer = patch.safety_buffer.map(check_buffer).transpose()?;
        self.write(tenant, now_ms, |tx| {
            let mut channel = load_channel(tx, id)?;
            if let Some(v) = &version {
                channel.version = v.clone();
            }
            if let Some(v) = &name {
                channel.name = v.clone();
            }
            if let Some(v) = &patch.settings {
                channel.settings = v.clone();
            }
            if let Some(v) = &capabilities {
                channel.capabilities = v.clone();
            }
            if let Some(v) = &subscriptions {
                channel.subscriptions = v.clone();
            }
            if let Some(v) = patch.enabled {
                channel.enabled = v;
            }
            if let Some(v) = safety_buffer {
                channel.safety_buffer = v;
            }
            channel.updated_ms = now_ms;
            tx.put(&["chn", id.as_str()], &channel)?;
            tx.emit(
                DomainEventKind::ChannelUpdated,
                id.as_str(),
                json!({ "channel_id": id, "enabled": channel.enabled, "version": channel.version }),
            );
            Ok(channel)
        })
    }

    /// Remove a channel with its secrets and publications. Orders keep their
    /// channel of origin as history.
    pub fn uninstall_channel(&self, tenant: &TenantId, id: &ChannelId, now_ms: i64) -> CoreResult<()> {
        self.write(tenant, now_ms, |tx| {
            let channel = load_channel(tx, id)?;
            for name in &channel.secret_keys {
                tx.del(&["chnsec", id.as_str(), name])?;
            }
            for (product, ()) in tx.scan::<()>(&["pubc", id.as_str()])? {
                tx.del(&["pubc", id.as_str(), &product])?;
                tx.del(&["pub", &product, id.as_str()])?;
            }
            tx.del(&["chn", id.as_str()])?;
            tx.emit(DomainEventKind::ChannelUninstalled, id.as_str(), json!({ "channel_id": id }));
            Ok(())
        })
    }

    /// Store a secret (an API token) for an installation. The value is
    /// stored as given: the server seals it (AEAD) before it gets here, so
    /// the limit leaves room for a sealed 16 KiB secret.
    pub fn set_channel_secret(
        &self,
        tenant: &TenantId,
        id: &ChannelId,
        name: &str,
        value: &str,
        now_ms: i64,
    ) -> CoreResult<()> {
        let name = validate::text("secret name", name, 128)?;
        if value.len() > 32 * 1024 {
            return Err(CoreError::invalid("secret value must be at most 32 KiB as stored"));
        }
        self.write(tenant, now_ms, |tx| {
            let mut channel = load_channel(tx, id)?;
            if !channel.secret_keys.contains(&name) {
                channel.secret_keys.push(name.clone());
                channel.secret_keys.sort();
                channel.updated_ms = now_ms;
                tx.put(&["chn", id.as_str()], &channel)?;
            }
            tx.put(&["chnsec", id.as_str(), &name], &value.to_owned())?;
            Ok(())
        })
    }

    pub fn channel_secret(&self, tenant: &TenantId, id: &ChannelId, name: &str) -> CoreResult<Option<String>> {
        self.read(tenant, |tx| {
            load_channel(tx, id)?;
            tx.get::<String>(&["chnsec", id.as_str(), name])
        })
    }

    pub fn delete_channel_secret(&self, tenant: &TenantId, id: &ChannelId, name: &str, now_ms: i64) -> CoreResult<()> {
        self.write(tenant, now_ms, |tx| {
            let mut channel = load_channel(tx, id)?;
            if channel.secret_keys.iter().any(|k| k == name) {
                channel.secret_keys.retain(|k| k != name);
                channel.updated_ms = now_ms;
                tx.put(&["chn", id.as_str()], &channel)?;
            }
            tx.del(&["chnsec", id.as_str(), name])
        })
    }

    pub fn create_location(&self, tenant: &TenantId, new: NewLocation, now_ms: i64) -> CoreResult<Location> {
        let name = validate::text("location name", &new.name, 200)?;
        let address = validate::opt_text("location address", new.address.as_deref(), 500)?;
        self.write(tenant, now_ms, |tx| {
            let id = LocationId::new(tx.new_id(LocationId::PREFIX)?);
            let location = Location {
                id: id.clone(),
                name: name.clone(),
                kind: new.kind,
                pickup_enabled: new.pickup_enabled,
                active: true,
                address: address.clone(),
                created_ms: now_ms,
                updated_ms: now_ms,
            };
            tx.put(&["loc", id.as_str()], &location)?;
            tx.emit(DomainEventKind::LocationChanged, id.as_str(), json!({ "location": location }));
            Ok(location)
        })
    }

    pub fn get_location(&self, tenant: &TenantId, id: &LocationId) -> CoreResult<Location> {
        self.read(tenant, |tx| load_location(tx, id))
    }

    pub fn list_locations(&self, tenant: &TenantId) -> CoreResult<Vec<Location>> {
        self.read(tenant, all_locations)
    }

    /// A page of locations in id order, after `after`.
    pub fn list_locations_page(
        &self,
        tenant: &TenantId,
        after: Option<&LocationId>,
        limit: usize,
    ) -> CoreResult<Vec<Location>> {
        self.page(tenant, "loc", after.map(LocationId::as_str), limit)
    }

    pub fn update_location(
        &self,
        tenant: &TenantId,
        id: &LocationId,
        patch: LocationPatch,
        now_ms: i64,
    ) -> CoreResult<Location> {
        let name = patch.name.as_deref().map(|v| validate::text("location name", v, 200)).transpose()?;
        let address = match &patch.address {
            Some(a) => Some(validate::opt_text("location address", a.as_deref(), 500)?),
            None => None,
        };
        self.write(tenant, now_ms, |tx| {
            let mut location = load_location(tx, id)?;
            if let Some(v) = &name {
                location.name = v.clone();
            }
            if let Some(v) = patch.pickup_enabled {
                location.pickup_enabled = v;
            }
            if let Some(v) = patch.active {
                location.active = v;
            }
            if let Some(v) = &address {
                location.address = v.clone();
            }
            location.updated_ms = now_ms;
            tx.put(&["loc", id.as_str()], &location)?;
            tx.emit(DomainEventKind::LocationChanged, id.as_str(), json!({ "location": location }));
            Ok(location)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_zone_is_an_iana_name_and_unknown_ones_are_refused() {
        assert_eq!(check_time_zone(" Europe/Rome ").unwrap(), "Europe/Rome");
        for bad in ["", "Rome", "Europe/Roma", "UTC+1", "../etc/passwd"] {
            let err = check_time_zone(bad).unwrap_err().to_string();
            assert!(err.contains("IANA name such as `Europe/Rome`"), "{bad}: {err}");
        }
        let mut shop = Tenant {
            id: TenantId::new("t").unwrap(),
            name: "T".into(),
            currency: "EUR".into(),
            created_ms: 0,
            languages: vec![],
            contact_email: None,
            contact_phone: None,
            time_zone: None,
        };
        assert_eq!(shop.zone(), chrono_tz::UTC, "a shop that named none keeps UTC");
        shop.time_zone = Some("America/New_York".into());
        assert_eq!(shop.zone(), chrono_tz::America::New_York);
    }

    #[test]
    fn subscriptions_match_exact_prefix_and_star() {
        let mut c = Channel {
            id: ChannelId::new("c"),
            plugin_id: "p".into(),
            version: "1".into(),
            name: "p".into(),
            settings: BTreeMap::new(),
            secret_keys: vec![],
            capabilities: vec![],
            subscriptions: vec!["order.*".into(), "stock.changed".into()],
            enabled: true,
            safety_buffer: 0,
            created_ms: 0,
            updated_ms: 0,
        };
        assert!(c.subscribes_to(EventKind::OrderPlaced));
        assert!(c.subscribes_to(EventKind::StockChanged));
        assert!(!c.subscribes_to(EventKind::ProductChanged));
        c.subscriptions = vec!["*".into()];
        assert!(c.subscribes_to(EventKind::ProductChanged));
    }

    #[test]
    fn subscriptions_that_match_nothing_are_refused() {
        assert!(check_subscriptions(&["order.*".into(), "installed".into(), "*".into()]).is_ok());
        for bad in ["orders.placed", "channel.installed", "campaigns.*"] {
            let err = check_subscriptions(&[bad.into()]).unwrap_err().to_string();
            assert!(err.contains("matches no event kind"), "{err}");
        }
    }
}
