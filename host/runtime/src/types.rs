//! The contract's data types, as the host sees them (contract 0.1.0).
//!
//! These are the generated WIT records and variants. Host services are written
//! against them; a later contract version converts to and from these at its
//! own boundary.

pub use crate::bindings::v0_1_0::omnistore::plugin::http::{HttpError, IncomingResponse, OutgoingRequest};
pub use crate::bindings::v0_1_0::omnistore::plugin::log::Level;
pub use crate::bindings::v0_1_0::omnistore::plugin::mail::Message as MailMessage;
pub use crate::bindings::v0_1_0::omnistore::plugin::types::*;
