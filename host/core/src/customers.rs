//! Customers: one profile per person per tenant, reachable through many
//! identities (email, phone, social handles), with consent per purpose and a
//! journal of touchpoints.

use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{CampaignRef, ChannelId, CustomerId, OrderId, ProductId, TenantId, TouchpointId, VariantId};
use crate::money::Money;
use crate::store::{Core, Tx, sortable};
use crate::tenants::load_channel;
use crate::validate;

/// How long after a campaign touchpoint an order is attributed to it.
pub const ATTRIBUTION_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// The most tags one customer carries.
pub const MAX_CUSTOMER_TAGS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum IdentityKind {
    Email,
    Phone,
    /// A handle on a social network ("instagram", "pinterest", …).
    Social {
        network: String,
    },
}

/// A way to reach or recognise a customer, always stored normalised.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl Identity {
    /// An email address, lower-cased and trimmed.
    pub fn email(value: &str) -> CoreResult<Identity> {
        let v = value.trim().to_lowercase();
        let bad = || CoreError::invalid(format!("`{value}` is not an email address"));
        let (local, domain) = v.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains('@')
            || v.len() > 254
            || v.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        Ok(Identity { kind: IdentityKind::Email, value: v })
    }

    /// A phone number in international form (`+39 333 123 4567`, `0039…`),
    /// normalised to E.164 (`+393331234567`).
    pub fn phone(value: &str) -> CoreResult<Identity> {
        let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}')).collect();
        let digits = compact.strip_prefix('+').or_else(|| compact.strip_prefix("00"));
        let ok = digits.is_some_and(|d| {
            (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
        });
        match (ok, digits) {
            (true, Some(d)) => Ok(Identity { kind: IdentityKind::Phone, value: format!("+{d}") }),
            _ => Err(CoreError::invalid(format!(
                "`{value}` is not an international phone number; write it with the country code, such as +39 333 1234567"
            ))),
        }
    }

    /// A handle on a social network, without the leading `@`, lower-cased.
    pub fn social(network: &str, handle: &str) -> CoreResult<Identity> {
        let network = validate::handle("social network", network)?;
        let h = handle.trim().trim_start_matches('@').to_lowercase();
        let ok = !h.is_empty()
            && h.len() <= 64
            && h.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if !ok {
            return Err(CoreError::invalid(format!("`{handle}` is not a valid {network} handle")));
        }
        Ok(Identity { kind: IdentityKind::Social { network }, value: h })
    }

    /// Normalise an identity that arrived from outside.
    pub fn normalized(&self) -> CoreResult<Identity> {
        match &self.kind {
            IdentityKind::Email => Identity::email(&self.value),
            IdentityKind::Phone => Identity::phone(&self.value),
            IdentityKind::Social { network } => Identity::social(network, &self.value),
        }
    }

    pub(crate) fn index_kind(&self) -> String {
        match &self.kind {
            IdentityKind::Email => "email".into(),
            IdentityKind::Phone => "phone".into(),
            IdentityKind::Social { network } => format!("social:{network}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    EmailMarketing,
    SmsMarketing,
}

/// A consent decision: the current one per purpose lives on the profile,
/// every one ever made in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub purpose: ConsentPurpose,
    pub granted: bool,
    /// Where it was given or withdrawn.
    pub channel_id: Option<ChannelId>,
    /// How ("checkout checkbox", "STOP reply", "unsubscribe link").
    pub source: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub identities: Vec<Identity>,
    /// The current decision per purpose; no record means never asked (no consent).
    pub consents: Vec<ConsentRecord>,
    /// Set when this profile was merged into another; lookups follow it.
    pub merged_into: Option<CustomerId>,
    /// The merchant's labels ("vip", "wholesale"), lower-case, sorted; segments select on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Customer {
    pub fn has_consent(&self, purpose: ConsentPurpose) -> bool {
        self.consents.iter().any(|c| c.purpose == purpose && c.granted)
    }

    pub fn identity(&self, kind: &IdentityKind) -> Option<&Identity> {
        self.identities.iter().find(|i| &i.kind == kind)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewCustomer {
    pub name: Option<String>,
    #[serde(default)]
    pub identities: Vec<Identity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTouchpoint {
    pub customer_id: CustomerId,
    /// "view", "add_to_cart", "click", "email_open", "purchase", …
    pub kind: String,
    pub channel_id: Option<ChannelId>,
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    pub campaign: Option<CampaignRef>,
    pub detail: Option<String>,
    pub at_ms: i64,
    /// The anonymous visitor (a channel's cookie value) it was recorded for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    /// Where the visit came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VisitSource>,
}

/// Where a visit came from: `utm_*` parameters or the referring site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSource {
    /// `utm_source` or the referring site ("instagram", "google", "direct").
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// The longest `source`, `medium` and `campaign` of a visit source.
pub const MAX_VISIT_SOURCE_FIELD: usize = 128;
/// The longest referrer URL kept.
pub const MAX_REFERRER: usize = 1024;

impl VisitSource {
    /// The same source with every field trimmed and bounded.
    pub fn checked(&self) -> CoreResult<VisitSource> {
        Ok(VisitSource {
            source: validate::text("visit source", &self.source, MAX_VISIT_SOURCE_FIELD)?,
            medium: validate::opt_text("visit medium", self.medium.as_deref(), MAX_VISIT_SOURCE_FIELD)?,
            campaign: validate::opt_text("visit campaign", self.campaign.as_deref(), MAX_VISIT_SOURCE_FIELD)?,
            referrer: validate::opt_text("referrer", self.referrer.as_deref(), MAX_REFERRER)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touchpoint {
    pub id: TouchpointId,
    pub customer_id: CustomerId,
    pub kind: String,
    pub channel_id: Option<ChannelId>,
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    pub campaign: Option<CampaignRef>,
    pub detail: Option<String>,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VisitSource>,
}

/// One entry of a customer's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TimelineEntry {
    Touchpoint(Box<Touchpoint>),
    OrderPlaced { order_id: OrderId, number: u64, channel_id: Option<ChannelId>, total: Money, at_ms: i64 },
    Consent(ConsentRecord),
}

impl TimelineEntry {
    pub fn at_ms(&self) -> i64 {
        match self {
            TimelineEntry::Touchpoint(t) => t.at_ms,
            TimelineEntry::OrderPlaced { at_ms, .. } => *at_ms,
            TimelineEntry::Consent(c) => c.at_ms,
        }
    }
}

pub(crate) fn load_customer_raw(tx: &mut Tx<'_>, id: &CustomerId) -> CoreResult<Customer> {
    tx.must("customer", id.as_str())
}

/// The surviving profile for an id (following merges).
pub(crate) fn load_customer(tx: &mut Tx<'_>, id: &CustomerId) -> CoreResult<Customer> {
    let mut c = load_customer_raw(tx, id)?;
    for _ in 0..16 {
        match &c.merged_into {
            Some(next) => c = load_customer_raw(tx, &next.clone())?,
            None => return Ok(c),
        }
    }
    Err(CoreError::conflict(format!("customer `{id}` has a merge chain that is too long")))
}

fn save(tx: &mut Tx<'_>, c: &Customer) -> CoreResult<()> {
    tx.put(&["cus", c.id.as_str()], c)
}

pub(crate) fn find_by_identity(tx: &mut Tx<'_>, identity: &Identity) -> CoreResult<Option<Customer>> {
    match tx.get::<CustomerId>(&["ident", &identity.index_kind(), &identity.value])? {
        Some(id) => Ok(Some(load_customer(tx, &id)?)),
        None => Ok(None),
    }
}

fn create_tx(tx: &mut Tx<'_>, name: Option<String>, identities: Vec<Identity>) -> CoreResult<Customer> {
    for i in &identities {
        if let Some(other) = find_by_identity(tx, i)? {
            return Err(CoreError::conflict(format!(
                "{} `{}` already belongs to customer `{}`; use that profile or merge the two",
                i.index_kind(),
                i.value,
                other.id
            )));
        }
    }
    let id = CustomerId::new(tx.new_id(CustomerId::PREFIX)?);
    let c = Customer {
        id: id.clone(),
        name,
        identities: identities.clone(),
        consents: Vec::new(),
        merged_into: None,
        tags: Vec::new(),
        created_ms: tx.now()?,
        updated_ms: tx.now()?,
    };
    for i in &identities {
        tx.put(&["ident", &i.index_kind(), &i.value], &id)?;
    }
    save(tx, &c)?;
    tx.emit(DomainEventKind::CustomerCreated, id.as_str(), json!({ "customer_id": id }));
    Ok(c)
}

/// Find the profile with this identity, or create one.
pub(crate) fn identify_tx(tx: &mut Tx<'_>, identity: &Identity, name: Option<String>) -> CoreResult<Customer> {
    match find_by_identity(tx, identity)? {
        Some(c) => Ok(c),
        None => create_tx(tx, name, vec![identity.clone()]),
    }
}

fn normalize_all(identities: &[Identity]) -> CoreResult<Vec<Identity>> {
    let mut out = identities.iter().map(Identity::normalized).collect::<CoreResult<Vec<_>>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

pub(crate) fn check_touchpoint(new: &NewTouchpoint) -> CoreResult<NewTouchpoint> {
    let mut n = new.clone();
    n.kind = validate::handle("touchpoint kind", &new.kind)?;
    n.detail = validate::opt_text("touchpoint detail", new.detail.as_deref(), 2000)?;
    if let Some(c) = &new.campaign {
        n.campaign = Some(CampaignRef::new(validate::text("campaign", c.as_str(), 128)?));
    }
    if new.at_ms < 0 {
        return Err(CoreError::invalid("touchpoint time must not be negative"));
    }
    n.visitor_id = new.visitor_id.as_deref().map(crate::visitors::check_visitor_id).transpose()?;
    n.source = new.source.as_ref().map(VisitSource::checked).transpose()?;
    Ok(n)
}

/// The counter that numbers a customer's touchpoints. Its name holds the
/// customer's id, so erasure drops it with them.
pub(crate) fn touchpoint_counter(customer: &CustomerId) -> String {
    format!("tp:{customer}")
}

/// The counter that numbers a customer's consent decisions (erased with them too).
pub(crate) fn consent_counter(customer: &CustomerId) -> String {
    format!("consent:{customer}")
}

pub(crate) fn record_touchpoint_tx(tx: &mut Tx<'_>, new: NewTouchpoint) -> CoreResult<Touchpoint> {
    let customer = load_customer(tx, &new.customer_id)?;
    let seq = tx.next_seq(&touchpoint_counter(&customer.id))?;
    let id = TouchpointId::new(format!("{}-{}-{seq:010}", TouchpointId::PREFIX, customer.id));
    let t = Touchpoint {
        id,
        customer_id: customer.id.clone(),
        kind: new.kind,
        channel_id: new.channel_id,
        product_id: new.product_id,
        variant_id: new.variant_id,
        campaign: new.campaign,
        detail: new.detail,
        at_ms: new.at_ms,
        visitor_id: new.visitor_id,
        source: new.source,
    };
    write_touchpoint(tx, &t, seq)?;
    Ok(t)
}

fn write_touchpoint(tx: &mut Tx<'_>, t: &Touchpoint, seq: u64) -> CoreResult<()> {
    let seq = sortable(i64::try_from(seq).unwrap_or(i64::MAX));
    tx.put(&["tp", t.customer_id.as_str(), &sortable(t.at_ms), &seq], t)
}

/// Which campaigns an order is credited to: the first and the latest
/// campaign touchpoint of the customer within the attribution window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Attribution {
    pub first_touch: Option<CampaignRef>,
    pub last_touch: Option<CampaignRef>,
}

/// The customer's campaign touchpoints within the attribution window before
/// `now`: the earliest and the latest name the campaigns credited.
pub(crate) fn attribution_tx(tx: &mut Tx<'_>, customer: &CustomerId) -> CoreResult<Attribution> {
    let from = sortable(tx.now()? - ATTRIBUTION_WINDOW_MS);
    let to = sortable(tx.now()?.saturating_add(1));
    let tps = tx.scan_range::<Touchpoint>(
        &["tp", customer.as_str()],
        Bound::Included(&from),
        Bound::Excluded(&to),
        usize::MAX,
    )?;
    let mut campaigns = tps.into_iter().filter_map(|(_, t)| t.campaign);
    let first_touch = campaigns.next();
    let last_touch = campaigns.next_back().or_else(|| first_touch.clone());
    Ok(Attribution { first_touch, last_touch })
}

/// Add a (normalised) identity to a profile in the caller's transaction;
/// `Conflict` when it is another profile's.
pub(crate) fn add_identity_tx(tx: &mut Tx<'_>, customer: &CustomerId, identity: &Identity) -> CoreResult<Customer> {
    let mut c = load_customer(tx, customer)?;
    match find_by_identity(tx, identity)? {
        Some(other) if other.id == c.id => return Ok(c),
        Some(other) => {
            return Err(CoreError::conflict(format!(
                "{} `{}` belongs to customer `{}`; merge the two profiles",
                identity.index_kind(),
                identity.value,
                other.id
            )));
        }
        None => {}
    }
    tx.put(&["ident", &identity.index_kind(), &identity.value], &c.id)?;
    c.identities.push(identity.clone());
    c.identities.sort();
    c.updated_ms = tx.now()?;
    save(tx, &c)?;
    tx.emit(DomainEventKind::CustomerUpdated, c.id.as_str(), json!({ "customer_id": c.id }));
    Ok(c)
}

/// Record a consent decision in the caller's transaction (see
/// [`Core::set_consent`]); `source` is already validated.
pub(crate) fn set_consent_tx(
    tx: &mut Tx<'_>,
    customer: &CustomerId,
    purpose: ConsentPurpose,
    granted: bool,
    channel: Option<&ChannelId>,
    source: &str,
    now_ms: i64,
) -> CoreResult<Customer> {
    let mut c = load_customer(tx, customer)?;
    let record =
        ConsentRecord { purpose, granted, channel_id: channel.cloned(), source: source.to_owned(), at_ms: now_ms };
    c.consents.retain(|r| r.purpose != purpose);
    c.consents.push(record.clone());
    c.consents.sort_by_key(|r| r.purpose);
    c.updated_ms = now_ms;
    save(tx, &c)?;
    append_consent_log(tx, &c.id, &record)?;
    tx.emit(
        DomainEventKind::ConsentChanged,
        c.id.as_str(),
        json!({ "customer_id": c.id, "purpose": purpose, "granted": granted, "channel_id": channel, "source": source }),
    );
    Ok(c)
}

fn append_consent_log(tx: &mut Tx<'_>, customer: &CustomerId, record: &ConsentRecord) -> CoreResult<()> {
    let seq = tx.next_seq(&consent_counter(customer))?;
    tx.put(&["conslog", customer.as_str(), &sortable(i64::try_from(seq).unwrap_or(i64::MAX))], record)
}

/// The first half of merging `absorbed` into `kept` (see
/// `Core::merge_customers` in `profiles.rs`): identities, consent (the
/// latest decision per purpose wins), the consent log and touchpoints move
/// to `kept`. Orders and the open cart are moved by their own modules before
/// [`finish_merge_tx`].
pub(crate) fn absorb_profile_tx(
    tx: &mut Tx<'_>,
    kept: &CustomerId,
    absorbed: &CustomerId,
) -> CoreResult<(Customer, Customer)> {
    let mut keep = load_customer(tx, kept)?;
    let mut gone = load_customer(tx, absorbed)?;
    if keep.id == gone.id {
        return Err(CoreError::invalid("cannot merge a customer into itself"));
    }
    for i in std::mem::take(&mut gone.identities) {
        tx.put(&["ident", &i.index_kind(), &i.value], &keep.id)?;
        keep.identities.push(i);
    }
    keep.identities.sort();
    keep.identities.dedup();
    for c in std::mem::take(&mut gone.consents) {
        match keep.consents.iter_mut().find(|k| k.purpose == c.purpose) {
            Some(k) if k.at_ms >= c.at_ms => {}
            Some(k) => *k = c,
            None => keep.consents.push(c),
        }
    }
    keep.consents.sort_by_key(|c| c.purpose);
    if keep.name.is_none() {
        keep.name = gone.name.take();
    }
    keep.tags.append(&mut gone.tags);
    keep.tags.sort();
    keep.tags.dedup();
    for (seq, record) in tx.scan::<ConsentRecord>(&["conslog", gone.id.as_str()])? {
        append_consent_log(tx, &keep.id, &record)?;
        tx.del(&["conslog", gone.id.as_str(), &seq])?;
    }
    for (key, mut t) in tx.scan::<Touchpoint>(&["tp", gone.id.as_str()])? {
        let seq = tx.next_seq(&touchpoint_counter(&keep.id))?;
        t.customer_id = keep.id.clone();
        write_touchpoint(tx, &t, seq)?;
        let mut parts = vec!["tp", gone.id.as_str()];
        parts.extend(key.split('/'));
        tx.del(&parts)?;
    }
    Ok((keep, gone))
}

/// Save both profiles of a merge, `gone` as a pointer to `keep`, and emit
/// `customer.merged`.
pub(crate) fn finish_merge_tx(
    tx: &mut Tx<'_>,
    mut keep: Customer,
    mut gone: Customer,
    now_ms: i64,
) -> CoreResult<Customer> {
    gone.merged_into = Some(keep.id.clone());
    gone.updated_ms = now_ms;
    keep.updated_ms = now_ms;
    save(tx, &gone)?;
    save(tx, &keep)?;
    tx.emit(DomainEventKind::CustomerMerged, keep.id.as_str(), json!({ "customer_id": keep.id, "merged": gone.id }));
    Ok(keep)
}

impl Core {
    pub fn create_customer(&self, tenant: &TenantId, new: NewCustomer, now_ms: i64) -> CoreResult<Customer> {
        let name = validate::opt_text("customer name", new.name.as_deref(), 200)?;
        let identities = normalize_all(&new.identities)?;
        self.write(tenant, now_ms, |tx| create_tx(tx, name.clone(), identities.clone()))
    }

    /// The profile, following merges: asking for a merged-away id returns
    /// the surviving profile.
    pub fn get_customer(&self, tenant: &TenantId, id: &CustomerId) -> CoreResult<Customer> {
        self.read(tenant, |tx| load_customer(tx, id))
    }

    pub fn find_customer(&self, tenant: &TenantId, identity: &Identity) -> CoreResult<Option<Customer>> {
        let identity = identity.normalized()?;
        self.read(tenant, |tx| find_by_identity(tx, &identity))
    }

    /// Find the profile with this identity or create it (channels call this
    /// when someone identifies themselves). Idempotent.
    pub fn identify(
        &self,
        tenant: &TenantId,
        identity: &Identity,
        name: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<Customer> {
        let identity = identity.normalized()?;
        let name = validate::opt_text("customer name", name, 200)?;
        self.write(tenant, now_ms, |tx| identify_tx(tx, &identity, name.clone()))
    }

    /// Add an identity to a profile. `Conflict` if another profile has it:
    /// merge the two instead.
    pub fn add_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        identity: &Identity,
        now_ms: i64,
    ) -> CoreResult<Customer> {
        let identity = identity.normalized()?;
        self.write(tenant, now_ms, |tx| add_identity_tx(tx, customer, &identity))
    }

    /// Record a consent decision (also "STOP" or an unsubscribe: `granted = false`).
    #[allow(clippy::too_many_arguments)]
    pub fn set_consent(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        purpose: ConsentPurpose,
        granted: bool,
        channel: Option<&ChannelId>,
        source: &str,
        now_ms: i64,
    ) -> CoreResult<Customer> {
        let source = validate::text("consent source", source, 200)?;
        self.write(tenant, now_ms, |tx| {
            if let Some(ch) = channel {
                load_channel(tx, ch)?;
            }
            set_consent_tx(tx, customer, purpose, granted, channel, &source, now_ms)
        })
    }

    /// Replace the merchant's tags of a customer (trimmed, lower-cased,
    /// de-duplicated; at most 50 of at most 64 characters).
    pub fn set_customer_tags(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        tags: &[String],
        now_ms: i64,
    ) -> CoreResult<Customer> {
        if tags.len() > MAX_CUSTOMER_TAGS {
            return Err(CoreError::invalid(format!("a customer has at most {MAX_CUSTOMER_TAGS} tags")));
        }
        let tags = validate::tags("customer tag", tags)?;
        self.write(tenant, now_ms, |tx| {
            let mut c = load_customer(tx, customer)?;
            c.tags = tags.clone();
            c.updated_ms = now_ms;
            save(tx, &c)?;
            tx.emit(DomainEventKind::CustomerUpdated, c.id.as_str(), json!({ "customer_id": c.id }));
            Ok(c)
        })
    }

    /// Every consent decision of the customer, oldest first.
    pub fn consent_history(&self, tenant: &TenantId, customer: &CustomerId) -> CoreResult<Vec<ConsentRecord>> {
        self.read(tenant, |tx| {
            let c = load_customer(tx, customer)?;
            Ok(tx.scan::<ConsentRecord>(&["conslog", c.id.as_str()])?.into_iter().map(|(_, r)| r).collect())
        })
    }

    pub fn record_touchpoint(
        &self,
        tenant: &TenantId,
        touchpoint: NewTouchpoint,
        now_ms: i64,
    ) -> CoreResult<Touchpoint> {
        let t = check_touchpoint(&touchpoint)?;
        self.write(tenant, now_ms, |tx| {
            if let Some(ch) = &t.channel_id {
                load_channel(tx, ch)?;
            }
            record_touchpoint_tx(tx, t.clone())
        })
    }

    /// A page of live (not merged-away) profiles in id order.
    pub fn list_customers(
        &self,
        tenant: &TenantId,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> CoreResult<Vec<Customer>> {
        let limit = if limit == 0 { 100 } else { limit.min(1000) };
        self.read(tenant, |tx| {
            let mut out = Vec::new();
            let mut cursor = after.map(|a| a.as_str().to_owned());
            // Merged-away profiles are skipped, so read in pages until the
            // page is full or the table ends, never the whole table at once.
            loop {
                let start = cursor.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                let page = tx.scan_range::<Customer>(&["cus"], start, Bound::Unbounded, limit)?;
                let full = page.len() == limit;
                for (id, c) in page {
                    cursor = Some(id);
                    if c.merged_into.is_none() {
                        out.push(c);
                        if out.len() == limit {
                            return Ok(out);
                        }
                    }
                }
                if !full {
                    return Ok(out);
                }
            }
        })
    }

    /// The segment a campaign may contact for a purpose: live profiles whose
    /// current decision grants it and that have the identity the purpose needs
    /// (an email address for email, a phone number for SMS).
    pub fn customers_with_consent(&self, tenant: &TenantId, purpose: ConsentPurpose) -> CoreResult<Vec<Customer>> {
        let needs = match purpose {
            ConsentPurpose::EmailMarketing => IdentityKind::Email,
            ConsentPurpose::SmsMarketing => IdentityKind::Phone,
        };
        self.read(tenant, |tx| {
            Ok(tx
                .scan::<Customer>(&["cus"])?
                .into_iter()
                .map(|(_, c)| c)
                .filter(|c| c.merged_into.is_none() && c.has_consent(purpose) && c.identity(&needs).is_some())
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(Identity::email("  Giulia.Rossi@Example.IT ").unwrap().value, "giulia.rossi@example.it");
        for bad in ["", "no-at", "a@b", "a@.it", "a b@x.it", "@x.it", "a@x.it."] {
            assert!(Identity::email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(Identity::phone("+39 333 123-4567").unwrap().value, "+393331234567");
        assert_eq!(Identity::phone("0039 (333) 1234567").unwrap().value, "+393331234567");
        for bad in ["3331234567", "+39", "+39 abc 1234567", "+0391234567", ""] {
            assert!(Identity::phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn social_handles_are_normalised() {
        let i = Identity::social("Instagram", "@Dolce.Vita").unwrap();
        assert_eq!(i.value, "dolce.vita");
        assert_eq!(i.kind, IdentityKind::Social { network: "instagram".into() });
        assert!(Identity::social("instagram", "@").is_err());
        assert!(Identity::social("instagram", "a b").is_err());
    }
}
