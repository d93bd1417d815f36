//! The merchant's locations: the shops, workshops and warehouses that hold
//! stock, and where orders can be collected. Needs `"locations"` in
//! `[capabilities].imports`.
//!
//! ```no_run
//! # fn f(cart: &omnistore_sdk::Cart) -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::{Fulfillment, locations};
//! // Offer pickup only where every line of the cart is in stock.
//! for location in locations::for_cart(&cart.cart_id())? {
//!     let _choice = Fulfillment::pickup_at(&location.location_id());
//! }
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::locations::{for_cart as for_cart_raw, list};

use crate::ids::{CartId, LocationId};
use crate::{HostError, Location};

/// Every location of the tenant, pickup or not.
pub fn all() -> Result<Vec<Location>, HostError> {
    list()
}

/// The pickup locations that hold available stock for every line of the
/// cart, in the merchant's order; empty when none does (or the cart is
/// empty).
pub fn for_cart(cart: &CartId) -> Result<Vec<Location>, HostError> {
    for_cart_raw(cart.as_str())
}

/// The location with this id among `locations`.
pub fn find<'a>(locations: &'a [Location], id: &LocationId) -> Option<&'a Location> {
    locations.iter().find(|l| l.id == id.as_str())
}
