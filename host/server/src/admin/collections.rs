//! Collections of products.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{Collection, CollectionId, NewCollection};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{JsonBody, P, Scope, list};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Catalog")
        .get(
            "/tenants/{tenant}/collections",
            list_collections,
            doc("listCollections", "List collections").ok("[Collection]"),
        )
        .post(
            "/tenants/{tenant}/collections",
            create,
            doc("createCollection", "Create a collection").body("NewCollection").created("Collection"),
        )
        .get(
            "/tenants/{tenant}/collections/{collection}",
            get_one,
            doc("getCollection", "Get a collection").ok("Collection"),
        );
}

#[derive(Debug, Deserialize)]
struct CollectionPath {
    collection: CollectionId,
}

async fn list_collections(State(state): State<AdminState>, Scope(tenant): Scope) -> Result<Json<Value>, AdminError> {
    let items = state.call(move |core, _| core.list_collections(&tenant)).await?;
    Ok(Json(list(items, None)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<NewCollection>,
) -> Result<(StatusCode, Json<Collection>), AdminError> {
    let c = state.call(move |core, now| core.create_collection(&tenant, body, now)).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CollectionPath>,
) -> Result<Json<Collection>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_collection(&tenant, &path.collection)).await?))
}
