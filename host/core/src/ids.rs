//! Identifiers. Tenant ids are chosen by the operator; every other id is
//! issued by the core from a per-tenant counter, so ids sort by creation and
//! a caller can never choose (or guess its way into) a record's key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

/// The data fence: every key the core writes starts with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// A tenant id: 1–64 characters of `a-z`, `0-9`, `-`, `_`, starting with
    /// a letter or digit. The restriction keeps ids usable as key prefixes,
    /// subdomains and path segments without escaping.
    pub fn new(id: impl Into<String>) -> CoreResult<Self> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.as_bytes()[0].is_ascii_alphanumeric()
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(TenantId(id))
        } else {
            Err(CoreError::invalid(format!(
                "tenant id `{id}` must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Four hex digits derived from the tenant id, part of every issued id so
    /// that two tenants never share an id even though their counters overlap.
    pub(crate) fn tag(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..2])
    }
}

impl TryFrom<String> for TenantId {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TenantId::new(value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix of ids of this kind (`ord`, `prd`, …).
            pub const PREFIX: &'static str = $prefix;

            /// Wrap an id received from outside. It is only ever used to look
            /// records up inside one tenant, so no validation is needed here.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(/// An installed plugin (a channel) in one tenant.
    ChannelId, "chn");
id_type!(/// A place that holds stock.
    LocationId, "loc");
id_type!(/// A product.
    ProductId, "prd");
id_type!(/// A sellable variant of a product (one SKU).
    VariantId, "var");
id_type!(/// A collection of products.
    CollectionId, "col");
id_type!(/// A promotion.
    PromotionId, "prm");
id_type!(/// A cart.
    CartId, "crt");
id_type!(/// An order.
    OrderId, "ord");
id_type!(/// A return of order lines.
    ReturnId, "ret");
id_type!(/// A customer profile.
    CustomerId, "cus");
id_type!(/// A stock hold of a cart.
    HoldId, "hld");
id_type!(/// A stock transfer between locations.
    TransferId, "trf");
id_type!(/// A domain event in the outbox; stable, use it to deduplicate.
    EventId, "evt");
id_type!(/// The delivery of one event to one channel.
    DeliveryId, "dlv");
id_type!(/// A touchpoint in a customer's journey.
    TouchpointId, "tch");
id_type!(/// A marketing campaign, named by whoever runs it (a plugin or the merchant).
    CampaignRef, "cmp");

/// Format an issued id: `{prefix}-{tenant tag}-{counter}`. The counter is
/// zero-padded so lexical order (the key order) is creation order.
pub(crate) fn format_id(prefix: &str, tenant: &TenantId, seq: u64) -> String {
    format!("{prefix}-{}-{seq:010}", tenant.tag())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_validated() {
        assert!(TenantId::new("dolce-vita").is_ok());
        assert!(TenantId::new("a").is_ok());
        for bad in ["", "-x", "Dolce", "a/b", "a b", &"x".repeat(65)] {
            assert!(TenantId::new(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn issued_ids_sort_and_differ_per_tenant() {
        let a = TenantId::new("a").unwrap();
        let b = TenantId::new("b").unwrap();
        assert!(format_id("ord", &a, 9) < format_id("ord", &a, 10));
        assert_ne!(format_id("ord", &a, 1), format_id("ord", &b, 1));
    }

    #[test]
    fn tenant_id_deserialization_validates() {
        assert!(serde_json::from_str::<TenantId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<TenantId>("\"../x\"").is_err());
    }
}
