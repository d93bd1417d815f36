//! Touchpoints counted per channel and kind over a period: the top of each
//! channel's conversion funnel (views, carts) that the admin sets beside
//! the channel's orders. Both customers' journals and anonymous visitors'
//! touchpoints are counted; a visitor's touchpoints move into the
//! customer's journal when they order, so each is counted once.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::customers::Touchpoint;
use crate::error::CoreResult;
use crate::ids::{ChannelId, TenantId};
use crate::records::Record;
use crate::store::{Core, Tx};
use crate::visitors::VisitorTouchpoint;

/// How many touchpoints of one kind a channel recorded in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouchpointCount {
    /// `None`: recorded without a channel (by the admin, say).
    pub channel_id: Option<ChannelId>,
    pub kind: String,
    pub count: u64,
}

/// Entries read per step, so a large journal is never held whole.
const BATCH: usize = 1000;

/// Feed `(channel, kind, at)` of every entry under `prefix` to `each`.
fn each_entry<T: Record>(
    tx: &mut Tx<'_>,
    prefix: &str,
    fields: impl Fn(&T) -> (Option<&ChannelId>, &str, i64),
    mut each: impl FnMut(Option<&ChannelId>, &str, i64),
) -> CoreResult<()> {
    let mut after: Option<String> = None;
    loop {
        let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let batch = tx.scan_range::<T>(&[prefix], start, Bound::Unbounded, BATCH)?;
        for (_, t) in &batch {
            let (channel, kind, at) = fields(t);
            each(channel, kind, at);
        }
        if batch.len() < BATCH {
            return Ok(());
        }
        after = batch.last().map(|(k, _)| k.clone());
    }
}

impl Core {
    /// Touchpoints recorded in `[from_ms, to_ms)`, counted per channel and
    /// kind, in channel then kind order. Reads every touchpoint of the
    /// tenant: meant for a report, not for each page a shopper sees.
    pub fn touchpoint_counts(&self, tenant: &TenantId, from_ms: i64, to_ms: i64) -> CoreResult<Vec<TouchpointCount>> {
        self.read(tenant, |tx| {
            let mut counts: BTreeMap<(Option<ChannelId>, String), u64> = BTreeMap::new();
            let mut add = |channel: Option<&ChannelId>, kind: &str, at: i64| {
                if (from_ms..to_ms).contains(&at) {
                    *counts.entry((channel.cloned(), kind.to_owned())).or_default() += 1;
                }
            };
            each_entry::<Touchpoint>(tx, "tp", |t| (t.channel_id.as_ref(), &t.kind, t.at_ms), &mut add)?;
            each_entry::<VisitorTouchpoint>(tx, "vtp", |t| (t.channel_id.as_ref(), &t.kind, t.at_ms), &mut add)?;
            Ok(counts
                .into_iter()
                .map(|((channel_id, kind), count)| TouchpointCount { channel_id, kind, count })
                .collect())
        })
    }
}
