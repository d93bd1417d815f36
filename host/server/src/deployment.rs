//! The deployment file (`omnistore.toml`): where the host listens, where it
//! keeps data, and — until channels are managed through the admin API — which
//! tenants exist and which plugin packages they have installed.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = ".omnistore"
//! allow_private_network = false
//!
//! [[tenants]]
//! id = "demo"
//! domains = ["demo.localhost"]
//!
//! [[tenants.installations]]
//! id = "hello"
//! package = "target/plugins/hello-channel"   # relative to this file
//! mount = "/"
//! withhold = []                               # capabilities not granted
//! settings = { greeting = "Benvenuti" }
//! secrets = []                                # which settings are secrets
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub allow_private_network: bool,
    #[serde(default)]
    pub tenants: Vec<TenantSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub id: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub installations: Vec<InstallationSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallationSpec {
    pub id: String,
    /// A plugin package directory (plugin.toml + plugin.wasm).
    pub package: PathBuf,
    #[serde(default = "default_mount")]
    pub mount: String,
    #[serde(default)]
    pub withhold: Vec<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeSet<String>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

fn default_data_dir() -> PathBuf {
    ".omnistore".into()
}

fn default_mount() -> String {
    "/".into()
}

impl Deployment {
    /// Read a deployment file; relative paths in it are taken relative to it.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut d: Deployment = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if d.data_dir.is_relative() {
            d.data_dir = base.join(&d.data_dir);
        }
        for t in &mut d.tenants {
            for i in &mut t.installations {
                if i.package.is_relative() {
                    i.package = base.join(&i.package);
                }
            }
        }
        d.validate()?;
        Ok(d)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let mut seen = BTreeSet::new();
        for t in &self.tenants {
            if let Err(err) = omnistore_runtime::TenantId::new(t.id.clone()) {
                bail!("{err}");
            }
            if !seen.insert(&t.id) {
                bail!("tenant `{}` is listed twice", t.id);
            }
            let mut ids = BTreeSet::new();
            for i in &t.installations {
                if !omnistore_runtime::manifest::is_valid_id(&i.id) {
                    bail!(
                        "installation id `{}` of tenant `{}` must be 1-64 characters of a-z, 0-9 and '-'",
                        i.id,
                        t.id
                    );
                }
                if !ids.insert(&i.id) {
                    bail!("installation `{}` is listed twice in tenant `{}`", i.id, t.id);
                }
                for cap in &i.withhold {
                    if omnistore_runtime::Capability::from_name(cap).is_none() {
                        bail!("installation `{}`: unknown capability `{cap}` in withhold", i.id);
                    }
                }
            }
        }
        Ok(())
    }
}
