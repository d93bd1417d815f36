//! Events: each product or stock change is written to storage as what waits
//! for its SKU (`pending.rs`), then the call tries to send everything
//! waiting (`flush.rs`) under the flush lease (`lease.rs`). When another
//! call flushed less than a second ago, an event whose change still waits
//! asks the host to redeliver it shortly, and that redelivery sends all
//! that gathered meanwhile: a thousand stock changes in a second make one
//! or two calls to Meta, not a thousand. The event whose flush sent a
//! batch stays with the host to read the batch's status
//! (`omnistore_sdk::follow_up`), so Meta's verdict on each item shows in the
//! admin without waiting for the next change.

use omnistore_sdk::follow_up::FollowUp;
use omnistore_sdk::{
    Event, EventPayload, PluginError, Product, StockChange, catalog, clock, handled, settings, storage,
};

use crate::config::{Misconfigured, Sync};
use crate::item::{self, Context};
use crate::pending::{self, Change, Kind};
use crate::{flush, lease, state};

/// A look every 30 seconds, 20 at most: Meta finishes a batch in seconds to
/// minutes; after that the next event's flush reads on.
const FOLLOW: FollowUp = FollowUp::new("batch-follow-up", 30, 20);

pub fn handle(event: &Event) -> Result<(), PluginError> {
    match &event.payload {
        EventPayload::Installed => installed(),
        EventPayload::ProductChanged(product) => change(event, |cfg| product_changed(cfg, product, event.occurred_at)),
        EventPayload::ProductRemoved(id) => change(event, |_| product_removed(id, event.occurred_at)),
        EventPayload::StockChanged(stock) => change(event, |cfg| stock_changed(cfg, stock, event.occurred_at)),
        _ => Ok(()),
    }
}

/// The settings, or the event fails with what to fix (and the admin shows it).
fn config() -> Result<Sync, PluginError> {
    Sync::read().map_err(|Misconfigured { setting, message }| {
        if let Err(e) = state::set_channel("misconfigured", &message) {
            omnistore_sdk::error!("the sync state could not be written", why = format!("{e:?}"));
        }
        omnistore_sdk::warn!("a setting is missing", setting = setting);
        PluginError::internal(message)
    })
}

/// Installed, or the settings changed: a new token lifts the stop, and
/// what waits is sent.
fn installed() -> Result<(), PluginError> {
    let cfg = config()?;
    storage::delete(flush::BLOCKED_KEY)?;
    storage::delete(flush::BACKOFF_KEY)?;
    state::channel_ok()?;
    match lease::take(clock::now())? {
        Some(lease) => flush::run(&cfg, lease),
        None => Ok(()),
    }
}

/// The event ids handled, each with the SKUs it left waiting: the newest
/// `handled_events_kept` (setting, 10,000 by default) only, so they never
/// fill the storage quota. The host redelivers a failed event a few times
/// within minutes, so ten thousand newer events later its marker is never
/// needed again; an older event handled again is ignored by `sent/{sku}`
/// (newest change wins) or resends current data. Markers of earlier
/// versions (`seen/{event id}`) are still recognised and drained.
fn handled_events() -> handled::Handled {
    let keep = handled::keep_from_setting(settings::get("handled_events_kept").as_deref(), handled::DEFAULT_KEEP);
    handled::Handled::new("handled").keeping(keep).legacy("seen/")
}

/// Record the event's changes once (the event id is remembered with the
/// SKUs it touched), then send or leave them to the flush under way.
fn change(event: &Event, build: impl FnOnce(&Sync) -> Result<Vec<Change>, PluginError>) -> Result<(), PluginError> {
    let cfg = config()?;
    if FOLLOW.is_held_by(&event.id)? {
        flush::read_back(&cfg)?;
        return FOLLOW.looked(&event.id, flush::has_open_batches()?);
    }
    let seen = handled_events();
    let remembered = match seen.get(&event.id)? {
        Some(bytes) => Some(
            serde_json::from_slice::<Vec<String>>(&bytes)
                .map_err(|e| PluginError::internal(format!("the SKUs of event `{}` are not JSON: {e}", event.id)))?,
        ),
        None => None,
    };
    let skus: Vec<String> = match remembered {
        Some(skus) => skus,
        None => {
            let mut skus = Vec::new();
            for change in build(&cfg)? {
                let (sku, product) = (change.sku.clone(), change.product_id.clone());
                if pending::record(change)? {
                    state::mark_pending(&product)?;
                    skus.push(sku);
                }
            }
            let bytes = serde_json::to_vec(&skus).map_err(|e| PluginError::internal(e.to_string()))?;
            seen.remember(&event.id, &bytes)?;
            skus
        }
    };
    drive(&cfg, &event.id, &skus)
}

