//! The Instagram Shop channel's one test binary: the built plugin on the
//! real core over the memory store (the SDK's harness) with the demo pastry
//! shop, and a stand-in for Meta's Graph API on 127.0.0.1 whose judge checks
//! every Catalog Batch API call against Meta's own API description (the
//! copied fixtures under `tests/fixtures/meta/`).
//! Build the plugin first: `cargo xtask build-plugins`.

#[path = "instagram_shop/feeds.rs"]
mod feeds;
#[path = "instagram_shop/isolation.rs"]
mod isolation;
#[path = "instagram_shop/judge.rs"]
mod judge;
#[path = "instagram_shop/meta.rs"]
mod meta;
#[path = "instagram_shop/orders.rs"]
mod orders;
#[path = "instagram_shop/shop.rs"]
mod shop;
#[path = "instagram_shop/sync.rs"]
mod sync;
