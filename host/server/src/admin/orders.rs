//! Orders from every channel in one list, and their status flow: ship
//! (fulfil), ready for pickup, complete, cancel, refund, return.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{ChannelId, CustomerId, OrderId, OrderQuery};
use serde::Deserialize;

use super::extract::{Empty, JsonBody, OptJsonBody, P, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
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
                .ok::<wire::Page<wire::Order>>(),
        )
        .get("/tenants/{tenant}/orders/{order}", get_one, doc("getOrder", "Get an order").ok::<wire::Order>())
        .post(
            "/tenants/{tenant}/orders/{order}/ship",
            ship,
            doc("shipOrder", "Fulfil (ship) an order: its stock leaves the locations it was allocated at")
                .optional_body::<wire::ShipOrder>()
                .ok::<wire::Order>(),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/ready-for-pickup",
            ready_for_pickup,
            doc("readyForPickup", "A pickup (or ship-to-store) order waits at the shop").ok::<wire::Order>(),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/complete",
            complete,
            doc("completeOrder", "Delivered or collected (pickup stock leaves the shop now)").ok::<wire::Order>(),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/cancel",
            cancel,
            doc("cancelOrder", "Cancel an order that has not shipped; its stock is released")
                .optional_body::<wire::CancelOrder>()
                .ok::<wire::Order>(),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/refund",
            refund,
            doc("refundOrder", "Record a refund (all that is left when no amount is given)")
                .optional_body::<wire::RefundOrder>()
                .ok::<wire::Order>(),
        )
        .get(
            "/tenants/{tenant}/orders/{order}/returns",
            list_returns,
            doc("listReturns", "Returns received for an order").ok::<wire::Page<wire::Return>>(),
        )
        .post(
            "/tenants/{tenant}/orders/{order}/returns",
            create_return,
            doc("createReturn", "Receive returned goods at a location; restock there or write off, and refund")
                .body::<wire::ReturnRequest>()
                .created::<wire::Return>(),
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
    status: Option<wire::OrderStatus>,
    customer_id: Option<CustomerId>,
    after: Option<OrderId>,
    limit: Option<usize>,
}

async fn list_orders(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Page<wire::Order>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let query = OrderQuery {
        after: q.after,
        limit,
        status: q.status.map(Into::into),
        channel: q.channel_id,
        customer: q.customer_id,
    };
    let items = state.call(move |core, _| core.list_orders(&tenant, &query)).await?;
    let next = cursor(&items, limit, |o| o.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
) -> Result<Json<wire::Order>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_order(&tenant, &path.order)).await?.into()))
}

async fn ship(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(b): OptJsonBody<wire::ShipOrder>,
) -> Result<Json<wire::Order>, AdminError> {
    Ok(Json(
        state.call(move |core, now| core.mark_shipped(&tenant, &path.order, b.tracking.as_deref(), now)).await?.into(),
    ))
}

async fn ready_for_pickup(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::Order>, AdminError> {
    Ok(Json(state.call(move |core, now| core.mark_ready_for_pickup(&tenant, &path.order, now)).await?.into()))
}

async fn complete(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::Order>, AdminError> {
    Ok(Json(state.call(move |core, now| core.mark_completed(&tenant, &path.order, now)).await?.into()))
}

async fn cancel(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(b): OptJsonBody<wire::CancelOrder>,
) -> Result<Json<wire::Order>, AdminError> {
    Ok(Json(
        state.call(move |core, now| core.cancel_order(&tenant, &path.order, b.reason.as_deref(), now)).await?.into(),
    ))
}

async fn refund(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    OptJsonBody(b): OptJsonBody<wire::RefundOrder>,
) -> Result<Json<wire::Order>, AdminError> {
    Ok(Json(
        state
            .call(move |core, now| core.refund_order(&tenant, &path.order, b.amount_minor, b.reason.as_deref(), now))
            .await?
            .into(),
    ))
}

async fn list_returns(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
) -> Result<Json<Page<wire::Return>>, AdminError> {
    let items = state.call(move |core, _| core.order_returns(&tenant, &path.order)).await?;
    Ok(Json(Page::of(items, None)))
}

async fn create_return(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<OrderPath>,
    JsonBody(b): JsonBody<wire::ReturnRequest>,
) -> Result<(StatusCode, Json<wire::Return>), AdminError> {
    let ret = state.call(move |core, now| core.receive_return(&tenant, &path.order, b.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(ret.into())))
}
