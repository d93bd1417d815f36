//! Customers: one profile per tenant, with many channel identities and
//! per-channel consent. Needs `"customers"` in `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::customers::{add_identity, get, identify, set_consent};

use crate::ids::CustomerId;
use crate::{ConsentPurpose, Customer, HostError};

/// The customer with this id: [`get`] with a typed id.
pub fn customer(id: &CustomerId) -> Result<Customer, HostError> {
    get(id.as_str())
}

/// Record a consent decision of `customer`: [`set_consent`] with a typed id.
pub fn record_consent(customer: &CustomerId, purpose: ConsentPurpose, granted: bool) -> Result<Customer, HostError> {
    set_consent(customer.as_str(), purpose, granted)
}
