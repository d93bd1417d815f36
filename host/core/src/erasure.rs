//! A customer's right of access and right to erasure (GDPR articles 15 and
//! 17): everything the core holds about one person, as one document, and
//! its removal.
//!
//! Erasure deletes the profile, every profile merged into it, their
//! identities and identity index entries, the consent log, touchpoints and
//! the counters that numbered both (their names hold the id), what channels
//! could reach, and the links from carts. Orders are kept,
//! because the merchant must keep sales records (in Italy, ten years), but
//! anonymised: no customer, e-mail, note, and an address reduced to its
//! country (which VAT needs). Stored events that mention the person (by id,
//! e-mail or phone) keep their kind and time but lose their payload.
//!
//! What plugins copied into their own storage is theirs to erase; the host
//! cannot read it. The erasure itself is logged without personal data, so
//! the merchant can show that it answered.

use serde::{Deserialize, Serialize};

use crate::carts::Cart;
use crate::customers::{ConsentRecord, Customer, Touchpoint, consent_counter, load_customer, touchpoint_counter};
use crate::error::CoreResult;
use crate::events::Event;
use crate::ids::{CustomerId, TenantId};
use crate::orders::{Address, Fulfilment, Order};
use crate::store::{Core, Tx, sortable};

/// Everything the core holds about one customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerExport {
    pub customer: Customer,
    /// Profiles that were merged into this one.
    pub merged_profiles: Vec<Customer>,
    pub consent_history: Vec<ConsentRecord>,
    pub touchpoints: Vec<Touchpoint>,
    pub orders: Vec<Order>,
    pub carts: Vec<Cart>,
    pub exported_ms: i64,
}

/// What an erasure removed or anonymised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    pub customer_id: Option<CustomerId>,
    pub profiles: u64,
    pub identities: u64,
    pub consent_records: u64,
    pub touchpoints: u64,
    pub orders_anonymised: u64,
    pub carts_unlinked: u64,
    pub events_redacted: u64,
    pub at_ms: i64,
}

/// What stays in a kept order's address.
const ERASED: &str = "(erased)";

/// The profile `id` leads to, and every profile merged into it.
fn profiles(tx: &mut Tx<'_>, id: &CustomerId) -> CoreResult<(Customer, Vec<Customer>)> {
    let customer = load_customer(tx, id)?;
    let merged = tx
        .scan::<Customer>(&["cus"])?
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| c.id != customer.id && merges_into(c, &customer.id))
        .collect();
    Ok((customer, merged))
}

fn merges_into(c: &Customer, target: &CustomerId) -> bool {
    c.merged_into.as_ref() == Some(target)
}

fn carts_of(tx: &mut Tx<'_>, ids: &[CustomerId]) -> CoreResult<Vec<Cart>> {
    Ok(tx
        .scan::<Cart>(&["crt"])?
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| c.customer_id.as_ref().is_some_and(|id| ids.contains(id)))
        .collect())
}

fn orders_of(tx: &mut Tx<'_>, id: &CustomerId) -> CoreResult<Vec<Order>> {
    let mut out = Vec::new();
    for (order_id, ()) in tx.scan::<()>(&["custord", id.as_str()])? {
        out.push(tx.must::<Order>("order", &order_id)?);
    }
    Ok(out)
}

impl Core {
    /// The customer's data, for an access request.
    pub fn export_customer(&self, tenant: &TenantId, id: &CustomerId, now_ms: i64) -> CoreResult<CustomerExport> {
        self.read(tenant, |tx| {
            let (customer, merged_profiles) = profiles(tx, id)?;
            let cid = customer.id.clone();
            let consent_history =
                tx.scan::<ConsentRecord>(&["conslog", cid.as_str()])?.into_iter().map(|(_, r)| r).collect();
            let touchpoints = tx.scan::<Touchpoint>(&["tp", cid.as_str()])?.into_iter().map(|(_, t)| t).collect();
            let orders = orders_of(tx, &cid)?;
            let mut ids = vec![cid];
            ids.extend(merged_profiles.iter().map(|c| c.id.clone()));
            let carts = carts_of(tx, &ids)?;
            Ok(CustomerExport {
                customer,
                merged_profiles,
                consent_history,
                touchpoints,
                orders,
                carts,
                exported_ms: now_ms,
            })
        })
    }

