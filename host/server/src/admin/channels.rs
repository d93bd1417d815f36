//! Channels: installed plugins with their settings, grants, secrets and
//! on/off switch.
//!
//! Installing from a plugin package needs the runtime (load, verify, check
//! the component's imports against its manifest, compile), which this module
//! does not know; the server supplies a [`ChannelInstaller`]. Changes made
//! here go through its hooks too, so the runtime's mounted installation can
//! follow the record in the core. The installer also keeps the deployment's
//! catalogue, the packages merchants may install themselves by plugin id
//! ([`CatalogueEntry`], `GET …/catalog`).

use std::path::PathBuf;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{Channel, ChannelId, ChannelPatch, TenantId};
use omnistore_storage::{keyspace, transact};
use serde::Deserialize;

use super::auth::{Caller, Principal};
use super::extract::{Empty, JsonBody, OptJsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::wire::{self, InstallRequest, Page};
use super::{Access, AdminError, AdminState, Routes, doc};

/// Where the code of an installation comes from, once the request is vetted.
#[derive(Debug, Clone)]
pub enum PackageSource {
    /// A directory on the server (operator only).
    ServerPath(PathBuf),
    /// The manifest text and component bytes sent in the request.
    Upload { manifest: String, component: Vec<u8> },
    /// A package of the deployment's catalogue, by plugin id (anyone).
    Catalogue(String),
}

/// A package the deployment offers its merchants (`[catalog]` of the
/// deployment file), read from the package's manifest when the host starts.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    /// Who the plugin is, what it asks for and which settings it has.
    pub manifest: omnistore_runtime::Manifest,
}

/// Why a mount path a merchant asked for is refused. The API says it in
/// English; the admin in the browser says it in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    #[error(
        "a mount is a path such as `/hello`: a slash, then at most {MAX_MOUNT_CHARS} characters of lowercase \
         letters, digits, `-` and `_`, in segments separated by `/`"
    )]
    Malformed,
    #[error("`/{0}` is the host's own (the admin API, images, health checks, the admin); choose another mount")]
    Reserved(String),
    #[error("channel `{channel}` is already served at `{mount}`; choose another mount")]
    Taken { mount: String, channel: String },
}

impl From<MountError> for AdminError {
    fn from(e: MountError) -> AdminError {
        match e {
            MountError::Taken { .. } => AdminError::conflict(e.to_string()),
            _ => AdminError::invalid(e.to_string()),
        }
    }
}

/// Longest mount a merchant may choose.
pub const MAX_MOUNT_CHARS: usize = 64;

/// First path segments the host answers itself on a tenant's names: a
/// channel mounted there would never be reached, or would shadow the admin.
const RESERVED_MOUNTS: [&str; 4] = ["api", "media", "healthz", "admin"];

/// Check a mount path a merchant typed and normalise it (`/hello/` →
/// `/hello`). Stricter than [`crate::normalize_mount`]: what a merchant
/// types becomes an address of their shop, so it keeps to characters that
/// need no escaping.
pub fn check_mount(mount: &str) -> Result<String, MountError> {
    let mount = mount.trim();
    if !mount.starts_with('/') || mount.chars().count() > MAX_MOUNT_CHARS {
        return Err(MountError::Malformed);
    }
    let normal = crate::normalize_mount(mount);
    let Some(path) = normal.strip_prefix('/').filter(|p| !p.is_empty()) else {
        return Ok(normal);
    };
    let segments: Vec<&str> = path.split('/').collect();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if segments.iter().any(|s| s.is_empty() || !s.chars().all(allowed)) {
        return Err(MountError::Malformed);
    }
    match segments.first() {
        Some(first) if RESERVED_MOUNTS.contains(first) => Err(MountError::Reserved((*first).to_owned())),
        _ => Ok(normal),
    }
}

