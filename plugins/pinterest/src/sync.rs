//! Catalog sync through `POST /v5/catalogs/items/batch`, coalesced.
//!
//! An event never calls Pinterest for itself alone: it writes its change to
//! `pending/{sku}` (the latest change of a SKU wins), then tries to take the
//! flush lease. The holder sends everything pending in batches of at most
//! 1,000 items (the description's `maxItems`) and deletes what it sent. An
//! event whose change is still pending while another flush runs or ran less
//! than a second ago asks the host to redeliver it shortly (`RetryLater`);
//! that redelivery flushes whatever piled up meanwhile. So a burst of 1,000
//! changes becomes a couple of calls, not 1,000. After a 429 every event
//! asks to be redelivered when Pinterest's wait is over, not sooner. The
//! event whose flush sent a batch stays with the host to read the batch's
//! outcome (`omnistore_sdk::follow_up`), so errors show up in the admin
//! without waiting for the next change.

use omnistore_sdk::follow_up::FollowUp;
use omnistore_sdk::{PluginError, Product, clock, storage};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{self, ApiError, Body};
use crate::config::Config;
use crate::item::{self, Attributes};
use crate::state::{self, Issue};

/// Items per batch call: the description's `maxItems` of `items`.
pub const BATCH_MAX: usize = 1000;
/// A flush at most this often; changes in between wait for the next.
pub const FLUSH_WINDOW_MS: i64 = 1000;
/// A lease older than this belongs to a call that died: it may be taken.
const LEASE_MS: i64 = 60_000;
/// Pages of 1,000 pending changes one flush sends at most, so it ends
/// within the call's deadline; the rest goes with the next flush.
const PAGES_PER_FLUSH: usize = 10;
/// Open batches whose status one flush asks for.
const POLLS_PER_FLUSH: u32 = 5;

const LEASE_KEY: &str = "flush/lease";
const LAST_KEY: &str = "flush/last";

/// The event that sent a batch stays to read its outcome: a look every 30
/// seconds, 20 at most (Pinterest processes a batch in seconds to minutes).
const FOLLOW: FollowUp = FollowUp::new("batch-follow-up", 30, 20);

/// One SKU's change waiting to be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// "UPSERT" or "DELETE".
    pub op: String,
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    /// The event that wrote it.
    pub event: String,
    /// When that event happened: an older event never overwrites a newer change.
    pub at: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Seen {
    at: i64,
    event: String,
}

/// The SKUs of a product as last sent, so a removal or a dropped variant
/// deletes the right items. A removed product keeps its entry, `removed`,
/// until its deletions are sent: a redelivery of the removal must find the
/// SKUs it left waiting, and only a sent deletion makes it "removed".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Known {
    pub skus: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

fn pending_key(sku: &str) -> String {
    format!("pending/{sku}")
}

fn known_key(product_id: &str) -> String {
    format!("product/{product_id}")
}

/// Queue `change` for `sku` unless a newer change (or this very event, sent
/// already) was queued before. Whether a change of this event waits now.
fn queue(sku: &str, change: Pending) -> Result<bool, PluginError> {
    let seen_key = format!("seen/{sku}");
    let mut newer = false;
    storage::update_json(&seen_key, |seen: Option<Seen>| {
        let seen = seen.unwrap_or_default();
        newer = change.at > seen.at || (change.at == seen.at && change.event != seen.event);
        Some(if newer { Seen { at: change.at, event: change.event.clone() } } else { seen })
    })?;
    if newer {
        storage::set_json(&pending_key(sku), &change)?;
        return Ok(true);
    }
    // A redelivery of the event whose change still waits: still its to settle.
    Ok(storage::get_json::<Pending>(&pending_key(sku))?.is_some_and(|p| p.event == change.event))
}

/// A SKU deleted from Pinterest (its product removed, or the variant
/// dropped) needs no `seen/{sku}` any more: a later change of it carries
/// the product as it is then, so the key goes, unless a newer change of
/// the SKU was queued meanwhile. Removed SKUs never pile up in storage.
fn forget_seen(sku: &str, event: &str) -> Result<(), PluginError> {
    let key = format!("seen/{sku}");
    if let Some(raw) = storage::get(&key)?
        && serde_json::from_slice::<Seen>(&raw).is_ok_and(|s| s.event == event)
    {
        storage::compare_and_set(&key, Some(&raw), None)?;
    }
    Ok(())
}

