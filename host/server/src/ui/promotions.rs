//! Promotions: the list and the create form, which calls the core's
//! `create_promotion` as the JSON API's `POST …/promotions` does (editing
//! one is `promotion.rs`). The four
//! kinds of the core's pricing (a percentage or an amount, off each line or
//! off the order) are one choice in the form.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{DiscountValue, NewPromotion, Promotion, PromotionConditions, PromotionScope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, Fields, refused_or};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
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
        "window": window(p, locale),
    })
}

/// When the promotion applies, on the shop's clock; empty when always.
fn window(p: &Promotion, locale: Locale) -> String {
    match (p.conditions.starts_ms, p.conditions.ends_ms) {
        (None, None) => String::new(),
        (Some(s), None) => format!("{} {}", locale.t("from_moment"), locale.datetime(s)),
        (None, Some(e)) => format!("{} {}", locale.t("until_moment"), locale.datetime(e)),
        (Some(s), Some(e)) => format!("{} – {}", locale.datetime(s), locale.datetime(e)),
    }
}

pub(super) fn percent(bps: u32) -> String {
    if bps.is_multiple_of(100) { format!("{}%", bps / 100) } else { format!("{}.{:02}%", bps / 100, bps % 100) }
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
    json!({
        "name": "", "kind": "percent_line", "value": "", "code": "", "min_subtotal": "", "usage_limit": "",
        "starts": "", "ends": "",
    })
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let done = match q.done.as_str() {
        "created" => Some("done_promotion_created"),
        "saved" => Some("done_promotion_saved"),
        _ => None,
    };
    render(&state, &shop, locale, StatusCode::OK, empty_form(), &FieldErrors::default(), done).await
}

/// What the create and edit forms share: name, value, minimum subtotal,
/// usage limit and the window, read and checked.
pub(super) struct Terms {
    pub name: Option<String>,
    pub value: Option<DiscountValue>,
    pub min_subtotal: Option<i64>,
    pub usage_limit: Option<u64>,
    pub starts: Option<i64>,
    pub ends: Option<i64>,
}

/// Read the shared fields; `percent` says how `value` is written.
pub(super) fn read_terms(
    fields: &Fields,
    percent: bool,
    currency: &str,
    locale: Locale,
    errors: &mut FieldErrors,
) -> Terms {
    let name = forms::text(fields, "name", 200, locale, errors);
    let value = if percent {
        forms::integer(fields, "value", 1, 100, locale, errors).map(|n| DiscountValue::Percent { bps: n as u32 * 100 })
    } else {
        match forms::price(fields, "value", currency, locale, errors) {
            Some(0) => {
                errors.add("value", locale.t("err_zero_amount"));
                None
            }
            other => other.map(|amount_minor| DiscountValue::AmountOff { amount_minor }),
        }
    };
    let filled = |name: &str| !fields.get(name).map(|v| v.trim()).unwrap_or_default().is_empty();
    let min_subtotal =
        if filled("min_subtotal") { forms::price(fields, "min_subtotal", currency, locale, errors) } else { None };
    let usage_limit = if filled("usage_limit") {
        forms::integer(fields, "usage_limit", 1, 1_000_000_000, locale, errors).map(|n| n as u64)
    } else {
        None
    };
    // The window, on the shop's clock as the inputs show it.
    let mut moment = |name: &str| match fields.get(name).map(|v| v.trim()).unwrap_or_default() {
        "" => None,
        text => locale.parse_moment(text).or_else(|| {
            errors.add(name, locale.t("err_moment"));
            None
        }),
    };
    let (starts, ends) = (moment("starts"), moment("ends"));
    if let (Some(s), Some(e)) = (starts, ends)
        && e <= s
    {
        errors.add("ends", locale.t("err_ends_before_start"));
    }
    Terms { name, value, min_subtotal, usage_limit, starts, ends }
}

/// Create a promotion. Every field is checked first; what the core refuses
/// (a code already used, say) is shown next to the field it concerns.
pub(crate) async fn create(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let currency = blocking(move || Ok::<_, AdminError>(core.get_tenant(&tenant)?.currency)).await?;
    let mut errors = FieldErrors::default();
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
    let terms = read_terms(&fields, percent, &currency, locale, &mut errors);
    let code = forms::optional_text(&fields, "code", 64, locale, &mut errors);
    let form =
        forms::typed(&fields, &["name", "kind", "value", "code", "min_subtotal", "usage_limit", "starts", "ends"]);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (Some(name), Some(scope), Some(value), true) = (terms.name, scope, terms.value, errors.is_empty()) else {
        return render(&state, &shop, locale, refused, form, &errors, None).await;
    };
    let new = NewPromotion {
        name,
        scope,
        value,
        conditions: PromotionConditions {
            min_subtotal_minor: terms.min_subtotal,
            starts_ms: terms.starts,
            ends_ms: terms.ends,
            ..PromotionConditions::default()
        },
        code: (!code.is_empty()).then_some(code),
        usage_limit: terms.usage_limit,
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
