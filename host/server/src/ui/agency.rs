//! The agency view: the operator's list of every tenant of the deployment,
//! with its currency, channels and API tokens.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::Operator;
use super::{UiError, UiState};
use crate::admin::blocking;

/// Tenants shown at most (the first, in id order).
const SHOWN: usize = 500;

pub(crate) async fn view(
    State(state): State<UiState>,
    Operator(session): Operator,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let locale = Locale::of(&headers);
    let core = state.admin.core().clone();
    let tenants = blocking(move || {
        let mut rows = Vec::new();
        for tenant in core.list_tenants_page(None, SHOWN)? {
            let channels = core.list_channels(&tenant.id)?;
            let tokens = crate::admin::token_count(&core, &tenant.id)?;
            rows.push((tenant, channels, tokens));
        }
        Ok(rows)
    })
    .await?;
    let rows: Vec<Value> = tenants
        .iter()
        .map(|(t, channels, tokens)| {
            json!({
                "id": t.id.to_string(), "name": t.name, "currency": t.currency,
                "created": locale.date(t.created_ms),
                "channels": channels.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", "),
                "tokens": locale.number(*tokens as i64),
            })
        })
        .collect();
    let chrome = Chrome::new(locale, Some(&session), "agency", "/admin/agency");
    page(&state, StatusCode::OK, "agency.html", &chrome, json!({ "tenants": rows }))
}
