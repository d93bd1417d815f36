//! The shop's own settings, read and changed by its token: name, languages,
//! contact, time zone.

use axum::Json;
use axum::extract::State;

use super::extract::{JsonBody, Scope};
use super::{Access, AdminError, AdminState, Routes, doc, wire};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Shop")
        .get("/tenants/{tenant}/shop", get_shop, doc("getShop", "How the shop presents itself").ok::<wire::Shop>())
        .patch(
            "/tenants/{tenant}/shop",
            update_shop,
            doc(
                "updateShop",
                "Change the shop's name, languages, contact or time zone; absent fields stay, null clears a contact",
            )
            .body::<wire::ShopPatch>()
            .ok::<wire::Shop>(),
        );
}

async fn get_shop(State(state): State<AdminState>, Scope(tenant): Scope) -> Result<Json<wire::Shop>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_tenant(&tenant)).await?.into()))
}

async fn update_shop(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(patch): JsonBody<wire::ShopPatch>,
) -> Result<Json<wire::Shop>, AdminError> {
    let patch = patch.into();
    Ok(Json(state.call(move |core, now| core.update_shop(&tenant, patch, now)).await?.into()))
}
