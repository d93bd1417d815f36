//! What the host gives plugins, on the one commerce core: the contract's
//! services ([`commerce::CoreServices`]), the conversions between contract
//! and domain types, the event dispatcher, and the one async handle to the
//! synchronous core ([`async_core::AsyncCore`]).
//!
//! **Architecture invariant:** this crate knows nothing of HTTP. The server,
//! the SDK's test harness and `omnistore plugin run` all run plugins on these
//! same services over a real core, so a plugin is tested against the model it
//! runs on in production.

pub mod async_core;
pub mod commerce;
pub mod dev;
pub mod dispatcher;
pub mod files;
pub mod installer;
pub mod mail_delivery;
mod storefront;
pub mod sync_state;
