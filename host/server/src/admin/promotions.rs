//! Promotions: what the one price resolver applies on every channel.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::PromotionId;
use serde::Deserialize;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Promotions")
        .get(
            "/tenants/{tenant}/promotions",
            list_promotions,
            doc("listPromotions", "Promotions in id order").query(PAGE_PARAMS).ok::<wire::Page<wire::Promotion>>(),
        )
        .post(
            "/tenants/{tenant}/promotions",
            create,
            doc("createPromotion", "Create a promotion (automatic, or with a code)")
                .body::<wire::NewPromotion>()
                .created::<wire::Promotion>(),
        )
        .get(
            "/tenants/{tenant}/promotions/{promotion}",
            get_one,
            doc("getPromotion", "Get a promotion").ok::<wire::Promotion>(),
        )
        .patch(
            "/tenants/{tenant}/promotions/{promotion}",
            update,
            doc("updatePromotion", "Change a promotion (switch it off with active: false)")
                .body::<wire::PromotionPatch>()
                .ok::<wire::Promotion>(),
        );
}

#[derive(Debug, Deserialize)]
struct PromotionPath {
    promotion: PromotionId,
}

async fn list_promotions(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<PromotionId>>,
) -> Result<Json<Page<wire::Promotion>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_promotions_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |p| p.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewPromotion>,
) -> Result<(StatusCode, Json<wire::Promotion>), AdminError> {
    let p = state.call(move |core, now| core.create_promotion(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PromotionPath>,
) -> Result<Json<wire::Promotion>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_promotion(&tenant, &path.promotion)).await?.into()))
}

async fn update(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PromotionPath>,
    JsonBody(patch): JsonBody<wire::PromotionPatch>,
) -> Result<Json<wire::Promotion>, AdminError> {
    let patch = patch.into();
    Ok(Json(state.call(move |core, now| core.update_promotion(&tenant, &path.promotion, patch, now)).await?.into()))
}
