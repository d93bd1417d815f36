//! Promotions: what the one price resolver applies on every channel.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{DiscountValue, NewPromotion, Promotion, PromotionConditions, PromotionId, PromotionPatch};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, double_option, list, page_limit};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Promotions")
        .get(
            "/tenants/{tenant}/promotions",
            list_promotions,
            doc("listPromotions", "Promotions in id order").query(PAGE_PARAMS).ok("[Promotion]"),
        )
        .post(
            "/tenants/{tenant}/promotions",
            create,
            doc("createPromotion", "Create a promotion (automatic, or with a code)")
                .body("NewPromotion")
                .created("Promotion"),
        )
        .get(
            "/tenants/{tenant}/promotions/{promotion}",
            get_one,
            doc("getPromotion", "Get a promotion").ok("Promotion"),
        )
        .patch(
            "/tenants/{tenant}/promotions/{promotion}",
            update,
            doc("updatePromotion", "Change a promotion (switch it off with active: false)")
                .body("PromotionPatch")
                .ok("Promotion"),
        );
}

#[derive(Debug, Deserialize)]
struct PromotionPath {
    promotion: PromotionId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    active: Option<bool>,
    value: Option<DiscountValue>,
    conditions: Option<PromotionConditions>,
    #[serde(default, deserialize_with = "double_option")]
    usage_limit: Option<Option<u64>>,
}

async fn list_promotions(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<PromotionId>>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_promotions_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |p| p.id.to_string());
    Ok(Json(list(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<NewPromotion>,
) -> Result<(StatusCode, Json<Promotion>), AdminError> {
    let p = state.call(move |core, now| core.create_promotion(&tenant, body, now)).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PromotionPath>,
) -> Result<Json<Promotion>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_promotion(&tenant, &path.promotion)).await?))
}

async fn update(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PromotionPath>,
    JsonBody(b): JsonBody<PatchBody>,
) -> Result<Json<Promotion>, AdminError> {
    let patch = PromotionPatch {
        name: b.name,
        active: b.active,
        value: b.value,
        conditions: b.conditions,
        usage_limit: b.usage_limit,
    };
    Ok(Json(state.call(move |core, now| core.update_promotion(&tenant, &path.promotion, patch, now)).await?))
}
