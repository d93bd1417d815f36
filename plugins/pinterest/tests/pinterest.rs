//! The Pinterest channel's one test binary: the built plugin on the real
//! core over the memory store (the SDK's harness), with the demo pastry
//! shop and a Pinterest API stand-in on 127.0.0.1. Every request the plugin
//! sends, and every answer the stand-in gives, is checked against
//! Pinterest's own OpenAPI description (v5) by openapi-core.
//! Build the plugin first: `cargo xtask build-plugins`.

#[path = "pinterest/openapi.rs"]
mod openapi;
#[path = "pinterest/pins.rs"]
mod pins;
#[path = "pinterest/shop.rs"]
mod shop;
#[path = "pinterest/stand_in.rs"]
mod stand_in;
#[path = "pinterest/sync.rs"]
mod sync;
#[path = "pinterest/tokens.rs"]
mod tokens;
