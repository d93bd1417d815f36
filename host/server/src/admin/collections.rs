//! Collections of products.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::CollectionId;
use serde::Deserialize;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Catalog")
        .get(
            "/tenants/{tenant}/collections",
            list_collections,
            doc("listCollections", "Collections in id order").query(PAGE_PARAMS).ok::<wire::Page<wire::Collection>>(),
        )
        .post(
            "/tenants/{tenant}/collections",
            create,
            doc("createCollection", "Create a collection").body::<wire::NewCollection>().created::<wire::Collection>(),
        )
        .get(
            "/tenants/{tenant}/collections/{collection}",
            get_one,
            doc("getCollection", "Get a collection").ok::<wire::Collection>(),
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
) -> Result<Json<Page<wire::Collection>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_collections_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |c| c.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewCollection>,
) -> Result<(StatusCode, Json<wire::Collection>), AdminError> {
    let c = state.call(move |core, now| core.create_collection(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CollectionPath>,
) -> Result<Json<wire::Collection>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_collection(&tenant, &path.collection)).await?.into()))
}
