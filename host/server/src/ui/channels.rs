//! Channels: the installed plugins, switched on and off, and each one's
//! settings form generated from its manifest's `[[settings]]` (label,
//! required, default; secret ones write-only). Changes go through the JSON
//! API's own paths: `admin::channels::change` (vetted by the installer
//! against the manifest, then the mounted installation follows) and
//! `admin::channels::set_secret` (sealed before it is stored). Its sync
//! report and dead letters: [`super::channel_health`]; its recent calls,
//! errors and limits hit: [`super::channel_calls`]. Installing one from
//! the deployment's catalogue: [`super::channel_install`], whose form shows
//! and reads the settings with [`setting_views`] and [`read_settings`].

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{Channel, ChannelId, ChannelPatch};
use omnistore_runtime::Manifest;
use omnistore_runtime::manifest::SettingSpec;
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{FieldErrors, Fields};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::channels::{change, check_secret, set_secret};
use crate::admin::{AdminError, blocking};

/// Longest setting value typed into the form.
const MAX_SETTING_CHARS: usize = 2000;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let channels = blocking(move || Ok(core.list_channels(&tenant)?)).await?;
    let rows: Vec<Value> = channels
        .iter()
        .map(|c| {
            json!({
                "id": c.id.to_string(), "name": c.name, "plugin": c.plugin_id, "version": c.version,
                "enabled": c.enabled,
                "state": if c.enabled { locale.t("enabled") } else { locale.t("disabled") },
            })
        })
        .collect();
    let done = match q.done.as_str() {
        "on" | "off" => Some(locale.t(&format!("done_switched_{}", q.done))),
        _ => None,
    };
    let chrome = Chrome::new(locale, Some(&shop.session), "channels", "/admin/channels");
    page(&state, StatusCode::OK, "channels.html", &chrome, json!({ "channels": rows, "done": done }))
}

/// Switch a channel on or off.
pub(crate) async fn switch(
    State(state): State<UiState>,
    Path(channel): Path<String>,
    ShopForm { shop, fields, .. }: ShopForm,
) -> Result<Response, UiError> {
    let on = match fields.get("on").map(String::as_str) {
        Some("1") => true,
        Some("0") => false,
        _ => return Err(AdminError::invalid("say on=1 or on=0").into()),
    };
    let patch = ChannelPatch { enabled: Some(on), ..ChannelPatch::default() };
    change(&state.admin, shop.tenant.clone(), ChannelId::new(channel), patch).await?;
    Ok(Redirect::to(if on { "/admin/channels?done=on" } else { "/admin/channels?done=off" }).into_response())
}

/// The channel and its manifest (when the installer keeps one).
async fn channel_and_manifest(
    state: &UiState,
    shop: &Shop,
    id: &ChannelId,
) -> Result<(Channel, Option<Manifest>), UiError> {
    let (core, tenant, i) = (state.admin.core().clone(), shop.tenant.clone(), id.clone());
    let channel = blocking(move || Ok(core.get_channel(&tenant, &i)?)).await?;
    let manifest = match state.admin.installer() {
        Some(installer) => installer.manifest(&shop.tenant, &channel).await,
        None => None,
    };
    Ok((channel, manifest))
}

fn setting_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The form field of a setting: secrets and settings apart, so a secret is
/// never read as a setting.
fn field_name(spec: &SettingSpec) -> String {
    if spec.secret { format!("secret_{}", spec.key) } else { format!("setting_{}", spec.key) }
}

/// The settings form's fields (the `setting` macro of `macros.html` draws
/// each): what was typed when a form comes back refused, else what is
/// stored; a secret's field is always empty, and says whether one is stored.
pub(super) fn setting_views(
    specs: &[SettingSpec],
    stored: &BTreeMap<String, Value>,
    stored_secrets: &[String],
    sent: Option<&Fields>,
) -> Vec<Value> {
    specs
        .iter()
        .map(|s| {
            let field = field_name(s);
            let value = match (s.secret, sent.and_then(|f| f.get(&field))) {
                (true, _) => String::new(),
                (false, Some(typed)) => typed.clone(),
                (false, None) => setting_text(stored.get(&s.key)),
            };
            json!({
                "field": field, "label": s.label, "secret": s.secret, "required": s.required,
                "default": s.default.clone().unwrap_or_default(), "value": value,
                "stored": stored_secrets.contains(&s.key),
                "kind": s.kind.as_str(), "options": s.options, "min": s.min, "max": s.max,
            })
        })
        .collect()
}

