//! Locations: places that hold stock (warehouses, shops).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::LocationId;
use serde::Deserialize;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Locations")
        .get(
            "/tenants/{tenant}/locations",
            list_locations,
            doc("listLocations", "Locations in id order").query(PAGE_PARAMS).ok::<wire::Page<wire::Location>>(),
        )
        .post(
            "/tenants/{tenant}/locations",
            create,
            doc("createLocation", "Create a location").body::<wire::NewLocation>().created::<wire::Location>(),
        )
        .get(
            "/tenants/{tenant}/locations/{location}",
            get_one,
            doc("getLocation", "Get a location").ok::<wire::Location>(),
        )
        .patch(
            "/tenants/{tenant}/locations/{location}",
            update,
            doc("updateLocation", "Change a location (pickup, active, name, address)")
                .body::<wire::LocationPatch>()
                .ok::<wire::Location>(),
        );
}

#[derive(Debug, Deserialize)]
struct LocationPath {
    location: LocationId,
}

async fn list_locations(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<LocationId>>,
) -> Result<Json<Page<wire::Location>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_locations_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |l| l.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewLocation>,
) -> Result<(StatusCode, Json<wire::Location>), AdminError> {
    let l = state.call(move |core, now| core.create_location(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(l.into())))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<LocationPath>,
) -> Result<Json<wire::Location>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_location(&tenant, &path.location)).await?.into()))
}

async fn update(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<LocationPath>,
    JsonBody(patch): JsonBody<wire::LocationPatch>,
) -> Result<Json<wire::Location>, AdminError> {
    let patch = patch.into();
    Ok(Json(state.call(move |core, now| core.update_location(&tenant, &path.location, patch, now)).await?.into()))
}
