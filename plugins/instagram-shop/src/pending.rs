//! Changes waiting to be sent to Meta: one entry per SKU under
//! `pending/{sku}`, the latest change winning, so a burst of changes to a
//! SKU is sent once. `sent/{sku}` remembers what Meta has (to choose
//! CREATE or UPDATE and to ignore changes older than what was sent; it is
//! deleted once Meta took the SKU's deletion), and `skus/{product_id}` the
//! SKUs sent for a product (to delete them when it is removed or loses a
//! variant; deleted with the removal).

use omnistore_sdk::{PluginError, storage};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::item::Item;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Every field of the item.
    Item,
    /// Availability and inventory only, for an item Meta has.
    Stock,
    /// Remove the item.
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub sku: String,
    pub product_id: String,
    pub kind: Kind,
    /// The item's fields in Meta's feed vocabulary, `id` (the SKU) included.
    pub data: Map<String, Value>,
    /// When the change happened (the event's time).
    pub occurred_at: i64,
}

/// What Meta has of a SKU, as far as the plugin sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The time of the latest change sent.
    pub at: i64,
    /// Written by earlier versions for a deleted SKU; now the entry goes.
    pub deleted: bool,
}

impl Change {
    pub fn new(sku: &str, product_id: &str, kind: Kind, item: Item, occurred_at: i64) -> Change {
        let data = item.into_iter().map(|(k, v)| (k.to_string(), field_value(k, v))).collect();
        Change { sku: sku.into(), product_id: product_id.into(), kind, data, occurred_at }
    }

    pub fn delete(sku: &str, product_id: &str, occurred_at: i64) -> Change {
        let mut data = Map::new();
        data.insert("id".into(), Value::String(sku.into()));
        Change { sku: sku.into(), product_id: product_id.into(), kind: Kind::Delete, data, occurred_at }
    }

    /// The Batch API request: CREATE for an item Meta does not have, UPDATE
    /// for one it has, DELETE.
    pub fn request(&self, sent: Option<&Sent>) -> Value {
        let method = match self.kind {
            Kind::Delete => "DELETE",
            _ if sent.is_some_and(|s| !s.deleted) => "UPDATE",
            _ => "CREATE",
        };
        serde_json::json!({ "method": method, "data": self.data })
    }
}

/// `inventory` is a number in Meta's item; the rest are text.
fn field_value(name: &str, value: String) -> Value {
    match (name, value.parse::<i64>()) {
        ("inventory", Ok(n)) => Value::from(n),
        _ => Value::String(value),
    }
}

/// `incoming` folded into what waits for its SKU; `None` keeps `waiting`.
pub fn merge(waiting: Option<&Change>, incoming: Change) -> Option<Change> {
    let Some(waiting) = waiting else { return Some(incoming) };
    if waiting.occurred_at > incoming.occurred_at {
        // A late, older change never overrides a newer one.
        return None;
    }
    match (waiting.kind, incoming.kind) {
        (_, Kind::Delete | Kind::Item) => Some(incoming),
        // The item goes; its stock no longer matters.
        (Kind::Delete, Kind::Stock) => None,
        (_, Kind::Stock) => {
            let mut merged = waiting.clone();
            merged.data.extend(incoming.data);
            merged.occurred_at = incoming.occurred_at;
            Some(merged)
        }
    }
}

pub fn key(sku: &str) -> String {
    format!("pending/{sku}")
}

pub fn sent(sku: &str) -> Result<Option<Sent>, PluginError> {
    storage::get_json(&format!("sent/{sku}"))
}

/// The SKU deleted from Meta's catalog: what was sent of it is forgotten.
pub fn forget_sent(sku: &str) -> Result<(), PluginError> {
    Ok(storage::delete(&format!("sent/{sku}"))?)
}

pub fn set_sent(sku: &str, sent: &Sent) -> Result<(), PluginError> {
    storage::set_json(&format!("sent/{sku}"), sent)
}

/// The SKUs last sent for a product.
pub fn skus_of(product_id: &str) -> Result<Vec<String>, PluginError> {
    Ok(storage::get_json(&format!("skus/{product_id}"))?.unwrap_or_default())
}

