//! Adding a channel from the deployment's catalogue (`[catalog]` of the
//! deployment file): the packages offered, each with what it asks for in
//! plain words, and the form that installs one — its name, its address in
//! the shop, its manifest's settings (drawn and read as the channel's own
//! settings form does, [`super::channels::setting_views`] and
//! [`super::channels::read_settings`]), secrets write-only, and a box per
//! capability the merchant may withhold. It installs through
//! `admin::channels::install_for`, the JSON API's own path, then seals the
//! secrets through `admin::channels::set_secret`. A refusal comes back
//! next to its field, and nothing is installed until every field passed.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::Channel;
use omnistore_runtime::{Capability, Manifest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::channels::{read_settings, setting_views};
use super::forms::{self, FieldErrors, Fields};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::channels::{install_for, mount_user, set_secret};
use crate::admin::{CatalogueEntry, InstallRequest, MAX_MOUNT_CHARS, MountError, blocking, check_mount};

/// Longest display name (the core's limit for a channel's name).
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Chosen {
    #[serde(default)]
    plugin: String,
}

/// The catalogue's package `id`, if the deployment offers it.
fn offered(state: &UiState, id: &str) -> Option<CatalogueEntry> {
    let catalogue = state.admin.installer().map(|i| i.catalogue()).unwrap_or_default();
    catalogue.into_iter().find(|e| e.manifest.id == id)
}

/// What granting `capability` allows, in the reader's language.
fn capability_text(locale: Locale, capability: Capability) -> &'static str {
    locale.t(&format!("cap_{}", capability.name()))
}

/// An origin as a merchant reads an address: the scheme's own port left out.
fn origin_text(origin: &omnistore_runtime::manifest::Origin) -> String {
    match (origin.scheme.as_str(), origin.port) {
        ("https", Some(443)) | ("http", Some(80)) | (_, None) => format!("{}://{}", origin.scheme, origin.host),
        (_, Some(port)) => format!("{}://{}:{port}", origin.scheme, origin.host),
    }
}

/// The form field of a capability's box: ticked, it is granted.
fn grant_field(capability: Capability) -> String {
    format!("grant_{}", capability.name())
}

/// One package as the pages show it: who it is, what it asks for, and the
/// names of this shop's channels of it.
fn entry_view(locale: Locale, manifest: &Manifest, channels: &[Channel]) -> Value {
    let asks: Vec<&str> = manifest.imports.iter().map(|c| capability_text(locale, *c)).collect();
    let origins: Vec<String> = manifest.http.iter().map(origin_text).collect();
    let installed: Vec<&str> =
        channels.iter().filter(|c| c.plugin_id == manifest.id).map(|c| c.name.as_str()).collect();
    json!({
        "id": manifest.id, "name": manifest.name, "version": manifest.version.to_string(),
        "publisher": manifest.publisher, "description": manifest.description,
        "asks": asks, "origins": origins, "installed": installed,
    })
}

async fn shop_channels(state: &UiState, shop: &Shop) -> Result<Vec<Channel>, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    Ok(blocking(move || Ok(core.list_channels(&tenant)?)).await?)
}

/// The catalogue: the packages this shop has no channel of first, then the
/// ones it has (a second storefront at another address is a fair wish).
async fn render_catalogue(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, UiError> {
    let channels = shop_channels(state, shop).await?;
    let catalogue = state.admin.installer().map(|i| i.catalogue()).unwrap_or_default();
    let (mut available, mut in_shop) = (Vec::new(), Vec::new());
    for entry in &catalogue {
        let view = entry_view(locale, &entry.manifest, &channels);
        if channels.iter().any(|c| c.plugin_id == entry.manifest.id) {
            in_shop.push(view);
        } else {
            available.push(view);
        }
    }
    let chrome = Chrome::new(locale, Some(&shop.session), "channels", "/admin/channels/new");
    let data = json!({
        "available": available, "in_shop": in_shop, "offered": !catalogue.is_empty(), "message": message,
    });
    page(state, status, "channel_catalogue.html", &chrome, data)
}

/// The install form of `entry`: as first shown (`sent` is `None`) or as
/// sent back with its refusals.
#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    entry: &CatalogueEntry,
    sent: Option<&Fields>,
    errors: &FieldErrors,
    message: Option<String>,
) -> Result<Response, UiError> {
    let manifest = &entry.manifest;
    let channels = shop_channels(state, shop).await?;
    let typed = |field: &str, otherwise: String| sent.and_then(|f| f.get(field).cloned()).unwrap_or(otherwise);
    let grants: Vec<Value> = manifest
        .imports
        .iter()
        .map(|c| {
            let field = grant_field(*c);
            // Everything requested is ticked until the merchant unticks it.
            let checked = sent.is_none_or(|f| f.contains_key(&field));
            json!({ "field": field, "name": c.name(), "text": capability_text(locale, *c), "checked": checked })
        })
        .collect();
    let form = json!({
        "plugin": manifest.id,
        "name": typed("name", manifest.name.clone()),
        "mount": typed("mount", format!("/{}", manifest.id)),
        "settings": setting_views(&manifest.settings, &BTreeMap::new(), &[], sent),
        "grants": grants,
    });
    let here = format!("/admin/channels/new?plugin={}", forms::url_encode(&manifest.id));
    let chrome = Chrome::new(locale, Some(&shop.session), "channels", here);
    let title = locale.t("install_title").replace("{name}", &manifest.name);
    let data = json!({
        "entry": entry_view(locale, manifest, &channels), "title": title, "form": form,
        "errors": errors.to_json(), "message": message,
    });
    page(state, status, "channel_install.html", &chrome, data)
}

