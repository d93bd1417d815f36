//! Customers: one profile per tenant, with many channel identities and
//! per-channel consent. Needs `"customers"` in `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::customers::{get, identify, set_consent};
