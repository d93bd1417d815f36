//! Identifiers. Tenant ids are chosen by the operator; every other id is
//! issued by the core: a per-tenant counter, so ids sort by creation, followed
//! by 128 random bits, so an id cannot be guessed from another one — a plugin
//! that sees `ord-…-0000000041-…` learns nothing that reaches order 42.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

pub use omnistore_types::TenantId;

/// Four hex digits derived from the tenant id, part of every issued id so
/// that two tenants never share an id even though their counters overlap.
pub(crate) fn tenant_tag(tenant: &TenantId) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(tenant.as_str().as_bytes());
    hex::encode(&digest[..2])
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
id_type!(/// An image the host keeps for a product (uploaded through the admin API).
    ImageId, "img");
id_type!(/// A domain event in the outbox; stable, use it to deduplicate.
    EventId, "evt");
id_type!(/// The delivery of one event to one channel.
    DeliveryId, "dlv");
id_type!(/// A touchpoint in a customer's journey.
    TouchpointId, "tch");
id_type!(/// A marketing campaign, named by whoever runs it (a plugin or the merchant).
    CampaignRef, "cmp");
id_type!(/// A campaign the core runs (a message per channel to a segment). Its id
    /// is also the [`CampaignRef`] its links carry back as `utm_campaign`.
    CampaignId, "cmp");
id_type!(/// A saved segment: a rule over customers.
    SegmentId, "seg");

impl CampaignId {
    /// How touchpoints and orders name this campaign.
    pub fn as_ref_name(&self) -> CampaignRef {
        CampaignRef::new(self.0.clone())
    }
}

impl ImageId {
    /// Whether this is an image id issued in `tenant`: its tenant tag matches.
    /// Image URLs carry the id, so the media route refuses another tenant's
    /// id before it looks at the disk.
    pub fn issued_in(&self, tenant: &TenantId) -> bool {
        let mut parts = self.0.split('-');
        let well_formed = self.0.len() <= 80 && self.0.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        well_formed && parts.next() == Some(Self::PREFIX) && parts.next() == Some(tenant_tag(tenant).as_str())
    }
}

/// Format an issued id: `{prefix}-{tenant tag}-{counter}-{secret}`. The
/// counter is zero-padded so lexical order (the key order) is creation order;
/// `secret` is [`unguessable`], so knowing one id never yields another.
pub(crate) fn format_id(prefix: &str, tenant: &TenantId, seq: u64, secret: &str) -> String {
    format!("{prefix}-{}-{seq:010}-{secret}", tenant_tag(tenant))
}

/// 128 bits from the operating system's random source, as 32 hex digits.
pub(crate) fn unguessable() -> CoreResult<String> {
    let mut bytes = [0u8; 16];
    // A host fault like a failing disk: the change is not applied, retry later.
    getrandom::fill(&mut bytes)
        .map_err(|e| CoreError::Storage(omnistore_storage::StorageError::backend("os-random", e)))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_sort_and_differ_per_tenant() {
        let a = TenantId::new("a").unwrap();
        let b = TenantId::new("b").unwrap();
        assert!(format_id("ord", &a, 9, "ff") < format_id("ord", &a, 10, "00"));
        assert_ne!(format_id("ord", &a, 1, "00"), format_id("ord", &b, 1, "00"));
    }

    #[test]
    fn image_ids_know_their_tenant() {
        let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
        let id = ImageId::new(format_id(ImageId::PREFIX, &a, 1, "00ff"));
        assert!(id.issued_in(&a));
        assert!(!id.issued_in(&b));
        assert!(!ImageId::new(format_id(ProductId::PREFIX, &a, 1, "00")).issued_in(&a));
        assert!(!ImageId::new(format!("{}/../x", id)).issued_in(&a));
    }

    #[test]
    fn issued_ids_carry_128_random_bits() {
        let (x, y) = (unguessable().unwrap(), unguessable().unwrap());
        assert_eq!(x.len(), 32);
        assert!(x.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(x, y, "two draws of 128 random bits should differ");
    }
}