pub fn known(product_id: &str) -> Result<Known, PluginError> {
    Ok(storage::get_json(&known_key(product_id))?.unwrap_or_default())
}

/// A product as it is now: one UPSERT per variant, a DELETE for each
/// variant it no longer has. `available` overrides one variant's stock (a
/// stock change newer than the product). The SKUs queued.
pub fn queue_product(
    cfg: &Config,
    product: &Product,
    available: Option<(&str, i64)>,
    event: &str,
    at: i64,
) -> Result<Vec<String>, PluginError> {
    let cx = item::Context {
        shop_url: cfg.shop_url.clone(),
        google_product_category: cfg.google_product_category.clone(),
        now_ms: clock::now(),
    };
    let mut queued = Vec::new();
    let before = known(&product.id)?;
    for variant in &product.variants {
        let stock = match available {
            Some((sku, n)) if sku == variant.sku => n,
            _ => variant.available,
        };
        let attributes = item::attributes(product, variant, stock, &cx);
        let change = Pending {
            op: "UPSERT".into(),
            product_id: product.id.clone(),
            attributes: Some(attributes),
            event: event.into(),
            at,
        };
        if queue(&variant.sku, change)? {
            queued.push(variant.sku.clone());
        }
    }
    for gone in before.skus.iter().filter(|s| !product.variants.iter().any(|v| &v.sku == *s)) {
        if queue(gone, deletion(&product.id, event, at))? {
            queued.push(gone.clone());
        }
    }
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    storage::set_json(&known_key(&product.id), &Known { skus, removed: false })?;
    if !queued.is_empty() {
        state::pending(&product.id)?;
    }
    Ok(queued)
}

fn deletion(product_id: &str, event: &str, at: i64) -> Pending {
    Pending { op: "DELETE".into(), product_id: product_id.into(), attributes: None, event: event.into(), at }
}

/// A product gone from the channel: a DELETE for each SKU it was sent
/// with (again, for a redelivery whose deletions still wait). One never
/// sent has none, and is simply marked removed.
pub fn queue_removal(product_id: &str, event: &str, at: i64) -> Result<Vec<String>, PluginError> {
    let before = known(product_id)?;
    let mut queued = Vec::new();
    for sku in &before.skus {
        if queue(sku, deletion(product_id, event, at))? {
            queued.push(sku.clone());
        }
    }
    if !queued.is_empty() {
        storage::set_json(&known_key(product_id), &Known { skus: before.skus, removed: true })?;
        state::pending(product_id)?;
    } else if before.skus.is_empty() || before.removed {
        // Never sent, or its deletions went already.
        storage::delete(&known_key(product_id))?;
        state::removed(product_id, clock::now())?;
    }
    // Otherwise a newer change of the product (published again) came first.
    Ok(queued)
}

/// After deletions went: a removed product none of whose SKUs waits any
/// more is gone from Pinterest, and its entry goes too.
fn deletions_sent(product_id: &str, now: i64) -> Result<(), PluginError> {
    let Some(raw) = storage::get(&known_key(product_id))? else {
        return state::removed(product_id, now);
    };
    let Ok(entry) = serde_json::from_slice::<Known>(&raw) else { return Ok(()) };
    if !entry.removed {
        // Only some variants went; the product stays.
        return Ok(());
    }
    for sku in &entry.skus {
        if storage::get(&pending_key(sku))?.is_some() {
            return Ok(());
        }
    }
    storage::compare_and_set(&known_key(product_id), Some(&raw), None)?;
    state::removed(product_id, now)
}

