//! The plugin manifest (`plugin.toml`) and the capability vocabulary.
//!
//! A manifest says who a plugin is and what it may do: which host interfaces it
//! imports, which origins it may call over HTTP, which events it wants, which
//! settings the merchant fills in. It is deny-by-default: anything not listed
//! is refused, at install time (the component's real imports are checked
//! against [`Manifest::check_imports`]) and at call time (the runtime's one
//! capability checker consults the grants derived from it).
//!
//! ```toml
//! [plugin]
//! id = "hello-channel"
//! name = "Hello channel"
//! version = "0.1.0"
//! publisher = "Omnistore examples"
//! contract = "^0.2"
//!
//! [capabilities]
//! imports = ["storage", "settings", "log", "clock"]
//! http = ["https://api.example.com"]
//! events = ["order.placed"]
//!
//! [[settings]]
//! key = "greeting"
//! label = "Greeting shown on the home page"
//! default = "Hello"
//!
//! [[settings]]
//! key = "language"
//! label = "Language of the greeting"
//! type = "choice"          # text (default), url, email, integer (with min, max), choice, flag (on/off)
//! options = ["it", "en"]
//! ```
//!
//! A setting's `type` decides the field the admin shows and the values the
//! host takes when a merchant installs the plugin or changes its settings.

mod imports;
mod origin;

pub use imports::{ComponentImport, component_imports};
pub use omnistore_types::{EventKind, is_valid_id};
pub use origin::{Origin, OriginError};

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// The WIT package every contract version belongs to.
pub const CONTRACT_PACKAGE: &str = "omnistore:plugin";

/// Contract versions this build of the host can load, oldest first.
pub const SUPPORTED_CONTRACTS: &[semver::Version] = &[semver::Version::new(0, 1, 0), semver::Version::new(0, 2, 0)];

/// The largest manifest accepted, to keep a hostile package from exhausting memory.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// A host interface a plugin may import: one capability each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    Catalog,
    Locations,
    Files,
    Carts,
    Orders,
    Customers,
    Touchpoints,
    Storage,
    Http,
    Mail,
    Settings,
    Log,
    Clock,
}

impl Capability {
    /// Every capability, in contract order.
    pub const ALL: [Capability; 13] = [
        Capability::Catalog,
        Capability::Locations,
        Capability::Files,
        Capability::Carts,
        Capability::Orders,
        Capability::Customers,
        Capability::Touchpoints,
        Capability::Storage,
        Capability::Http,
        Capability::Mail,
        Capability::Settings,
        Capability::Log,
        Capability::Clock,
    ];

    /// The WIT interface name, which is also the name used in plugin.toml.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Catalog => "catalog",
            Capability::Locations => "locations",
            Capability::Files => "files",
            Capability::Carts => "carts",
            Capability::Orders => "orders",
            Capability::Customers => "customers",
            Capability::Touchpoints => "touchpoints",
            Capability::Storage => "storage",
            Capability::Http => "http",
            Capability::Mail => "mail",
            Capability::Settings => "settings",
            Capability::Log => "log",
            Capability::Clock => "clock",
        }
    }

    /// What granting it allows, in words a merchant reads before accepting.
    pub fn description(self) -> &'static str {
        match self {
            Capability::Catalog => "read your products, prices and stock as this channel sees them",
            Capability::Locations => "read your locations and which of them can hand over a cart",
            Capability::Files => "read the files you upload for it, such as theme templates",
            Capability::Carts => "create carts and place orders",
            Capability::Orders => "record orders from this channel and read orders",
            Capability::Customers => "find and create customer profiles and record their consent",
            Capability::Touchpoints => "record customer journey events",
            Capability::Storage => "keep its own private data, within a quota",
            Capability::Http => "send requests to the internet addresses listed",
            Capability::Mail => "send e-mail in your shop's name",
            Capability::Settings => "read the settings you enter for it",
            Capability::Log => "write to the operator's log",
            Capability::Clock => "read the current time",
        }
    }

    /// The capability with this name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a manifest, or a component measured against it, was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("plugin.toml is {0} bytes; the limit is {MAX_MANIFEST_BYTES}")]
    TooLarge(usize),
    #[error("plugin.toml is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("plugin.toml: {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the component is not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    #[error(
        "the component imports `{import}`, which plugin.toml does not request; add \"{capability}\" to [capabilities].imports, or remove the use of it from the plugin"
    )]
    UndeclaredImport { import: String, capability: String },
    #[error(
        "the component imports `{0}`, which is not part of any omnistore contract this host supports; plugins may import only omnistore:plugin interfaces"
    )]
    ForeignImport(String),
    #[error(
        "the component is built against contract {found}, but plugin.toml declares contract `{declared}`; rebuild with a matching SDK or fix the manifest"
    )]
    ContractMismatch { found: String, declared: String },
    #[error(
        "plugin.toml subscribes to `{kind}`, which contract {found} (the one the component is built against) cannot deliver; it exists since {since}: rebuild with a newer SDK or remove it from [capabilities].events"
    )]
    EventNotInContract { kind: String, since: String, found: String },
    #[error(
        "the component uses contract {0}, which this host does not support (supported: {supported}); upgrade the host or rebuild the plugin against a supported SDK",
        supported = supported_list()
    )]
    UnsupportedContract(String),
    #[error(
        "the component does not export `omnistore:plugin/handler`; build it with the omnistore SDK's export_plugin! macro"
    )]
    MissingHandler,
}

