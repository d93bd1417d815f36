//! Moving units from one location to another (the kitchen to the shop),
//! through the core's `transfer_stock` as the JSON API's
//! `POST …/inventory/transfer` does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{LocationId, VariantId};
use serde_json::json;

use super::super::forms::{self, FieldErrors, refused_or};
use super::super::session::ShopForm;
use super::super::{UiError, UiState};
use super::{MAX_DELTA, blank_forms, render_grid};
use crate::admin::blocking;

/// Every field is checked first, then that each id is this shop's; the
/// core's refusal (not enough available at the source) goes next to the
/// quantity.
pub(crate) async fn transfer(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let mut errors = FieldErrors::default();
    let variant = forms::text(&fields, "t_variant", 200, locale, &mut errors).map(VariantId::new);
    let from = forms::text(&fields, "from", 200, locale, &mut errors).map(LocationId::new);
    let to = forms::text(&fields, "to", 200, locale, &mut errors).map(LocationId::new);
    let quantity = forms::integer(&fields, "quantity", 0, MAX_DELTA, locale, &mut errors);
    if quantity == Some(0) {
        errors.add("quantity", locale.t("err_zero"));
    }
    if from.is_some() && from == to {
        errors.add("to", locale.t("err_same_location"));
    }
    let note = forms::optional_text(&fields, "t_note", 200, locale, &mut errors);
    let mut form = blank_forms("", "");
    for key in ["t_variant", "from", "to", "quantity", "t_note"] {
        form[key] = json!(fields.get(key).cloned().unwrap_or_default());
    }
    let refused = |errors: FieldErrors, form| {
        let (state, shop) = (state.clone(), shop.clone());
        async move {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_grid(&state, &shop, locale, status, "/admin/inventory".into(), String::new(), form, &errors, None)
                .await
        }
    };
    let (Some(variant), Some(from), Some(to), Some(quantity), true) = (variant, from, to, quantity, errors.is_empty())
    else {
        return refused(errors, form).await;
    };
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let result = blocking(move || {
        let mut errors = FieldErrors::default();
        // Ids of another shop are not found here: said next to the field.
        if core.get_variant(&tenant, &variant).is_err() {
            errors.add("t_variant", locale.t("err_not_found"));
        }
        for (field, location) in [("from", &from), ("to", &to)] {
            if core.get_location(&tenant, location).is_err() {
                errors.add(field, locale.t("err_not_found"));
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let note = (!note.is_empty()).then_some(note);
        match refused_or(core.transfer_stock(&tenant, &variant, &from, &to, quantity, note.as_deref(), now))? {
            Ok(_) => Ok(Ok(())),
            Err(message) => {
                errors.add("quantity", format!("{} ({message})", locale.t("err_stock")));
                Ok(Err(errors))
            }
        }
    })
    .await?;
    match result {
        Ok(()) => Ok(Redirect::to("/admin/inventory?done=transferred").into_response()),
        Err(errors) => refused(errors, form).await,
    }
}