pub fn set_skus_of(product_id: &str, skus: &[String]) -> Result<(), PluginError> {
    if skus.is_empty() {
        return Ok(storage::delete(&format!("skus/{product_id}"))?);
    }
    storage::set_json(&format!("skus/{product_id}"), skus)
}

/// Record a change to send. `false` when there is nothing to send: a
/// change older than what Meta has, stock of a removed item, or a removal
/// of an item never sent.
pub fn record(change: Change) -> Result<bool, PluginError> {
    let sent = sent(&change.sku)?;
    if let Some(s) = &sent
        && s.at > change.occurred_at
    {
        return Ok(false);
    }
    let never_sent = sent.as_ref().is_none_or(|s| s.deleted);
    let key = key(&change.sku);
    let waiting: Option<Change> = storage::get_json(&key)?;
    if change.kind == Kind::Delete && never_sent {
        // Meta never had it: cancel what waits instead of deleting nothing.
        if waiting.is_some() {
            storage::delete(&key)?;
        }
        return Ok(false);
    }
    if change.kind == Kind::Stock && sent.as_ref().is_some_and(|s| s.deleted) && waiting.is_none() {
        return Ok(false);
    }
    let mut kept = true;
    storage::update_json(&key, |waiting: Option<Change>| match merge(waiting.as_ref(), change.clone()) {
        Some(next) => Some(next),
        None => {
            kept = waiting.is_some();
            waiting
        }
    })?;
    Ok(kept)
}

/// Whether a change for `sku` waits.
pub fn is_pending(sku: &str) -> Result<bool, PluginError> {
    Ok(storage::get(&key(sku))?.is_some())
}

/// Up to `limit` waiting changes, each with its stored bytes (to remove it
/// only if no newer change replaced it meanwhile).
pub fn take(limit: usize) -> Result<Vec<(Change, Vec<u8>)>, PluginError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    while out.len() < limit {
        let want = u32::try_from((limit - out.len()).min(1000)).unwrap_or(1000);
        let keys = storage::list_keys("pending/", after.as_deref(), want)?;
        let Some(last) = keys.last().cloned() else { break };
        for key in &keys {
            if let Some(bytes) = storage::get(key)? {
                let change: Change = serde_json::from_slice(&bytes)
                    .map_err(|e| PluginError::internal(format!("stored change `{key}` is not readable: {e}")))?;
                out.push((change, bytes));
            }
        }
        if keys.len() < want as usize {
            break;
        }
        after = Some(last);
    }
    Ok(out)
}

/// Remove a change that was sent, unless a newer one took its place.
pub fn done(change: &Change, bytes: &[u8]) -> Result<(), PluginError> {
    storage::compare_and_set(&key(&change.sku), Some(bytes), None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: Kind, at: i64, fields: &[(&'static str, &str)]) -> Change {
        let item = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Change::new("S", "P", kind, item, at)
    }

    #[test]
    fn the_latest_change_wins_and_stock_folds_into_an_item() {
        let item = change(Kind::Item, 1, &[("id", "S"), ("title", "T"), ("inventory", "5")]);
        let stock = change(Kind::Stock, 2, &[("id", "S"), ("availability", "out of stock"), ("inventory", "0")]);
        let merged = merge(Some(&item), stock.clone()).unwrap();
        assert_eq!(merged.kind, Kind::Item);
        assert_eq!(merged.data["title"], "T");
        assert_eq!(merged.data["inventory"], 0);
        assert_eq!(merged.occurred_at, 2);
        assert_eq!(merge(Some(&stock), item.clone()), None, "an older change loses");
        let delete = Change::delete("S", "P", 3);
        assert_eq!(merge(Some(&merged), delete.clone()), Some(delete.clone()));
        assert_eq!(merge(Some(&delete), change(Kind::Stock, 4, &[("inventory", "1")])), None);
    }

    #[test]
    fn the_method_follows_what_meta_has() {
        let item = change(Kind::Item, 1, &[("id", "S")]);
        assert_eq!(item.request(None)["method"], "CREATE");
        assert_eq!(item.request(Some(&Sent { at: 0, deleted: false }))["method"], "UPDATE");
        assert_eq!(item.request(Some(&Sent { at: 0, deleted: true }))["method"], "CREATE");
        assert_eq!(
            Change::delete("S", "P", 1).request(None),
            serde_json::json!({"method": "DELETE", "data": {"id": "S"}})
        );
    }
}