/// The channel of `tenant` already served at `mount`, if any (a channel
/// without a recorded mount is served at `/<its id>`, as the host mounts it).
pub(crate) async fn mount_user(
    state: &AdminState,
    tenant: &TenantId,
    mount: &str,
) -> Result<Option<Channel>, AdminError> {
    let (core, tenant, mount) = (state.core.clone(), tenant.clone(), mount.to_owned());
    super::blocking(move || {
        for channel in core.list_channels(&tenant)? {
            let key = keyspace::mount_key(&tenant, channel.id.as_str());
            let stored = transact(&**core.store(), |txn| txn.get(&key)).map_err(AdminError::storage)?;
            let used = stored
                .and_then(|v| String::from_utf8(v).ok())
                .unwrap_or_else(|| omnistore_services::installer::default_mount(channel.id.as_str()));
            if used == mount {
                return Ok(Some(channel));
            }
        }
        Ok(None)
    })
    .await
}

/// The catalogue's entry with plugin id `id`, or a 404 naming what is offered.
pub(crate) fn catalogue_entry(installer: &dyn ChannelInstaller, id: &str) -> Result<CatalogueEntry, AdminError> {
    let catalogue = installer.catalogue();
    match catalogue.iter().find(|e| e.manifest.id == id) {
        Some(entry) => Ok(entry.clone()),
        None => Err(not_offered(id, &catalogue)),
    }
}

/// The 404 for a plugin id the catalogue lacks, naming what it has.
pub(crate) fn not_offered(id: &str, catalogue: &[CatalogueEntry]) -> AdminError {
    let offered: Vec<&str> = catalogue.iter().map(|e| e.manifest.id.as_str()).collect();
    AdminError::not_found(if offered.is_empty() {
        format!("this server offers no package `{id}`: its catalogue is empty")
    } else {
        format!("this server offers no package `{id}`; it offers: {}", offered.join(", "))
    })
}

impl InstallRequest {
    /// The package this request installs, refusing what its caller may not
    /// use: a server path from a tenant token (nothing is looked at on disk).
    pub fn source(&self) -> Result<PackageSource, AdminError> {
        let given = [self.package.is_some(), self.upload.is_some(), self.catalog.is_some()];
        if given.into_iter().filter(|g| *g).count() > 1 {
            return Err(AdminError::invalid(
                "give exactly one of `catalog` (a package this server offers), `upload` (a package in the \
                 request) or `package`",
            ));
        }
        if let Some(id) = &self.catalog {
            return Ok(PackageSource::Catalogue(id.trim().to_owned()));
        }
        match (&self.package, &self.upload) {
            (None, None) => Err(AdminError::invalid(
                "give the plugin to install: `catalog` with the id of a package this server offers (GET \
                 /tenants/{tenant}/catalog), or `upload`: {\"manifest\": <plugin.toml text>, \"component\": \
                 <base64 of plugin.wasm>}",
            )),
            (Some(_), Some(_)) => Err(AdminError::invalid("give either `upload` or `package`, not both")),
            (Some(_), None) if !self.by_operator => Err(AdminError::forbidden(
                "installing from a server path needs the operator token; upload the package instead \
                 (`upload`: the plugin.toml text and the base64 of plugin.wasm)",
            )),
            (Some(path), None) => Ok(PackageSource::ServerPath(path.clone())),
            (None, Some(upload)) => {
                let component = decode_base64(&upload.component).ok_or_else(|| {
                    AdminError::invalid(
                        "`upload.component` is not valid base64; encode plugin.wasm with standard base64",
                    )
                })?;
                Ok(PackageSource::Upload { manifest: upload.manifest.clone(), component })
            }
        }
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(text.trim()).ok()
}

/// What the admin API needs from the plugin runtime.
#[async_trait]
pub trait ChannelInstaller: Send + Sync + 'static {
    /// Load and verify the package ([`InstallRequest::source`]), install it
    /// in the core (`Core::install_channel` with the manifest's capabilities
    /// minus the withheld ones) and mount it. Errors: `AdminError::forbidden`
    /// for a server path from a tenant, `AdminError::invalid` for a package
    /// that does not verify; no error names a server path.
    async fn install(&self, tenant: &TenantId, request: InstallRequest, now_ms: i64) -> Result<Channel, AdminError>;

    /// Vet a change before it is saved: settings against the manifest's
    /// schema, grants within what the manifest requests.
    async fn check_change(
        &self,
        _tenant: &TenantId,
        _current: &Channel,
        _patch: &ChannelPatch,
    ) -> Result<(), AdminError> {
        Ok(())
    }

