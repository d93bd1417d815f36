//! Customers: profiles, identities, consent, the timeline, and a customer's
//! export and erasure.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Money, Order, wire_enum};

wire_enum! {
    ConsentPurpose <=> ConsentPurpose { EmailMarketing, SmsMarketing }
}

/// What kind of handle an identity is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub(crate) enum IdentityKind {
    Email,
    Phone,
    Social { network: String },
}

/// A handle that identifies a customer: an e-mail address, a phone number,
/// an account on a social network.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl From<domain::Identity> for Identity {
    fn from(i: domain::Identity) -> Identity {
        let kind = match i.kind {
            domain::IdentityKind::Email => IdentityKind::Email,
            domain::IdentityKind::Phone => IdentityKind::Phone,
            domain::IdentityKind::Social { network } => IdentityKind::Social { network },
        };
        Identity { kind, value: i.value }
    }
}

impl From<Identity> for domain::Identity {
    fn from(i: Identity) -> domain::Identity {
        let kind = match i.kind {
            IdentityKind::Email => domain::IdentityKind::Email,
            IdentityKind::Phone => domain::IdentityKind::Phone,
            IdentityKind::Social { network } => domain::IdentityKind::Social { network },
        };
        domain::Identity { kind, value: i.value }
    }
}

/// One consent decision. Not closed to other fields: a timeline entry is
/// this record with its `type`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct ConsentRecord {
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub channel_id: Option<String>,
    pub source: String,
    pub at_ms: i64,
}

