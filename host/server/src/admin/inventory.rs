//! Inventory: stock levels, the movement ledger, and the changes a merchant
//! makes by hand (goods received, corrections, counts, transfers).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{ChannelId, LocationId, VariantId};
use serde::Deserialize;

use super::extract::{JsonBody, Q, Scope, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc, param, required};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Inventory")
        .get(
            "/tenants/{tenant}/inventory/levels",
            levels,
            doc("stockLevels", "On hand, reserved and available of a variant, per location")
                .query(
                    const {
                        &[
                            required("variant_id", "string", "the variant"),
                            param("location_id", "string", "only this location"),
                        ]
                    },
                )
                .ok::<wire::Page<wire::StockLevel>>(),
        )
        .get(
            "/tenants/{tenant}/inventory/availability",
            availability,
            doc("availability", "Units a channel (or the admin) can sell now")
                .query(
                    const {
                        &[
                            required("variant_id", "string", "the variant"),
                            param("channel_id", "string", "apply this channel's safety buffer"),
                            param("location_id", "string", "only this location (pickup)"),
                        ]
                    },
                )
                .ok::<wire::Availability>(),
        )
        .get(
            "/tenants/{tenant}/inventory/movements",
            movements,
            doc("stockMovements", "The movement ledger of a variant at a location, oldest first")
                .query(
                    const {
                        &[
                            required("variant_id", "string", "the variant"),
                            required("location_id", "string", "the location"),
                            param("after_seq", "integer", "cursor: the last movement seq of the previous page"),
                            param("limit", "integer", "page size, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok::<wire::Page<wire::Movement>>(),
        )
        .post(
            "/tenants/{tenant}/inventory/receive",
            receive,
            doc("receiveStock", "Record goods arriving at a location")
                .body::<wire::ReceiveStock>()
                .ok::<wire::StockLevel>(),
        )
        .post(
            "/tenants/{tenant}/inventory/adjust",
            adjust,
            doc("adjustStock", "Correct on-hand by a delta (negative for breakage; never below what is reserved)")
                .body::<wire::AdjustStock>()
                .ok::<wire::StockLevel>(),
        )
        .post(
            "/tenants/{tenant}/inventory/count",
            count,
            doc("countStock", "Set on-hand to a counted figure").body::<wire::CountStock>().ok::<wire::StockLevel>(),
        )
        .post(
            "/tenants/{tenant}/inventory/transfer",
            transfer,
            doc("transferStock", "Move units from one location to another")
                .body::<wire::TransferStock>()
                .created::<wire::Transfer>(),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelsQuery {
    variant_id: VariantId,
    location_id: Option<LocationId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailabilityQuery {
    variant_id: VariantId,
    channel_id: Option<ChannelId>,
    location_id: Option<LocationId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MovementsQuery {
    variant_id: VariantId,
    location_id: LocationId,
    after_seq: Option<u64>,
    limit: Option<usize>,
}

async fn levels(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<LevelsQuery>,
) -> Result<Json<Page<wire::StockLevel>>, AdminError> {
    let items = state
        .call(move |core, _| match &q.location_id {
            Some(l) => core.stock_level(&tenant, &q.variant_id, l).map(|v| vec![v]),
            None => core.stock_levels(&tenant, &q.variant_id),
        })
        .await?;
    Ok(Json(Page::of(items, None)))
}

async fn availability(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<AvailabilityQuery>,
) -> Result<Json<wire::Availability>, AdminError> {
    let variant = q.variant_id.clone();
    let available = state
        .call(move |core, now| {
            core.availability(&tenant, &q.variant_id, q.channel_id.as_ref(), q.location_id.as_ref(), now)
        })
        .await?;
    Ok(Json(wire::Availability { variant_id: variant.to_string(), available }))
}

async fn movements(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<MovementsQuery>,
) -> Result<Json<Page<wire::Movement>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state
        .call(move |core, _| {
            // The ledger of a pair that does not exist is empty, but an
            // unknown id is a mistake the caller should hear about.
            core.get_variant(&tenant, &q.variant_id)?;
            core.get_location(&tenant, &q.location_id)?;
            core.movements(&tenant, &q.variant_id, &q.location_id, q.after_seq.unwrap_or(0), limit)
        })
        .await?;
    let next = (items.len() >= limit).then(|| items.last().map(|m| m.seq.to_string())).flatten();
    Ok(Json(Page::of(items, next)))
}

async fn receive(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(b): JsonBody<wire::ReceiveStock>,
) -> Result<Json<wire::StockLevel>, AdminError> {
    Ok(Json(
        state
            .call(move |core, now| {
                core.receive_stock(&tenant, &b.variant_id, &b.location_id, b.quantity, b.note.as_deref(), now)
            })
            .await?
            .into(),
    ))
}

async fn adjust(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(b): JsonBody<wire::AdjustStock>,
) -> Result<Json<wire::StockLevel>, AdminError> {
    Ok(Json(
        state
            .call(move |core, now| {
                core.adjust_stock(&tenant, &b.variant_id, &b.location_id, b.delta, b.note.as_deref(), now)
            })
            .await?
            .into(),
    ))
}

async fn count(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(b): JsonBody<wire::CountStock>,
) -> Result<Json<wire::StockLevel>, AdminError> {
    Ok(Json(
        state
            .call(move |core, now| {
                core.set_stock(&tenant, &b.variant_id, &b.location_id, b.on_hand, b.note.as_deref(), now)
            })
            .await?
            .into(),
    ))
}

async fn transfer(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(b): JsonBody<wire::TransferStock>,
) -> Result<(StatusCode, Json<wire::Transfer>), AdminError> {
    let out = state
        .call(move |core, now| {
            let id = core.transfer_stock(
                &tenant,
                &b.variant_id,
                &b.from_location_id,
                &b.to_location_id,
                b.quantity,
                b.note.as_deref(),
                now,
            )?;
            let from = core.stock_level(&tenant, &b.variant_id, &b.from_location_id)?;
            let to = core.stock_level(&tenant, &b.variant_id, &b.to_location_id)?;
            Ok(wire::Transfer { transfer_id: id.to_string(), from: from.into(), to: to.into() })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}
