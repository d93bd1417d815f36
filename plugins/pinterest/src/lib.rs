//! The Pinterest channel, through Pinterest's API v5.
//!
//! - `product.changed`, `stock.changed`, `product.removed`: each variant is
//!   an item of the merchant's Pinterest catalog (`item_id` = SKU,
//!   `item_group_id` = product id), sent with `POST /v5/catalogs/items/batch`
//!   (UPSERT or DELETE) in coalesced batches (`sync.rs`); each batch's
//!   outcome is read back later and recorded per product.
//! - A product seen for the first time is pinned once to the merchant's
//!   board (`pins.rs`).
//! - `GET /feed.tsv`, `GET /feed.csv` and `GET /feed.xml`: the same items as a feed, streamed page by page
//!   (`feed.rs`), registered with Pinterest on `installed` when asked.
//! - Tokens: a 401 renews the access token once with the refresh token;
//!   renewed tokens live in storage (`api.rs`, `config.rs`).
//! - The sync state the admin reads: `sync/product/{id}`, `sync/channel`
//!   (`state.rs`).
//!
//! Every event id is remembered once handled, so a redelivery changes nothing:
//! `handled/{event id}` (the SDK's [`handled`]), the newest
//! `handled_events_kept` of them only (10,000 by default), so the markers
//! never fill the storage quota. Markers of earlier versions (`event/{id}`)
//! are still recognised and drained a batch per event.

mod api;
mod config;
mod feed;
mod item;
mod pins;
mod state;
mod sync;

use omnistore_sdk::{
    BodyPage, Event, EventPayload, Plugin, PluginError, Request, Response, Router, catalog, export_plugin, handled,
    settings,
};

struct PinterestChannel;

impl Plugin for PinterestChannel {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Router::new().get("/feed.tsv", feed::tsv).get("/feed.csv", feed::csv).get("/feed.xml", feed::xml).handle(&req)
    }

    fn next_page(continuation: String) -> Result<BodyPage, PluginError> {
        feed::next_page(&continuation)
    }

    fn on_event(event: Event) -> Result<(), PluginError> {
        let done = handled_events();
        if done.get(&event.id)?.is_some() {
            return Ok(());
        }
        handle(&event)?;
        done.remember(&event.id, b"1")?;
        Ok(())
    }
}

/// The event ids handled, the newest `handled_events_kept` (setting) only:
/// the host redelivers a failed event a few times within minutes, so ten
/// thousand newer events later its marker is never needed again, and an
/// event handled twice resends current data, which is harmless.
fn handled_events() -> handled::Handled {
    let keep = handled::keep_from_setting(settings::get("handled_events_kept").as_deref(), handled::DEFAULT_KEEP);
    handled::Handled::new("handled").keeping(keep).legacy("event/")
}

fn handle(event: &Event) -> Result<(), PluginError> {
    let cfg = config::load()?;
    let (id, at) = (event.id.as_str(), event.occurred_at);
    match &event.payload {
        EventPayload::ProductChanged(product) => {
            let queued = sync::queue_product(&cfg, product, None, id, at)?;
            pins::pin_once(&cfg, product)?;
            sync::settle(&cfg, id, &queued)
        }
        EventPayload::StockChanged(change) => {
            // The item is sent whole (an UPSERT replaces it): the product as
            // the channel sees it, with the stock the event reports.
            let Some(product) = catalog::get_product(&change.product_id)? else { return Ok(()) };
            let queued = sync::queue_product(&cfg, &product, Some((&change.sku, change.available)), id, at)?;
            sync::settle(&cfg, id, &queued)
        }
        EventPayload::ProductRemoved(product_id) => {
            let queued = sync::queue_removal(product_id, id, at)?;
            sync::settle(&cfg, id, &queued)
        }
        EventPayload::Installed => {
            // New settings may have fixed what was wrong: say so before trying.
            if state::channel()?.is_none_or(|c| c.status == "misconfigured") {
                state::channel_ok()?;
            }
            feed::register(&cfg)?;
            sync::poll_batches(&cfg)
        }
        _ => Ok(()),
    }
}

export_plugin!(PinterestChannel);
