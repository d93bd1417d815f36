//! Orders: one list across channels (filters by channel, status,
//! fulfilment, location and day), an order's page, and its status buttons —
//! the core's own transitions, as the JSON API's handlers call them. A
//! return at a location: [`returns`].

mod returns;

pub(crate) use returns::receive_return;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{ChannelId, Core, Fulfilment, Order, OrderId, OrderQuery, OrderStatus, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{FieldErrors, Fields};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Orders looked at for one list at most (the core lists oldest first; the
/// page shows the newest matches of the newest orders).
const SCAN_LIMIT: usize = 20_000;
/// Orders shown on one page.
const SHOWN: usize = 100;

pub(crate) const STATUSES: [(OrderStatus, &str); 6] = [
    (OrderStatus::Placed, "placed"),
    (OrderStatus::ReadyForPickup, "ready_for_pickup"),
    (OrderStatus::Shipped, "shipped"),
    (OrderStatus::Completed, "completed"),
    (OrderStatus::Cancelled, "cancelled"),
    (OrderStatus::Refunded, "refunded"),
];

pub(crate) fn status_name(status: OrderStatus) -> &'static str {
    STATUSES.iter().find(|(s, _)| *s == status).map_or("placed", |(_, n)| n)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    fulfilment: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// The ways an order leaves the shop, as the filter names them.
const FULFILMENTS: [&str; 3] = ["pickup", "ship", "ship_to_store"];

fn fulfilment_key(order: &Order) -> &'static str {
    match order.fulfilment {
        Fulfilment::Pickup { .. } => "pickup",
        Fulfilment::Ship { .. } => "ship",
        Fulfilment::ShipToStore { .. } => "ship_to_store",
    }
}

/// Whether an order involves a location: picked up or delivered there, or
/// some of its goods reserved or taken from there.
fn at_location(order: &Order, location: &str) -> bool {
    let handed_over = match &order.fulfilment {
        Fulfilment::Pickup { location_id } | Fulfilment::ShipToStore { location_id } => {
            location_id.as_str() == location
        }
        Fulfilment::Ship { .. } => false,
    };
    handed_over || order.lines.iter().flat_map(|l| &l.allocations).any(|a| a.location_id.as_str() == location)
}

/// The channels' names by id, and "admin" for orders with none.
pub(crate) fn channel_names(core: &Core, tenant: &TenantId) -> Result<BTreeMap<String, String>, AdminError> {
    Ok(core.list_channels(tenant)?.into_iter().map(|c| (c.id.to_string(), c.name)).collect())
}

fn channel_of(order: &Order, names: &BTreeMap<String, String>, locale: Locale) -> String {
    match &order.channel_id {
        Some(c) => names.get(c.as_str()).cloned().unwrap_or_else(|| c.to_string()),
        None => locale.t("channel_admin").to_owned(),
    }
}

/// Every order of the tenant passing `keep`, newest first, at most `max`,
/// from the last [`SCAN_LIMIT`] orders. Blocking.
pub(crate) fn recent_orders(
    core: &Core,
    tenant: &TenantId,
    status: Option<OrderStatus>,
    channel: Option<ChannelId>,
    keep: impl Fn(&Order) -> bool,
    max: usize,
) -> Result<Vec<Order>, AdminError> {
    let mut found = std::collections::VecDeque::new();
    let mut after = None;
    let mut scanned = 0;
    loop {
        let query = OrderQuery { after: after.clone(), limit: 1000, status, channel: channel.clone(), customer: None };
        let page = core.list_orders(tenant, &query)?;
        scanned += page.len();
        after = page.last().map(|o| o.id.clone());
        let full = page.len() == 1000;
        for order in page.into_iter().filter(|o| keep(o)) {
            found.push_back(order);
            if found.len() > max {
                found.pop_front();
            }
        }
        if !full || scanned >= SCAN_LIMIT {
            return Ok(found.into_iter().rev().collect());
        }
    }
}

fn fulfilment_text(order: &Order, locations: &BTreeMap<String, String>, locale: Locale) -> String {
    let at = |id: &omnistore_core::LocationId| locations.get(id.as_str()).cloned().unwrap_or_else(|| id.to_string());
    match &order.fulfilment {
        Fulfilment::Ship { address } => format!("{} — {}, {}", locale.t("fulfil_ship"), address.city, address.country),
        Fulfilment::Pickup { location_id } => format!("{} — {}", locale.t("fulfil_pickup"), at(location_id)),
        Fulfilment::ShipToStore { location_id } => {
            format!("{} — {}", locale.t("fulfil_ship_to_store"), at(location_id))
        }
    }
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    uri: Uri,
    Query(f): Query<Filters>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let mut errors = FieldErrors::default();
    let status = match f.status.as_str() {
        "" => None,
        s => match STATUSES.iter().find(|(_, n)| *n == s) {
            Some((st, _)) => Some(*st),
            None => {
                errors.add("status", locale.t("err_invalid"));
                None
            }
        },
    };
    let day = |name: &str, text: &str, errors: &mut FieldErrors| match text.trim() {
        "" => None,
        t => locale.parse_day(t).or_else(|| {
            errors.add(name, locale.t("err_date"));
            None
        }),
    };
    let from = day("from", &f.from, &mut errors);
    let to = day("to", &f.to, &mut errors).map(|d| locale.next_day(d));
    let channel = (!f.channel.trim().is_empty()).then(|| ChannelId::new(f.channel.trim()));
    let fulfilment = match f.fulfilment.as_str() {
        "" => None,
        k => FULFILMENTS.iter().copied().find(|n| *n == k).or_else(|| {
            errors.add("fulfilment", locale.t("err_invalid"));
            None
        }),
    };
    let location = f.location.trim().to_owned();
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let (orders, names, locations) = blocking(move || {
        let names = channel_names(&core, &tenant)?;
        let locations: BTreeMap<String, String> =
            core.list_locations(&tenant)?.into_iter().map(|l| (l.id.to_string(), l.name)).collect();
        // A channel or location that is not this shop's matches nothing (and says so).
        let unknown_channel = channel.as_ref().is_some_and(|c| !names.contains_key(c.as_str()));
        let unknown_location = !location.is_empty() && !locations.contains_key(&location);
        if unknown_channel || unknown_location {
            return Ok((Err((unknown_channel, unknown_location)), names, locations));
        }
        let keep = |o: &Order| {
            from.is_none_or(|f| o.placed_ms >= f)
                && to.is_none_or(|t| o.placed_ms < t)
                && fulfilment.is_none_or(|k| fulfilment_key(o) == k)
                && (location.is_empty() || at_location(o, &location))
        };
        Ok((Ok(recent_orders(&core, &tenant, status, channel, keep, SHOWN)?), names, locations))
    })
    .await?;
    let orders = orders.unwrap_or_else(|(channel, location)| {
        if channel {
            errors.add("channel", locale.t("err_not_found"));
        }
        if location {
            errors.add("location", locale.t("err_not_found"));
        }
        Vec::new()
    });
    let rows: Vec<Value> = orders
        .iter()
        .map(|o| {
            json!({
                "id": o.id.to_string(),
                "number": o.number,
                "placed": locale.datetime(o.placed_ms),
                "channel": channel_of(o, &names, locale),
                "customer": o.email.clone().unwrap_or_default(),
                "status": locale.t(&format!("status_{}", status_name(o.status))),
                "status_key": status_name(o.status),
                "fulfilment": fulfilment_text(o, &locations, locale),
                "total": locale.money(o.total.amount_minor, &o.total.currency),
                "items": locale.number(o.lines.iter().map(|l| l.quantity).sum()),
            })
        })
        .collect();
    let channels: Vec<Value> = names.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
    let statuses: Vec<Value> =
        STATUSES.iter().map(|(_, n)| json!({ "key": n, "label": locale.t(&format!("status_{n}")) })).collect();
    let fulfilments: Vec<Value> =
        FULFILMENTS.iter().map(|n| json!({ "key": n, "label": locale.t(&format!("fulfil_{n}")) })).collect();
    let locations: Vec<Value> = locations.iter().map(|(id, name)| json!({ "key": id, "label": name })).collect();
    let chrome = Chrome::new(locale, Some(&shop.session), "orders", uri.to_string());
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(
        &state,
        status,
        "orders.html",
        &chrome,
        json!({
            "orders": rows,
            "channels": channels,
            "statuses": statuses,
            "fulfilments": fulfilments,
            "locations": locations,
            // A date input holds only real dates: one that did not parse is
            // said next to the field and not put back into it.
            "filters": {
                "channel": f.channel, "status": f.status, "fulfilment": f.fulfilment, "location": f.location,
                "from": if from.is_some() { f.from.as_str() } else { "" },
                "to": if to.is_some() { f.to.as_str() } else { "" },
            },
            "errors": errors.to_json(),
        }),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

/// What an order's page needs. Blocking.
fn order_view(core: &Core, tenant: &TenantId, id: &OrderId, locale: Locale) -> Result<Value, AdminError> {
    let order = core.get_order(tenant, id)?;
    let names = channel_names(core, tenant)?;
    let locations: BTreeMap<String, String> =
        core.list_locations(tenant)?.into_iter().map(|l| (l.id.to_string(), l.name)).collect();
    let money = |m: &omnistore_core::Money| locale.money(m.amount_minor, &m.currency);
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            json!({
                "title": l.title, "sku": l.sku, "quantity": locale.number(l.quantity),
                "unit": money(&l.unit_price), "total": money(&l.total),
            })
        })
        .collect();
    let history: Vec<Value> = order
        .history
        .iter()
        .map(|h| {
            json!({
                "status": locale.t(&format!("status_{}", status_name(h.status))),
                "at": locale.datetime(h.at_ms),
                "note": h.note.clone().unwrap_or_default(),
            })
        })
        .collect();
    let return_lines: Vec<Value> = order
        .lines
        .iter()
        .filter(|l| l.returnable() > 0)
        .map(|l| {
            json!({
                "line_no": l.line_no, "title": l.title, "sku": l.sku, "returnable": l.returnable(),
                "qty_field": format!("qty_{}", l.line_no), "disp_field": format!("disp_{}", l.line_no),
                "qty": "", "disp": "restock",
            })
        })
        .collect();
    let returns: Vec<Value> = core
        .order_returns(tenant, &order.id)?
        .into_iter()
        .map(|r| {
            let lines: Vec<String> = r
                .lines
                .iter()
                .map(|l| {
                    let disposition = match l.disposition {
                        omnistore_core::Disposition::Restock => locale.t("disp_restock"),
                        omnistore_core::Disposition::WriteOff => locale.t("disp_write_off"),
                    };
                    format!("{} × {} ({disposition})", l.sku, locale.number(l.quantity))
                })
                .collect();
            json!({
                "at": locale.datetime(r.created_ms),
                "location": locations.get(r.location_id.as_str()).cloned().unwrap_or_else(|| r.location_id.to_string()),
                "lines": lines.join(", "), "refund": money(&r.refund_total),
                "reason": r.reason.unwrap_or_default(),
            })
        })
        .collect();
    let location_choices: Vec<Value> = locations.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
    let can_return = matches!(order.status, OrderStatus::Shipped | OrderStatus::Completed | OrderStatus::Refunded)
        && !return_lines.is_empty();
    let pickup = matches!(order.fulfilment, Fulfilment::Pickup { .. } | Fulfilment::ShipToStore { .. });
    let placed = order.status == OrderStatus::Placed;
    Ok(json!({
        "id": order.id.to_string(),
        "number": order.number,
        "placed": locale.datetime(order.placed_ms),
        "channel": channel_of(&order, &names, locale),
        "email": order.email.clone().unwrap_or_default(),
        "phone": order.phone.clone().unwrap_or_default(),
        "status": locale.t(&format!("status_{}", status_name(order.status))),
        "status_key": status_name(order.status),
        "fulfilment": fulfilment_text(&order, &locations, locale),
        "lines": lines,
        "subtotal": money(&order.subtotal),
        "discount": money(&order.discount_total),
        "total": money(&order.total),
        "history": history,
        "tracking": order.tracking.clone().unwrap_or_default(),
        "note": order.note.clone().unwrap_or_default(),
        "can_ready": placed && pickup,
        "can_ship": placed && !pickup,
        "can_complete": matches!(order.status, OrderStatus::ReadyForPickup | OrderStatus::Shipped),
        "can_cancel": matches!(order.status, OrderStatus::Placed | OrderStatus::ReadyForPickup),
        "can_return": can_return,
        "return_lines": return_lines,
        "return_form": { "location": "", "reason": "" },
        "locations": location_choices,
        "returns": returns,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn render_order(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    id: OrderId,
    status: StatusCode,
    done: &str,
    errors: &FieldErrors,
    message: Option<String>,
    typed: Option<&Fields>,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let here = format!("/admin/orders/{id}");
    let mut view = blocking(move || order_view(&core, &tenant, &id, locale)).await?;
    if let Some(fields) = typed {
        returns::keep_typed(&mut view, fields);
    }
    let done = match done {
        "ready" | "ship" | "complete" | "cancel" | "return" => Some(locale.t(&format!("done_{done}"))),
        _ => None,
    };
    let chrome = Chrome::new(locale, Some(&shop.session), "orders", here);
    page(
        state,
        status,
        "order.html",
        &chrome,
        json!({ "order": view, "done": done, "errors": errors.to_json(), "message": message }),
    )
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path(order): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    render_order(
        &state,
        &shop,
        locale,
        OrderId::new(order),
        StatusCode::OK,
        &q.done,
        &FieldErrors::default(),
        None,
        None,
    )
    .await
}

/// A status button: the same core transition as the JSON API's route of
/// the same name; a refusal (already shipped, say) is shown on the order's
/// page and changes nothing.
pub(crate) async fn act(
    State(state): State<UiState>,
    Path((order, action)): Path<(String, String)>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let id = OrderId::new(order);
    let mut errors = FieldErrors::default();
    let note_field = match action.as_str() {
        "ship" => "tracking",
        "cancel" => "reason",
        "ready" | "complete" => "",
        _ => return Err(AdminError::not_found("no such action").into()),
    };
    let note = if note_field.is_empty() {
        None
    } else {
        Some(super::forms::optional_text(&fields, note_field, 200, locale, &mut errors)).filter(|n| !n.is_empty())
    };
    if !errors.is_empty() {
        return render_order(&state, &shop, locale, id, StatusCode::UNPROCESSABLE_ENTITY, "", &errors, None, None)
            .await;
    }
    let (core, tenant, now, order_id) =
        (state.admin.core().clone(), shop.tenant.clone(), state.admin.now(), id.clone());
    let act = action.clone();
    let result = blocking(move || {
        let done = match act.as_str() {
            "ready" => core.mark_ready_for_pickup(&tenant, &order_id, now),
            "ship" => core.mark_shipped(&tenant, &order_id, note.as_deref(), now),
            "complete" => core.mark_completed(&tenant, &order_id, now),
            _ => core.cancel_order(&tenant, &order_id, note.as_deref(), now),
        };
        Ok(done.map_err(AdminError::from))
    })
    .await?;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/orders/{id}?done={action}")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) if e.status.is_client_error() => {
            let message = format!("{} ({})", locale.t("err_action"), e.message);
            render_order(&state, &shop, locale, id, StatusCode::CONFLICT, "", &errors, Some(message), None).await
        }
        Err(e) => Err(e.into()),
    }
}