fn supported_list() -> String {
    SUPPORTED_CONTRACTS.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

/// A setting the merchant fills in for an installation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingSpec {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    /// What a value must be (`text` when not said): the admin's form shows
    /// the fitting field and the host refuses a value of another shape.
    #[serde(default, rename = "type")]
    pub kind: SettingKind,
    /// The values a `choice` takes, in the order shown.
    #[serde(default)]
    pub options: Vec<String>,
    /// Bounds of an `integer`, inclusive.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

/// The shape of a setting's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingKind {
    /// Any line of text.
    #[default]
    Text,
    /// An absolute `http://` or `https://` address.
    Url,
    /// An e-mail address.
    Email,
    /// A whole number, within `min` and `max` when given.
    Integer,
    /// One of `options`.
    Choice,
    /// `on` or `off`.
    Flag,
}

impl SettingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingKind::Text => "text",
            SettingKind::Url => "url",
            SettingKind::Email => "email",
            SettingKind::Integer => "integer",
            SettingKind::Choice => "choice",
            SettingKind::Flag => "flag",
        }
    }
}

impl SettingSpec {
    /// Whether `value` fits the setting, with what to change when it does
    /// not. An empty value always fits: it means "not set", which the
    /// default or `required` decide about.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(());
        }
        match self.kind {
            SettingKind::Text => Ok(()),
            SettingKind::Url => match url::Url::parse(value) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
                _ => Err(format!("`{value}` is not an address starting with https:// (such as https://shop.example)")),
            },
            SettingKind::Email => {
                let ok = value.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
                }) && !value.contains(char::is_whitespace)
                    && value.matches('@').count() == 1;
                if ok { Ok(()) } else { Err(format!("`{value}` is not an e-mail address such as shop@example.com")) }
            }
            SettingKind::Integer => {
                let n: i64 = value.parse().map_err(|_| format!("`{value}` is not a whole number"))?;
                match (self.min, self.max) {
                    (Some(min), _) if n < min => Err(format!("{n} is below the least allowed, {min}")),
                    (_, Some(max)) if n > max => Err(format!("{n} is above the most allowed, {max}")),
                    _ => Ok(()),
                }
            }
            SettingKind::Choice => {
                if self.options.iter().any(|o| o == value) {
                    Ok(())
                } else {
                    Err(format!("`{value}` is not one of {}", self.options.join(", ")))
                }
            }
            SettingKind::Flag => match value {
                "on" | "off" => Ok(()),
                _ => Err(format!("`{value}` is neither on nor off")),
            },
        }
    }

    /// The spec's own consistency: options only for a choice (and at least
    /// one), bounds only for an integer, a secret only as text, a default
    /// that fits.
    fn validate(&self) -> Result<(), String> {
        let key = &self.key;
        if self.kind == SettingKind::Choice && self.options.is_empty() {
            return Err(format!("choice `{key}` needs `options`"));
        }
        if self.kind != SettingKind::Choice && !self.options.is_empty() {
            return Err(format!("`{key}` has `options` but is not a choice"));
        }
        if self.kind != SettingKind::Integer && (self.min.is_some() || self.max.is_some()) {
            return Err(format!("`{key}` has `min`/`max` but is not an integer"));
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(format!("`{key}` has `min` above `max`"));
        }
        if self.secret && self.kind != SettingKind::Text {
            return Err(format!("secret `{key}` must be text"));
        }
        if let Some(d) = &self.default {
            self.check(d).map_err(|e| format!("the default of `{key}` does not fit its type: {e}"))?;
        }
        Ok(())
    }
}

