//! Sending what waits: the lease holder reads the waiting changes, sends
//! them in `items_batch` calls of at most 5,000, removes what was sent and
//! records what Meta said, per product. Graph's errors are acted on: rate
//! limits back off, an invalid token stops sending until the merchant
//! reconnects, other refusals are recorded on the products.

use std::collections::BTreeMap;

use omnistore_sdk::{PluginError, clock, storage};
use serde::{Deserialize, Serialize};

use crate::config::Sync;
use crate::graph::{self, BATCH_LIMIT, BatchAnswer, Failure, GraphError, Message, Validation};
use crate::lease::Lease;
use crate::pending::{self, Change, Kind, Sent};
use crate::state::{self, Outcome, Problem};

/// Batches one call sends at most, to stay well inside the event deadline;
/// what is left waits for the next call.
const ROUNDS: usize = 4;
/// Batch statuses one call asks for at most.
const POLLS: u32 = 10;

pub const BLOCKED_KEY: &str = "flush/blocked";
pub const BACKOFF_KEY: &str = "flush/backoff";

/// A rate limit's wait: until when, and how many in a row (the wait doubles).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backoff {
    pub until_ms: i64,
    pub round: u32,
}

/// A batch Meta accepted, kept until its status is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Batch {
    sent_ms: i64,
    /// (SKU, product id) of each request.
    items: Vec<(String, String)>,
}

/// Send everything waiting, holding `lease`.
pub fn run(cfg: &Sync, mut lease: Lease) -> Result<(), PluginError> {
    poll(cfg)?;
    for _ in 0..ROUNDS {
        let taken = pending::take(BATCH_LIMIT)?;
        if taken.is_empty() {
            break;
        }
        let mut sent = Vec::with_capacity(taken.len());
        for (change, _) in &taken {
            sent.push(pending::sent(&change.sku)?);
        }
        let requests: Vec<_> = taken.iter().zip(&sent).map(|((c, _), s)| c.request(s.as_ref())).collect();
        match graph::items_batch(cfg, &requests) {
            Ok(answer) => {
                accepted(&taken, &answer)?;
                storage::delete(BACKOFF_KEY)?;
                state::channel_ok()?;
                omnistore_sdk::info!("sent changes to the Meta catalog", items = taken.len());
            }
            Err(Failure::RateLimited(e)) => return Err(PluginError::RetryLater(back_off(&e)?)),
            Err(Failure::Token(e)) => {
                storage::set(BLOCKED_KEY, e.message.as_bytes())?;
                state::set_channel(
                    "needs_reauthorization",
                    &format!(
                        "Meta refused the access token ({}). Create a new token with the catalog_management permission and save it in the secret `access_token`: the changes waiting are sent then.",
                        e.message
                    ),
                )?;
                omnistore_sdk::warn!(
                    "Meta refused the access token; sending stops until it is replaced",
                    code = e.code
                );
                return Ok(());
            }
            Err(Failure::Refused(e)) => refused(&taken, &e)?,
            Err(Failure::Transient(why)) => {
                omnistore_sdk::warn!("sending to the Meta catalog failed; retrying later", why = why);
                return Err(PluginError::RetryLater(30));
            }
        }
        if taken.len() < BATCH_LIMIT || !lease.renew(clock::now())? {
            break;
        }
    }
    Ok(())
}

/// Remove what was sent and record what Meta said about it.
fn accepted(taken: &[(Change, Vec<u8>)], answer: &BatchAnswer) -> Result<(), PluginError> {
    for (change, bytes) in taken {
        pending::done(change, bytes)?;
        if change.kind == Kind::Delete {
            // Meta has it no more: nothing of the SKU stays in storage. A
            // later change carries the product as it is then (a removed one
            // is not in the channel's catalog, so its stock is ignored).
            pending::forget_sent(&change.sku)?;
        } else {
            pending::set_sent(&change.sku, &Sent { at: change.occurred_at, deleted: false })?;
        }
    }
    let now = clock::now();
    let items: Vec<_> = taken.iter().map(|(c, _)| (c.sku.clone(), c.product_id.clone())).collect();
    for handle in &answer.handles {
        storage::set_json(&format!("batch/{handle}"), &Batch { sent_ms: now, items: items.clone() })?;
    }
    let removed: BTreeMap<&str, bool> = taken.iter().fold(BTreeMap::new(), |mut m, (c, _)| {
        let all = m.entry(c.product_id.as_str()).or_insert(true);
        *all &= c.kind == Kind::Delete;
        m
    });
    let outcomes = outcomes(&items, &answer.validation_status, &[], &[]);
    for (product, (skus, outcome)) in outcomes {
        state::record_sent(&product, &skus, &outcome, removed.get(product.as_str()).copied().unwrap_or(false))?;
    }
    Ok(())
}