    /// The manifest of an installed channel's package (what its settings
    /// form is generated from); `None` when this installer keeps none.
    async fn manifest(&self, _tenant: &TenantId, _channel: &Channel) -> Option<omnistore_runtime::Manifest> {
        None
    }

    /// After a change is saved (`Some`) or the channel was uninstalled
    /// (`None`), so the mounted installation follows.
    async fn changed(&self, _tenant: &TenantId, _channel: &ChannelId, _now: Option<&Channel>) {}

    /// Before a tenant is deleted (after each of its channels was reported
    /// uninstalled), so the host stops answering on its names.
    async fn tenant_removed(&self, _tenant: &TenantId) {}

    /// The packages merchants may install themselves (`[catalog]` of the
    /// deployment file), in the order given; empty when it offers none.
    fn catalogue(&self) -> Vec<CatalogueEntry> {
        Vec::new()
    }

    /// The host names `tenant`'s storefronts answer on (the deployment
    /// file's `[[tenants]] domains`, as the host routes them), sorted; empty
    /// when this installer routes none. The agency view and `GET /tenants`
    /// show them.
    fn domains(&self, _tenant: &TenantId) -> Vec<String> {
        Vec::new()
    }

    /// The storage quota of every tenant (its plugins' data and its mail
    /// queue), in bytes, as the runtime enforces it.
    fn tenant_storage_quota_bytes(&self) -> u64 {
        omnistore_runtime::DEFAULT_TENANT_STORAGE_QUOTA_BYTES
    }

    /// The channel's recent calls, errors and limits hit, as the runtime
    /// keeps them (`GET …/channels/{channel}/calls` and the channel's page
    /// show them); empty when this installer runs no plugins.
    fn recent_calls(&self, _tenant: &TenantId, _channel: &ChannelId) -> omnistore_runtime::CallReport {
        omnistore_runtime::CallReport::default()
    }
}

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Channels")
        .get(
            "/tenants/{tenant}/channels",
            list_channels,
            doc("listChannels", "Installed channels in id order").query(PAGE_PARAMS).ok::<wire::Page<wire::Channel>>(),
        )
        .get(
            "/tenants/{tenant}/catalog",
            list_catalogue,
            doc("listCatalog", "The packages this server offers to install, and which of them the tenant has")
                .ok::<wire::Catalogue>(),
        )
        .post(
            "/tenants/{tenant}/channels",
            install,
            doc("installChannel", "Install a plugin package as a channel")
                .body::<wire::InstallRequest>()
                .created::<wire::Channel>(),
        )
        .get("/tenants/{tenant}/channels/{channel}", get_one, doc("getChannel", "Get a channel").ok::<wire::Channel>())
        .patch(
            "/tenants/{tenant}/channels/{channel}",
            update,
            doc("updateChannel", "Change a channel's name, safety buffer or event subscriptions")
                .body::<wire::ChannelPatch>()
                .ok::<wire::Channel>(),
        )
        .delete(
            "/tenants/{tenant}/channels/{channel}",
            uninstall,
            doc("uninstallChannel", "Uninstall a channel (its orders keep it as their origin)").no_content(),
        )
        .put(
            "/tenants/{tenant}/channels/{channel}/settings",
            put_settings,
            doc("putChannelSettings", "Replace the channel's settings")
                .body::<wire::ChannelSettings>()
                .ok::<wire::Channel>(),
        )
        .put(
            "/tenants/{tenant}/channels/{channel}/grants",
            put_grants,
            doc("putChannelGrants", "Replace the capabilities granted to the channel")
                .body::<wire::ChannelGrants>()
                .ok::<wire::Channel>(),
        )
        .post(
            "/tenants/{tenant}/channels/{channel}/enable",
            enable,
            doc("enableChannel", "Switch the channel on").ok::<wire::Channel>(),
        )
        .post(
            "/tenants/{tenant}/channels/{channel}/disable",
            disable,
            doc("disableChannel", "Switch the channel off").ok::<wire::Channel>(),
        )
        .put(
            "/tenants/{tenant}/channels/{channel}/secrets/{name}",
            put_secret,
            doc("putChannelSecret", "Set a secret (an API key) of the channel; it is never returned")
                .body::<wire::SecretValue>()
                .no_content(),
        )
        .delete(
            "/tenants/{tenant}/channels/{channel}/secrets/{name}",
            delete_secret,
            doc("deleteChannelSecret", "Remove a secret of the channel").no_content(),
        );
}

