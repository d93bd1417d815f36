//! The whole product in one value: store, commerce core, plugin runtime with
//! core-backed imports, the routing registry filled from the core's channels,
//! the admin API, and the event dispatcher.
//!
//! Channels (installed plugins) are records of the core; their packages are
//! copied into `<data dir>/packages/<plugin id>/<version>/` at install time and
//! loaded again from there when the host starts. Product images live in
//! `<data dir>/media/<tenant>/` (see `omnistore-media`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use omnistore_core::{Channel, ChannelId, ChannelPatch, Core, NewChannel, TenantId};
use omnistore_media::MediaStore;
use omnistore_runtime::manifest::Origin;
use omnistore_runtime::{LoadError, Manifest, Plugin, Runtime, RuntimeConfig};
use omnistore_services::installer::{InstallError, InstallationBuilder, check_settings};
use omnistore_services::mail_delivery::MailDelivery;
use omnistore_storage::{KvStore, keyspace, transact};

use crate::admin::{AdminError, AdminState, CatalogueEntry, ChannelInstaller, InstallRequest, PackageSource};
use crate::async_core::{AsyncCore, off_executor};
use crate::commerce::CoreServices;
use crate::deployment::HttpSettings;
use crate::dispatcher::{Dispatcher, DispatcherHandle, InstallationLookup, RuntimeSink};
use crate::preview::PreviewKey;
use crate::secrets::{self, SecretError, SecretKeys};
use crate::{AppState, Mounted, Registry, normalize_mount};
use omnistore_runtime::system_now_ms as now_ms;

/// How to start a host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Where the embedded store, packages and the component cache live.
    pub data_dir: PathBuf,
    /// Storage spec (`redb:<path>`, `postgres://…`); default: redb in `data_dir`.
    pub store: Option<String>,
    pub allow_private_network: bool,
    /// The operator's bearer token for the admin API.
    pub operator_token: String,
    /// Routing and limits of the HTTP edge (`[http]` of `omnistore.toml`).
    pub http: HttpSettings,
    /// The keys sealing channel secrets; `None`: from the environment or
    /// the key file in `data_dir` ([`SecretKeys::from_env_or_file`]).
    pub secrets: Option<Arc<SecretKeys>>,
    /// Origins every installation may reach besides its manifest's
    /// (`[development] origins`): local stand-ins for remote APIs.
    pub development_origins: Vec<Origin>,
}

/// A running host.
pub struct Host {
    pub http: HttpSettings,
    pub core: Core,
    pub runtime: Runtime,
    pub registry: Arc<Registry>,
    pub admin: AdminState,
    /// The admin in the browser, over the same state as the API.
    pub ui: crate::ui::UiState,
    pub installer: Arc<PackageInstaller>,
    pub media: Arc<MediaStore>,
    /// Signs preview links (`POST …/files/preview`) and verifies them on storefront requests.
    pub preview: PreviewKey,
    /// Sends each tenant's queued mail through its relay, once configured.
    pub mail: Arc<MailDelivery>,
    dispatcher: Option<DispatcherHandle>,
    sweeper: Option<(tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
    mail_worker: Option<(Arc<tokio::sync::Notify>, tokio::task::JoinHandle<()>)>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

/// Installs plugin packages as channels and keeps the registry in step with the core.
pub struct PackageInstaller {
    core: AsyncCore,
    runtime: Runtime,
    registry: Arc<Registry>,
    kv: Arc<dyn KvStore>,
    packages: PathBuf,
    max_component_bytes: usize,
    secrets: Arc<SecretKeys>,
    media: Arc<MediaStore>,
    development_origins: Vec<Origin>,
    /// The deployment's catalogue ([`Host::offer_catalogue`]), set once at start.
    catalogue: std::sync::RwLock<Vec<Offered>>,
}

/// A package of the deployment's catalogue: its manifest, and where it is.
#[derive(Debug, Clone)]
struct Offered {
    manifest: Manifest,
    dir: PathBuf,
}

/// Why a package of the deployment's `[catalog]` is left out of it.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error(
        "{dir} has no plugin.wasm: build the package with `omnistore plugin build` (in this repository: \
         `cargo xtask build-plugins`)"
    )]
    NoComponent { dir: String },
    #[error("{dir}: {source}")]
    Manifest { dir: String, source: omnistore_runtime::manifest::ManifestError },
    #[error("{dir}: plugin `{id}` is already offered by {first}; list each plugin once")]
    Duplicate { dir: String, id: String, first: String },
}

