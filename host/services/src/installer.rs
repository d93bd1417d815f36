//! The one place an installation is put together from a plugin's manifest and
//! what the merchant (or a deployment file, or a test) gave it. The server's
//! admin API and start-up, the deployment file, the SDK's harness and
//! `omnistore plugin run` all build installations here, so they follow the
//! same rules:
//!
//! - **Grants** are what the manifest requests, less what is withheld (or, for
//!   a recorded channel, exactly the granted names); naming a capability that
//!   does not exist, or granting one the manifest does not request, is refused.
//! - **Settings** must be declared by the manifest and not be secrets; a
//!   setting left out takes the manifest's default. JSON values are passed to
//!   the plugin as text (a string as itself, anything else as its JSON).
//! - **Secrets** are the merchant's to name (an API key the plugin reads by
//!   name); every secret given, and every one the manifest declares, set or
//!   not, is hidden from `settings.list`.
//! - **Mounts** are normalised: a leading slash, no trailing one (`/` alone
//!   for the root); an installation without one is served at `/<id>`.

use std::collections::{BTreeMap, BTreeSet};

use omnistore_runtime::manifest::Origin;
use omnistore_runtime::{Capability, Grants, Installation, Manifest, TenantId};

/// Why an installation cannot be built; each says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    #[error("unknown capability `{0}`")]
    UnknownCapability(String),
    #[error("`{capability}` is not requested by {plugin}; a channel can only be granted what its manifest requests")]
    NotRequested { capability: String, plugin: String },
    #[error("{plugin} declares no setting `{key}`; its settings are: {declared}")]
    UnknownSetting { key: String, plugin: String, declared: String },
    #[error("`{key}` is a secret of {plugin}; set it as a secret, not as a setting")]
    SecretAsSetting { key: String, plugin: String },
    #[error("setting `{key}`: {reason}")]
    BadValue { key: String, reason: String },
}

/// An installation being put together; see the module's rules.
#[derive(Debug, Clone)]
pub struct InstallationBuilder<'m> {
    manifest: &'m Manifest,
    grants: Grants,
    settings: BTreeMap<String, String>,
    secrets: BTreeSet<String>,
}

impl<'m> InstallationBuilder<'m> {
    /// Everything the manifest requests granted, no setting given.
    pub fn new(manifest: &'m Manifest) -> InstallationBuilder<'m> {
        InstallationBuilder {
            manifest,
            grants: Grants::from_manifest(manifest),
            settings: BTreeMap::new(),
            secrets: BTreeSet::new(),
        }
    }

    /// The manifest the installation is of.
    pub fn manifest(&self) -> &'m Manifest {
        self.manifest
    }

    fn plugin(&self) -> String {
        format!("{} {}", self.manifest.id, self.manifest.version)
    }

    fn capability(&self, name: &str) -> Result<Capability, InstallError> {
        Capability::from_name(name).ok_or_else(|| InstallError::UnknownCapability(name.to_owned()))
    }

    /// Withhold these capabilities (by name) from what the manifest requests.
    pub fn withhold<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Result<Self, InstallError> {
        for name in names {
            let capability = self.capability(name)?;
            self.grants = self.grants.without(capability);
        }
        Ok(self)
    }

    /// Withhold one capability.
    pub fn without(mut self, capability: Capability) -> Self {
        self.grants = self.grants.without(capability);
        self
    }

    /// Grant exactly these capabilities (a channel's record), each of which
    /// the manifest must request.
    pub fn grant_exactly<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Result<Self, InstallError> {
        let mut granted = BTreeSet::new();
        for name in names {
            let capability = self.capability(name)?;
            if !self.manifest.imports.contains(&capability) {
                return Err(InstallError::NotRequested { capability: name.to_owned(), plugin: self.plugin() });
            }
            granted.insert(capability);
        }
        for capability in Capability::ALL {
            if !granted.contains(&capability) {
                self.grants = self.grants.without(capability);
            }
        }
        Ok(self)
    }