/// The refusal of a plugin id the deployment does not offer: the catalogue
/// again (404), saying so.
async fn not_offered(state: &UiState, shop: &Shop, locale: Locale, id: &str) -> Result<Response, UiError> {
    let message = locale.t("err_not_offered").replace("{id}", id);
    render_catalogue(state, shop, locale, StatusCode::NOT_FOUND, Some(message)).await
}

/// `GET /admin/channels/new`: the catalogue, or with `?plugin=` the form
/// installing that package.
pub(crate) async fn new(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Query(chosen): Query<Chosen>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let id = chosen.plugin.trim();
    if id.is_empty() {
        return render_catalogue(&state, &shop, locale, StatusCode::OK, None).await;
    }
    match offered(&state, id) {
        Some(entry) => {
            let no_errors = FieldErrors::default();
            render_form(&state, &shop, locale, StatusCode::OK, &entry, None, &no_errors, None).await
        }
        None => not_offered(&state, &shop, locale, id).await,
    }
}

/// The merchant's words for a refused mount.
fn mount_message(locale: Locale, e: &MountError) -> String {
    match e {
        MountError::Malformed => locale.t("err_mount").to_owned(),
        MountError::Reserved(_) => locale.t("err_mount_reserved").to_owned(),
        MountError::Taken { channel, .. } => locale.t("err_mount_taken").replace("{name}", channel),
    }
}

/// `POST /admin/channels/new`: check every field, then install the package
/// and seal its secrets, then to the new channel's page.
pub(crate) async fn install(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let id = fields.get("plugin").map(|p| p.trim()).unwrap_or_default();
    let Some(entry) = offered(&state, id) else {
        return not_offered(&state, &shop, locale, id).await;
    };
    let manifest = &entry.manifest;
    let mut errors = FieldErrors::default();
    let name = forms::text(&fields, "name", MAX_NAME_CHARS, locale, &mut errors);
    let mut mount = None;
    if let Some(typed) = forms::text(&fields, "mount", MAX_MOUNT_CHARS, locale, &mut errors) {
        match check_mount(&typed) {
            Err(e) => errors.add("mount", mount_message(locale, &e)),
            Ok(normal) => match mount_user(&state.admin, &shop.tenant, &normal).await? {
                // The name, not the id: it is what the merchant sees in the list.
                Some(user) => errors.add("mount", locale.t("err_mount_taken").replace("{name}", &user.name)),
                None => mount = Some(normal),
            },
        }
    }
    let (settings, secrets) = read_settings(&state, &manifest.settings, &fields, &[], locale, &mut errors);
    let withhold: Vec<String> = manifest
        .imports
        .iter()
        .filter(|c| !fields.contains_key(&grant_field(**c)))
        .map(|c| c.name().to_owned())
        .collect();
    let refuse = |errors: FieldErrors, message: Option<String>| {
        let (state, shop, entry, fields) = (state.clone(), shop.clone(), entry.clone(), fields.clone());
        async move {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_form(&state, &shop, locale, status, &entry, Some(&fields), &errors, message).await
        }
    };
    if !errors.is_empty() {
        return refuse(errors, None).await;
    }
    // The installer's rules (declared, not secret) say no before anything is stored.
    if let Err(e) = omnistore_services::installer::check_settings(manifest, &settings) {
        return refuse(errors, Some(e.to_string())).await;
    }
    let request = InstallRequest {
        catalog: Some(manifest.id.clone()),
        name,
        mount,
        settings,
        withhold,
        enabled: true,
        ..InstallRequest::default()
    };
    let channel = match install_for(&state.admin, &shop.tenant, request).await {
        Ok(channel) => channel,
        // The package did not verify, or the path was taken meanwhile:
        // said at the top of the form, nothing installed.
        Err(e) if e.status.is_client_error() => return refuse(FieldErrors::default(), Some(e.message)).await,
        Err(e) => return Err(e.into()),
    };
    for (name, value) in secrets {
        set_secret(&state.admin, &shop.tenant, &channel.id, &name, &value).await?;
    }
    Ok(Redirect::to(&format!("/admin/channels/{}?done=installed", channel.id)).into_response())
}