/// Read the manifest of each catalogue package: the ones that can be
/// offered, and why each other one cannot. Blocking (small files).
fn read_catalogue(packages: &[PathBuf]) -> (Vec<Offered>, Vec<CatalogueError>) {
    let mut offered: Vec<Offered> = Vec::new();
    let mut refused = Vec::new();
    for dir in packages {
        let shown = dir.display().to_string();
        if !dir.join("plugin.wasm").is_file() {
            refused.push(CatalogueError::NoComponent { dir: shown });
            continue;
        }
        let manifest = match Manifest::load(&dir.join("plugin.toml")) {
            Ok(m) => m,
            Err(source) => {
                refused.push(CatalogueError::Manifest { dir: shown, source });
                continue;
            }
        };
        if let Some(first) = offered.iter().find(|o| o.manifest.id == manifest.id) {
            let first = first.dir.display().to_string();
            refused.push(CatalogueError::Duplicate { dir: shown, id: manifest.id, first });
            continue;
        }
        offered.push(Offered { manifest, dir: dir.clone() });
    }
    (offered, refused)
}

impl std::fmt::Debug for PackageInstaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageInstaller").field("packages", &self.packages).finish_non_exhaustive()
    }
}

/// Write a verified package into the data directory; each file appears
/// whole (written beside, then renamed) so a crash leaves no half file.
fn store_package(to: &Path, manifest: &str, component: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for (file, bytes) in [("plugin.toml", manifest.as_bytes()), ("plugin.wasm", component)] {
        let tmp = to.join(format!("{file}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, to.join(file))?;
    }
    Ok(())
}

/// Read a package directory (operator installs). The messages name no path:
/// they may reach an HTTP client.
async fn read_package_dir(dir: &Path) -> Result<(String, Vec<u8>), AdminError> {
    let unreadable = |file: &str| {
        AdminError::invalid(format!(
            "the package directory has no readable {file}; a package holds plugin.toml and plugin.wasm \
             as `omnistore plugin build` writes them"
        ))
    };
    let manifest = tokio::fs::read_to_string(dir.join("plugin.toml")).await.map_err(|_| unreadable("plugin.toml"))?;
    let component = tokio::fs::read(dir.join("plugin.wasm")).await.map_err(|_| unreadable("plugin.wasm"))?;
    Ok((manifest, component))
}

/// A package that failed to load: the client's fault unless the host's cache failed.
fn load_failed(e: LoadError) -> AdminError {
    match e {
        LoadError::Cache(_) => AdminError::internal(format!("loading a package: {e}")),
        e => AdminError::invalid(format!("the package does not verify: {e}")),
    }
}

impl PackageInstaller {
    /// The directory of the catalogue's package `plugin`.
    fn offered(&self, plugin: &str) -> Option<PathBuf> {
        let offered = self.catalogue.read().unwrap_or_else(|p| p.into_inner());
        offered.iter().find(|o| o.manifest.id == plugin).map(|o| o.dir.clone())
    }

    fn package_dir(&self, plugin: &str, version: &str) -> PathBuf {
        self.packages.join(plugin).join(version)
    }

    pub(crate) async fn mount_of(&self, tenant: &TenantId, channel: &ChannelId) -> String {
        let key = keyspace::mount_key(tenant, channel.as_str());
        let kv = self.kv.clone();
        off_executor(move || transact(&*kv, |txn| txn.get(&key)))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
            .and_then(|v| String::from_utf8(v).ok())
            .unwrap_or_else(|| format!("/{channel}"))
    }

    /// Seal and store a secret of a channel, and remount it with the secret.
    pub(crate) async fn set_secret(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        name: &str,
        value: &str,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let sealed = self.secrets.seal(&secrets::context(tenant.as_str(), channel.as_str(), name), value)?;
        let (t, c, n) = (tenant.clone(), channel.clone(), name.to_owned());
        let updated = self
            .core
            .run(move |core| {
                core.set_channel_secret(&t, &c, &n, &sealed, now_ms)?;
                core.get_channel(&t, &c)
            })
            .await?;
        self.sync_channel(tenant, &updated, None).await.map_err(|e| anyhow::anyhow!("{}", e.message))
    }

    /// Mount (or remount, or unmount when disabled) one channel of the core.
    async fn sync_channel(
        &self,
        tenant: &TenantId,
        channel: &Channel,
        loaded: Option<Arc<Plugin>>,
    ) -> Result<(), AdminError> {
        if !channel.enabled {
            self.registry.unmount(tenant, channel.id.as_str());
            return Ok(());
        }
        let dir = self.package_dir(&channel.plugin_id, &channel.version);
        let mounted = self.registry.find(tenant, channel.id.as_str()).map(|m| m.plugin);
        let plugin =
            match loaded.or(mounted) {
                Some(p) if p.manifest.version.to_string() == channel.version => p,
                _ => self.runtime.load_dir(&dir).await.map_err(|e| {
                    AdminError::internal(format!("loading the installed package {}: {e}", dir.display()))
                })?,
            };
        let sealed = {
            let (tenant, channel) = (tenant.clone(), channel.clone());
            self.core
                .run(move |core| {
                    let mut found = Vec::new();
                    for name in &channel.secret_keys {
                        if let Some(stored) = core.channel_secret(&tenant, &channel.id, name)? {
                            found.push((name.clone(), stored));
                        }
                    }
                    Ok(found)
                })
                .await?
        };
        let not_built = |e: InstallError| AdminError::internal(format!("channel {} in {tenant}: {e}", channel.id));
        let mut plan = InstallationBuilder::new(&plugin.manifest)
            .grant_exactly(channel.capabilities.iter().map(String::as_str))
            .map_err(not_built)?
            .json_settings(&channel.settings)
            .map_err(not_built)?;
        for (name, stored) in sealed {
            let context = secrets::context(tenant.as_str(), channel.id.as_str(), &name);
            let (value, _) = self.secrets.open(&context, &stored).map_err(|e| {
                AdminError::internal(format!("secret `{name}` of channel {} in {tenant}: {e}", channel.id))
            })?;
            plan = plan.secret(&name, value);
        }
        for origin in &self.development_origins {
            plan = plan.with_origin(origin.clone());
        }
        let installation = plan.build(tenant, channel.id.as_str(), channel.secret_keys.iter().cloned());
        self.registry.add_tenant(tenant.clone(), &[]);
        self.registry.mount(Mounted { mount: self.mount_of(tenant, &channel.id).await, installation, plugin });
        Ok(())
    }

    /// Seal every channel secret under the current key: those sealed by an
    /// older key (a rotation) and those stored before secrets were sealed.
    /// A secret sealed by a key this host was not given stops the start:
    /// the host was most likely started with the wrong key.
    fn reseal_secrets(&self, now_ms: i64) -> anyhow::Result<usize> {
        let mut resealed = 0;
        for tenant in self.core.blocking().list_tenants()? {
            for channel in self.core.blocking().list_channels(&tenant.id)? {
                for name in &channel.secret_keys {
                    let Some(stored) = self.core.blocking().channel_secret(&tenant.id, &channel.id, name)? else {
                        continue;
                    };
                    let context = secrets::context(tenant.id.as_str(), channel.id.as_str(), name);
                    let plain = match self.secrets.open(&context, &stored) {
                        Ok((_, key)) if key == self.secrets.current_id() => continue,
                        Ok((plain, _)) => plain,
                        Err(SecretError::NotSealed) => stored,
                        Err(e @ SecretError::UnknownKey(_)) => {
                            return Err(anyhow::Error::new(e).context(format!(
                                "opening secret `{name}` of channel {} in {}",
                                channel.id, tenant.id
                            )));
                        }
                        Err(e) => {
                            tracing::error!(tenant = %tenant.id, channel = %channel.id, secret = %name, error = %e, "secret left as it is");
                            continue;
                        }
                    };
                    let sealed = self.secrets.seal(&context, &plain)?;
                    self.core.blocking().set_channel_secret(&tenant.id, &channel.id, name, &sealed, now_ms)?;
                    resealed += 1;
                }
            }
        }
        Ok(resealed)
    }

    /// Mount every enabled channel of every tenant (at start-up).
    pub async fn mount_all(&self) -> anyhow::Result<()> {
        for tenant in self.core.run(|core| core.list_tenants()).await? {
            self.registry.add_tenant(tenant.id.clone(), &[]);
            let id = tenant.id.clone();
            for channel in self.core.run(move |core| core.list_channels(&id)).await? {
                if let Err(e) = self.sync_channel(&tenant.id, &channel, None).await {
                    // One broken package must not keep the others from serving.
                    tracing::error!(tenant = %tenant.id, channel = %channel.id, error = %e.message, "channel not mounted");
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ChannelInstaller for PackageInstaller {
    async fn install(&self, tenant: &TenantId, request: InstallRequest, now_ms: i64) -> Result<Channel, AdminError> {
        let (manifest_text, component) = match request.source()? {
            PackageSource::ServerPath(dir) => read_package_dir(&dir).await?,
            PackageSource::Upload { manifest, component } => (manifest, component),
            PackageSource::Catalogue(id) => {
                let Some(dir) = self.offered(&id) else {
                    return Err(crate::admin::channels::not_offered(&id, &self.catalogue()));
                };
                read_package_dir(&dir).await?
            }
        };
        if component.len() > self.max_component_bytes {
            return Err(AdminError::invalid(format!(
                "the component is {} bytes; this server accepts at most {}",
                component.len(),
                self.max_component_bytes
            )));
        }
        let manifest = Manifest::parse(&manifest_text)
            .map_err(|e| AdminError::invalid(format!("the package's plugin.toml is not valid: {e}")))?;
        // Verify before anything is recorded: the component must load against its manifest.
        let plugin: Arc<Plugin> = self.runtime.load(manifest.clone(), component.clone()).await.map_err(load_failed)?;
        // The one installer's rules, before anything is stored.
        let capabilities = InstallationBuilder::new(&manifest)
            .withhold(request.withhold.iter().map(String::as_str))
            .and_then(|plan| plan.json_settings(&request.settings))
            .map_err(|e| AdminError::invalid(e.to_string()))?
            .granted();
        let dir = self.package_dir(&manifest.id, &manifest.version.to_string());
        if dir.join("plugin.wasm").exists() {
            let existing = std::fs::read(dir.join("plugin.wasm")).unwrap_or_default();
            if omnistore_runtime::digest(&existing) != plugin.digest {
                return Err(AdminError::conflict(format!(
                    "{} {} is already installed with different content; publish the change as a new version",
                    manifest.id, manifest.version
                )));
            }
        } else {
            store_package(&dir, &manifest_text, &component)
                .map_err(|e| AdminError::internal(format!("storing the package in {}: {e}", dir.display())))?;
        }
        let new = NewChannel {
            plugin_id: manifest.id.clone(),
            version: manifest.version.to_string(),
            name: request.name.unwrap_or_else(|| manifest.name.clone()),
            settings: request.settings,
            capabilities,
            subscriptions: manifest.events.iter().map(|k| k.as_str().to_owned()).collect(),
            enabled: request.enabled,
            safety_buffer: request.safety_buffer,
        };
        let t = tenant.clone();
        let channel = self.core.run(move |core| core.install_channel(&t, new, now_ms)).await?;
        let mount = normalize_mount(request.mount.as_deref().unwrap_or(&format!("/{}", channel.id)));
        let key = keyspace::mount_key(tenant, channel.id.as_str());
        let kv = self.kv.clone();
        off_executor(move || transact(&*kv, |txn| txn.put(&key, mount.as_bytes())))
            .await
            .and_then(|r| r)
            .map_err(|e| AdminError::internal(format!("recording the mount: {e}")))?;
        self.sync_channel(tenant, &channel, Some(plugin)).await?;
        Ok(channel)
    }

    async fn manifest(&self, tenant: &TenantId, channel: &Channel) -> Option<Manifest> {
        if let Some(mounted) = self.registry.find(tenant, channel.id.as_str())
            && mounted.plugin.manifest.version.to_string() == channel.version
        {
            return Some(mounted.plugin.manifest.clone());
        }
        let path = self.package_dir(&channel.plugin_id, &channel.version).join("plugin.toml");
        off_executor(move || Manifest::load(&path).ok()).await.ok().flatten()
    }

    async fn check_change(
        &self,
        _tenant: &TenantId,
        current: &Channel,
        patch: &ChannelPatch,
    ) -> Result<(), AdminError> {
        if patch.capabilities.is_none() && patch.settings.is_none() {
            return Ok(());
        }
        let manifest = Manifest::load(&self.package_dir(&current.plugin_id, &current.version).join("plugin.toml"))
            .map_err(|e| AdminError::internal(format!("reading the installed manifest: {e}")))?;
        let refused = |e: InstallError| AdminError::invalid(e.to_string());
        if let Some(caps) = &patch.capabilities {
            InstallationBuilder::new(&manifest).grant_exactly(caps.iter().map(String::as_str)).map_err(refused)?;
        }
        if let Some(settings) = &patch.settings {
            check_settings(&manifest, settings).map_err(refused)?;
        }
        Ok(())
    }

    async fn tenant_removed(&self, tenant: &TenantId) {
        self.registry.remove_tenant(tenant);
        self.runtime.forget_tenant(tenant);
        let (media, t) = (self.media.clone(), tenant.clone());
        match off_executor(move || media.remove_tenant(&t)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(%tenant, error = %e, "removing the tenant's images failed"),
            Err(e) => tracing::error!(%tenant, error = %e, "removing the tenant's images failed"),
        }
    }

    async fn changed(&self, tenant: &TenantId, channel: &ChannelId, now: Option<&Channel>) {
        let result = match now {
            Some(c) => self.sync_channel(tenant, c, None).await,
            None => {
                self.registry.unmount(tenant, channel.as_str());
                self.runtime.forget_installation(tenant, channel.as_str());
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::error!(%tenant, %channel, error = %e.message, "channel change not applied to the running host");
        }
    }

    fn domains(&self, tenant: &TenantId) -> Vec<String> {
        // The routing table is the truth: what the deployment file gave
        // and the host actually answers on.
        self.registry.domains_of(tenant)
    }

    fn catalogue(&self) -> Vec<CatalogueEntry> {
        let offered = self.catalogue.read().unwrap_or_else(|p| p.into_inner());
        offered.iter().map(|o| CatalogueEntry { manifest: o.manifest.clone() }).collect()
    }

    fn tenant_storage_quota_bytes(&self) -> u64 {
        self.runtime.config().limits.tenant_storage_quota_bytes
    }

    fn recent_calls(&self, tenant: &TenantId, channel: &ChannelId) -> omnistore_runtime::CallReport {
        self.runtime.recent_calls(tenant, channel.as_str())
    }
}

impl Host {
    /// Open the store, start the runtime and dispatcher, mount every channel.
    pub async fn start(options: HostOptions) -> anyhow::Result<Host> {
        std::fs::create_dir_all(&options.data_dir)
            .with_context(|| format!("creating the data directory {}", options.data_dir.display()))?;
        let spec = options
            .store
            .clone()
            .unwrap_or_else(|| format!("redb:{}", options.data_dir.join("omnistore.redb").display()));
        let kv = {
            let spec = spec.clone();
            tokio::task::spawn_blocking(move || omnistore_storage::open(&spec)).await?
        }
        .with_context(|| format!("opening the store ({})", spec.split("://").next().unwrap_or("store")))?;
        let core = Core::new(kv.clone());
        let services = Arc::new(CoreServices::new(core.clone()));
        let runtime = Runtime::new(
            RuntimeConfig {
                cache_dir: Some(options.data_dir.join("component-cache")),
                allow_private_network: options.allow_private_network,
                ..RuntimeConfig::default()
            },
            kv.clone(),
            services.clone(),
        )
        .context("starting the plugin runtime")?;
        let registry = Arc::new(Registry::new());
        let secrets = match options.secrets.clone() {
            Some(keys) => keys,
            None => Arc::new(
                SecretKeys::from_env_or_file(&options.data_dir)
                    .context("loading the key that seals channel secrets")?,
            ),
        };
        let media = Arc::new(MediaStore::new(options.data_dir.join("media")));
        let preview = PreviewKey::from_file_or_create(&options.data_dir).context("loading the preview key")?;
        let installer = Arc::new(PackageInstaller {
            core: AsyncCore::new(core.clone()),
            runtime: runtime.clone(),
            registry: registry.clone(),
            kv,
            packages: options.data_dir.join("packages"),
            max_component_bytes: options.http.max_package_bytes,
            secrets: secrets.clone(),
            media: media.clone(),
            development_origins: options.development_origins.clone(),
            catalogue: Default::default(),
        });
        let resealer = installer.clone();
        let resealed = tokio::task::spawn_blocking(move || resealer.reseal_secrets(now_ms())).await??;
        if resealed > 0 {
            tracing::info!(resealed, key = %secrets.current_id(), "channel secrets sealed under the current key");
        }
        installer.mount_all().await?;
        let admin = AdminState::new(core.clone(), &options.operator_token)?
            .with_installer(installer.clone())
            .with_secrets(secrets)
            .with_media(media.clone())
            .with_preview(preview.clone())
            .with_max_body_bytes(options.http.admin_max_body_bytes)
            .with_max_package_bytes(options.http.max_package_bytes)
            .with_body_read_timeout(Duration::from_secs(options.http.body_read_timeout_secs));
        let ui = crate::ui::UiState::new(admin.clone())
            .context("compiling the admin's pages")?
            .with_https(options.http.scheme == crate::PublicScheme::Https);
        let lookup_registry = registry.clone();
        let lookup: InstallationLookup =
            Arc::new(move |tenant, id| lookup_registry.find(tenant, id).map(|m| (m.plugin, m.installation)));
        let dispatcher = Dispatcher::new(core.clone(), Arc::new(RuntimeSink::new(runtime.clone(), lookup))).spawn();
        let (stop_sweeper, stopped) = tokio::sync::watch::channel(false);
        let sweeper = Some((stop_sweeper, tokio::spawn(sweep_expired_holds(AsyncCore::new(core.clone()), stopped))));
        let mail = Arc::new(MailDelivery::new(services.clone()));
        let stop_mail = Arc::new(tokio::sync::Notify::new());
        let mail_worker =
            Some((stop_mail.clone(), tokio::spawn(mail.clone().run(MAIL_ROUND_EVERY, now_ms, stop_mail))));
        Ok(Host {
            http: options.http,
            core,
            runtime,
            registry,
            admin,
            ui,
            installer,
            media,
            preview,
            mail,
            dispatcher: Some(dispatcher),
            sweeper,
            mail_worker,
        })
    }

    /// Storefronts, feeds and webhooks, plus the admin API under `/api/v1`
    /// and the admin in the browser under `/admin` on the host's own names.
    pub fn router(&self) -> axum::Router {
        let state = AppState::new(self.runtime.clone(), self.registry.clone())
            .with_limits(self.http.edge_limits())
            .with_path_routing(self.http.path_routing())
            .with_media(self.media.clone())
            .with_preview(self.preview.clone())
            .with_scheme(self.http.scheme);
        let router = crate::router(state).nest("/api/v1", crate::admin::admin_router(self.admin.clone()));
        crate::ui::on_own_names(router, crate::ui::ui_router(self.ui.clone()), self.http.host_names.clone())
    }

    /// Install a plugin package as a channel of a tenant (the admin API's
    /// `POST …/channels`, callable directly).
    pub async fn install(&self, tenant: &TenantId, request: InstallRequest) -> Result<Channel, AdminError> {
        self.installer.install(tenant, request, now_ms()).await
    }

    /// Offer these plugin packages to the merchants (`[catalog] packages`),
    /// replacing what was offered. Only each manifest is read; a package
    /// that is missing, invalid or a second copy of a plugin is left out
    /// with a warning in the log, never stopping the host. Returns how many
    /// are offered.
    pub async fn offer_catalogue(&self, packages: &[PathBuf]) -> usize {
        let packages = packages.to_vec();
        let (offered, refused) = match tokio::task::spawn_blocking(move || read_catalogue(&packages)).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "the catalogue could not be read; no package is offered");
                return 0;
            }
        };
        for e in &refused {
            tracing::warn!(error = %e, "a package of the deployment's [catalog] is not offered");
        }
        let count = offered.len();
        tracing::info!(packages = count, "catalogue offered to merchants");
        *self.installer.catalogue.write().unwrap_or_else(|p| p.into_inner()) = offered;
        count
    }

    /// Give every product of `tenant` that has no uploaded image a picture
    /// (a plain tile in a colour of its own), stored and attached the way an
    /// upload is; links to pictures elsewhere are dropped. Returns how many
    /// products got one. For the demo shop, whose seed has no photographs.
    pub async fn add_demo_images(&self, tenant: &TenantId) -> anyhow::Result<usize> {
        let (core, media, tenant) = (self.core.clone(), self.media.clone(), tenant.clone());
        off_executor(move || add_demo_images(&core, &media, &tenant, now_ms())).await?
    }

    /// Stop the dispatcher, letting running deliveries finish.
    pub async fn stop(mut self) {
        if let Some((stop, worker)) = self.mail_worker.take() {
            // `notify_one` keeps the wake-up if the worker is mid-round.
            stop.notify_one();
            let _ = worker.await;
        }
        if let Some((stop, sweeper)) = self.sweeper.take() {
            // Let a running sweep finish, so the store it holds is released
            // when `stop` returns (a restart opens the same file).
            let _ = stop.send(true);
            let _ = sweeper.await;
        }
        if let Some(d) = self.dispatcher.take() {
            d.stop().await;
        }
    }
}

fn add_demo_images(core: &Core, media: &MediaStore, tenant: &TenantId, now: i64) -> anyhow::Result<usize> {
    use sha2::Digest;
    const PALETTE: [[u8; 3]; 8] = [
        [196, 132, 74],
        [142, 88, 52],
        [226, 182, 120],
        [120, 160, 90],
        [212, 96, 88],
        [92, 64, 48],
        [238, 206, 150],
        [170, 110, 140],
    ];
    let mut added = 0;
    let mut after = None;
    loop {
        let query = omnistore_core::ProductQuery { after: after.clone(), limit: 200, status: None, collection: None };
        let page = core.list_products(tenant, &query).context("listing the demo products")?;
        for product in &page {
            if product.images.iter().any(|i| i.media.is_some()) {
                continue;
            }
            let colour = PALETTE[usize::from(sha2::Sha256::digest(product.handle.as_bytes())[0]) % PALETTE.len()];
            let tile = omnistore_media::demo_tile(800, colour).context("drawing a demo image")?;
            let upload = crate::admin::images::Upload {
                bytes: &tile,
                declared: Some(omnistore_media::ImageFormat::Jpeg),
                alt: Some(product.title.clone()),
            };
            let image = crate::admin::images::store_and_attach(core, media, tenant, &product.id, upload, now)
                .map_err(|e| anyhow::anyhow!("adding a demo image to {}: {e}", product.handle))?;
            let patch = omnistore_core::ProductPatch { images: Some(vec![image]), ..Default::default() };
            core.update_product(tenant, &product.id, patch, now).context("keeping only the demo image")?;
            added += 1;
        }
        match page.last() {
            Some(last) if page.len() == 200 => after = Some(last.id.clone()),
            _ => return Ok(added),
        }
    }
}

/// How often expired cart holds are released for variants nobody touches
/// (operations on a variant release its expired holds themselves).
const HOLD_SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How often queued mail is looked at; a message waits at most this long.
const MAIL_ROUND_EVERY: Duration = Duration::from_secs(2);

async fn sweep_expired_holds(core: AsyncCore, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + HOLD_SWEEP_EVERY, HOLD_SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match core.run(|core| core.sweep_expired_holds(now_ms(), 500)).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "expired cart holds released"),
            Err(e) => tracing::warn!(error = %e, "sweeping expired cart holds failed; retrying on the next tick"),
        }
    }
}
