//! Files the merchant keeps for this installation — theme overrides,
//! uploaded through the admin API or `omnistore theme push`. In a preview
//! request (see [`Request::is_preview`](crate::Request::is_preview)) the
//! host answers with the draft files, otherwise with the published ones.
//! Needs `"files"` in `[capabilities].imports`.
//!
//! Paths are relative (`templates/product.liquid`): the host refuses a path
//! with `..`, a leading `/` or a backslash as `invalid`.
//!
//! ```no_run
//! # fn f() -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::files;
//! const DEFAULT: &str = "<h1>{{ product.title | escape }}</h1>";
//! let source = files::get_text("templates/product.liquid")?;
//! let template = source.as_deref().unwrap_or(DEFAULT);
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::files::{get, list};

use crate::PluginError;

/// The file at `path` as UTF-8 text, `None` when there is none; an error
/// when the host refuses the path or the file is not UTF-8 (which names the
/// path, so a merchant can tell which upload to fix).
pub fn get_text(path: &str) -> Result<Option<String>, PluginError> {
    match get(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| PluginError::BadRequest(format!("the file {path} is not UTF-8 text"))),
    }
}
