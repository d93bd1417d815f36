//! The deployment file (`omnistore.toml`): where the host listens, where it
//! keeps data, and — until channels are managed through the admin API — which
//! tenants exist and which plugin packages they have installed.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = ".omnistore"
//! allow_private_network = false
//!
//! [http]                         # every key optional; these are the defaults
//! path_routing = false           # serve /t/{tenant}/… (development only)
//! host_names = ["localhost", "127.0.0.1"]  # the host's own names, for path routing
//! scheme = "https"               # how shoppers reach the host ("http": a plain listener)
//! max_body_bytes = 4194304       # storefront/webhook request bodies
//! admin_max_body_bytes = 1048576 # admin API request bodies
//! max_package_bytes = 33554432   # install requests carrying a package
//! body_read_timeout_secs = 15
//! stream_max_pages = 100000      # pages of one streamed response
//! stream_max_bytes = 1073741824  # bytes of one streamed response
//! stream_max_secs = 300          # wall time of one streamed response
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
//!
//! [catalog]                       # packages merchants may install from the admin
//! packages = ["target/plugins/email", "target/plugins/sms"]   # relative to this file
//!
//! [development]                   # never in production
//! origins = ["http://127.0.0.1:8093"]  # every plugin may also reach these (local stand-ins)
//! stand_ins = { twilio = "127.0.0.1:8093" }  # what `omnistore demo` starts (see the CLI)
//!
//! [tenants.mail]                  # optional: see `mail_settings.rs`
//! from = "ordini@demo.example"
//! relay = "smtp.example.net"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    pub http: HttpSettings,
    #[serde(default)]
    pub tenants: Vec<TenantSpec>,
    #[serde(default)]
    pub development: Development,
    #[serde(default)]
    pub catalog: Catalog,
}

/// The `[catalog]` table: plugin packages this deployment offers its
/// merchants, who install them from the admin by plugin id. Only the
/// manifests are read at start (a package missing or invalid is left out
/// with a warning); the component is verified when a merchant installs it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Package directories (plugin.toml + plugin.wasm), relative to the file.
    #[serde(default)]
    pub packages: Vec<PathBuf>,
}

/// The `[development]` table: what lets a local deployment talk to local
/// stand-ins instead of the real platforms.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Development {
    /// Origins every installation may reach besides its manifest's.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Stand-ins the demo starts, by name, with the address each listens on.
    #[serde(default)]
    pub stand_ins: BTreeMap<String, String>,
}

impl Development {
    /// The origins, parsed; a bad one names itself.
    pub fn origins(&self) -> anyhow::Result<Vec<omnistore_runtime::manifest::Origin>> {
        self.origins
            .iter()
            .map(|o| {
                omnistore_runtime::manifest::Origin::parse(o).with_context(|| {
                    format!("[development] origins: `{o}` is not an origin such as http://127.0.0.1:8093")
                })
            })
            .collect()
    }
}

/// The `[http]` table: routing and the limits of the HTTP edge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Answer `/t/{tenant}/…` on `host_names`. Off in production: a tenant's
    /// pages are served only on its own domains.
    pub path_routing: bool,
    pub host_names: Vec<String>,
    /// How shoppers reach the host: `https` (behind a TLS proxy, the
    /// default) or `http` (a plain listener, development).
    pub scheme: crate::PublicScheme,
    pub max_body_bytes: usize,
    pub admin_max_body_bytes: usize,
    pub max_package_bytes: usize,
    pub body_read_timeout_secs: u64,
    pub stream_max_pages: u64,
    pub stream_max_bytes: u64,
    pub stream_max_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        let edge = crate::EdgeLimits::default();
        HttpSettings {
            path_routing: false,
            host_names: vec!["localhost".into(), "127.0.0.1".into()],
            scheme: crate::PublicScheme::Https,
            max_body_bytes: edge.max_body_bytes,
            admin_max_body_bytes: crate::admin::DEFAULT_MAX_BODY_BYTES,
            max_package_bytes: crate::admin::DEFAULT_MAX_PACKAGE_BYTES,
            body_read_timeout_secs: edge.body_read_timeout.as_secs(),
            stream_max_pages: edge.stream.max_pages,
            stream_max_bytes: edge.stream.max_bytes,
            stream_max_secs: edge.stream.max_duration.as_secs(),
        }
    }
}

impl HttpSettings {
    /// The same settings with path routing on (the demo, `plugin run`).
    pub fn development() -> Self {
        HttpSettings { path_routing: true, scheme: crate::PublicScheme::Http, ..HttpSettings::default() }
    }

    pub fn path_routing(&self) -> crate::PathRouting {
        if self.path_routing { crate::PathRouting::on(&self.host_names) } else { crate::PathRouting::Off }
    }

    pub fn edge_limits(&self) -> crate::EdgeLimits {
        crate::EdgeLimits {
            max_body_bytes: self.max_body_bytes,
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            stream: crate::StreamLimits {
                max_pages: self.stream_max_pages,
                max_bytes: self.stream_max_bytes,
                max_duration: Duration::from_secs(self.stream_max_secs),
            },
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        let positive = [
            ("max_body_bytes", self.max_body_bytes as u64),
            ("admin_max_body_bytes", self.admin_max_body_bytes as u64),
            ("max_package_bytes", self.max_package_bytes as u64),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("stream_max_pages", self.stream_max_pages),
            ("stream_max_bytes", self.stream_max_bytes),
            ("stream_max_secs", self.stream_max_secs),
        ];
        for (name, value) in positive {
            if value == 0 {
                bail!("[http] {name} must be greater than 0");
            }
        }
        if self.path_routing && self.host_names.is_empty() {
            bail!("[http] path_routing needs the host's own names in host_names, such as [\"localhost\"]");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub id: String,
    /// The shop's name when the host creates the tenant; its id otherwise.
    #[serde(default)]
    pub name: Option<String>,
    /// The currency of a tenant the host creates (ISO 4217).
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub installations: Vec<InstallationSpec>,
    /// How the tenant's mail is sent; without it, mail waits in the outbox.
    #[serde(default)]
    pub mail: Option<crate::mail_settings::MailSpec>,
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

fn default_currency() -> String {
    "EUR".into()
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
        for package in &mut d.catalog.packages {
            if package.is_relative() {
                *package = base.join(&*package);
            }
        }
        for t in &mut d.tenants {
            if let Some(mail) = &mut t.mail {
                mail.rebase(base);
            }
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
        self.http.validate()?;
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