/// A parsed and validated `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: semver::Version,
    pub publisher: String,
    pub description: String,
    /// Contract versions the plugin works with.
    pub contract: semver::VersionReq,
    pub imports: BTreeSet<Capability>,
    pub http: Vec<Origin>,
    pub events: BTreeSet<EventKind>,
    pub settings: Vec<SettingSpec>,
    /// Whether the calls of one installation may share an instance.
    pub instances: Instances,
}

/// Whether a plugin's calls each get a fresh instance (the default) or may
/// reuse a warm one of the same installation (`[plugin] instances = "warm"`).
///
/// A warm instance keeps what the plugin kept in memory (a parsed theme, a
/// cache) for the next request of the same installation, never another's. A
/// plugin opts in when it keeps nothing of one shopper's request that the next
/// shopper must not see. Only requests (`handle-request`, `next-page`) reuse
/// instances; events always get a fresh one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Instances {
    #[default]
    Fresh,
    Warm,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    plugin: RawPlugin,
    #[serde(default)]
    capabilities: RawCapabilities,
    #[serde(default)]
    settings: Vec<SettingSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    id: String,
    name: String,
    version: String,
    publisher: String,
    #[serde(default)]
    description: String,
    contract: String,
    #[serde(default)]
    instances: Instances,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCapabilities {
    #[serde(default)]
    imports: Vec<String>,
    #[serde(default)]
    http: Vec<String>,
    #[serde(default)]
    events: Vec<String>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ManifestError {
    ManifestError::Invalid { field, reason: reason.into() }
}

impl Manifest {
    /// Parse and validate manifest text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(text.len()));
        }
        let raw: RawManifest = toml::from_str(text)?;
        let p = raw.plugin;
        if !is_valid_id(&p.id) {
            return Err(invalid("plugin.id", format!("`{}` must be 1-64 characters of a-z, 0-9 and '-'", p.id)));
        }
        if p.name.trim().is_empty() {
            return Err(invalid("plugin.name", "must not be empty"));
        }
        if p.publisher.trim().is_empty() {
            return Err(invalid("plugin.publisher", "must not be empty"));
        }
        let version = semver::Version::parse(&p.version)
            .map_err(|e| invalid("plugin.version", format!("`{}` is not a semantic version: {e}", p.version)))?;
        let contract = semver::VersionReq::parse(&p.contract).map_err(|e| {
            invalid("plugin.contract", format!("`{}` is not a version requirement such as \"^0.1\": {e}", p.contract))
        })?;
        if !SUPPORTED_CONTRACTS.iter().any(|v| contract.matches(v)) {
            return Err(invalid(
                "plugin.contract",
                format!("`{}` matches no contract this host supports ({})", p.contract, supported_list()),
            ));
        }
        let mut imports = BTreeSet::new();
        for name in &raw.capabilities.imports {
            let cap = Capability::from_name(name).ok_or_else(|| {
                invalid(
                    "capabilities.imports",
                    format!("unknown capability `{name}`; known: {}", Capability::ALL.map(Capability::name).join(", ")),
                )
            })?;
            if !imports.insert(cap) {
                return Err(invalid("capabilities.imports", format!("`{name}` is listed twice")));
            }
        }
        let http = raw
            .capabilities
            .http
            .iter()
            .map(|o| Origin::parse(o).map_err(|e| invalid("capabilities.http", e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if imports.contains(&Capability::Http) && http.is_empty() {
            return Err(invalid("capabilities.http", "the plugin imports http but lists no origins it may call"));
        }
        if !http.is_empty() && !imports.contains(&Capability::Http) {
            return Err(invalid("capabilities.http", "origins are listed but \"http\" is not in capabilities.imports"));
        }
        let events = raw
            .capabilities
            .events
            .iter()
            .map(|kind| kind.parse::<EventKind>().map_err(|e| invalid("capabilities.events", e.to_string())))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let mut keys = BTreeSet::new();
        for s in &raw.settings {
            if s.key.is_empty()
                || !s.key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            {
                return Err(invalid("settings.key", format!("`{}` must be non-empty [A-Za-z0-9_.-]", s.key)));
            }
            if !keys.insert(s.key.clone()) {
                return Err(invalid("settings.key", format!("`{}` is defined twice", s.key)));
            }
            if s.secret && s.default.is_some() {
                return Err(invalid("settings.default", format!("secret `{}` must not have a default", s.key)));
            }
            s.validate().map_err(|reason| invalid("settings.type", reason))?;
        }
        Ok(Manifest {
            id: p.id,
            name: p.name,
            version,
            publisher: p.publisher,
            description: p.description,
            contract,
            imports,
            http,
            events,
            settings: raw.settings,
            instances: p.instances,
        })
    }

    /// Read and parse `plugin.toml` at `path`.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ManifestError::Read { path: path.display().to_string(), source })?;
        Manifest::parse(&text)
    }

    /// Compare a component's actual imports and exports with this manifest:
    /// every import must be an `omnistore:plugin` interface the manifest
    /// requests, in one contract version the manifest accepts, and the
    /// component must export the handler. Returns the contract version used.
    pub fn check_component(&self, component: &[u8]) -> Result<semver::Version, ManifestError> {
        let surface = component_imports(component)?;
        let version = surface.contract.clone();
        if !SUPPORTED_CONTRACTS.contains(&version) {
            return Err(ManifestError::UnsupportedContract(version.to_string()));
        }
        if !self.contract.matches(&version) {
            return Err(ManifestError::ContractMismatch {
                found: version.to_string(),
                declared: self.contract.to_string(),
            });
        }
        self.check_events(&version)?;
        for import in &surface.imports {
            match import {
                ComponentImport::Contract { interface, version: v, full } => {
                    if *v != version {
                        return Err(ManifestError::ForeignImport(full.clone()));
                    }
                    // `types` carries only type definitions; it grants nothing.
                    if interface == "types" {
                        continue;
                    }
                    let cap =
                        Capability::from_name(interface).ok_or_else(|| ManifestError::ForeignImport(full.clone()))?;
                    if !self.imports.contains(&cap) {
                        return Err(ManifestError::UndeclaredImport {
                            import: full.clone(),
                            capability: cap.to_string(),
                        });
                    }
                }
                ComponentImport::Foreign(name) => return Err(ManifestError::ForeignImport(name.clone())),
            }
        }
        Ok(version)
    }

    /// Every subscribed event kind must exist in the contract the component
    /// is built against: an older contract's `event-payload` cannot carry it.
    fn check_events(&self, version: &semver::Version) -> Result<(), ManifestError> {
        for kind in &self.events {
            let (major, minor, patch) = kind.since_contract();
            let since = semver::Version::new(major, minor, patch);
            if since > *version {
                return Err(ManifestError::EventNotInContract {
                    kind: kind.to_string(),
                    since: since.to_string(),
                    found: version.to_string(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_contract(contract: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(&format!(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"1.0.0\"\npublisher = \"Me\"\ncontract = \"{contract}\"\n"
        ))
    }

    #[test]
    fn every_supported_contract_can_be_declared() {
        // Plugins built against 0.1.0 keep loading beside those built against 0.2.0.
        for (declared, version) in [("^0.1", "0.1.0"), ("^0.2", "0.2.0"), ("0.2.0", "0.2.0")] {
            let manifest = with_contract(declared).unwrap();
            assert!(manifest.contract.matches(&semver::Version::parse(version).unwrap()), "{declared}");
        }
        // `^0.1` does not stretch to 0.2.0: a new minor version of a 0.x contract may break.
        assert!(!with_contract("^0.1").unwrap().contract.matches(&semver::Version::new(0, 2, 0)));
    }

    #[test]
    fn instances_are_fresh_unless_the_plugin_asks_for_warm_ones() {
        let parse = |line: &str| {
            Manifest::parse(&format!(
                "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"1.0.0\"\npublisher = \"Me\"\ncontract = \"^0.2\"\n{line}"
            ))
        };
        assert_eq!(parse("").unwrap().instances, Instances::Fresh);
        assert_eq!(parse("instances = \"fresh\"").unwrap().instances, Instances::Fresh);
        assert_eq!(parse("instances = \"warm\"").unwrap().instances, Instances::Warm);
        let err = parse("instances = \"shared\"").unwrap_err().to_string();
        assert!(err.contains("shared") && err.contains("fresh") && err.contains("warm"), "{err}");
    }

    #[test]
    fn typed_settings_check_their_values_and_their_own_spec() {
        let parse = |settings: &str| {
            Manifest::parse(&format!(
                "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"1.0.0\"\npublisher = \"Me\"\ncontract = \"^0.2\"\n{settings}"
            ))
        };
        let m = parse(
            "[[settings]]\nkey = \"language\"\nlabel = \"L\"\ntype = \"choice\"\noptions = [\"it\", \"en\"]\ndefault = \"it\"\n\
             [[settings]]\nkey = \"shop_url\"\nlabel = \"U\"\ntype = \"url\"\n\
             [[settings]]\nkey = \"reply_to\"\nlabel = \"E\"\ntype = \"email\"\ndefault = \"\"\n\
             [[settings]]\nkey = \"kept\"\nlabel = \"N\"\ntype = \"integer\"\nmin = 1\nmax = 100\n\
             [[settings]]\nkey = \"survey\"\nlabel = \"F\"\ntype = \"flag\"\ndefault = \"off\"\n\
             [[settings]]\nkey = \"greeting\"\nlabel = \"T\"\n",
        )
        .unwrap();
        let spec = |key: &str| m.settings.iter().find(|s| s.key == key).unwrap();
        assert_eq!(spec("greeting").kind, SettingKind::Text, "text when not said");
        for (key, good, bad) in [
            ("language", "en", "de"),
            ("shop_url", "https://shop.example/it", "shop.example"),
            ("reply_to", "ordini@shop.example", "ordini at shop"),
            ("kept", "100", "101"),
            ("kept", "1", "many"),
            ("survey", "on", "yes"),
        ] {
            assert_eq!(spec(key).check(good), Ok(()), "{key}={good}");
            assert!(spec(key).check(bad).is_err(), "{key}={bad}");
            assert_eq!(spec(key).check("  "), Ok(()), "empty means not set");
        }
        assert!(spec("shop_url").check("ftp://shop.example").is_err());
        assert!(spec("kept").check("0").unwrap_err().contains("below the least allowed, 1"));
        for (bad, says) in [
            ("[[settings]]\nkey = \"a\"\nlabel = \"A\"\ntype = \"choice\"\n", "needs `options`"),
            ("[[settings]]\nkey = \"a\"\nlabel = \"A\"\noptions = [\"x\"]\n", "not a choice"),
            ("[[settings]]\nkey = \"a\"\nlabel = \"A\"\ntype = \"flag\"\ndefault = \"yes\"\n", "does not fit"),
            ("[[settings]]\nkey = \"a\"\nlabel = \"A\"\ntype = \"integer\"\nmin = 5\nmax = 1\n", "`min` above `max`"),
            ("[[settings]]\nkey = \"a\"\nlabel = \"A\"\ntype = \"url\"\nsecret = true\n", "must be text"),
            ("[[settings]]\nkey = \"a\"\nlabel = \"A\"\ntype = \"colour\"\n", "colour"),
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn an_event_newer_than_the_components_contract_is_refused() {
        let manifest = Manifest::parse(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"1.0.0\"\npublisher = \"Me\"\ncontract = \">=0.1\"\n\
             [capabilities]\nevents = [\"order.placed\", \"return.received\"]\n",
        )
        .unwrap();
        let err = manifest.check_events(&semver::Version::new(0, 1, 0)).unwrap_err().to_string();
        assert!(
            err.contains("`return.received`") && err.contains("since 0.2.0") && err.contains("contract 0.1.0"),
            "{err}"
        );
        manifest.check_events(&semver::Version::new(0, 2, 0)).unwrap();
    }

    #[test]
    fn a_contract_the_host_lacks_is_refused_with_the_supported_list() {
        for declared in ["^0.3", "^1", "=0.1.5"] {
            let err = with_contract(declared).unwrap_err().to_string();
            assert!(err.contains("matches no contract this host supports (0.1.0, 0.2.0)"), "{declared}: {err}");
        }
        let err = ManifestError::UnsupportedContract("0.3.0".into()).to_string();
        assert!(err.contains("contract 0.3.0") && err.contains("supported: 0.1.0, 0.2.0"), "{err}");
    }
}
