//! Orders placed on Instagram, as Meta's webhook delivers them: the
//! envelope `{"object", "entry": [{"id", "time", "changes": [{"field":
//! "commerce_orders", "value": <order>}]}]}`, each order in the shape of
//! Meta's commerce order (see the README). Each is ingested once: a
//! redelivered webhook finds the order by its external id and creates
//! nothing.

use omnistore_sdk::{
    Address, Fulfillment, HostError, Identity, IdentityKind, IncomingOrder, IncomingOrderLine, Money, PluginError,
    customers, minor_unit_digits, orders, settings, storage,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<ChangeDoc>,
}

#[derive(Debug, Deserialize)]
struct ChangeDoc {
    field: String,
    value: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub struct MetaOrder {
    pub id: String,
    #[serde(default)]
    pub buyer_details: Buyer,
    pub items: Vec<MetaItem>,
    pub shipping_address: Option<MetaAddress>,
    #[serde(default)]
    pub estimated_payment_details: Option<PaymentDetails>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Buyer {
    pub name: Option<String>,
    pub email: Option<String>,
    /// Not in Meta's order: the Instagram user name, when the sender knows it.
    pub instagram_handle: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MetaItem {
    pub retailer_id: String,
    pub quantity: u32,
    pub price_per_unit: Amount,
}

#[derive(Debug, Deserialize)]
pub struct Amount {
    /// A decimal string, as Meta writes amounts (`"2.80"`).
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Deserialize)]
pub struct MetaAddress {
    #[serde(default)]
    pub name: String,
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PaymentDetails {
    pub total_amount: Option<Amount>,
}

/// Ingest every order of a verified webhook body; how many were new.
pub fn receive(body: &[u8]) -> Result<usize, PluginError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| PluginError::bad_request(format!("the webhook body is not Meta's JSON envelope: {e}")))?;
    let mut created = 0;
    for change in envelope.entry.into_iter().flat_map(|e| e.changes) {
        if change.field != "commerce_orders" {
            continue;
        }
        let order: MetaOrder = serde_json::from_value(change.value)
            .map_err(|e| PluginError::bad_request(format!("a commerce order is not in Meta's order shape: {e}")))?;
        created += usize::from(ingest(&order)?);
    }
    Ok(created)
}

/// Ingest one order unless it was; `true` when it is new.
fn ingest(order: &MetaOrder) -> Result<bool, PluginError> {
    if orders::find_by_external_id(&order.id)?.is_some() {
        return Ok(false);
    }
    let incoming = incoming(order, &settings::get("country").unwrap_or_default())?;
    match orders::ingest(&incoming) {
        Ok(taken) => {
            attach_handle(order, taken.customer_id.as_deref());
            Ok(true)
        }
        // Retrying cannot help an order whose SKU is unknown or whose stock
        // ran out: it is kept for the merchant to settle on Instagram, and
        // Meta is told it arrived so it stops redelivering.
        Err(HostError::Conflict(why) | HostError::Invalid(why) | HostError::NotFound(why)) => {
            omnistore_sdk::error!("an Instagram order could not be taken in", order = order.id, why = why);
            storage::set_json(&format!("orders/refused/{}", order.id), &why)?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// A buyer found by e-mail gets their Instagram handle on the same profile,
/// so the shop sees one person on the web and on Instagram. The order is in
/// whatever happens here: a handle already on another profile is left for
/// the merchant to merge, and said in the log.
fn attach_handle(order: &MetaOrder, customer: Option<&str>) {
    let buyer = &order.buyer_details;
    let (Some(customer), Some(_), Some(handle)) = (customer, buyer.email.as_deref(), handle_of(buyer)) else {
        return;
    };
    let identity = Identity { kind: IdentityKind::SocialHandle, value: handle };
    if let Err(e) = customers::add_identity(customer, &identity) {
        omnistore_sdk::warn!(
            "the buyer's Instagram handle was not added to their profile",
            order = order.id,
            why = e.to_string()
        );
    }
}

/// The buyer's handle without its `@`, if Meta sent one.
fn handle_of(buyer: &Buyer) -> Option<String> {
    let handle = buyer.instagram_handle.as_deref()?.trim().trim_start_matches('@');
    (!handle.is_empty()).then(|| handle.to_string())
}

/// The order as the host takes it: lines by SKU at Meta's prices, the
/// buyer by e-mail (the same customer as on the web) else by handle.
pub fn incoming(order: &MetaOrder, default_country: &str) -> Result<IncomingOrder, PluginError> {
    let mut lines = Vec::with_capacity(order.items.len());
    for item in &order.items {
        lines.push(IncomingOrderLine {
            sku: item.retailer_id.clone(),
            quantity: item.quantity,
            unit_price: money(&item.price_per_unit)?,
        });
    }
    let computed = lines.iter().try_fold(None::<Money>, |sum, l| {
        let line = Money::new(l.unit_price.amount_minor * i64::from(l.quantity), &l.unit_price.currency);
        Ok::<_, PluginError>(Some(match sum {
            None => line,
            Some(s) => s.checked_add(&line)?,
        }))
    })?;
    let total = match order.estimated_payment_details.as_ref().and_then(|p| p.total_amount.as_ref()) {
        Some(t) => money(t)?,
        None => computed.ok_or_else(|| PluginError::bad_request(format!("order {} has no items", order.id)))?,
    };
    let buyer = &order.buyer_details;
    let customer = match (&buyer.email, &buyer.instagram_handle) {
        (Some(email), _) if !email.trim().is_empty() => {
            Some(Identity { kind: IdentityKind::Email, value: email.trim().to_string() })
        }
        // The host files a handle under this plugin's network (`instagram-shop`).
        _ => handle_of(buyer).map(|value| Identity { kind: IdentityKind::SocialHandle, value }),
    };
    let a = order.shipping_address.as_ref().ok_or_else(|| {
        PluginError::bad_request(format!("order {} has no shipping address; Instagram orders are shipped", order.id))
    })?;
    let country = a.country.clone().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| default_country.trim().into());
    let address = Address {
        name: if a.name.is_empty() { buyer.name.clone().unwrap_or_default() } else { a.name.clone() },
        line1: a.street1.clone(),
        line2: a.street2.clone().filter(|s| !s.is_empty()),
        city: a.city.clone(),
        region: a.state.clone().filter(|s| !s.is_empty()),
        postal_code: a.postal_code.clone(),
        country: country.to_ascii_uppercase(),
        phone: None,
    };
    Ok(IncomingOrder {
        external_id: order.id.clone(),
        customer,
        customer_name: buyer.name.clone(),
        lines,
        fulfillment: Fulfillment::Ship(address),
        total,
    })
}

/// Meta's decimal amount in the currency's minor unit.
fn money(a: &Amount) -> Result<Money, PluginError> {
    let digits = minor_unit_digits(&a.currency) as usize;
    let bad = || PluginError::bad_request(format!("`{}` is not an amount in {}", a.amount, a.currency));
    let (whole, frac) = a.amount.trim().split_once('.').unwrap_or((a.amount.trim(), ""));
    if whole.is_empty() || frac.len() > digits || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let minor = format!("{whole}{frac:0<digits$}").parse::<i64>().map_err(|_| bad())?;
    Ok(Money::new(minor, &a.currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_decimal_strings() {
        let m = |amount: &str, currency: &str| money(&Amount { amount: amount.into(), currency: currency.into() });
        assert_eq!(m("2.80", "EUR").unwrap(), Money::new(280, "EUR"));
        assert_eq!(m("3", "EUR").unwrap(), Money::new(300, "EUR"));
        assert_eq!(m("1250", "JPY").unwrap(), Money::new(1250, "JPY"));
        assert!(m("2.805", "EUR").is_err());
        assert!(m("-1.00", "EUR").is_err());
        assert!(m("", "EUR").is_err());
    }
}
