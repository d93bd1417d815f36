//! Collections of products.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{Collection, CollectionId, NewCollection};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, list, page_limit};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Catalog")
        .get(
            "/tenants/{tenant}/collections",
            list_collections,
            doc("listCollections", "Collections in id order").query(PAGE_PARAMS).ok("[Collection]"),
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

async fn list_collections(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<CollectionId>>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_collections_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |c| c.id.to_string());
    Ok(Json(list(items, next)))
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
