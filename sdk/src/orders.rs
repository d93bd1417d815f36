//! Orders: ingest the ones that arrive through this channel (idempotent on
//! the channel and the external id), read others, record a customer's
//! satisfaction with a completed one. Needs `"orders"` in
//! `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::orders::{
    find_by_external_id, get, ingest, record_satisfaction,
};

use crate::ids::OrderId;
use crate::{HostError, Order};

/// The order with this id: [`get`] with a typed id.
pub fn order(id: &OrderId) -> Result<Order, HostError> {
    get(id.as_str())
}