/// Whether a change this event queued is still waiting.
fn still_pending(event: &str, skus: &[String]) -> Result<bool, PluginError> {
    for sku in skus {
        if let Some(p) = storage::get_json::<Pending>(&pending_key(sku))?
            && p.event == event
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lease {
    holder: String,
    until: i64,
}

/// Take the flush lease with a compare-and-set; `None` when another call holds it.
fn take_lease(event: &str, now: i64) -> Result<Option<Vec<u8>>, PluginError> {
    let current = storage::get(LEASE_KEY)?;
    if let Some(bytes) = &current
        && let Ok(lease) = serde_json::from_slice::<Lease>(bytes)
        && lease.until > now
    {
        return Ok(None);
    }
    let ours = serde_json::to_vec(&Lease { holder: event.into(), until: now + LEASE_MS })
        .map_err(|e| PluginError::Internal(format!("lease: {e}")))?;
    Ok(storage::compare_and_set(LEASE_KEY, current.as_deref(), Some(&ours))?.then_some(ours))
}

/// See that the changes `skus` of `event` reach Pinterest: flush now when
/// this call may, else leave them to a flush that is running or is due,
/// asking to be redelivered while they wait.
pub fn settle(cfg: &Config, event: &str, skus: &[String]) -> Result<(), PluginError> {
    if FOLLOW.is_held_by(event)? {
        poll_batches(cfg)?;
        return FOLLOW.looked(event, has_open_batches()?);
    }
    if !still_pending(event, skus)? {
        return Ok(());
    }
    if let Some(secs) = api::quiet_seconds()? {
        // Rate-limited: the changes wait until Pinterest takes calls again.
        return Err(PluginError::RetryLater(secs));
    }
    let now = clock::now();
    let last: Option<i64> = storage::get_json(LAST_KEY)?;
    if last.is_some_and(|l| now - l < FLUSH_WINDOW_MS && now >= l) {
        return Err(PluginError::RetryLater(1));
    }
    let Some(lease) = take_lease(event, now)? else {
        return Err(PluginError::RetryLater(1));
    };
    storage::set_json(LAST_KEY, &now)?;
    let flushed = flush(cfg);
    storage::compare_and_set(LEASE_KEY, Some(&lease), None)?;
    flushed?;
    if still_pending(event, skus)? {
        return Err(PluginError::RetryLater(1));
    }
    // What was sent is being processed: this event reads its outcome a
    // little later, unless another event does already.
    if has_open_batches()? {
        return FOLLOW.take(event);
    }
    Ok(())
}

fn has_open_batches() -> Result<bool, PluginError> {
    Ok(!storage::list_keys("batch/", None, 1)?.is_empty())
}

/// Ask for the status of open batches, then send everything pending.
pub fn flush(cfg: &Config) -> Result<(), PluginError> {
    poll_batches(cfg)?;
    let mut start_after: Option<String> = None;
    for _ in 0..PAGES_PER_FLUSH {
        let keys = storage::list_keys("pending/", start_after.as_deref(), BATCH_MAX as u32)?;
        let Some(last) = keys.last() else { break };
        start_after = Some(last.clone());
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        for key in keys {
            let Some(raw) = storage::get(&key)? else { continue };
            let Ok(change) = serde_json::from_slice::<Pending>(&raw) else {
                // Unreadable (an older format): nothing sensible to send.
                storage::compare_and_set(&key, Some(&raw), None)?;
                continue;
            };
            let sku = key["pending/".len()..].to_string();
            let entry = Entry { key, raw, sku, change };
            if entry.change.op == "DELETE" { deletes.push(entry) } else { upserts.push(entry) }
        }
        for chunk in upserts.chunks(BATCH_MAX) {
            send_batch(cfg, "UPSERT", chunk)?;
        }
        for chunk in deletes.chunks(BATCH_MAX) {
            send_batch(cfg, "DELETE", chunk)?;
        }
    }
    Ok(())
}

struct Entry {
    key: String,
    raw: Vec<u8>,
    sku: String,
    change: Pending,
}

/// The body of one batch call, as `CatalogsItemsUpsertBatchRequest` or
/// `CatalogsItemsDeleteBatchRequest` describe it.
pub fn batch_body(cfg: &Config, op: &str, items: Vec<Value>) -> Value {
    json!({ "country": cfg.country, "language": cfg.language, "operation": op, "items": items })
}

fn send_batch(cfg: &Config, op: &str, entries: &[Entry]) -> Result<(), PluginError> {
    let items: Vec<Value> = entries
        .iter()
        .map(|e| match &e.change.attributes {
            Some(a) if op == "UPSERT" => json!({ "item_id": e.sku, "attributes": a }),
            _ => json!({ "item_id": e.sku }),
        })
        .collect();
    let body = batch_body(cfg, op, items);
    let path = format!("/v5/catalogs/items/batch{}", api::ad_account_query(cfg));
    let now = clock::now();
    match api::call(cfg, "POST", &path, Body::Json(&body)) {
        Ok(response) => {
            let batch_id = serde_json::from_slice::<Value>(&response.body)
                .ok()
                .and_then(|v| v["batch_id"].as_str().map(str::to_string));
            if let Some(id) = batch_id {
                let open = OpenBatch {
                    op: op.into(),
                    sent_ms: now,
                    items: entries.iter().map(|e| (e.sku.clone(), e.change.product_id.clone())).collect(),
                };
                storage::set_json(&format!("batch/{id}"), &open)?;
            }
            for e in entries {
                // Only what was sent: a newer change that arrived meanwhile stays.
                storage::compare_and_set(&e.key, Some(&e.raw), None)?;
                if op == "DELETE" {
                    forget_seen(&e.sku, &e.change.event)?;
                    deletions_sent(&e.change.product_id, now)?;
                }
            }
            Ok(())
        }
        Err(ApiError::Refused { status, code, message }) => {
            // Pinterest's verdict on these items: recorded, not repeated.
            let code = code.map_or_else(|| format!("http_{status}"), |c| c.to_string());
            for e in entries {
                storage::compare_and_set(&e.key, Some(&e.raw), None)?;
                state::failed(&e.change.product_id, vec![Issue::new(&code, &message)])?;
            }
            Ok(())
        }
        Err(other) => Err(other.into()),
    }
}

/// A batch Pinterest accepted and is processing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenBatch {
    pub op: String,
    pub sent_ms: i64,
    /// (SKU, product id) of each item.
    pub items: Vec<(String, String)>,
}

/// `GET /v5/catalogs/items/batch/{batch_id}` for the oldest open batches;
/// a finished one records each product's errors and warnings.
pub fn poll_batches(cfg: &Config) -> Result<(), PluginError> {
    for key in storage::list_keys("batch/", None, POLLS_PER_FLUSH)? {
        let Some(open) = storage::get_json::<OpenBatch>(&key)? else { continue };
        let id = &key["batch/".len()..];
        let path = format!("/v5/catalogs/items/batch/{id}{}", api::ad_account_query(cfg));
        let answer = match api::call(cfg, "GET", &path, Body::None) {
            Ok(r) => serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null),
            Err(ApiError::Refused { .. }) => {
                // Pinterest no longer knows the batch: nothing more to learn.
                storage::delete(&key)?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if answer["status"] == "PROCESSING" || answer["status"].is_null() {
            continue;
        }
        record_outcome(&open, &answer)?;
        storage::delete(&key)?;
    }
    Ok(())
}

fn issues(list: &Value, sku: &str) -> Vec<Issue> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let code = e["code"].as_i64().map_or_else(|| "unknown".to_string(), |c| c.to_string());
            let attribute = e["attribute"].as_str().map(|a| format!(" ({a})")).unwrap_or_default();
            Issue::new(code, format!("{sku}{attribute}: {}", e["message"].as_str().unwrap_or("no detail given")))
        })
        .collect()
}