fn drive(cfg: &Sync, event: &str, skus: &[String]) -> Result<(), PluginError> {
    if skus.is_empty() {
        // Nothing of this event waits; the events whose changes wait send
        // them (and would find the lease taken for nothing).
        return Ok(());
    }
    if storage::get(flush::BLOCKED_KEY)?.is_some() {
        // The token was refused: the change waits in storage and goes out
        // when the merchant saves a new one (an `installed` event), with no
        // retries in between. The admin shows why.
        return Ok(());
    }
    let now = clock::now();
    if let Some(wait) = flush::backoff_left(now)? {
        return Err(PluginError::RetryLater(wait));
    }
    if let Some(lease) = lease::take(now)? {
        flush::run(cfg, lease)?;
        // What was sent is being processed: this event reads its status a
        // little later, unless another event does already.
        if flush::has_open_batches()? {
            return FOLLOW.take(event);
        }
        return Ok(());
    }
    for sku in skus {
        if pending::is_pending(sku)? {
            // A flush ran less than a second ago; the redelivery sends this
            // change with every other one that gathered meanwhile.
            return Err(PluginError::RetryLater(1));
        }
    }
    Ok(())
}

fn context(cfg: &Sync) -> Context<'_> {
    Context { shop_url: &cfg.shop_url, default_category: cfg.default_category.as_deref(), now_ms: clock::now() }
}

/// Every variant's item; the SKUs the product no longer has are deleted.
fn product_changed(cfg: &Sync, product: &Product, at: i64) -> Result<Vec<Change>, PluginError> {
    let cx = context(cfg);
    let mut changes: Vec<Change> = product
        .variants
        .iter()
        .zip(item::items(product, &cx))
        .map(|(v, item)| Change::new(&v.sku, &product.id, Kind::Item, item, at))
        .collect();
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    for gone in pending::skus_of(&product.id)?.into_iter().filter(|s| !skus.contains(s)) {
        changes.push(Change::delete(&gone, &product.id, at));
    }
    pending::set_skus_of(&product.id, &skus)?;
    Ok(changes)
}

/// Delete every SKU sent for the product; one never sent needs nothing.
fn product_removed(id: &str, at: i64) -> Result<Vec<Change>, PluginError> {
    let skus = pending::skus_of(id)?;
    // Removed now when nothing is to be deleted; a deletion to send marks
    // it pending, and removed again once Meta took it.
    state::mark_removed(id)?;
    pending::set_skus_of(id, &[])?;
    Ok(skus.iter().map(|s| Change::delete(s, id, at)).collect())
}

/// Availability and inventory for an item Meta has; the whole item when it
/// has not got it yet.
fn stock_changed(cfg: &Sync, stock: &StockChange, at: i64) -> Result<Vec<Change>, PluginError> {
    let Some((product, variant)) = catalog::find_sku(&stock.sku)? else {
        // Not published to this channel: nothing to tell Meta.
        return Ok(vec![]);
    };
    let known = pending::sent(&stock.sku)?.is_some_and(|s| !s.deleted);
    if known {
        let fields = item::stock_fields(Some(&product), Some(&variant), &stock.sku, stock.available);
        return Ok(vec![Change::new(&stock.sku, &product.id, Kind::Stock, fields, at)]);
    }
    let full = item::item(&product, &variant, stock.available, &context(cfg));
    let mut skus = pending::skus_of(&product.id)?;
    if !skus.contains(&stock.sku) {
        skus.push(stock.sku.clone());
        pending::set_skus_of(&product.id, &skus)?;
    }
    Ok(vec![Change::new(&stock.sku, &product.id, Kind::Item, full, at)])
}
