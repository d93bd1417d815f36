//! The Instagram Shop channel: the shop's catalog in a Meta commerce
//! catalog, and the orders placed on Instagram in the shop.
//!
//! - Events `product.changed`, `stock.changed`, `product.removed`: the
//!   change waits in storage per SKU and goes to Meta's Catalog Batch API
//!   in batches of at most 5,000, coalesced across events under a flush
//!   lease (`sync.rs`, `pending.rs`, `lease.rs`, `flush.rs`, `graph.rs`).
//!   `installed` (settings saved) sends what waits.
//! - `GET /feed.csv`, `GET /feed.xml`: the catalog as a Meta data feed,
//!   streamed a catalog page per body page (`feed.rs`).
//! - `GET /webhook`, `POST /webhook`: Meta's webhook handshake and signed
//!   order notifications, each order ingested once (`webhooks.rs`, `orders.rs`).
//! - `sync/product/{id}` and `sync/channel` in storage: the sync state the
//!   admin shows (`state.rs`).
//!
//! Every call runs in a fresh instance: what must last is in storage.

mod config;
mod feed;
mod flush;
mod graph;
mod item;
mod lease;
mod orders;
mod pending;
mod state;
mod sync;
mod webhooks;

use omnistore_sdk::{BodyPage, Event, Plugin, PluginError, Request, Response, Router, export_plugin};

struct InstagramShop;

impl Plugin for InstagramShop {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Router::new()
            .get("/feed.csv", feed::csv)
            .get("/feed.xml", feed::xml)
            .get("/webhook", webhooks::verify)
            .post("/webhook", webhooks::receive)
            .handle(&req)
    }

    fn next_page(continuation: String) -> Result<BodyPage, PluginError> {
        feed::next_page(&continuation)
    }

    fn on_event(event: Event) -> Result<(), PluginError> {
        sync::handle(&event)
    }
}

export_plugin!(InstagramShop);
