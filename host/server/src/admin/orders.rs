//! Orders from every channel in one list, and their status flow: ship
//! (fulfil), ready for pickup, complete, cancel, refund, return.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{ChannelId, CustomerId, Order, OrderId, OrderQuery, OrderStatus, Return, ReturnRequest};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{Empty, JsonBody, OptJsonBody, P, Q, Scope, cursor, list, page_limit};
use super::{Access, AdminError, AdminState, Routes, doc, param};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Orders")
        .get(
            "/tenants/{tenant}/orders",
            list_orders,
            doc("listOrders", "Orders from every channel, oldest first, filtered by channel, status or customer")
                .query(
                    const {
                        &[
                            param("channel_id", "string", "only orders that came through this channel"),
                            param(
                                "status",
                                "string",
                                "placed, ready_for_pickup, shipped, completed, cancelled or refunded",
                            ),
                            param("customer_id", "string", "only this customer's orders"),
                            param("after", "string", "cursor: the last order id of the previous page"),
                            param("limit", "integer", "page size, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok("[Order]"),
        )
        .get("/tenants/{tenant}/orders/{order}", get_one, doc("getOrder", "Get an order").ok("Order"))
        .post(
            "/tenants/{tenant}/orders/{order}/ship",
            ship,
            doc("shipOrder", "Fulfil (ship) an order: its stock leaves the locations it was allocated at")
                .optional_body("ShipOrder")
                .ok("Order"),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/ready-for-pickup",
            ready_for_pickup,
            doc("readyForPickup", "A pickup (or ship-to-store) order waits at the shop").ok("Order"),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/complete",
            complete,
            doc("completeOrder", "Delivered or collected (pickup stock leaves the shop now)").ok("Order"),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/cancel",
            cancel,
            doc("cancelOrder", "Cancel an order that has not shipped; its stock is released")
                .optional_body("CancelOrder")
                .ok("Order"),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/refund",
            refund,
            doc("refundOrder", "Record a refund (all that is left when no amount is given)")
                .optional_body("RefundOrder")
                .ok("Order"),
        )
        .get(
            "/tenants/{tenant}/orders/{order}/returns",
            list_returns,
            doc("listReturns", "Returns received for an order").ok("[Return]"),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/returns",
            create_return,
            doc("createReturn", "Receive returned goods at a location; restock there or write off, and refund")
                .body("ReturnRequest")
                .created("Return"),
        );
}

#[derive(Debug, Deserialize)]
struct OrderPath {
    order: OrderId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    channel_id: Option<ChannelId>,
    status: Option<OrderStatus>,
    customer_id: Option<CustomerId>,
    after: Option<OrderId>,
    limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShipBody {
    tracking: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    amount_minor: Option<i64>,
    reason: Option<String>,
}

async fn list_orders(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let query = OrderQuery { after: q.after, limit, status: q.status, channel: q.channel_id, customer: q.customer_id };
    let items: Vec<Order> = state.call(move |core, _| core.list_orders(&tenant, &query)).await?;
    let next = cursor(&items, limit, |o| o.id.to_string());
    Ok(Json(list(items, next)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
) -> Result<Json<Order>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_order(&tenant, &path.order)).await?))
}

async fn ship(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(b): OptJsonBody<ShipBody>,
) -> Result<Json<Order>, AdminError> {
    Ok(Json(state.call(move |core, now| core.mark_shipped(&tenant, &path.order, b.tracking.as_deref(), now)).await?))
}

async fn ready_for_pickup(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<Order>, AdminError> {
    Ok(Json(state.call(move |core, now| core.mark_ready_for_pickup(&tenant, &path.order, now)).await?))
}

async fn complete(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<Order>, AdminError> {
    Ok(Json(state.call(move |core, now| core.mark_completed(&tenant, &path.order, now)).await?))
}

async fn cancel(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(b): OptJsonBody<CancelBody>,
) -> Result<Json<Order>, AdminError> {
    Ok(Json(state.call(move |core, now| core.cancel_order(&tenant, &path.order, b.reason.as_deref(), now)).await?))
}

async fn refund(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(b): OptJsonBody<RefundBody>,
) -> Result<Json<Order>, AdminError> {
    Ok(Json(
        state
            .call(move |core, now| core.refund_order(&tenant, &path.order, b.amount_minor, b.reason.as_deref(), now))
            .await?,
    ))
}

async fn list_returns(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
) -> Result<Json<Value>, AdminError> {
    let items = state.call(move |core, _| core.order_returns(&tenant, &path.order)).await?;
    Ok(Json(list(items, None)))
}

async fn create_return(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    JsonBody(b): JsonBody<ReturnRequest>,
) -> Result<(StatusCode, Json<Return>), AdminError> {
    let ret = state.call(move |core, now| core.receive_return(&tenant, &path.order, b, now)).await?;
    Ok((StatusCode::CREATED, Json(ret)))
}