#[derive(Debug, Deserialize)]
struct ChannelPath {
    channel: ChannelId,
}

#[derive(Debug, Deserialize)]
struct SecretPath {
    channel: ChannelId,
    name: String,
}

/// Largest secret value (before sealing) accepted.
const MAX_SECRET_BYTES: usize = 16 * 1024;

async fn list_channels(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<ChannelId>>,
) -> Result<Json<Page<wire::Channel>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_channels_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |c| c.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn install(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    caller: Caller,
    JsonBody(mut request): JsonBody<InstallRequest>,
) -> Result<(StatusCode, Json<wire::Channel>), AdminError> {
    request.by_operator = caller.principal == Principal::Operator;
    let channel = install_for(&state, &tenant, request).await?;
    Ok((StatusCode::CREATED, Json(channel.into())))
}

/// Install a channel for `tenant` as `POST …/channels` does (the admin in
/// the browser installs through it too): the tenant must exist, a server
/// path is the operator's, and a catalogue package must be offered and get
/// a well-formed mount no channel of the tenant uses. Uploads and server
/// paths keep their mounts as given: they are the developer's and the
/// operator's tools, and the deployment file checks its own mounts.
pub(crate) async fn install_for(
    state: &AdminState,
    tenant: &TenantId,
    mut request: InstallRequest,
) -> Result<Channel, AdminError> {
    let Some(installer) = state.installer.clone() else {
        return Err(AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            "this server was started without a plugin runtime; channels cannot be installed here",
        ));
    };
    // The tenant must exist before a package is even looked at.
    let t = tenant.clone();
    state.call(move |core, _| core.get_tenant(&t)).await?;
    // Refuse a tenant's server path before the installer touches anything.
    if let PackageSource::Catalogue(id) = request.source()? {
        let entry = catalogue_entry(&*installer, &id)?;
        let asked = request.mount.clone().unwrap_or_else(|| format!("/{}", entry.manifest.id));
        let mount = check_mount(&asked)?;
        // Checked before installing, not under one lock: two merchants of
        // the same shop racing for one path is not worth a store-wide lock.
        if let Some(user) = mount_user(state, tenant, &mount).await? {
            return Err(MountError::Taken { mount, channel: user.id.to_string() }.into());
        }
        request.mount = Some(mount);
    }
    installer.install(tenant, request, state.now()).await
}

async fn list_catalogue(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
) -> Result<Json<wire::Catalogue>, AdminError> {
    let catalogue = state.installer.as_ref().map(|i| i.catalogue()).unwrap_or_default();
    let channels = state.call(move |core, _| core.list_channels(&tenant)).await?;
    let items = catalogue
        .iter()
        .map(|entry| {
            let own = channels.iter().filter(|c| c.plugin_id == entry.manifest.id).map(|c| c.id.to_string());
            wire::CatalogueEntry::of(&entry.manifest, own.collect())
        })
        .collect();
    Ok(Json(wire::Catalogue { items }))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<Json<wire::Channel>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_channel(&tenant, &path.channel)).await?.into()))
}

/// Vet, save and announce one change (the admin in the browser calls it too).
pub(crate) async fn change(
    state: &AdminState,
    tenant: TenantId,
    id: ChannelId,
    patch: ChannelPatch,
) -> Result<Channel, AdminError> {
    if let Some(installer) = &state.installer {
        let (t, i) = (tenant.clone(), id.clone());
        let current = state.call(move |core, _| core.get_channel(&t, &i)).await?;
        installer.check_change(&tenant, &current, &patch).await?;
    }
    let (t, i) = (tenant.clone(), id.clone());
    let channel = state.call(move |core, now| core.update_channel(&t, &i, patch, now)).await?;
    if let Some(installer) = &state.installer {
        installer.changed(&tenant, &id, Some(&channel)).await;
    }
    Ok(channel)
}

async fn update(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    JsonBody(patch): JsonBody<wire::ChannelPatch>,
) -> Result<Json<wire::Channel>, AdminError> {
    let patch = patch.into();
    Ok(Json(change(&state, tenant, path.channel, patch).await?.into()))
}

