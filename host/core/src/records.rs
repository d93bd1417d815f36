//! How core records are stored: a format version in front of every value,
//! and stored-record types owned by this layer, not by the domain.
//!
//! **Format.** A value is `v<N>:` followed by the record's JSON in format
//! version `N` (`v1:{"id":"prd-…",…}`). Values written before versioning
//! are plain JSON and read as version 0: JSON text never starts with `v`, so
//! the two can never be confused. A prefix rather than a JSON envelope
//! (`{"v":1,"r":…}`) because it costs three bytes and no second parse, keeps
//! values readable text, and cannot clash with a version-0 record that
//! happens to have fields named like the envelope.
//!
//! **Reading** dispatches on the version: the current one deserializes
//! straight into the stored type; an older one is upgraded step by step
//! ([`upgrades`]) as JSON first; a newer one is refused with an error that
//! says to upgrade the host. Reads never write: an old record is rewritten
//! at the current version the next time it is written, or by
//! [`Core::migrate`](crate::Core::migrate) (in [`crate::migrate`]).
//!
//! **Stored types.** Products, variants, orders and customers — the records
//! that exist in bulk and whose shape is likeliest to change — are stored as
//! `stored` structs, converted to and from the domain types, so a domain
//! field can be renamed without touching the data on disk (or the other way
//! round). Every other record is stored through the same versioned prefix
//! with its domain type as the version-1 shape (`plain_records!`); when one
//! of them needs to change shape, it gets its own stored type then.

pub(crate) mod stored;
pub mod upgrades;

use omnistore_storage::StorageError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{CoreError, CoreResult};

pub use upgrades::CURRENT;

/// A type the core stores: how it is written at the current version and read
/// back from a current-version body (or an upgraded older one).
pub(crate) trait Record: Sized {
    fn write_body(&self) -> serde_json::Result<Vec<u8>>;
    fn read_body(body: &[u8]) -> serde_json::Result<Self>;
    fn read_value(value: Value) -> serde_json::Result<Self>;
}

/// Records stored as their own type (the domain type is the stored shape).
macro_rules! plain_records {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::records::Record for $ty {
            fn write_body(&self) -> serde_json::Result<Vec<u8>> {
                serde_json::to_vec(self)
            }
            fn read_body(body: &[u8]) -> serde_json::Result<Self> {
                serde_json::from_slice(body)
            }
            fn read_value(value: serde_json::Value) -> serde_json::Result<Self> {
                serde_json::from_value(value)
            }
        }
    )*};
}

/// Records stored through a stored type `S` with `From<&T> for S` and
/// `From<S> for T`.
macro_rules! stored_records {
    ($($ty:ty => $stored:ty),* $(,)?) => {$(
        impl $crate::records::Record for $ty {
            fn write_body(&self) -> serde_json::Result<Vec<u8>> {
                serde_json::to_vec(&<$stored>::from(self))
            }
            fn read_body(body: &[u8]) -> serde_json::Result<Self> {
                serde_json::from_slice::<$stored>(body).map(Self::from)
            }
            fn read_value(value: serde_json::Value) -> serde_json::Result<Self> {
                serde_json::from_value::<$stored>(value).map(Self::from)
            }
        }
    )*};
}
pub(crate) use stored_records;

// Small values: counters, index entries pointing at an id, markers.
plain_records!((), u64, i64, String, Value);

