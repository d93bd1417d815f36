//! Segments: the saved ones with their live count, and a small rule builder
//! (consent per channel, a tag, number of orders, total spent, combined with
//! all or any) whose rule is counted before saving (`preview_segment`) and
//! saved with `create_segment`, as the JSON API does. Rules the builder does
//! not offer (made through the API) are listed, summarised, all the same.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{ConsentPurpose, NewSegment, SegmentRule};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, Fields, refused_or};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Segments the list shows (and counts) at most.
const SHOWN: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    done: String,
}

/// One rule in words, for the list.
fn describe(rule: &SegmentRule, currency: &str, locale: Locale) -> String {
    let consent = |p: &ConsentPurpose, granted: bool| {
        let key = match (p, granted) {
            (ConsentPurpose::EmailMarketing, true) => "rule_email_yes",
            (ConsentPurpose::EmailMarketing, false) => "rule_email_no",
            (ConsentPurpose::SmsMarketing, true) => "rule_sms_yes",
            (ConsentPurpose::SmsMarketing, false) => "rule_sms_no",
        };
        locale.t(key).to_owned()
    };
    let bounds = |low: Option<String>, high: Option<String>| match (low, high) {
        (Some(l), Some(h)) => format!("{l}–{h}"),
        (Some(l), None) => format!("≥ {l}"),
        (None, Some(h)) => format!("≤ {h}"),
        (None, None) => String::new(),
    };
    match rule {
        SegmentRule::All { rules } | SegmentRule::Any { rules } => {
            let joiner = if matches!(rule, SegmentRule::All { .. }) { "rule_and" } else { "rule_or" };
            let parts: Vec<String> = rules.iter().map(|r| describe(r, currency, locale)).collect();
            format!("({})", parts.join(&format!(" {} ", locale.t(joiner))))
        }
        SegmentRule::Consent { purpose, granted } => consent(purpose, *granted),
        SegmentRule::Tagged { tag } => format!("{} “{tag}”", locale.t("rule_tag")),
        SegmentRule::OrderCount { at_least, at_most } => format!(
            "{} {}",
            locale.t("rule_orders"),
            bounds(at_least.map(|n| locale.number(n.into())), at_most.map(|n| locale.number(n.into())))
        ),
        SegmentRule::TotalSpent { at_least_minor, at_most_minor } => format!(
            "{} {}",
            locale.t("rule_spent"),
            bounds(at_least_minor.map(|m| locale.money(m, currency)), at_most_minor.map(|m| locale.money(m, currency)))
        ),
        _ => locale.t("rule_other").to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    form: Value,
    errors: &FieldErrors,
    count: Option<usize>,
    done: Option<&'static str>,
) -> Result<Response, UiError> {
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let (rows, currency) = blocking(move || {
        let currency = core.get_tenant(&tenant)?.currency;
        let mut rows = Vec::new();
        for s in core.list_segments(&tenant, None, SHOWN)?.iter().rev() {
            let count = core.count_segment(&tenant, &s.id, now)?.count;
            rows.push(json!({
                "id": s.id.to_string(), "name": s.name, "rule": describe(&s.rule, &currency, locale),
                "count": locale.number(count as i64),
            }));
        }
        Ok::<_, AdminError>((rows, currency))
    })
    .await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "segments", "/admin/segments");
    page(
        state,
        status,
        "segments.html",
        &chrome,
        json!({
            "segments": rows, "form": form, "errors": errors.to_json(), "currency": currency,
            "count": count.map(|c| locale.number(c as i64)), "done": done.map(|d| locale.t(d)),
        }),
    )
}

const FIELDS: [&str; 8] = ["name", "combine", "email", "sms", "tag", "min_orders", "max_orders", "min_spent"];

fn form_of(fields: &Fields) -> Value {
    let mut form = serde_json::Map::new();
    for name in FIELDS {
        form.insert(name.into(), json!(fields.get(name).cloned().unwrap_or_default()));
    }
    if form["combine"] == "" {
        form.insert("combine".into(), json!("all"));
    }
    Value::Object(form)
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let done = (q.done == "created").then_some("done_segment_created");
    let form = form_of(&Fields::default());
    render(&state, &shop, locale, StatusCode::OK, form, &FieldErrors::default(), None, done).await
}