async fn uninstall(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<StatusCode, AdminError> {
    let (t, i) = (tenant.clone(), path.channel.clone());
    state.call(move |core, now| core.uninstall_channel(&t, &i, now)).await?;
    // The merchant's files for the installation leave with it.
    let files = omnistore_services::files::FileStore::new(state.core.store().clone());
    let (t, i) = (tenant.clone(), path.channel.clone());
    crate::admin::blocking(move || {
        files.remove_installation(&t, i.as_str()).map_err(|e| match e {
            omnistore_services::files::FilesError::Storage(e) => AdminError::storage(e),
            other => AdminError::internal(other.to_string()),
        })
    })
    .await?;
    if let Some(installer) = &state.installer {
        installer.changed(&tenant, &path.channel, None).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn put_settings(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    JsonBody(wire::ChannelSettings(settings)): JsonBody<wire::ChannelSettings>,
) -> Result<Json<wire::Channel>, AdminError> {
    let patch = ChannelPatch { settings: Some(settings), ..ChannelPatch::default() };
    Ok(Json(change(&state, tenant, path.channel, patch).await?.into()))
}

async fn put_grants(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    JsonBody(b): JsonBody<wire::ChannelGrants>,
) -> Result<Json<wire::Channel>, AdminError> {
    let patch = ChannelPatch { capabilities: Some(b.capabilities), ..ChannelPatch::default() };
    Ok(Json(change(&state, tenant, path.channel, patch).await?.into()))
}

async fn enable(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::Channel>, AdminError> {
    let patch = ChannelPatch { enabled: Some(true), ..ChannelPatch::default() };
    Ok(Json(change(&state, tenant, path.channel, patch).await?.into()))
}

async fn disable(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::Channel>, AdminError> {
    let patch = ChannelPatch { enabled: Some(false), ..ChannelPatch::default() };
    Ok(Json(change(&state, tenant, path.channel, patch).await?.into()))
}

async fn put_secret(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<SecretPath>,
    JsonBody(b): JsonBody<wire::SecretValue>,
) -> Result<StatusCode, AdminError> {
    set_secret(&state, &tenant, &path.channel, &path.name, &b.value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a secret value may be stored: sealing is possible and it fits.
pub(crate) fn check_secret(state: &AdminState, value: &str) -> Result<(), AdminError> {
    if state.secrets.is_none() {
        return Err(AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            "this server was started without a secrets key; channel secrets cannot be stored here",
        ));
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(AdminError::invalid(format!("a secret value must be at most {MAX_SECRET_BYTES} bytes")));
    }
    Ok(())
}

/// Seal and store one secret of a channel, then remount it (the admin in
/// the browser's write-only secret fields come here too).
pub(crate) async fn set_secret(
    state: &AdminState,
    tenant: &TenantId,
    channel: &ChannelId,
    name: &str,
    value: &str,
) -> Result<(), AdminError> {
    check_secret(state, value)?;
    let Some(keys) = state.secrets.clone() else {
        return Err(AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            "this server was started without a secrets key; channel secrets cannot be stored here",
        ));
    };
    let name = name.trim().to_owned();
    let sealed = keys
        .seal(&crate::secrets::context(tenant.as_str(), channel.as_str(), &name), value)
        .map_err(|e| AdminError::internal(format!("sealing a secret: {e}")))?;
    let (t, i) = (tenant.clone(), channel.clone());
    let channel = state
        .call(move |core, now| {
            core.set_channel_secret(&t, &i, &name, &sealed, now)?;
            core.get_channel(&t, &i)
        })
        .await?;
    if let Some(installer) = &state.installer {
        installer.changed(tenant, &channel.id, Some(&channel)).await;
    }
    Ok(())
}

async fn delete_secret(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<SecretPath>,
) -> Result<StatusCode, AdminError> {
    let (t, i) = (tenant.clone(), path.channel.clone());
    let channel = state
        .call(move |core, now| {
            core.delete_channel_secret(&t, &i, &path.name, now)?;
            core.get_channel(&t, &i)
        })
        .await?;
    if let Some(installer) = &state.installer {
        installer.changed(&tenant, &channel.id, Some(&channel)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