impl From<domain::ConsentRecord> for ConsentRecord {
    fn from(c: domain::ConsentRecord) -> ConsentRecord {
        ConsentRecord {
            purpose: c.purpose.into(),
            granted: c.granted,
            channel_id: c.channel_id.map(|id| id.to_string()),
            source: c.source,
            at_ms: c.at_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub identities: Vec<Identity>,
    pub consents: Vec<ConsentRecord>,
    /// The profile this one was merged into, if it was.
    pub merged_into: Option<String>,
    /// The merchant's labels, lower-case; segments select on them.
    pub tags: Vec<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Customer> for Customer {
    fn from(c: domain::Customer) -> Customer {
        Customer {
            id: c.id.to_string(),
            name: c.name,
            identities: c.identities.into_iter().map(Identity::from).collect(),
            consents: c.consents.into_iter().map(ConsentRecord::from).collect(),
            merged_into: c.merged_into.map(|id| id.to_string()),
            tags: c.tags,
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub(crate) struct NewCustomer {
    pub name: Option<String>,
    #[serde(default)]
    pub identities: Vec<Identity>,
}

impl From<NewCustomer> for domain::NewCustomer {
    fn from(c: NewCustomer) -> domain::NewCustomer {
        domain::NewCustomer { name: c.name, identities: c.identities.into_iter().map(Into::into).collect() }
    }
}

/// The merchant's tags of a customer, replacing the ones it had.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerTags {
    /// At most 50, each 1-64 characters; stored lower-case.
    pub tags: Vec<String>,
}

/// A consent given or withdrawn.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetConsent {
    pub purpose: ConsentPurpose,
    pub granted: bool,
    #[schemars(with = "Option<String>")]
    pub channel_id: Option<domain::ChannelId>,
    /// How it was given or withdrawn ("checkout checkbox", "STOP reply");
    /// "admin" when absent.
    pub source: Option<String>,
}

/// A customer's consent now and every decision before.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Consent {
    pub customer_id: String,
    pub current: Vec<ConsentRecord>,
    pub history: Vec<ConsentRecord>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeCustomers {
    /// The profile merged into the one in the path; it is kept, pointing there.
    #[schemars(with = "String")]
    pub absorbed_id: domain::CustomerId,
}

/// Something the customer did on a channel (a visit, a view, a click from a
/// campaign). Not closed to other fields: a timeline entry is this record
/// with its `type`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Touchpoint {
    pub id: String,
    pub customer_id: String,
    pub kind: String,
    pub channel_id: Option<String>,
    pub product_id: Option<String>,
    pub variant_id: Option<String>,
    pub campaign: Option<String>,
    pub detail: Option<String>,
    pub at_ms: i64,
}

impl From<domain::Touchpoint> for Touchpoint {
    fn from(t: domain::Touchpoint) -> Touchpoint {
        Touchpoint {
            id: t.id.to_string(),
            customer_id: t.customer_id.to_string(),
            kind: t.kind,
            channel_id: t.channel_id.map(|id| id.to_string()),
            product_id: t.product_id.map(|id| id.to_string()),
            variant_id: t.variant_id.map(|id| id.to_string()),
            campaign: t.campaign.map(|c| c.to_string()),
            detail: t.detail,
            at_ms: t.at_ms,
        }
    }
}

/// One entry of a customer's timeline, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub(crate) enum TimelineEntry {
    Touchpoint(Touchpoint),
    OrderPlaced { order_id: String, number: u64, channel_id: Option<String>, total: Money, at_ms: i64 },
    Consent(ConsentRecord),
}

impl From<domain::TimelineEntry> for TimelineEntry {
    fn from(e: domain::TimelineEntry) -> TimelineEntry {
        match e {
            domain::TimelineEntry::Touchpoint(t) => TimelineEntry::Touchpoint((*t).into()),
            domain::TimelineEntry::OrderPlaced { order_id, number, channel_id, total, at_ms } => {
                TimelineEntry::OrderPlaced {
                    order_id: order_id.to_string(),
                    number,
                    channel_id: channel_id.map(|id| id.to_string()),
                    total: total.into(),
                    at_ms,
                }
            }
            domain::TimelineEntry::Consent(c) => TimelineEntry::Consent(c.into()),
        }
    }
}

/// Where a cart stands.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "state")]
pub(crate) enum CartStatus {
    Open,
    CheckedOut { order_id: String },
    Merged { into: String },
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CartLine {
    pub variant_id: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Cart {
    pub id: String,
    pub channel_id: Option<String>,
    pub customer_id: Option<String>,
    pub lines: Vec<CartLine>,
    pub codes: Vec<String>,
    pub status: CartStatus,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Cart> for Cart {
    fn from(c: domain::Cart) -> Cart {
        let status = match c.status {
            domain::CartStatus::Open => CartStatus::Open,
            domain::CartStatus::CheckedOut { order_id } => CartStatus::CheckedOut { order_id: order_id.to_string() },
            domain::CartStatus::Merged { into } => CartStatus::Merged { into: into.to_string() },
        };
        Cart {
            id: c.id.to_string(),
            channel_id: c.channel_id.map(|id| id.to_string()),
            customer_id: c.customer_id.map(|id| id.to_string()),
            lines: c
                .lines
                .into_iter()
                .map(|l| CartLine { variant_id: l.variant_id.to_string(), quantity: l.quantity })
                .collect(),
            codes: c.codes,
            status,
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

/// Everything the shop holds about one customer (a GDPR access request).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CustomerExport {
    pub customer: Customer,
    /// Profiles merged into this one.
    pub merged_profiles: Vec<Customer>,
    pub consent_history: Vec<ConsentRecord>,
    pub touchpoints: Vec<Touchpoint>,
    pub orders: Vec<Order>,
    pub carts: Vec<Cart>,
    pub exported_ms: i64,
}

impl From<domain::CustomerExport> for CustomerExport {
    fn from(e: domain::CustomerExport) -> CustomerExport {
        CustomerExport {
            customer: e.customer.into(),
            merged_profiles: e.merged_profiles.into_iter().map(Customer::from).collect(),
            consent_history: e.consent_history.into_iter().map(ConsentRecord::from).collect(),
            touchpoints: e.touchpoints.into_iter().map(Touchpoint::from).collect(),
            orders: e.orders.into_iter().map(Order::from).collect(),
            carts: e.carts.into_iter().map(Cart::from).collect(),
            exported_ms: e.exported_ms,
        }
    }
}

/// What an erasure removed or anonymised; no personal data.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ErasureReport {
    pub customer_id: Option<String>,
    pub profiles: u64,
    pub identities: u64,
    pub consent_records: u64,
    pub touchpoints: u64,
    pub orders_anonymised: u64,
    pub carts_unlinked: u64,
    pub events_redacted: u64,
    pub at_ms: i64,
}

impl From<domain::ErasureReport> for ErasureReport {
    fn from(r: domain::ErasureReport) -> ErasureReport {
        ErasureReport {
            customer_id: r.customer_id.map(|id| id.to_string()),
            profiles: r.profiles,
            identities: r.identities,
            consent_records: r.consent_records,
            touchpoints: r.touchpoints,
            orders_anonymised: r.orders_anonymised,
            carts_unlinked: r.carts_unlinked,
            events_redacted: r.events_redacted,
            at_ms: r.at_ms,
        }
    }
}