    /// Allow one more HTTP origin than the manifest names (tests against a
    /// local stub server).
    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.grants = self.grants.with_origin(origin);
        self
    }

    /// A setting the manifest declares (not a secret).
    pub fn setting(mut self, key: &str, value: impl Into<String>) -> Result<Self, InstallError> {
        match self.manifest.settings.iter().find(|s| s.key == key) {
            None => Err(self.unknown(key)),
            Some(s) if s.secret => Err(InstallError::SecretAsSetting { key: key.to_owned(), plugin: self.plugin() }),
            Some(_) => {
                self.settings.insert(key.to_owned(), value.into());
                Ok(self)
            }
        }
    }

    /// Settings as stored in a channel's record (JSON values).
    pub fn json_settings<'a>(
        mut self,
        settings: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> Result<Self, InstallError> {
        for (key, value) in settings {
            self = self.setting(key, setting_text(value))?;
        }
        Ok(self)
    }

    /// The value of a secret: read by name, never listed.
    pub fn secret(mut self, key: &str, value: impl Into<String>) -> Self {
        self.secrets.insert(key.to_owned());
        self.settings.insert(key.to_owned(), value.into());
        self
    }

    /// The capabilities granted, by name (what a channel's record keeps).
    pub fn granted(&self) -> Vec<String> {
        self.grants.imports().map(|c| c.name().to_owned()).collect()
    }

    /// The settings given so far, without defaults (what a channel's record keeps).
    pub fn given_settings(&self) -> BTreeMap<String, serde_json::Value> {
        self.settings
            .iter()
            .filter(|(k, _)| !self.secrets.contains(*k))
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect()
    }

    /// Names of the secrets given.
    pub fn given_secrets(&self) -> BTreeSet<String> {
        self.secrets.clone()
    }

    fn unknown(&self, key: &str) -> InstallError {
        let declared: Vec<&str> = self.manifest.settings.iter().map(|s| s.key.as_str()).collect();
        InstallError::UnknownSetting {
            key: key.to_owned(),
            plugin: self.plugin(),
            declared: if declared.is_empty() { "none".to_owned() } else { declared.join(", ") },
        }
    }

    /// The installation `id` of `tenant`: defaults filled in, the secrets
    /// given and the manifest's (and `extra_secrets`, names a record or a
    /// deployment keeps as secret) hidden from the list.
    pub fn build(self, tenant: &TenantId, id: &str, extra_secrets: impl IntoIterator<Item = String>) -> Installation {
        let mut settings = self.settings;
        for s in &self.manifest.settings {
            if let (false, Some(default)) = (settings.contains_key(&s.key), &s.default) {
                settings.insert(s.key.clone(), default.clone());
            }
        }
        let mut secrets = self.secrets;
        secrets.extend(self.manifest.settings.iter().filter(|s| s.secret).map(|s| s.key.clone()));
        secrets.extend(extra_secrets);
        Installation { tenant: tenant.clone(), id: id.to_owned(), grants: self.grants, settings, secrets }
    }
}

