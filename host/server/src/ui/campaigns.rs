//! Campaigns: the list and the compose form (name, segment, the e-mail's
//! subject, text and optional HTML, the SMS text, the installations that send
//! them, and when: now, or at a moment on the shop's clock), saved with the
//! core's `create_campaign` as the JSON API does, templates checked then. A campaign's own page — preview, send, progress, results — is
//! `campaign.rs`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{
    CampaignStatus, ChannelId, Core, EmailMessage, EventKind, NewCampaign, SegmentId, SmsMessage, TenantId,
};
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, Fields, refused_or};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Campaigns (and segments offered) at most.
const SHOWN: usize = 200;
/// The longest SMS template typed here (the core refuses a longer rendered text).
const MAX_SMS_TEMPLATE: usize = 1600;

pub(crate) fn status_key(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => "campaign_draft",
        CampaignStatus::Scheduled => "campaign_scheduled",
        CampaignStatus::Sending => "campaign_sending",
        CampaignStatus::Sent => "campaign_sent",
    }
}

/// Segment names by id. Blocking.
pub(crate) fn segment_names(core: &Core, tenant: &TenantId) -> Result<BTreeMap<String, String>, AdminError> {
    Ok(core.list_segments(tenant, None, SHOWN)?.into_iter().map(|s| (s.id.to_string(), s.name)).collect())
}

pub(crate) async fn list(State(state): State<UiState>, shop: Shop, headers: HeaderMap) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let rows = blocking(move || {
        let names = segment_names(&core, &tenant)?;
        let rows: Vec<Value> = core
            .list_campaigns(&tenant, None, SHOWN)?
            .iter()
            .rev()
            .map(|c| {
                let media: Vec<&str> = c.media().iter().map(|m| locale.t(&format!("medium_{}", m.as_str()))).collect();
                json!({
                    "id": c.id.to_string(), "name": c.name,
                    "segment": names.get(c.segment_id.as_str()).cloned().unwrap_or_else(|| c.segment_id.to_string()),
                    "media": media.join(", "), "status": locale.t(status_key(c.status)),
                    "done": locale.number(c.progress.done as i64), "total": locale.number(c.progress.total as i64),
                    "created": locale.datetime(c.created_ms),
                })
            })
            .collect();
        Ok::<_, AdminError>(rows)
    })
    .await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "campaigns", "/admin/campaigns");
    page(&state, StatusCode::OK, "campaigns.html", &chrome, json!({ "campaigns": rows }))
}

const FIELDS: [&str; 10] = [
    "name",
    "segment",
    "email_channel",
    "subject",
    "email_text",
    "email_html",
    "sms_channel",
    "sms_text",
    "shop_url",
    "send_at",
];

fn form_of(fields: &Fields) -> Value {
    forms::typed(fields, &FIELDS)
}

/// The compose form's choices: segments, and the installations that take
/// campaign messages (e-mail ones hold the mail grant). Blocking.
fn choices(core: &Core, tenant: &TenantId) -> Result<Value, AdminError> {
    let segments: Vec<Value> =
        segment_names(core, tenant)?.into_iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
    let channels: Vec<_> =
        core.list_channels(tenant)?.into_iter().filter(|c| c.subscribes_to(EventKind::CampaignMessage)).collect();
    let option = |c: &omnistore_core::Channel| json!({ "id": c.id.to_string(), "name": format!("{} ({})", c.name, c.plugin_id) });
    let email: Vec<Value> =
        channels.iter().filter(|c| c.capabilities.iter().any(|g| g == "mail")).map(option).collect();
    let sms: Vec<Value> = channels.iter().filter(|c| !c.capabilities.iter().any(|g| g == "mail")).map(option).collect();
    Ok(json!({ "segments": segments, "email_channels": email, "sms_channels": sms }))
}

async fn render_compose(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    form: Value,
    errors: &FieldErrors,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let choices = blocking(move || choices(&core, &tenant)).await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "campaigns", "/admin/campaigns/new");
    page(
        state,
        status,
        "campaign_new.html",
        &chrome,
        json!({
            "form": form, "errors": errors.to_json(), "choices": choices,
            "send_at_hint": format!("{} ({}).", locale.t("send_at_hint"), locale.zone.name()),
        }),
    )
}

