//! A variant's movement ledger: every receipt, correction, count, hold,
//! order, return and transfer at every location, newest first, read with
//! the core's `movements` as the JSON API's `GET …/inventory/movements`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use omnistore_core::VariantId;
use serde_json::{Value, json};

use super::super::i18n::Locale;
use super::super::render::{Chrome, page};
use super::super::session::Shop;
use super::super::{UiError, UiState};
use crate::admin::blocking;

/// Entries shown at most; older ones are in the JSON API's pages.
const SHOWN: usize = 200;
/// Entries read per location: the newest are at the end of each.
const READ: usize = 10_000;

pub(crate) async fn ledger(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    uri: Uri,
    Path(variant): Path<String>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let data = blocking(move || {
        let variant = core.get_variant(&tenant, &VariantId::new(variant))?;
        let product = core.get_product(&tenant, &variant.product_id)?;
        let mut entries = Vec::new();
        let mut levels = Vec::new();
        for location in core.list_locations(&tenant)? {
            let level = core.stock_level(&tenant, &variant.id, &location.id)?;
            levels.push(json!({
                "name": location.name, "on_hand": locale.number(level.on_hand),
                "reserved": locale.number(level.reserved), "available": locale.number(level.available),
            }));
            let moves = core.movements(&tenant, &variant.id, &location.id, 0, READ)?;
            entries.extend(moves.into_iter().rev().take(SHOWN).map(|m| (location.name.clone(), m)));
        }
        entries.sort_by(|(_, a), (_, b)| b.at_ms.cmp(&a.at_ms).then(b.seq.cmp(&a.seq)));
        entries.truncate(SHOWN);
        let rows: Vec<Value> = entries
            .into_iter()
            .map(|(location, m)| {
                let kind = serde_json::to_value(m.kind).ok().and_then(|k| k.as_str().map(str::to_owned));
                json!({
                    "at": locale.datetime(m.at_ms), "location": location,
                    "kind": locale.t(&format!("mv_{}", kind.unwrap_or_default())),
                    "on_hand_delta": signed(locale, m.on_hand_delta),
                    "reserved_delta": signed(locale, m.reserved_delta),
                    "on_hand_after": locale.number(m.on_hand_after),
                    "reserved_after": locale.number(m.reserved_after),
                    "reference": m.reference.unwrap_or_default(), "note": m.note.unwrap_or_default(),
                })
            })
            .collect();
        let name = if variant.title.is_empty() || variant.title == product.product.title {
            product.product.title.clone()
        } else {
            format!("{} — {}", product.product.title, variant.title)
        };
        Ok(json!({ "name": name, "sku": variant.sku, "levels": levels, "rows": rows }))
    })
    .await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "inventory", uri.to_string());
    page(&state, StatusCode::OK, "inventory_ledger.html", &chrome, data)
}

/// A change with its sign, so a ledger reads as ins and outs.
fn signed(locale: Locale, n: i64) -> String {
    match n {
        0 => String::new(),
        n if n > 0 => format!("+{}", locale.number(n)),
        n => locale.number(n),
    }
}