/// A setting's JSON value as the plugin reads it: a string as itself,
/// anything else as its JSON text.
pub fn setting_text(value: &serde_json::Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// Check settings a merchant gives (an install or a change of settings)
/// against the manifest without building anything: each declared, not a
/// secret, and of its type. Installations already stored are loaded
/// without the type check, so a plugin that tightens a type does not stop
/// a shop's channel from starting; the merchant meets it on the next change.
pub fn check_settings(manifest: &Manifest, settings: &BTreeMap<String, serde_json::Value>) -> Result<(), InstallError> {
    InstallationBuilder::new(manifest).json_settings(settings)?;
    for (key, value) in settings {
        if let Some(spec) = manifest.settings.iter().find(|s| &s.key == key) {
            spec.check(&setting_text(value)).map_err(|reason| InstallError::BadValue { key: key.clone(), reason })?;
        }
    }
    Ok(())
}

/// A mount path: a leading slash, no trailing one (`/` alone for the root).
pub fn normalize_mount(mount: &str) -> String {
    let trimmed = mount.trim_matches('/');
    if trimmed.is_empty() { "/".to_owned() } else { format!("/{trimmed}") }
}

/// Where an installation without a mount of its own is served.
pub fn default_mount(id: &str) -> String {
    normalize_mount(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[plugin]
id = "greeter"
name = "Greeter"
version = "1.2.0"
publisher = "Tests"
description = "Greets."
contract = "^0.2"

[capabilities]
imports = ["storage", "settings", "catalog"]

[[settings]]
key = "greeting"
label = "Greeting"
default = "Ciao"

[[settings]]
key = "title"
label = "Title"

[[settings]]
key = "language"
label = "Language"
type = "choice"
options = ["it", "en"]

[[settings]]
key = "api_key"
label = "API key"
secret = true
"#;

    fn manifest() -> Manifest {
        Manifest::parse(MANIFEST).unwrap()
    }

    fn tenant() -> TenantId {
        TenantId::new("shop").unwrap()
    }

    fn granted(i: &Installation) -> Vec<&'static str> {
        let mut names: Vec<&str> = i.grants.imports().map(|c| c.name()).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn what_a_channel_record_keeps() {
        let m = manifest();
        let b = InstallationBuilder::new(&m).withhold(["storage"]).unwrap().setting("title", "T").unwrap();
        let mut granted = b.granted();
        granted.sort();
        assert_eq!(granted, ["catalog", "settings"]);
        assert_eq!(b.given_settings(), [("title".to_owned(), serde_json::json!("T"))].into());
    }

    #[test]
    fn grants_are_what_the_manifest_requests_less_what_is_withheld() {
        let m = manifest();
        let all = InstallationBuilder::new(&m).build(&tenant(), "chn-1", []);
        assert_eq!(granted(&all), ["catalog", "settings", "storage"]);
        let less = InstallationBuilder::new(&m).withhold(["catalog"]).unwrap().build(&tenant(), "chn-1", []);
        assert_eq!(granted(&less), ["settings", "storage"]);
        let err = InstallationBuilder::new(&m).withhold(["teleport"]).unwrap_err();
        assert_eq!(err, InstallError::UnknownCapability("teleport".into()));
    }

    #[test]
    fn a_channel_is_granted_exactly_its_record_within_the_manifest() {
        let m = manifest();
        let i = InstallationBuilder::new(&m).grant_exactly(["settings"]).unwrap().build(&tenant(), "chn-1", []);
        assert_eq!(granted(&i), ["settings"]);
        let err = InstallationBuilder::new(&m).grant_exactly(["http"]).unwrap_err();
        assert!(matches!(err, InstallError::NotRequested { ref capability, .. } if capability == "http"), "{err}");
        assert!(err.to_string().contains("greeter 1.2.0"), "{err}");
    }

    #[test]
    fn settings_are_declared_ones_with_defaults_filled_in() {
        let m = manifest();
        let i = InstallationBuilder::new(&m).setting("title", "Dolce Vita").unwrap().build(&tenant(), "chn-1", []);
        assert_eq!(i.settings.get("greeting").map(String::as_str), Some("Ciao"), "the default");
        assert_eq!(i.settings.get("title").map(String::as_str), Some("Dolce Vita"));
        let given = InstallationBuilder::new(&m).setting("greeting", "Salve").unwrap().build(&tenant(), "c", []);
        assert_eq!(given.settings["greeting"], "Salve", "a given value wins over the default");
        let err = InstallationBuilder::new(&m).setting("colour", "red").unwrap_err();
        assert!(err.to_string().contains("greeting, title, language, api_key"), "{err}");
        let err = InstallationBuilder::new(&m).setting("api_key", "k").unwrap_err();
        assert!(matches!(err, InstallError::SecretAsSetting { .. }), "{err}");
    }

    #[test]
    fn json_settings_reach_the_plugin_as_text() {
        let m = manifest();
        let stored: BTreeMap<String, serde_json::Value> =
            [("title".to_owned(), serde_json::json!("Dolce")), ("greeting".to_owned(), serde_json::json!(3))].into();
        let i = InstallationBuilder::new(&m).json_settings(&stored).unwrap().build(&tenant(), "c", []);
        assert_eq!(i.settings["title"], "Dolce");
        assert_eq!(i.settings["greeting"], "3");
        let bad: BTreeMap<String, serde_json::Value> = [("nope".to_owned(), serde_json::json!("x"))].into();
        assert!(check_settings(&m, &bad).is_err());
        assert!(check_settings(&m, &stored).is_ok());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_when_given_but_a_stored_one_still_loads() {
        let m = manifest();
        let german: BTreeMap<String, serde_json::Value> = [("language".to_owned(), serde_json::json!("de"))].into();
        let err = check_settings(&m, &german).unwrap_err();
        assert!(matches!(&err, InstallError::BadValue { key, .. } if key == "language"), "{err}");
        assert!(err.to_string().contains("not one of it, en"), "{err}");
        let italian: BTreeMap<String, serde_json::Value> = [("language".to_owned(), serde_json::json!("it"))].into();
        assert!(check_settings(&m, &italian).is_ok());
        // A record stored before the type existed keeps its channel running.
        let i = InstallationBuilder::new(&m).json_settings(&german).unwrap().build(&tenant(), "c", []);
        assert_eq!(i.settings["language"], "de");
    }

    #[test]
    fn secrets_are_declared_and_every_declared_secret_is_hidden() {
        let m = manifest();
        let unset = InstallationBuilder::new(&m).build(&tenant(), "c", []);
        assert!(unset.secrets.contains("api_key"), "hidden even before it is set");
        assert!(!unset.settings.contains_key("api_key"));
        let set = InstallationBuilder::new(&m).secret("api_key", "k-123").build(&tenant(), "c", []);
        assert_eq!(set.settings["api_key"], "k-123");
        let own = InstallationBuilder::new(&m).secret("password", "x");
        assert!(own.given_settings().is_empty(), "a secret is never recorded as a setting");
        let own = own.build(&tenant(), "c", []);
        assert!(own.secrets.contains("password") && own.settings["password"] == "x", "the merchant's own secret");
        let kept = InstallationBuilder::new(&m).build(&tenant(), "c", ["title".into()]);
        assert!(kept.secrets.contains("title"), "a deployment may keep a declared setting secret");
    }

    #[test]
    fn mounts_are_normalised() {
        assert_eq!(normalize_mount("shop/"), "/shop");
        assert_eq!(normalize_mount("//a/b//"), "/a/b");
        assert_eq!(normalize_mount(""), "/");
        assert_eq!(normalize_mount("/"), "/");
        assert_eq!(default_mount("chn-1"), "/chn-1");
    }
}
