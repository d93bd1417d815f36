//! Inventory: a grid of variants × locations (on hand, reserved,
//! available) and the adjust form, which calls the core's `adjust_stock` as
//! the JSON API's `POST …/inventory/adjust` does; the transfer form
//! ([`transfer`]) and a variant's movement ledger ([`ledger`]).

mod ledger;
mod transfer;

pub(crate) use ledger::ledger;
pub(crate) use transfer::transfer;

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{Core, LocationId, ProductQuery, TenantId, VariantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, refused_or};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Products whose variants the grid shows at most (the newest).
const PRODUCTS_SHOWN: usize = 200;
/// The largest correction one adjustment makes.
const MAX_DELTA: i64 = 1_000_000;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GridQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    variant: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    done: String,
}

/// The grid's rows and columns. Blocking.
fn grid_view(core: &Core, tenant: &TenantId, q: &str, locale: Locale) -> Result<(Value, Value, Value), AdminError> {
    let locations = core.list_locations(tenant)?;
    let needle = q.trim().to_lowercase();
    let mut products = Vec::new();
    let mut after = None;
    loop {
        let query = ProductQuery { after: after.clone(), limit: 500, status: None, collection: None };
        let batch = core.list_products(tenant, &query)?;
        after = batch.last().map(|p| p.id.clone());
        let full = batch.len() == 500;
        products.extend(batch);
        if !full || products.len() >= 20_000 {
            break;
        }
    }
    let mut rows = Vec::new();
    let mut options = Vec::new();
    for product in products.iter().rev() {
        for variant in core.product_variants(tenant, &product.id)? {
            let name = if variant.title == product.title || variant.title.is_empty() {
                product.title.clone()
            } else {
                format!("{} — {}", product.title, variant.title)
            };
            options.push(json!({ "id": variant.id.to_string(), "name": format!("{name} ({})", variant.sku) }));
            let hit = needle.is_empty()
                || name.to_lowercase().contains(&needle)
                || variant.sku.to_lowercase().contains(&needle);
            if !hit || rows.len() >= PRODUCTS_SHOWN * 4 {
                continue;
            }
            let levels: BTreeMap<String, (i64, i64, i64)> = core
                .stock_levels(tenant, &variant.id)?
                .into_iter()
                .map(|l| (l.location_id.to_string(), (l.on_hand, l.reserved, l.available)))
                .collect();
            let cells: Vec<Value> = locations
                .iter()
                .map(|loc| {
                    let (on_hand, reserved, available) = levels.get(loc.id.as_str()).copied().unwrap_or_default();
                    json!({
                        "location": loc.id.to_string(),
                        "on_hand": locale.number(on_hand), "reserved": locale.number(reserved),
                        "available": locale.number(available), "low": available <= 3,
                    })
                })
                .collect();
            rows.push(json!({ "id": variant.id.to_string(), "name": name, "sku": variant.sku, "cells": cells }));
        }
    }
    let columns: Vec<Value> = locations.iter().map(|l| json!({ "id": l.id.to_string(), "name": l.name })).collect();
    Ok((json!(rows), json!(columns), json!(options)))
}

/// The empty forms of the grid page, with what a link pre-selects.
fn blank_forms(variant: &str, location: &str) -> Value {
    json!({
        "variant": variant, "location": location, "delta": "", "note": "",
        "t_variant": variant, "from": location, "to": "", "quantity": "", "t_note": "",
    })
}

#[allow(clippy::too_many_arguments)]
async fn render_grid(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    here: String,
    q: String,
    form: Value,
    errors: &FieldErrors,
    done: Option<&'static str>,
) -> Result<Response, UiError> {
    let (core, tenant, needle) = (state.admin.core().clone(), shop.tenant.clone(), q.clone());
    let (rows, columns, options) = blocking(move || grid_view(&core, &tenant, &needle, locale)).await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "inventory", here);
    page(
        state,
        status,
        "inventory.html",
        &chrome,
        json!({
            "rows": rows, "columns": columns, "variants": options, "q": q, "form": form,
            "errors": errors.to_json(), "done": done.map(|key| locale.t(key)),
        }),
    )
}

pub(crate) async fn grid(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    uri: Uri,
    Query(g): Query<GridQuery>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let form = blank_forms(&g.variant, &g.location);
    let done = match g.done.as_str() {
        "adjusted" => Some("done_adjusted"),
        "transferred" => Some("done_transferred"),
        _ => None,
    };
    render_grid(&state, &shop, locale, StatusCode::OK, uri.to_string(), g.q, form, &FieldErrors::default(), done).await
}

/// Correct a variant's on-hand at a location by a delta (negative for
/// breakage). Every field is checked first; the core refuses going below
/// what is reserved, and that refusal is shown next to the delta.
pub(crate) async fn adjust(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let mut errors = FieldErrors::default();
    let variant = forms::text(&fields, "variant", 200, locale, &mut errors).map(VariantId::new);
    let location = forms::text(&fields, "location", 200, locale, &mut errors).map(LocationId::new);
    let delta = forms::integer(&fields, "delta", -MAX_DELTA, MAX_DELTA, locale, &mut errors);
    if delta == Some(0) {
        errors.add("delta", locale.t("err_zero"));
    }
    let note = forms::optional_text(&fields, "note", 200, locale, &mut errors);
    let mut form = blank_forms("", "");
    for key in ["variant", "location", "delta", "note"] {
        form[key] = json!(fields.get(key).cloned().unwrap_or_default());
    }
    let back = || "/admin/inventory".to_owned();
    let (Some(variant), Some(location), Some(delta), true) = (variant, location, delta, errors.is_empty()) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_grid(&state, &shop, locale, status, back(), String::new(), form, &errors, None).await;
    };
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let result = blocking(move || {
        let mut errors = FieldErrors::default();
        // Ids of another shop are not found here: said next to the field.
        if core.get_variant(&tenant, &variant).is_err() {
            errors.add("variant", locale.t("err_not_found"));
        }
        if core.get_location(&tenant, &location).is_err() {
            errors.add("location", locale.t("err_not_found"));
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let note = (!note.is_empty()).then_some(note);
        match refused_or(core.adjust_stock(&tenant, &variant, &location, delta, note.as_deref(), now))? {
            Ok(_) => Ok(Ok(())),
            Err(message) => {
                errors.add("delta", format!("{} ({message})", locale.t("err_stock")));
                Ok(Err(errors))
            }
        }
    })
    .await?;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/inventory?done=adjusted").into_response()),
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_grid(&state, &shop, locale, status, back(), String::new(), form, &errors, None).await
        }
    }
}
