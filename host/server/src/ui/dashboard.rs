//! The dashboard: today's and the last seven days' orders and revenue per
//! channel (with a bar chart the server draws as SVG), stock running low per
//! location, conversion per channel (views → carts → orders, from
//! [`super::conversion`]), and each channel's health — the sync report it wrote
//! (`omnistore_services::sync_state`) and its dead letters.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use omnistore_core::{Core, OrderStatus, ProductQuery, TenantId};
use omnistore_services::sync_state::{self, ProductSyncStatus, Reported};
use serde_json::{Value, json};

use super::i18n::Locale;
use super::orders::{channel_names, recent_orders};
use super::render::{Chrome, page};
use super::session::Shop;
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Units available at or below which a variant is low at a location.
pub(crate) const LOW_STOCK: i64 = 3;
/// Low-stock lines shown at most.
const LOW_SHOWN: usize = 30;

#[derive(Debug, Default, Clone)]
struct Tally {
    today_orders: i64,
    today_revenue: i64,
    week_orders: i64,
    week_revenue: i64,
}

/// Bars of the week's revenue per channel, as SVG drawn here (no script,
/// readable by screen readers through its title and the table beside it).
fn chart(rows: &[(String, i64, String)], title: &str) -> String {
    let max = rows.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    let (bar_h, gap, label_w, width) = (22, 10, 160, 560);
    let height = rows.len().max(1) as i64 * (bar_h + gap) + gap;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">{}</title>",
        super::render::escape(title)
    );
    for (i, (name, value, shown)) in rows.iter().enumerate() {
        let y = gap + i as i64 * (bar_h + gap);
        let w = (value * (width - label_w - 110) / max).max(if *value > 0 { 2 } else { 0 });
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"14\" fill=\"#1d1d1f\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{bar_h}\" fill=\"#0b57a4\"></rect><text x=\"{}\" y=\"{}\" font-size=\"14\" fill=\"#1d1d1f\">{}</text>",
            y + 16,
            super::render::escape(name),
            label_w + w + 8,
            y + 16,
            super::render::escape(shown),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Everything the dashboard shows. Blocking.
fn dashboard(core: &Core, tenant: &TenantId, now: i64, locale: Locale) -> Result<Value, AdminError> {
    let currency = core.get_tenant(tenant)?.currency;
    // The shop's days, on its own clock.
    let today = locale.day_start(now);
    let week = locale.days_before(today, 6);
    let names = channel_names(core, tenant)?;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut orders_per_channel: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for order in recent_orders(core, tenant, None, None, |o| o.placed_ms >= week, 100_000)? {
        *orders_per_channel.entry(order.channel_id.as_ref().map(|c| c.to_string())).or_default() += 1;
        let channel = match &order.channel_id {
            Some(c) => names.get(c.as_str()).cloned().unwrap_or_else(|| c.to_string()),
            None => locale.t("channel_admin").to_owned(),
        };
        let counted = !matches!(order.status, OrderStatus::Cancelled | OrderStatus::Refunded);
        let revenue = if counted { order.total.amount_minor - order.refunded.amount_minor } else { 0 };
        let tally = tallies.entry(channel).or_default();
        tally.week_orders += 1;
        tally.week_revenue += revenue;
        if order.placed_ms >= today {
            tally.today_orders += 1;
            tally.today_revenue += revenue;
        }
    }
    let money = |m: i64| locale.money(m, &currency);
    let rows: Vec<Value> = tallies
        .iter()
        .map(|(name, t)| {
            json!({
                "channel": name,
                "today_orders": locale.number(t.today_orders), "today_revenue": money(t.today_revenue),
                "week_orders": locale.number(t.week_orders), "week_revenue": money(t.week_revenue),
            })
        })
        .collect();
    let bars: Vec<(String, i64, String)> =
        tallies.iter().map(|(name, t)| (name.clone(), t.week_revenue, money(t.week_revenue))).collect();
    let total = tallies.values().fold(Tally::default(), |mut acc, t| {
        acc.today_orders += t.today_orders;
        acc.today_revenue += t.today_revenue;
        acc.week_orders += t.week_orders;
        acc.week_revenue += t.week_revenue;
        acc
    });

    let locations: BTreeMap<String, String> =
        core.list_locations(tenant)?.into_iter().map(|l| (l.id.to_string(), l.name)).collect();
    let mut low = Vec::new();
    let query = ProductQuery {
        after: None,
        limit: 1000,
        status: Some(omnistore_core::ProductStatus::Active),
        collection: None,
    };
    'products: for product in core.list_products(tenant, &query)? {
        for variant in core.product_variants(tenant, &product.id)? {
            for level in core.stock_levels(tenant, &variant.id)? {
                if level.available <= LOW_STOCK {
                    low.push(json!({
                        "name": if variant.title == product.title { product.title.clone() } else { format!("{} — {}", product.title, variant.title) },
                        "sku": variant.sku,
                        "location": locations.get(level.location_id.as_str()).cloned().unwrap_or_default(),
                        "available": locale.number(level.available),
                    }));
                    if low.len() >= LOW_SHOWN {
                        break 'products;
                    }
                }
            }
        }
    }

    let dead: Vec<_> = core.dead_letters(tenant, 1000)?;
    let kv = core.store().clone();
    let mut health = Vec::new();
    for channel in core.list_channels(tenant)? {
        let installation = channel.id.as_str();
        let (state, message, updated) = super::channel_health::channel_state(core, tenant, installation, locale)?;
        let errors = sync_state::product_states(&*kv, tenant, installation, None, 1000)
            .map_err(AdminError::storage)?
            .into_iter()
            .filter(|p| match p {
                Reported::Read(p) => p.status == ProductSyncStatus::Error,
                Reported::Unreadable { .. } => true,
            })
            .count();
        health.push(json!({
            "name": channel.name,
            "enabled": if channel.enabled { locale.t("enabled") } else { locale.t("disabled") },
            "state": state, "message": message, "updated": updated,
            "errors": locale.number(errors as i64),
            "dead": locale.number(dead.iter().filter(|d| d.channel_id == channel.id).count() as i64),
        }));
    }
    let conversion = super::conversion::per_channel(
        core,
        tenant,
        week,
        locale.next_day(today),
        &names,
        &orders_per_channel,
        locale,
    )?;
    let campaigns = recent_campaigns(core, tenant, locale)?;
    Ok(json!({
        "rows": rows,
        "conversion": conversion,
        "chart": chart(&bars, locale.t("chart_title")),
        "today_orders": locale.number(total.today_orders),
        "today_revenue": money(total.today_revenue),
        "week_orders": locale.number(total.week_orders),
        "week_revenue": money(total.week_revenue),
        "low": low,
        "health": health,
        "campaigns": campaigns,
        "today": locale.date(today),
    }))
}

