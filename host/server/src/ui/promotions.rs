//! Promotions: the list and the create form, which calls the core's
//! `create_promotion` as the JSON API's `POST …/promotions` does. The four
//! kinds of the core's pricing (a percentage or an amount, off each line or
//! off the order) are one choice in the form.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{DiscountValue, NewPromotion, Promotion, PromotionConditions, PromotionScope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, Fields, refused_or};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::Shop;
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Promotions the list shows at most.
const SHOWN: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    done: String,
}

/// How a promotion is written in the list: its kind and its value.
fn row(p: &Promotion, currency: &str, locale: Locale) -> Value {
    let (kind, value) = match (&p.scope, &p.value) {
        (PromotionScope::Line, DiscountValue::Percent { bps }) => ("kind_percent_line", percent(*bps)),
        (PromotionScope::Order, DiscountValue::Percent { bps }) => ("kind_percent_order", percent(*bps)),
        (PromotionScope::Line, DiscountValue::AmountOff { amount_minor }) => {
            ("kind_amount_line", locale.money(*amount_minor, currency))
        }
        (PromotionScope::Order, DiscountValue::AmountOff { amount_minor }) => {
            ("kind_amount_order", locale.money(*amount_minor, currency))
        }
    };
    json!({
        "id": p.id.to_string(), "name": p.name, "kind": locale.t(kind), "value": value,
        "code": p.code, "used": locale.number(p.usage_count as i64),
        "limit": p.usage_limit.map(|l| locale.number(l as i64)),
        "min_subtotal": p.conditions.min_subtotal_minor.map(|m| locale.money(m, currency)),
        "active": p.active,
    })
}

fn percent(bps: u32) -> String {
    if bps % 100 == 0 { format!("{}%", bps / 100) } else { format!("{}.{:02}%", bps / 100, bps % 100) }
}

async fn render(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    form: Value,
    errors: &FieldErrors,
    done: Option<&'static str>,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let (rows, currency) = blocking(move || {
        let currency = core.get_tenant(&tenant)?.currency;
        let list = core.list_promotions_page(&tenant, None, SHOWN)?;
        let rows: Vec<Value> = list.iter().rev().map(|p| row(p, &currency, locale)).collect();
        Ok::<_, AdminError>((rows, currency))
    })
    .await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "promotions", "/admin/promotions");
    page(
        state,
        status,
        "promotions.html",
        &chrome,
        json!({
            "promotions": rows, "form": form, "errors": errors.to_json(), "currency": currency,
            "done": done.map(|d| locale.t(d)),
        }),
    )
}

fn empty_form() -> Value {
    json!({ "name": "", "kind": "percent_line", "value": "", "code": "", "min_subtotal": "", "usage_limit": "" })
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    let done = (q.done == "created").then_some("done_promotion_created");
    render(&state, &shop, locale, StatusCode::OK, empty_form(), &FieldErrors::default(), done).await
}

/// Create a promotion. Every field is checked first; what the core refuses
/// (a code already used, say) is shown next to the field it concerns.
pub(crate) async fn create(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, UiError> {
    shop.session.check_csrf(fields.get("csrf").map(String::as_str))?;
    let locale = Locale::of(&headers);
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let currency = blocking(move || Ok::<_, AdminError>(core.get_tenant(&tenant)?.currency)).await?;
    let mut errors = FieldErrors::default();
    let name = forms::text(&fields, "name", 200, locale, &mut errors);
    let kind = fields.get("kind").map(String::as_str).unwrap_or_default();
    let (scope, percent) = match kind {
        "percent_line" => (Some(PromotionScope::Line), true),
        "percent_order" => (Some(PromotionScope::Order), true),
        "amount_line" => (Some(PromotionScope::Line), false),
        "amount_order" => (Some(PromotionScope::Order), false),
        _ => {
            errors.add("kind", locale.t("err_invalid"));
            (None, true)
        }
    };
    let value = if percent {
        forms::integer(&fields, "value", 1, 100, locale, &mut errors)
            .map(|n| DiscountValue::Percent { bps: n as u32 * 100 })
    } else {
        match forms::price(&fields, "value", &currency, locale, &mut errors) {
            Some(0) => {
                errors.add("value", locale.t("err_zero_amount"));
                None
            }
            other => other.map(|amount_minor| DiscountValue::AmountOff { amount_minor }),
        }
    };
    let code = forms::optional_text(&fields, "code", 64, locale, &mut errors);
    let min_subtotal = match fields.get("min_subtotal").map(|v| v.trim()).unwrap_or_default() {
        "" => None,
        _ => forms::price(&fields, "min_subtotal", &currency, locale, &mut errors),
    };
    let usage_limit = match fields.get("usage_limit").map(|v| v.trim()).unwrap_or_default() {
        "" => None,
        _ => forms::integer(&fields, "usage_limit", 1, 1_000_000_000, locale, &mut errors),
    };
    let form = json!({
        "name": fields.get("name").cloned().unwrap_or_default(),
        "kind": kind,
        "value": fields.get("value").cloned().unwrap_or_default(),
        "code": fields.get("code").cloned().unwrap_or_default(),
        "min_subtotal": fields.get("min_subtotal").cloned().unwrap_or_default(),
        "usage_limit": fields.get("usage_limit").cloned().unwrap_or_default(),
    });
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (Some(name), Some(scope), Some(value), true) = (name, scope, value, errors.is_empty()) else {
        return render(&state, &shop, locale, refused, form, &errors, None).await;
    };
    let new = NewPromotion {
        name,
        scope,
        value,
        conditions: PromotionConditions { min_subtotal_minor: min_subtotal, ..PromotionConditions::default() },
        code: (!code.is_empty()).then_some(code),
        usage_limit: usage_limit.map(|n| n as u64),
    };
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let created = blocking(move || refused_or(core.create_promotion(&tenant, new, now).map(|_| ()))).await?;
    match created {
        Ok(()) => Ok(Redirect::to("/admin/promotions?done=created").into_response()),
        Err(message) => {
            let field = if message.contains("code") { "code" } else { "value" };
            errors.add(field, format!("{} ({message})", locale.t("err_refused")));
            render(&state, &shop, locale, refused, form, &errors, None).await
        }
    }
}