/// The builder's rule, every field checked; `None` with messages otherwise.
fn rule_of(fields: &Fields, currency: &str, locale: Locale, errors: &mut FieldErrors) -> Option<SegmentRule> {
    let mut rules = Vec::new();
    for (name, purpose) in [("email", ConsentPurpose::EmailMarketing), ("sms", ConsentPurpose::SmsMarketing)] {
        match fields.get(name).map(String::as_str).unwrap_or_default() {
            "" => {}
            "yes" => rules.push(SegmentRule::Consent { purpose, granted: true }),
            "no" => rules.push(SegmentRule::Consent { purpose, granted: false }),
            _ => errors.add(name, locale.t("err_invalid")),
        }
    }
    let tag = forms::optional_text(fields, "tag", 64, locale, errors);
    if !tag.is_empty() {
        rules.push(SegmentRule::Tagged { tag });
    }
    let optional = |name: &str, errors: &mut FieldErrors| match fields.get(name).map(|v| v.trim()).unwrap_or_default() {
        "" => None,
        _ => forms::integer(fields, name, 0, 1_000_000, locale, errors),
    };
    let (min_orders, max_orders) = (optional("min_orders", errors), optional("max_orders", errors));
    if let (Some(l), Some(h)) = (min_orders, max_orders)
        && l > h
    {
        errors.add("max_orders", locale.t("err_min_max"));
    }
    if min_orders.is_some() || max_orders.is_some() {
        rules.push(SegmentRule::OrderCount {
            at_least: min_orders.map(|n| n as u32),
            at_most: max_orders.map(|n| n as u32),
        });
    }
    if !fields.get("min_spent").map(|v| v.trim()).unwrap_or_default().is_empty()
        && let Some(minor) = forms::price(fields, "min_spent", currency, locale, errors)
    {
        rules.push(SegmentRule::TotalSpent { at_least_minor: Some(minor), at_most_minor: None });
    }
    let combine = fields.get("combine").map(String::as_str).unwrap_or("all");
    if !matches!(combine, "all" | "any") {
        errors.add("combine", locale.t("err_invalid"));
    }
    if rules.is_empty() && errors.is_empty() {
        errors.add("combine", locale.t("err_no_rules"));
    }
    if !errors.is_empty() {
        return None;
    }
    Some(if combine == "any" { SegmentRule::Any { rules } } else { SegmentRule::All { rules } })
}

/// Count the builder's rule without saving it (the live count; without
/// JavaScript it is the form's second button).
pub(crate) async fn count(State(state): State<UiState>, form: ShopForm) -> Result<Response, UiError> {
    save_or_count(state, form, false).await
}

pub(crate) async fn create(State(state): State<UiState>, form: ShopForm) -> Result<Response, UiError> {
    save_or_count(state, form, true).await
}

async fn save_or_count(state: UiState, form: ShopForm, save: bool) -> Result<Response, UiError> {
    let ShopForm { shop, locale, fields } = form;
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let currency = blocking(move || Ok::<_, AdminError>(core.get_tenant(&tenant)?.currency)).await?;
    let mut errors = FieldErrors::default();
    let name = if save { forms::text(&fields, "name", 200, locale, &mut errors) } else { None };
    let rule = rule_of(&fields, &currency, locale, &mut errors);
    let form = form_of(&fields);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(rule) = rule.filter(|_| errors.is_empty()) else {
        return render(&state, &shop, locale, refused, form, &errors, None, None).await;
    };
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let outcome = blocking(move || {
        let result = match name {
            Some(name) => core.create_segment(&tenant, NewSegment { name, rule }, now).map(|_| None),
            None => core.preview_segment(&tenant, &rule, now).map(|c| Some(c.count)),
        };
        refused_or(result)
    })
    .await?;
    match outcome {
        Ok(None) => Ok(Redirect::to("/admin/segments?done=created").into_response()),
        Ok(Some(count)) => render(&state, &shop, locale, StatusCode::OK, form, &errors, Some(count), None).await,
        Err(message) => {
            errors.add("combine", format!("{} ({message})", locale.t("err_refused")));
            render(&state, &shop, locale, refused, form, &errors, None, None).await
        }
    }
}