/// Campaigns the dashboard lists at most, the newest first.
const RECENT_CAMPAIGNS: usize = 5;
/// Campaigns looked through for the newest (a shop sends a few a month).
const CAMPAIGNS_SCANNED: usize = 10_000;

/// The newest campaigns with their progress and what they brought in (orders
/// and revenue whose last campaign touch they were, every channel together).
/// Blocking.
fn recent_campaigns(core: &Core, tenant: &TenantId, locale: Locale) -> Result<Vec<Value>, AdminError> {
    let currency = core.get_tenant(tenant)?.currency;
    let mut all = core.list_campaigns(tenant, None, CAMPAIGNS_SCANNED)?;
    all.sort_by_key(|c| std::cmp::Reverse(c.created_ms));
    let mut rows = Vec::new();
    for c in all.into_iter().take(RECENT_CAMPAIGNS) {
        let results = core.campaign_results(tenant, &c.id)?;
        let orders: u64 = results.channels.iter().map(|r| r.orders_last_touch).sum();
        let revenue: i64 = results.channels.iter().map(|r| r.revenue_last_touch.amount_minor).sum();
        rows.push(json!({
            "id": c.id.to_string(), "name": c.name,
            "status": locale.t(super::campaigns::status_key(c.status)),
            "done": c.progress.done, "total": c.progress.total,
            "progress": format!("{} / {}", locale.number(c.progress.done as i64), locale.number(c.progress.total as i64)),
            "orders": locale.number(orders as i64), "revenue": locale.money(revenue, &currency),
        }));
    }
    Ok(rows)
}

pub(crate) async fn view(State(state): State<UiState>, shop: Shop, headers: HeaderMap) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let data = blocking(move || dashboard(&core, &tenant, now, locale)).await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "dashboard", "/admin/dashboard");
    page(&state, StatusCode::OK, "dashboard.html", &chrome, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_a_bar_per_channel_scaled_to_the_largest() {
        let svg = chart(&[("Web".into(), 1000, "€10.00".into()), ("Instagram".into(), 500, "€5.00".into())], "Revenue");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("width=\"290\"") && svg.contains("width=\"145\""), "{svg}");
        assert!(svg.contains("<title id=\"chart-title\">Revenue</title>"));
    }
}
