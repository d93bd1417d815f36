//! The shop's own settings: its name, languages, contact and time zone —
//! what its channels show shoppers and the clock its pages and schedules
//! run on. Saved with the core's `update_shop`, as the JSON API's
//! `PATCH /tenants/{tenant}/shop` does.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{ShopPatch, Tenant};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, refused_or};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::blocking;

const FIELDS: [&str; 5] = ["name", "languages", "contact_email", "contact_phone", "time_zone"];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

fn form_of_tenant(t: &Tenant) -> Value {
    json!({
        "name": t.name, "languages": t.languages().join(", "),
        "contact_email": t.contact_email.clone().unwrap_or_default(),
        "contact_phone": t.contact_phone.clone().unwrap_or_default(),
        "time_zone": t.zone().name(),
    })
}

/// Every zone the IANA database names, for the select.
fn zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect()
}

async fn render(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    form: Value,
    errors: &FieldErrors,
    done: Option<&str>,
) -> Result<Response, UiError> {
    let chrome = Chrome::new(locale, Some(&shop.session), "shop", "/admin/shop");
    let data = json!({ "form": form, "errors": errors.to_json(), "zones": zones(), "done": done });
    page(state, status, "shop.html", &chrome, data)
}

pub(crate) async fn view(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let current = blocking(move || Ok(core.get_tenant(&tenant)?)).await?;
    let done = (q.done == "saved").then(|| locale.t("done_shop_saved"));
    render(&state, &shop, locale, StatusCode::OK, form_of_tenant(&current), &FieldErrors::default(), done).await
}

/// Which field a refusal of the core concerns, from its reason.
fn field_of(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("time zone") {
        "time_zone"
    } else if m.contains("language") {
        "languages"
    } else if m.contains("phone") {
        "contact_phone"
    } else if m.contains("e-mail") || m.contains("email") {
        "contact_email"
    } else {
        "name"
    }
}

pub(crate) async fn save(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let mut errors = FieldErrors::default();
    let name = forms::text(&fields, "name", 200, locale, &mut errors);
    let languages: Vec<String> = forms::text(&fields, "languages", 400, locale, &mut errors)
        .map(|l| l.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let email = forms::optional_text(&fields, "contact_email", 254, locale, &mut errors);
    let phone = forms::optional_text(&fields, "contact_phone", 32, locale, &mut errors);
    let zone = forms::text(&fields, "time_zone", 64, locale, &mut errors);
    let form = forms::typed(&fields, &FIELDS);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (Some(name), Some(zone), true) = (name, zone, errors.is_empty()) else {
        return render(&state, &shop, locale, refused, form, &errors, None).await;
    };
    let patch = ShopPatch {
        name: Some(name),
        languages: Some(languages),
        contact_email: Some((!email.is_empty()).then_some(email)),
        contact_phone: Some((!phone.is_empty()).then_some(phone)),
        time_zone: Some(zone),
    };
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    match blocking(move || refused_or(core.update_shop(&tenant, patch, now))).await? {
        Ok(_) => Ok(Redirect::to("/admin/shop?done=saved").into_response()),
        Err(message) => {
            errors.add(field_of(&message), format!("{} ({message})", locale.t("err_refused")));
            render(&state, &shop, locale, refused, form, &errors, None).await
        }
    }
}
