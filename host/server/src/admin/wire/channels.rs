//! Channels: installed plugins, how they are installed and changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Channel {
    pub id: String,
    pub plugin_id: String,
    pub version: String,
    pub name: String,
    pub settings: BTreeMap<String, Value>,
    /// Names of the secrets set; their values are never returned.
    pub secret_keys: Vec<String>,
    /// Capabilities granted.
    pub capabilities: Vec<String>,
    /// Event kinds delivered to the channel.
    pub subscriptions: Vec<String>,
    pub enabled: bool,
    /// Units held back from what the channel may sell.
    pub safety_buffer: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Channel> for Channel {
    fn from(c: domain::Channel) -> Channel {
        Channel {
            id: c.id.to_string(),
            plugin_id: c.plugin_id,
            version: c.version,
            name: c.name,
            settings: c.settings,
            secret_keys: c.secret_keys,
            capabilities: c.capabilities,
            subscriptions: c.subscriptions,
            enabled: c.enabled,
            safety_buffer: c.safety_buffer,
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

/// `POST /tenants/{tenant}/channels`: what to install and how.
///
/// The code comes from exactly one of `catalog` (a package this deployment
/// offers, by its plugin id: what a merchant picks), `upload` (a package in
/// the request, for everyone) or `package` (a directory on the server, for
/// the operator only: a development and provisioning tool).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallRequest {
    /// A plugin package directory (`plugin.toml` + `plugin.wasm`) on the
    /// server's file system. Operator token only (403 otherwise).
    #[serde(default)]
    pub package: Option<PathBuf>,
    /// The plugin package sent in the request: give this, `catalog` or `package`.
    #[serde(default)]
    pub upload: Option<PackageUpload>,
    /// The plugin id of a package in this deployment's catalogue
    /// (`GET /tenants/{tenant}/catalog`); its mount must be free.
    #[serde(default)]
    pub catalog: Option<String>,
    /// Display name; the plugin's name when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Where its storefront pages, feeds and webhooks are served, such as `/shop`.
    #[serde(default)]
    pub mount: Option<String>,
    /// Settings, checked against the schema in the plugin's manifest.
    #[serde(default)]
    pub settings: BTreeMap<String, Value>,
    /// Capabilities the manifest requests that the merchant does not grant.
    #[serde(default)]
    pub withhold: Vec<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub safety_buffer: i64,
    /// Set by the API, not the client: whether the operator (rather than the
    /// tenant's own token) asked. Only the operator may name a server path.
    #[serde(skip)]
    pub by_operator: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// A plugin package in an install request, as `omnistore plugin build`
/// writes it: the manifest's text and the component, base64-encoded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageUpload {
    /// The text of `plugin.toml`.
    pub manifest: String,
    /// `plugin.wasm`, standard base64 (padding optional).
    #[schemars(extend("contentEncoding" = "base64"))]
    pub component: String,
}

/// A channel change: its name, safety buffer or event subscriptions.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelPatch {
    pub name: Option<String>,
    pub safety_buffer: Option<i64>,
    pub subscriptions: Option<Vec<String>>,
}

impl From<ChannelPatch> for domain::ChannelPatch {
    fn from(b: ChannelPatch) -> domain::ChannelPatch {
        domain::ChannelPatch {
            name: b.name,
            safety_buffer: b.safety_buffer,
            subscriptions: b.subscriptions,
            ..domain::ChannelPatch::default()
        }
    }
}

/// The whole settings object, replacing the current one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct ChannelSettings(pub BTreeMap<String, Value>);

/// The capabilities granted, replacing the current grants.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelGrants {
    pub capabilities: Vec<String>,
}

/// A secret's value (an API key); sealed before it is stored.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretValue {
    pub value: String,
}

/// `GET /tenants/{tenant}/catalog`: the packages this deployment offers its
/// merchants, in the order its operator listed them.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Catalogue {
    pub items: Vec<CatalogueEntry>,
}

/// One package of the catalogue: who it is and what it asks for.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CatalogueEntry {
    /// The plugin id: give it as `catalog` to install the package.
    pub id: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    pub description: String,
    /// The capabilities it requests, each of which may be withheld.
    pub capabilities: Vec<RequestedCapability>,
    /// The origins it may send HTTP requests to (with the `http` capability).
    pub http_origins: Vec<String>,
    /// Event kinds it subscribes to.
    pub events: Vec<String>,
    /// The settings it declares (secrets are set with `PUT …/secrets/{name}`).
    pub settings: Vec<SettingSpec>,
    /// Whether this tenant already has a channel of this package.
    pub installed: bool,
    /// Those channels' ids.
    pub channels: Vec<String>,
}

/// A capability a package requests, with what granting it allows.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RequestedCapability {
    pub name: String,
    pub description: String,
}

/// A setting a package declares.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SettingSpec {
    pub key: String,
    pub label: String,
    /// Set as a secret, never returned.
    pub secret: bool,
    pub required: bool,
    /// Used when the setting is left out.
    pub default: Option<String>,
    /// `text`, `url`, `email`, `integer`, `choice` or `flag` (`on`/`off`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The values a `choice` takes.
    pub options: Vec<String>,
    /// Bounds of an `integer`, inclusive.
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl CatalogueEntry {
    /// An offered package as the wire shows it, with this tenant's channels of it.
    pub(crate) fn of(manifest: &omnistore_runtime::Manifest, channels: Vec<String>) -> CatalogueEntry {
        CatalogueEntry {
            id: manifest.id.clone(),
            name: manifest.name.clone(),
            version: manifest.version.to_string(),
            publisher: manifest.publisher.clone(),
            description: manifest.description.clone(),
            capabilities: manifest
                .imports
                .iter()
                .map(|c| RequestedCapability { name: c.name().to_owned(), description: c.description().to_owned() })
                .collect(),
            http_origins: manifest.http.iter().map(|o| o.to_string()).collect(),
            events: manifest.events.iter().map(|k| k.as_str().to_owned()).collect(),
            settings: manifest
                .settings
                .iter()
                .map(|s| SettingSpec {
                    key: s.key.clone(),
                    label: s.label.clone(),
                    secret: s.secret,
                    required: s.required,
                    default: s.default.clone(),
                    kind: s.kind.as_str().to_owned(),
                    options: s.options.clone(),
                    min: s.min,
                    max: s.max,
                })
                .collect(),
            installed: !channels.is_empty(),
            channels,
        }
    }
}