    /// Erase the customer (see the module docs for what that means).
    pub fn erase_customer(&self, tenant: &TenantId, id: &CustomerId, now_ms: i64) -> CoreResult<ErasureReport> {
        self.write(tenant, now_ms, |tx| {
            let (customer, merged) = profiles(tx, id)?;
            let mut report =
                ErasureReport { customer_id: Some(customer.id.clone()), at_ms: now_ms, ..Default::default() };
            let mut needles: Vec<String> = Vec::new();
            let all: Vec<Customer> = std::iter::once(customer.clone()).chain(merged).collect();
            let ids: Vec<CustomerId> = all.iter().map(|c| c.id.clone()).collect();
            for c in &all {
                needles.push(c.id.to_string());
                for identity in &c.identities {
                    needles.push(identity.value.clone());
                    let kind = identity.index_kind();
                    let index = ["ident", kind.as_str(), identity.value.as_str()];
                    if tx.get::<CustomerId>(&index)?.is_some_and(|owner| ids.contains(&owner)) {
                        tx.del(&index)?;
                    }
                    report.identities += 1;
                }
                for (seq, _) in tx.scan::<ConsentRecord>(&["conslog", c.id.as_str()])? {
                    tx.del(&["conslog", c.id.as_str(), seq.as_str()])?;
                    report.consent_records += 1;
                }
                for (key, _) in tx.scan::<Touchpoint>(&["tp", c.id.as_str()])? {
                    // Touchpoint keys have two segments (time and sequence).
                    let mut parts = vec!["tp", c.id.as_str()];
                    parts.extend(key.split('/'));
                    tx.del(&parts)?;
                    report.touchpoints += 1;
                }
                // The counters that numbered them are named after the person:
                // nothing is left for them to number.
                tx.forget_seq(&touchpoint_counter(&c.id))?;
                tx.forget_seq(&consent_counter(&c.id))?;
                for mut order in orders_of(tx, &c.id)? {
                    anonymise(&mut order, now_ms);
                    tx.put(&["ord", order.id.as_str()], &order)?;
                    tx.del(&["custord", c.id.as_str(), order.id.as_str()])?;
                    report.orders_anonymised += 1;
                }
                tx.del(&["custcart", c.id.as_str()])?;
                crate::campaigns::forget_customer_tx(tx, &c.id)?;
                for channel in tx.scan::<serde_json::Value>(&["chn"])?.into_iter().map(|(id, _)| id) {
                    tx.del(&["reach", channel.as_str(), "cus", c.id.as_str()])?;
                }
                tx.del(&["cus", c.id.as_str()])?;
                report.profiles += 1;
            }
            for mut cart in carts_of(tx, &ids)? {
                cart.customer_id = None;
                tx.put(&["crt", cart.id.as_str()], &cart)?;
                report.carts_unlinked += 1;
            }
            for (key, mut event) in tx.scan::<Event>(&["evt"])? {
                let text = event.payload.to_string();
                if needles.iter().any(|n| !n.is_empty() && text.contains(n.as_str())) {
                    event.payload = serde_json::json!({ "erased": true });
                    tx.put(&["evt", key.as_str()], &event)?;
                    report.events_redacted += 1;
                }
            }
            let seq = tx.next_seq("erasure")?;
            tx.put(&["erasure", &sortable(i64::try_from(seq).unwrap_or(i64::MAX))], &report)?;
            Ok(report)
        })
    }

    /// Every erasure done in the tenant, oldest first: proof that requests
    /// were answered, without the personal data.
    pub fn erasure_log(&self, tenant: &TenantId) -> CoreResult<Vec<ErasureReport>> {
        self.read(tenant, |tx| Ok(tx.scan::<ErasureReport>(&["erasure"])?.into_iter().map(|(_, r)| r).collect()))
    }
}

fn anonymise(order: &mut Order, now_ms: i64) {
    order.customer_id = None;
    order.email = None;
    order.phone = None;
    order.note = None;
    if let Fulfilment::Ship { address } = &mut order.fulfilment {
        *address = Address {
            name: ERASED.into(),
            line1: ERASED.into(),
            line2: None,
            city: ERASED.into(),
            postal_code: ERASED.into(),
            country: address.country.clone(),
            phone: None,
        };
    }
    order.updated_ms = now_ms;
}
