//! Identifiers and closed vocabularies that more than one layer speaks.
//!
//! The core, the plugin manifest, the runtime and the server each used to
//! define their own tenant id and their own event-kind strings, with slightly
//! different rules, so a tenant the admin API accepted could not install a
//! plugin, and an event the core emitted never matched what a manifest could
//! subscribe to. Each concept is defined here once; every crate re-exports or
//! uses these types. This crate depends on nothing of the product.

mod events;
mod ids;
mod media;
mod tenant_files;

pub use events::{EventKind, UnknownEventKind};
pub use ids::{InvalidId, TenantId, is_valid_id};
pub use media::ImageFormat;
pub use tenant_files::{NoFiles, TenantFiles};
