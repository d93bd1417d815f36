//! The web storefront: the merchant's own shop on the web, as a channel
//! plugin. Pages are rendered from a Shopify-style Liquid theme bundled in
//! the plugin (`theme/`), file by file overridable by the merchant through
//! the host's per-installation files; the cart, checkout and order status
//! work with plain HTML forms, and the Ajax cart API answers as Shopify's
//! does so theme JavaScript written for Shopify works.
//!
//! Every call runs in a fresh instance: what must survive a request lives in
//! signed cookies (cart, visitor, landing source) or in the core.

mod account;
mod ajax;
mod cart;
mod checkout;
mod context;
mod filters;
mod fnv;
mod i18n;
mod money;
mod objects;
mod pages;
mod seo;
mod theme;
mod visit;

/// The default theme bundled at build time.
mod bundled {
    include!(concat!(env!("OUT_DIR"), "/theme_files.rs"));
}

use omnistore_sdk::{BodyPage, Plugin, PluginError, Request, Response, export_plugin};

struct WebStorefront;

impl Plugin for WebStorefront {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        pages::handle(req)
    }

    /// Only sitemap files stream in pages.
    fn next_page(continuation: String) -> Result<BodyPage, PluginError> {
        seo::next_page(&continuation)
    }
}

export_plugin!(WebStorefront);