/// Meta refused the whole call: the error goes on every product in it, and
/// the changes are not sent again until the product changes again.
fn refused(taken: &[(Change, Vec<u8>)], e: &GraphError) -> Result<(), PluginError> {
    omnistore_sdk::warn!("Meta refused a batch", code = e.code, message = e.message);
    let mut by_product: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (change, bytes) in taken {
        pending::done(change, bytes)?;
        by_product.entry(&change.product_id).or_default().push(change.sku.clone());
    }
    for (product, skus) in by_product {
        let base = e.problem();
        let errors =
            skus.iter().map(|s| Problem { code: base.code.clone(), message: format!("{s}: {}", base.message) });
        let outcome = Outcome { errors: errors.collect(), warnings: vec![] };
        state::record_sent(product, &skus, &outcome, false)?;
    }
    Ok(())
}

/// Problems per product, from `validation_status` and a status's error
/// lists, each message prefixed with its SKU.
fn outcomes(
    items: &[(String, String)],
    validation: &[Validation],
    errors: &[Message],
    warnings: &[Message],
) -> BTreeMap<String, (Vec<String>, Outcome)> {
    let mut out: BTreeMap<String, (Vec<String>, Outcome)> = BTreeMap::new();
    for (sku, product) in items {
        out.entry(product.clone()).or_default().0.push(sku.clone());
    }
    let product_of = |sku: &str| items.iter().find(|(s, _)| s == sku).map(|(_, p)| p.clone());
    let problem = |sku: &str, m: &Message| Problem {
        code: m.code.as_ref().map_or_else(|| "validation".into(), |c| c.to_string().trim_matches('"').to_string()),
        message: format!("{sku}: {}", m.message),
    };
    for v in validation {
        if let Some(p) = product_of(&v.retailer_id) {
            let o = &mut out.get_mut(&p).expect("every product has an entry").1;
            o.errors.extend(v.errors.iter().map(|m| problem(&v.retailer_id, m)));
            o.warnings.extend(v.warnings.iter().map(|m| problem(&v.retailer_id, m)));
        }
    }
    for (list, is_error) in [(errors, true), (warnings, false)] {
        for m in list {
            let sku = m.id.as_ref().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
            if let Some((sku, p)) = sku.and_then(|s| product_of(&s).map(|p| (s, p))) {
                let o = &mut out.get_mut(&p).expect("every product has an entry").1;
                if is_error { &mut o.errors } else { &mut o.warnings }.push(problem(&sku, m));
            }
        }
    }
    out
}

/// Read back the batches still open (the follow-up's look).
pub fn read_back(cfg: &Sync) -> Result<(), PluginError> {
    poll(cfg)
}

/// Whether a batch sent is still waiting for its status to be read.
pub fn has_open_batches() -> Result<bool, PluginError> {
    Ok(!storage::list_keys("batch/", None, 1)?.is_empty())
}

/// Read the status of batches sent earlier; a finished one's errors and
/// warnings replace what the products had.
fn poll(cfg: &Sync) -> Result<(), PluginError> {
    for key in storage::list_keys("batch/", None, POLLS)? {
        let Some(batch) = storage::get_json::<Batch>(&key)? else { continue };
        let handle = key.trim_start_matches("batch/");
        let statuses = match graph::batch_status(cfg, handle) {
            Ok(s) => s,
            Err(Failure::Token(_) | Failure::RateLimited(_) | Failure::Transient(_)) => return Ok(()),
            Err(Failure::Refused(e)) => {
                // An unknown or expired handle: nothing more to learn.
                omnistore_sdk::warn!("a batch status could not be read", code = e.code, message = e.message);
                storage::delete(&key)?;
                continue;
            }
        };
        if statuses.iter().any(|s| matches!(s.status.as_str(), "in_progress" | "started" | "")) {
            continue;
        }
        let mut validation = Vec::new();
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for s in statuses {
            validation.extend(s.validation_status);
            errors.extend(s.errors);
            warnings.extend(s.warnings);
        }
        for (product, (skus, outcome)) in outcomes(&batch.items, &validation, &errors, &warnings) {
            if !outcome.errors.is_empty() || !outcome.warnings.is_empty() {
                state::record_sent(&product, &skus, &outcome, false)?;
            }
        }
        storage::delete(&key)?;
    }
    Ok(())
}

/// Wait before the next call: a minute, doubling with each rate limit in a
/// row, at most an hour. Returns the wait in seconds.
fn back_off(e: &GraphError) -> Result<u32, PluginError> {
    let now = clock::now();
    let round = storage::get_json::<Backoff>(BACKOFF_KEY)?.map_or(0, |b| b.round + 1);
    let secs = (60u32 << round.min(6)).min(3600);
    storage::set_json(BACKOFF_KEY, &Backoff { until_ms: now + i64::from(secs) * 1000, round })?;
    state::set_channel(
        "rate_limited",
        &format!("Meta asked to slow down ({}); the changes waiting are sent in {secs} seconds.", e.message),
    )?;
    omnistore_sdk::warn!("Meta's rate limit was reached", code = e.code, wait_s = secs);
    Ok(secs)
}

/// The wait left of a rate limit, in seconds, if one is on.
pub fn backoff_left(now: i64) -> Result<Option<u32>, PluginError> {
    Ok(storage::get_json::<Backoff>(BACKOFF_KEY)?
        .filter(|b| b.until_ms > now)
        .map(|b| u32::try_from((b.until_ms - now + 999) / 1000).unwrap_or(u32::MAX)))
}