pub(crate) async fn compose(State(state): State<UiState>, shop: Shop, headers: HeaderMap) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let form = form_of(&Fields::default());
    render_compose(&state, &shop, locale, StatusCode::OK, form, &FieldErrors::default()).await
}

/// Which field a refusal of the core concerns, from its reason.
fn field_of(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("e-mail subject") {
        "subject"
    } else if m.contains("e-mail html") {
        "email_html"
    } else if m.contains("choose the e-mail channel") || m.contains("cannot send e-mail") {
        "email_channel"
    } else if m.contains("choose the sms channel") {
        "sms_channel"
    } else if m.contains("sms") {
        "sms_text"
    } else if m.contains("shop address") {
        "shop_url"
    } else if m.contains("segment") {
        "segment"
    } else if m.contains("campaign name") {
        "name"
    } else {
        "email_text"
    }
}

/// Save a campaign as a draft. Every field is checked first (ids against
/// this shop's own lists); the core then checks the templates and channels,
/// and its reason is shown next to the field it concerns.
pub(crate) async fn create(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let choices = blocking(move || choices(&core, &tenant)).await?;
    let known = |list: &str, id: &str| choices[list].as_array().is_some_and(|a| a.iter().any(|o| o["id"] == id));
    let mut errors = FieldErrors::default();
    let name = forms::text(&fields, "name", 200, locale, &mut errors);
    let segment = forms::text(&fields, "segment", 200, locale, &mut errors);
    if segment.as_deref().is_some_and(|s| !known("segments", s)) {
        errors.add("segment", locale.t("err_not_found"));
    }
    let email_channel = forms::optional_text(&fields, "email_channel", 200, locale, &mut errors);
    let sms_channel = forms::optional_text(&fields, "sms_channel", 200, locale, &mut errors);
    let mut email = None;
    if !email_channel.is_empty() {
        if !known("email_channels", &email_channel) {
            errors.add("email_channel", locale.t("err_not_found"));
        }
        let subject = forms::text(&fields, "subject", 200, locale, &mut errors);
        let text = forms::text(&fields, "email_text", 20_000, locale, &mut errors);
        let html = forms::optional_text(&fields, "email_html", 100_000, locale, &mut errors);
        if let (Some(subject), Some(text)) = (subject, text) {
            let html = (!html.is_empty()).then_some(html);
            email = Some(EmailMessage { channel_id: ChannelId::new(email_channel.clone()), subject, text, html });
        }
    }
    let mut sms = None;
    if !sms_channel.is_empty() {
        if !known("sms_channels", &sms_channel) {
            errors.add("sms_channel", locale.t("err_not_found"));
        }
        if let Some(text) = forms::text(&fields, "sms_text", MAX_SMS_TEMPLATE, locale, &mut errors) {
            sms = Some(SmsMessage { channel_id: ChannelId::new(sms_channel.clone()), text });
        }
    }
    if email_channel.is_empty() && sms_channel.is_empty() {
        errors.add("email_channel", locale.t("err_no_channel"));
    }
    let shop_url = forms::optional_text(&fields, "shop_url", 500, locale, &mut errors);
    // On the shop's clock, as the input shows it; it must lie ahead.
    let send_at = match forms::optional_text(&fields, "send_at", 32, locale, &mut errors).as_str() {
        "" => None,
        text => match locale.parse_moment(text) {
            Some(at) if at > state.admin.now() => Some(at),
            Some(_) => {
                errors.add("send_at", locale.t("err_in_the_past"));
                None
            }
            None => {
                errors.add("send_at", locale.t("err_moment"));
                None
            }
        },
    };
    let form = form_of(&fields);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (Some(name), Some(segment), true) = (name, segment, errors.is_empty()) else {
        return render_compose(&state, &shop, locale, refused, form, &errors).await;
    };
    let new = NewCampaign {
        name,
        segment_id: SegmentId::new(segment),
        email,
        sms,
        shop_url: (!shop_url.is_empty()).then_some(shop_url),
        send_at_ms: send_at,
    };
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let created =
        blocking(move || refused_or(core.create_campaign(&tenant, new, now).map(|c| c.id.to_string()))).await?;
    match created {
        Ok(id) => Ok(Redirect::to(&format!("/admin/campaigns/{id}?done=created")).into_response()),
        Err(message) => {
            errors.add(field_of(&message), format!("{} ({message})", locale.t("err_refused")));
            render_compose(&state, &shop, locale, refused, form, &errors).await
        }
    }
}