/// Read a settings form: the settings typed (empty ones left out, so the
/// manifest's default applies) and the secrets typed (empty ones keep what
/// is stored). Each refusal is added to `errors` at its field.
pub(super) fn read_settings(
    state: &UiState,
    specs: &[SettingSpec],
    fields: &Fields,
    stored_secrets: &[String],
    locale: Locale,
    errors: &mut FieldErrors,
) -> (BTreeMap<String, Value>, Vec<(String, String)>) {
    let mut settings = BTreeMap::new();
    let mut secrets = Vec::new();
    for spec in specs {
        let field = field_name(spec);
        let value = fields.get(&field).map(|v| v.trim().to_owned()).unwrap_or_default();
        if value.chars().count() > MAX_SETTING_CHARS {
            errors.add(&field, locale.t("err_too_long").replace("{max}", &MAX_SETTING_CHARS.to_string()));
        } else if value.chars().any(char::is_control) {
            errors.add(&field, locale.t("err_invalid"));
        } else if spec.secret {
            if value.is_empty() {
                if spec.required && !stored_secrets.contains(&spec.key) {
                    errors.add(&field, locale.t("err_required"));
                }
            } else if let Err(e) = check_secret(&state.admin, &value) {
                errors.add(&field, e.message);
            } else {
                secrets.push((spec.key.clone(), value));
            }
        } else if value.is_empty() {
            if spec.required && spec.default.is_none() {
                errors.add(&field, locale.t("err_required"));
            }
        } else if let Err(reason) = spec.check(&value) {
            // The manifest's type: a URL, an e-mail, a number, one of the choices.
            errors.add(&field, format!("{} ({reason})", locale.t("err_invalid")));
        } else {
            settings.insert(spec.key.clone(), Value::String(value));
        }
    }
    (settings, secrets)
}

#[allow(clippy::too_many_arguments)]
async fn render_channel(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    id: ChannelId,
    status: StatusCode,
    sent: Option<&Fields>,
    errors: &FieldErrors,
    message: Option<String>,
    done: Option<&'static str>,
) -> Result<Response, UiError> {
    let (channel, manifest) = channel_and_manifest(state, shop, &id).await?;
    let (core, tenant, channel_id) = (state.admin.core().clone(), shop.tenant.clone(), id.clone());
    let health = blocking(move || super::channel_health::health_view(&core, &tenant, &channel_id, locale)).await?;
    let calls = match state.admin.installer() {
        Some(installer) => installer.recent_calls(&shop.tenant, &id),
        None => omnistore_runtime::CallReport::default(),
    };
    let calls = super::channel_calls::calls_view(&calls, locale);
    let specs = manifest.as_ref().map_or(&[][..], |m| &m.settings[..]);
    let settings = setting_views(specs, &channel.settings, &channel.secret_keys, sent);
    let view = json!({
        "id": channel.id.to_string(), "name": channel.name, "plugin": channel.plugin_id,
        "version": channel.version,
        "state": if channel.enabled { locale.t("enabled") } else { locale.t("disabled") },
        "has_manifest": manifest.is_some(), "settings": settings, "health": health, "calls": calls,
    });
    let chrome = Chrome::new(locale, Some(&shop.session), "channels", format!("/admin/channels/{id}"));
    page(
        state,
        status,
        "channel.html",
        &chrome,
        json!({
            "channel": view, "errors": errors.to_json(), "message": message,
            "done": done.map(|key| locale.t(key)),
        }),
    )
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path(channel): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    // The shop's clock: the page shows when calls, syncs and failures happened.
    let locale = shop.locale(&headers);
    let id = ChannelId::new(channel);
    let done = match q.done.as_str() {
        "saved" => Some("done_saved"),
        "installed" => Some("done_installed"),
        "replayed" => Some("done_replayed"),
        "published" => Some("done_published_all"),
        _ => None,
    };
    render_channel(&state, &shop, locale, id, StatusCode::OK, None, &FieldErrors::default(), None, done).await
}

/// The channel's page with a refusal said at its top (409: nothing changed).
pub(crate) async fn refused(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    id: ChannelId,
    message: String,
) -> Result<Response, UiError> {
    let status = StatusCode::CONFLICT;
    render_channel(state, shop, locale, id, status, None, &FieldErrors::default(), Some(message), None).await
}

/// Save the settings form: every field is checked (and the whole set by the
/// installer's rules) before anything is stored; a secret left empty keeps
/// what is stored.
pub(crate) async fn save(
    State(state): State<UiState>,
    Path(channel): Path<String>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let id = ChannelId::new(channel);
    let (channel, manifest) = channel_and_manifest(&state, &shop, &id).await?;
    let Some(manifest) = manifest else {
        return Err(AdminError::not_found("this channel's settings form is not available").into());
    };
    let mut errors = FieldErrors::default();
    let (settings, secrets) =
        read_settings(&state, &manifest.settings, &fields, &channel.secret_keys, locale, &mut errors);
    let refuse = |errors: FieldErrors, message: Option<String>| {
        let (state, shop, id, fields) = (state.clone(), shop.clone(), id.clone(), fields.clone());
        async move {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_channel(&state, &shop, locale, id, status, Some(&fields), &errors, message, None).await
        }
    };
    if !errors.is_empty() {
        return refuse(errors, None).await;
    }
    // The installer's rules (declared, not secret, required present) say
    // no before anything is stored.
    if let Err(e) = omnistore_services::installer::check_settings(&manifest, &settings) {
        return refuse(errors, Some(e.to_string())).await;
    }
    let patch = ChannelPatch { settings: Some(settings), ..ChannelPatch::default() };
    match change(&state.admin, shop.tenant.clone(), id.clone(), patch).await {
        Ok(_) => {}
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            return refuse(FieldErrors::default(), Some(e.message)).await;
        }
        Err(e) => return Err(e.into()),
    }
    for (name, value) in secrets {
        set_secret(&state.admin, &shop.tenant, &id, &name, &value).await?;
    }
    Ok(Redirect::to(&format!("/admin/channels/{id}?done=saved")).into_response())
}