// Records whose version-1 shape is their domain type (see the module docs).
plain_records!(
    crate::campaigns::Campaign,
    crate::carts::Cart,
    crate::catalog::Collection,
    crate::catalog::Publication,
    crate::customers::ConsentRecord,
    crate::customers::Touchpoint,
    crate::visitors::VisitorTouchpoint,
    crate::erasure::ErasureReport,
    crate::events::Delivery,
    crate::events::Event,
    crate::inventory::Hold,
    crate::inventory::Movement,
    crate::inventory::StockLevel,
    crate::pricing::Promotion,
    crate::reach::Reach,
    crate::returns::Return,
    crate::satisfaction::SatisfactionAnswer,
    crate::segments::Segment,
    crate::tenants::Channel,
    crate::tenants::Location,
    crate::tenants::Tenant,
    crate::ids::CartId,
    crate::ids::CollectionId,
    crate::ids::CustomerId,
    crate::ids::DeliveryId,
    crate::ids::EventId,
    crate::ids::OrderId,
    crate::ids::ProductId,
    crate::ids::PromotionId,
    crate::ids::VariantId,
);
impl<T: Serialize + DeserializeOwned> Record for Vec<T> {
    fn write_body(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
    fn read_body(body: &[u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(body)
    }
    fn read_value(value: Value) -> serde_json::Result<Self> {
        serde_json::from_value(value)
    }
}

/// The longest version prefix read (`v4294967295:`).
const MAX_PREFIX: usize = 12;

/// A stored value split into its format version and its body.
pub(crate) fn split(bytes: &[u8]) -> Result<(u32, &[u8]), String> {
    let Some(rest) = bytes.strip_prefix(b"v") else {
        return Ok((0, bytes));
    };
    let colon = rest.iter().take(MAX_PREFIX).position(|&b| b == b':');
    let version = colon.and_then(|at| std::str::from_utf8(&rest[..at]).ok()?.parse::<u32>().ok());
    match (colon, version) {
        (Some(at), Some(v)) if v > 0 => Ok((v, &rest[at + 1..])),
        _ => Err("the value starts with `v` but has no valid format version in front".into()),
    }
}

/// The table of a record from its key: `t/<tenant>/<table>/…`, or `tenant`
/// for the registry copy of a tenant record. Upgrades dispatch on it.
pub(crate) fn table_of(key: &[u8]) -> &str {
    let key = std::str::from_utf8(key).unwrap_or_default();
    if key.starts_with(std::str::from_utf8(omnistore_storage::keyspace::Namespace::Registry.root()).unwrap_or("sys/")) {
        return "tenant";
    }
    key.strip_prefix("t/").and_then(|k| k.split('/').nth(1)).unwrap_or_default()
}

/// A value at the current format version.
pub(crate) fn encode<T: Record>(value: &T) -> CoreResult<Vec<u8>> {
    let body = value.write_body().map_err(|e| codec_error(format!("cannot encode a record: {e}")))?;
    let mut out = format!("v{CURRENT}:").into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// Read the value stored under `key`, whatever format version it is in.
pub(crate) fn decode<T: Record>(key: &[u8], bytes: &[u8]) -> CoreResult<T> {
    let (version, body) = split(bytes).map_err(|e| corrupt(key, &e))?;
    let read = if version == CURRENT {
        T::read_body(body)
    } else {
        let value = upgrade(key, version, body)?;
        T::read_value(value)
    };
    // The key is shown only when something failed: every read decodes.
    read.map_err(|e| {
        let shown = String::from_utf8_lossy(key);
        codec_error(format!("record `{shown}` (format version {version}) is unreadable: {e}"))
    })
}

/// An older body brought up to the current version as JSON.
pub(crate) fn upgrade(key: &[u8], version: u32, body: &[u8]) -> CoreResult<Value> {
    let shown = String::from_utf8_lossy(key);
    if version > CURRENT {
        return Err(codec_error(format!(
            "record `{shown}` is in storage format version {version}, but this host reads versions 0 to {CURRENT}: \
             it was written by a newer omnistore. Upgrade this host to a release that reads version {version} \
             (running an older host on a migrated store is not supported)"
        )));
    }
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| codec_error(format!("record `{shown}` (format version {version}) is not JSON: {e}")))?;
    for (from, step) in upgrades::STEPS.iter().enumerate().skip(version as usize) {
        value = step(table_of(key), value)
            .map_err(|e| codec_error(format!("record `{shown}` cannot be upgraded from format version {from}: {e}")))?;
    }
    Ok(value)
}

/// A stored value that cannot be read as a record.
pub(crate) fn corrupt(key: &[u8], why: &str) -> CoreError {
    codec_error(format!("record `{}`: {why}", String::from_utf8_lossy(key)))
}

fn codec_error(message: String) -> CoreError {
    CoreError::Storage(StorageError::backend("core-records", message))
}
