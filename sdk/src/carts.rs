//! Carts and checkout, priced by the host's one price resolver, so every
//! channel quotes the same total for the same cart. Needs `"carts"` in
//! `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::carts::{
    apply_code, checkout, create, get, remove_code, set_customer, set_quantity,
};
