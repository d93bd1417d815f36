//! One promotion: its terms changed or switched off, with the core's
//! `update_promotion` as the JSON API's `PATCH …/promotions/{id}` does. Its
//! kind and code stay as created (orders already name them).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{DiscountValue, Promotion, PromotionId, PromotionPatch, PromotionScope};
use serde_json::{Value, json};

use super::forms::{FieldErrors, refused_or, typed};
use super::i18n::{Locale, money_input};
use super::promotions::{percent, read_terms};
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

const FIELDS: [&str; 7] = ["name", "value", "min_subtotal", "usage_limit", "starts", "ends", "active"];

fn kind_key(p: &Promotion) -> &'static str {
    match (&p.scope, &p.value) {
        (PromotionScope::Line, DiscountValue::Percent { .. }) => "kind_percent_line",
        (PromotionScope::Order, DiscountValue::Percent { .. }) => "kind_percent_order",
        (PromotionScope::Line, DiscountValue::AmountOff { .. }) => "kind_amount_line",
        (PromotionScope::Order, DiscountValue::AmountOff { .. }) => "kind_amount_order",
    }
}

/// The form filled with the promotion as it is.
fn form_of(p: &Promotion, currency: &str, locale: Locale) -> Value {
    let value = match p.value {
        DiscountValue::Percent { bps } => percent(bps).trim_end_matches('%').to_owned(),
        DiscountValue::AmountOff { amount_minor } => money_input(locale, amount_minor, currency),
    };
    json!({
        "name": p.name, "value": value,
        "min_subtotal": p.conditions.min_subtotal_minor.map(|m| money_input(locale, m, currency)).unwrap_or_default(),
        "usage_limit": p.usage_limit.map(|l| l.to_string()).unwrap_or_default(),
        "starts": p.conditions.starts_ms.map(|ms| locale.moment_input(ms)).unwrap_or_default(),
        "ends": p.conditions.ends_ms.map(|ms| locale.moment_input(ms)).unwrap_or_default(),
        "active": if p.active { "on" } else { "" },
    })
}

async fn load(state: &UiState, shop: &Shop, id: &PromotionId) -> Result<(Promotion, String), UiError> {
    let (core, tenant, id) = (state.admin.core().clone(), shop.tenant.clone(), id.clone());
    Ok(blocking(move || Ok::<_, AdminError>((core.get_promotion(&tenant, &id)?, core.get_tenant(&tenant)?.currency)))
        .await?)
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    p: &Promotion,
    form: Value,
    errors: &FieldErrors,
) -> Result<Response, UiError> {
    let here = format!("/admin/promotions/{}", p.id);
    let chrome = Chrome::new(locale, Some(&shop.session), "promotions", here);
    let data = json!({
        "id": p.id.to_string(), "title": p.name, "kind": locale.t(kind_key(p)), "code": p.code,
        "percent": matches!(p.value, DiscountValue::Percent { .. }),
        "used": locale.number(p.usage_count as i64),
        "form": form, "errors": errors.to_json(),
        "zone": locale.zone.name(),
    });
    page(state, status, "promotion.html", &chrome, data)
}

pub(crate) async fn edit(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (p, currency) = load(&state, &shop, &PromotionId::new(id)).await?;
    let form = form_of(&p, &currency, locale);
    render(&state, &shop, locale, StatusCode::OK, &p, form, &FieldErrors::default()).await
}

/// Save the changed terms. The window and the minimum replace the old ones
/// (an emptied field removes it); the other conditions stay as they were.
pub(crate) async fn update(
    State(state): State<UiState>,
    Path(id): Path<String>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let (p, currency) = load(&state, &shop, &PromotionId::new(id)).await?;
    let mut errors = FieldErrors::default();
    let percent = matches!(p.value, DiscountValue::Percent { .. });
    let terms = read_terms(&fields, percent, &currency, locale, &mut errors);
    let form = typed(&fields, &FIELDS);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (Some(name), Some(value), true) = (terms.name, terms.value, errors.is_empty()) else {
        return render(&state, &shop, locale, refused, &p, form, &errors).await;
    };
    let mut conditions = p.conditions.clone();
    conditions.min_subtotal_minor = terms.min_subtotal;
    conditions.starts_ms = terms.starts;
    conditions.ends_ms = terms.ends;
    let patch = PromotionPatch {
        name: Some(name),
        active: Some(fields.get("active").is_some_and(|v| v == "on")),
        value: Some(value),
        conditions: Some(conditions),
        usage_limit: Some(terms.usage_limit),
    };
    let (core, tenant, now, pid) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now(), p.id.clone());
    match blocking(move || refused_or(core.update_promotion(&tenant, &pid, patch, now).map(|_| ()))).await? {
        Ok(()) => Ok(Redirect::to("/admin/promotions?done=saved").into_response()),
        Err(message) => {
            let field = if message.contains("usage") { "usage_limit" } else { "value" };
            errors.add(field, format!("{} ({message})", locale.t("err_refused")));
            render(&state, &shop, locale, refused, &p, form, &errors).await
        }
    }
}
