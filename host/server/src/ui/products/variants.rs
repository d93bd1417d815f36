//! A new variant of a product from its page: title, SKU and price, added
//! with the core's `add_variant` as the JSON API's `POST …/variants` does.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{Money, NewVariant, ProductId};

use super::super::forms::{self, FieldErrors, refused_or};
use super::super::session::ShopForm;
use super::super::{UiError, UiState};
use super::{Notice, currency, render_product};
use crate::admin::{AdminError, blocking};

/// The form's fields, named apart from the variants table's so each error
/// lands next to its own input.
const FIELDS: [&str; 3] = ["new_title", "new_sku", "new_price"];

pub(crate) async fn add_variant(
    State(state): State<UiState>,
    Path(product): Path<String>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let id = ProductId::new(product);
    let sent: super::Sent =
        FIELDS.iter().map(|n| (n.to_string(), fields.get(*n).cloned().unwrap_or_default())).collect();
    let (core, tenant, now, pid) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now(), id.clone());
    let result = blocking(move || {
        core.get_product(&tenant, &pid)?;
        let cur = currency(&core, &tenant)?;
        let mut errors = FieldErrors::default();
        let title = forms::text(&fields, "new_title", 200, locale, &mut errors);
        let sku = forms::text(&fields, "new_sku", 64, locale, &mut errors);
        let price = forms::price(&fields, "new_price", &cur, locale, &mut errors);
        if let Some(sku) = &sku
            && core.variant_by_sku(&tenant, sku).is_ok()
        {
            errors.add("new_sku", locale.t("err_taken"));
        }
        let (Some(title), Some(sku), Some(price), true) = (title, sku, price, errors.is_empty()) else {
            return Ok::<_, AdminError>(Err(errors));
        };
        let new = NewVariant {
            sku,
            title,
            options: Default::default(),
            gtin: None,
            weight_grams: None,
            price: Money { amount_minor: price, currency: cur },
            compare_at: None,
            backorderable: false,
        };
        match refused_or(core.add_variant(&tenant, &pid, new, now))? {
            Ok(_) => Ok(Ok(())),
            Err(message) => {
                let field = if message.contains("SKU") { "new_sku" } else { "new_title" };
                errors.add(field, format!("{} ({message})", locale.t("err_refused")));
                Ok(Err(errors))
            }
        }
    });
    match result.await? {
        Ok(()) => Ok(Redirect::to(&format!("/admin/products/{id}?done=variant")).into_response()),
        Err(errors) => {
            let notice = Notice { errors, sent, ..Notice::default() };
            render_product(&state, &shop, locale, id, StatusCode::UNPROCESSABLE_ENTITY, notice).await
        }
    }
}
