//! The journey journal: what happened on this channel, for analytics and
//! campaign attribution. Needs `"touchpoints"` in `[capabilities].imports`.
//!
//! ```no_run
//! # fn f(product: &omnistore_sdk::Product) -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::{Touchpoint, touchpoints};
//! touchpoints::record(&Touchpoint { product_id: Some(product.id.clone()), ..Touchpoint::new("view") })?;
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::touchpoints::record;
