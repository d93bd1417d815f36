//! Locations: places that hold stock (warehouses, shops).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{Location, LocationId, LocationPatch, NewLocation};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, double_option, list, page_limit};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Locations")
        .get(
            "/tenants/{tenant}/locations",
            list_locations,
            doc("listLocations", "Locations in id order").query(PAGE_PARAMS).ok("[Location]"),
        )
        .post(
            "/tenants/{tenant}/locations",
            create,
            doc("createLocation", "Create a location").body("NewLocation").created("Location"),
        )
        .get("/tenants/{tenant}/locations/{location}", get_one, doc("getLocation", "Get a location").ok("Location"))
        .patch(
            "/tenants/{tenant}/locations/{location}",
            update,
            doc("updateLocation", "Change a location (pickup, active, name, address)")
                .body("LocationPatch")
                .ok("Location"),
        );
}

#[derive(Debug, Deserialize)]
struct LocationPath {
    location: LocationId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    pickup_enabled: Option<bool>,
    active: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    address: Option<Option<String>>,
}

async fn list_locations(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<LocationId>>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_locations_page(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |l| l.id.to_string());
    Ok(Json(list(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<NewLocation>,
) -> Result<(StatusCode, Json<Location>), AdminError> {
    let l = state.call(move |core, now| core.create_location(&tenant, body, now)).await?;
    Ok((StatusCode::CREATED, Json(l)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<LocationPath>,
) -> Result<Json<Location>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_location(&tenant, &path.location)).await?))
}

async fn update(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<LocationPath>,
    JsonBody(b): JsonBody<PatchBody>,
) -> Result<Json<Location>, AdminError> {
    let patch = LocationPatch { name: b.name, pickup_enabled: b.pickup_enabled, active: b.active, address: b.address };
    Ok(Json(state.call(move |core, now| core.update_location(&tenant, &path.location, patch, now)).await?))
}
