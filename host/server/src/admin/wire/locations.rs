//! Locations: warehouses and shops that hold stock.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::wire_enum;
use crate::admin::extract::double_option;

wire_enum! {
    LocationKind <=> LocationKind { Warehouse, Shop }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Location {
    pub id: String,
    pub name: String,
    pub kind: LocationKind,
    pub pickup_enabled: bool,
    pub active: bool,
    pub address: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Location> for Location {
    fn from(l: domain::Location) -> Location {
        Location {
            id: l.id.to_string(),
            name: l.name,
            kind: l.kind.into(),
            pickup_enabled: l.pickup_enabled,
            active: l.active,
            address: l.address,
            created_ms: l.created_ms,
            updated_ms: l.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewLocation {
    pub name: String,
    pub kind: LocationKind,
    pub pickup_enabled: bool,
    pub address: Option<String>,
}

impl From<NewLocation> for domain::NewLocation {
    fn from(l: NewLocation) -> domain::NewLocation {
        domain::NewLocation { name: l.name, kind: l.kind.into(), pickup_enabled: l.pickup_enabled, address: l.address }
    }
}

/// A location change: absent fields stay, `null` clears the address.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LocationPatch {
    pub name: Option<String>,
    pub pickup_enabled: Option<bool>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    pub address: Option<Option<String>>,
}

impl From<LocationPatch> for domain::LocationPatch {
    fn from(b: LocationPatch) -> domain::LocationPatch {
        domain::LocationPatch { name: b.name, pickup_enabled: b.pickup_enabled, active: b.active, address: b.address }
    }
}
