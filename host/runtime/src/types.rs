//! The contract's data types, as the host sees them: those of the current
//! contract (0.2.0).
//!
//! These are the generated WIT records and variants. Host services are written
//! against them; an older contract version converts to and from these at its
//! own boundary (`compat_v0_1_0.rs`).

pub use crate::bindings::v0_1_0::omnistore::plugin::http::{HttpError, IncomingResponse, OutgoingRequest};
pub use crate::bindings::v0_1_0::omnistore::plugin::log::Level;
pub use crate::bindings::v0_2_0::omnistore::plugin::mail::Message as MailMessage;
pub use crate::bindings::v0_2_0::omnistore::plugin::types::*;
