//! The storefront's one test binary: the built plugin on the real core over
//! the memory store (the SDK's harness), with the demo pastry shop.
//! Build it first: `cargo xtask build-plugins`.

#[path = "storefront/account.rs"]
mod account;
#[path = "storefront/browser.rs"]
mod browser;
#[path = "storefront/cart.rs"]
mod cart;
#[path = "storefront/checkout.rs"]
mod checkout;
#[path = "storefront/pages.rs"]
mod pages;
#[path = "storefront/seo.rs"]
mod seo;
#[path = "storefront/theme.rs"]
mod theme;
