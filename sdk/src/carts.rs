//! Carts and checkout, priced by the host's one price resolver, so every
//! channel quotes the same total for the same cart. Needs `"carts"` in
//! `[capabilities].imports`.

//!
//! The typed functions ([`cart`], [`set_line_quantity`], …) take
//! [`ids`](crate::ids) so a cart id and a variant id cannot be swapped.
//!
//! ```no_run
//! # fn f(req: &omnistore_sdk::Request) -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::carts;
//! use omnistore_sdk::ids::{CartId, VariantId};
//! let cart = carts::new_cart(None)?;
//! let cart = carts::set_line_quantity(&cart.cart_id(), &VariantId::new("var-1"), 2)?;
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::carts::{
    apply_code, checkout, create, get, remove_code, set_customer, set_quantity,
};

use crate::ids::{CartId, CustomerId, VariantId};
use crate::{Cart, Fulfillment, HostError, Order};

/// A new empty cart, for `customer` when known: [`create`] with a typed id.
pub fn new_cart(customer: Option<&CustomerId>) -> Result<Cart, HostError> {
    create(customer.map(CustomerId::as_str))
}

/// The cart with this id: [`get`] with a typed id.
pub fn cart(id: &CartId) -> Result<Cart, HostError> {
    get(id.as_str())
}

/// Set how many units of `variant` the cart holds, 0 removing the line:
/// [`set_quantity`] with typed ids.
pub fn set_line_quantity(cart: &CartId, variant: &VariantId, quantity: u32) -> Result<Cart, HostError> {
    set_quantity(cart.as_str(), variant.as_str(), quantity)
}

/// Attach the cart to `customer`: [`set_customer`] with typed ids.
pub fn attach_customer(cart: &CartId, customer: &CustomerId) -> Result<Cart, HostError> {
    set_customer(cart.as_str(), customer.as_str())
}

/// Place the order for the cart: [`checkout`] with a typed id.
pub fn place_order(cart: &CartId, fulfillment: &Fulfillment) -> Result<Order, HostError> {
    checkout(cart.as_str(), fulfillment)
}
