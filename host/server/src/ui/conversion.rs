//! Conversion per channel for the dashboard: views → carts → orders over a
//! period. Views and carts are the touchpoints the channels recorded,
//! counted by the core's `touchpoint_counts`; orders are the orders the
//! dashboard already counted for the same period.

use std::collections::BTreeMap;

use omnistore_core::{Core, TenantId};
use serde_json::{Value, json};

use super::i18n::Locale;
use crate::admin::AdminError;

/// The touchpoint kinds that mean a product was looked at, and put in a
/// cart. Channels write either spelling (the SDK's examples use dashes).
const VIEWS: [&str; 3] = ["view", "product_view", "product-view"];
const CARTS: [&str; 2] = ["add_to_cart", "add-to-cart"];

/// `part` of `whole` as a whole percentage, or a dash when there is no whole.
fn rate(part: u64, whole: u64, locale: Locale) -> String {
    if whole == 0 {
        return "—".to_owned();
    }
    let pct = (part * 100 + whole / 2) / whole;
    format!("{}%", locale.number(i64::try_from(pct).unwrap_or(i64::MAX)))
}

/// A row per channel with any view, cart or order in `[from_ms, to_ms)`.
/// `orders` is the count per channel id (`None`: entered in the admin).
/// Blocking.
pub(crate) fn per_channel(
    core: &Core,
    tenant: &TenantId,
    from_ms: i64,
    to_ms: i64,
    names: &BTreeMap<String, String>,
    orders: &BTreeMap<Option<String>, u64>,
    locale: Locale,
) -> Result<Vec<Value>, AdminError> {
    let mut funnel: BTreeMap<Option<String>, (u64, u64, u64)> = BTreeMap::new();
    for c in core.touchpoint_counts(tenant, from_ms, to_ms)? {
        let entry = funnel.entry(c.channel_id.map(|id| id.to_string())).or_default();
        if VIEWS.contains(&c.kind.as_str()) {
            entry.0 += c.count;
        } else if CARTS.contains(&c.kind.as_str()) {
            entry.1 += c.count;
        }
    }
    for (channel, n) in orders {
        funnel.entry(channel.clone()).or_default().2 += n;
    }
    Ok(funnel
        .into_iter()
        .filter(|(_, (views, carts, orders))| views + carts + orders > 0)
        .map(|(channel, (views, carts, orders))| {
            let name = match &channel {
                Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
                None => locale.t("channel_admin").to_owned(),
            };
            json!({
                "channel": name,
                "views": locale.number(views as i64), "carts": locale.number(carts as i64),
                "orders": locale.number(orders as i64),
                "view_to_cart": rate(carts, views, locale), "cart_to_order": rate(orders, carts, locale),
                "view_to_order": rate(orders, views, locale),
            })
        })
        .collect())
}