fn record_outcome(open: &OpenBatch, answer: &Value) -> Result<(), PluginError> {
    let now = clock::now();
    let mut products: Vec<(&str, Vec<Issue>, Vec<Issue>)> = Vec::new();
    for (sku, product_id) in &open.items {
        let record = answer["items"].as_array().and_then(|items| items.iter().find(|i| i["item_id"] == sku.as_str()));
        let (errors, warnings) = match record {
            Some(r) => (issues(&r["errors"], sku), issues(&r["warnings"], sku)),
            None => (vec![], vec![]),
        };
        match products.iter_mut().find(|(p, _, _)| p == product_id) {
            Some((_, e, w)) => {
                e.extend(errors);
                w.extend(warnings);
            }
            None => products.push((product_id, errors, warnings)),
        }
    }
    for (product_id, errors, warnings) in products {
        let again = known(product_id)?
            .skus
            .iter()
            .map(|s| storage::get(&pending_key(s)))
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .any(Option::is_some);
        if again {
            // A newer change waits; its own batch will tell.
            continue;
        }
        if !errors.is_empty() {
            state::update_product(product_id, |s| {
                s.status = "error".into();
                s.errors = errors.clone();
                s.warnings = warnings.clone();
            })?;
        } else if open.op == "DELETE" {
            // A dropped variant's deletion leaves its product on Pinterest.
            if storage::get(&known_key(product_id))?.is_none() {
                state::removed(product_id, now)?;
            }
        } else {
            state::synced(product_id, warnings, now)?;
        }
    }
    Ok(())
}
