//! A return received at a location: for each line how many units came
//! back and whether they go back on the shelf there or are written off,
//! through the core's `receive_return` as the JSON API's
//! `POST …/orders/{order}/returns` does (which also refunds them).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{Disposition, LocationId, OrderId, ReturnLineRequest, ReturnRequest};
use serde_json::{Value, json};

use super::super::forms::{self, FieldErrors, Fields};
use super::super::session::ShopForm;
use super::super::{UiError, UiState};
use super::render_order;
use crate::admin::{AdminError, blocking};

/// Put what was typed back into the return form of an order's page.
pub(super) fn keep_typed(view: &mut Value, fields: &Fields) {
    for key in ["location", "reason"] {
        view["return_form"][key] = json!(fields.get(key).cloned().unwrap_or_default());
    }
    if let Some(lines) = view["return_lines"].as_array_mut() {
        for line in lines {
            for (field, value) in [("qty_field", "qty"), ("disp_field", "disp")] {
                let name = line[field].as_str().unwrap_or_default().to_owned();
                if let Some(typed) = fields.get(&name) {
                    line[value] = json!(typed);
                }
            }
        }
    }
}

pub(crate) async fn receive_return(
    State(state): State<UiState>,
    Path(order): Path<String>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let id = OrderId::new(order);
    let mut errors = FieldErrors::default();
    let location = forms::text(&fields, "location", 200, locale, &mut errors).map(LocationId::new);
    let reason = forms::optional_text(&fields, "reason", 500, locale, &mut errors);
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let (order_id, typed) = (id.clone(), fields.clone());
    let result = blocking(move || {
        let order = core.get_order(&tenant, &order_id)?;
        let mut lines = Vec::new();
        for line in order.lines.iter().filter(|l| l.returnable() > 0) {
            let qty_field = format!("qty_{}", line.line_no);
            let disp_field = format!("disp_{}", line.line_no);
            // An empty quantity is a line that did not come back.
            if typed.get(&qty_field).is_none_or(|q| q.trim().is_empty()) {
                continue;
            }
            let quantity = forms::integer(&typed, &qty_field, 0, line.returnable(), locale, &mut errors);
            let disposition = match typed.get(&disp_field).map(String::as_str) {
                Some("restock") | None => Some(Disposition::Restock),
                Some("write_off") => Some(Disposition::WriteOff),
                Some(_) => {
                    errors.add(&disp_field, locale.t("err_invalid"));
                    None
                }
            };
            if let (Some(quantity @ 1..), Some(disposition)) = (quantity, disposition) {
                lines.push(ReturnLineRequest { line_no: line.line_no, quantity, disposition });
            }
        }
        if lines.is_empty() && errors.is_empty() {
            let first = order.lines.iter().find(|l| l.returnable() > 0).map(|l| format!("qty_{}", l.line_no));
            errors.add(first.as_deref().unwrap_or("location"), locale.t("err_return_nothing"));
        }
        // A location of another shop is not found here: said next to the field.
        if location.as_ref().is_some_and(|l| core.get_location(&tenant, l).is_err()) {
            errors.add("location", locale.t("err_not_found"));
        }
        let (Some(location), true) = (location, errors.is_empty()) else {
            return Ok(Err((errors, None)));
        };
        let reason = (!reason.is_empty()).then_some(reason);
        match core.receive_return(&tenant, &order_id, ReturnRequest { location_id: location, lines, reason }, now) {
            Ok(_) => Ok(Ok(())),
            Err(e) => {
                let e = AdminError::from(e);
                if !e.status.is_client_error() || e.status == StatusCode::NOT_FOUND {
                    return Err(e);
                }
                // Not shipped yet, say: the order's state refused it.
                Ok(Err((errors, Some(format!("{} ({})", locale.t("err_action"), e.message)))))
            }
        }
    })
    .await?;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/orders/{id}?done=return")).into_response()),
        Err((errors, message)) => {
            let status = if message.is_some() { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            render_order(&state, &shop, locale, id, status, "", &errors, message, Some(&fields)).await
        }
    }
}
