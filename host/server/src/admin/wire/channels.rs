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
/// The code comes from exactly one of `upload` (a package in the request,
/// for everyone) or `package` (a directory on the server, for the operator
/// only: a development and provisioning tool).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallRequest {
    /// A plugin package directory (`plugin.toml` + `plugin.wasm`) on the
    /// server's file system. Operator token only (403 otherwise).
    #[serde(default)]
    pub package: Option<PathBuf>,
    /// The plugin package sent in the request: give this or `package`.
    #[serde(default)]
    pub upload: Option<PackageUpload>,
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
