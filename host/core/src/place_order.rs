//! Placing an order as a shopper does on a storefront: the contact they
//! typed, the consents they ticked, the visitor they were, where they
//! collect and how they pay — all in one transaction with the checkout, so a
//! refusal changes nothing. Also which pickup locations can hand over a cart.
//!
//! Sits above `carts` (checkout), `customers`, `visitors` and `inventory`.

use crate::carts::{CartStatus, CheckoutRequest, OrderContact, checkout_tx, load_cart};
use crate::customers::{ConsentPurpose, Identity, find_by_identity, identify_tx, set_consent_tx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{CartId, ChannelId, TenantId};
use crate::inventory::{cart_holds, sellable_tx};
use crate::orders::{Fulfilment, Order, PaymentMethod, load_order};
use crate::store::{Core, Tx};
use crate::tenants::{Location, all_locations, load_channel, load_location};
use crate::visitors::{check_visitor_id, join_visitor_tx};
use crate::{catalog::load_variant, validate};

/// The longest note a shopper may leave.
pub const MAX_NOTE_BYTES: usize = 1024;
/// What the consent history says about consents ticked at checkout.
const CONSENT_SOURCE: &str = "checkout";

/// Who places the order. At least one of e-mail or phone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
}

/// What a shopper entered at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    pub contact: Contact,
    /// Ticked consents; unticked means no change.
    pub email_marketing: bool,
    pub sms_marketing: bool,
    pub fulfilment: Fulfilment,
    pub payment: PaymentMethod,
    /// The visitor whose touchpoints join the customer's journal.
    pub visitor_id: Option<String>,
    pub note: Option<String>,
}

/// `text` trimmed, or `None` when it is blank.
fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// Does `location` hold, for every line of the cart, the units the line
/// needs, counting what the cart itself holds there and after the
/// channel's safety buffer? Backorderable variants can always be collected.
fn holds_every_line(tx: &mut Tx<'_>, cart: &crate::carts::Cart, location: &Location, buffer: i64) -> CoreResult<bool> {
    let now = tx.now()?;
    let own = cart_holds(tx, &cart.id)?;
    for line in &cart.lines {
        let variant = load_variant(tx, &line.variant_id)?;
        if variant.backorderable {
            continue;
        }
        let held_here: i64 = own
            .iter()
            .filter(|h| h.variant_id == line.variant_id && h.location_id == location.id && h.expires_ms > now)
            .map(|h| h.quantity)
            .sum();
        let free = sellable_tx(tx, &line.variant_id, Some(&location.id), buffer)?;
        if free.saturating_add(held_here) < line.quantity {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Core {
    /// The active pickup locations that hold stock for every line of the
    /// cart (after the channel's safety buffer), in the merchant's order;
    /// empty for an empty cart or when none does.
    pub fn pickup_locations_for_cart(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        cart: &CartId,
        now_ms: i64,
    ) -> CoreResult<Vec<Location>> {
        self.read_at(tenant, now_ms, |tx| {
            let buffer = load_channel(tx, channel)?.safety_buffer;
            let cart = load_cart(tx, cart)?;
            if cart.lines.is_empty() {
                return Ok(vec![]);
            }
            let mut out = Vec::new();
            for location in all_locations(tx)? {
                if location.pickup_enabled && location.active && holds_every_line(tx, &cart, &location, buffer)? {
                    out.push(location);
                }
            }
            Ok(out)
        })
    }

    /// Place the order for `cart` with the shopper's contact: identify the
    /// customer by e-mail (else phone) or create one, record the ticked
    /// consents, join the visitor's touchpoints to the customer, then check
    /// out as [`Core::checkout`] does — all in one transaction. `Invalid`
    /// for a contact without e-mail or phone, a malformed one, pay-at-pickup
    /// with shipping, or a location that is unknown or offers no pickup;
    /// `InsufficientStock` when stock ran out (a pickup takes it from the
    /// pickup location only). Placing a cart that is already an order
    /// returns that order unchanged.
    pub fn place_order(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        cart: &CartId,
        request: PlaceOrder,
        now_ms: i64,
    ) -> CoreResult<Order> {
        let email = given(request.contact.email.as_deref()).map(Identity::email).transpose()?;
        let phone = given(request.contact.phone.as_deref()).map(Identity::phone).transpose()?;
        let Some(primary) = email.clone().or_else(|| phone.clone()) else {
            return Err(CoreError::invalid("the contact needs an e-mail address or a phone number"));
        };
        let name = validate::opt_text("contact name", given(request.contact.name.as_deref()), 200)?;
        let note = validate::opt_text("note", given(request.note.as_deref()), MAX_NOTE_BYTES)?;
        let visitor = request.visitor_id.as_deref().map(check_visitor_id).transpose()?;
        if request.payment == PaymentMethod::PayAtPickup && matches!(request.fulfilment, Fulfilment::Ship { .. }) {
            return Err(CoreError::invalid(
                "pay at pickup needs pickup or ship-to-store; choose another payment or collect the order",
            ));
        }
        if visitor.is_some() {
            // The visitor's last page views may still be gathering for their commit.
            self.visitor_touchpoints.flush(tenant);
        }
        self.write(tenant, now_ms, |tx| {
            if let CartStatus::CheckedOut { order_id } = &load_cart(tx, cart)?.status {
                return load_order(tx, order_id);
            }
            if let Fulfilment::Pickup { location_id } | Fulfilment::ShipToStore { location_id } = &request.fulfilment {
                // An unknown location is the shopper's (or channel's) mistake, not a missing record.
                if tx.get::<Location>(&["loc", location_id.as_str()])?.is_none() {
                    return Err(CoreError::invalid(format!("location `{location_id}` does not exist")));
                }
                load_location(tx, location_id)?;
            }
            let mut customer = identify_tx(tx, &primary, name.clone())?;
            // The phone joins the profile found by e-mail, unless it is
            // someone else's (then the two profiles are for the merchant to merge).
            if let (Some(_), Some(p)) = (&email, &phone)
                && customer.identity(&p.kind).is_none()
                && find_by_identity(tx, p)?.is_none()
            {
                customer = crate::customers::add_identity_tx(tx, &customer.id, p)?;
            }
            for (ticked, purpose) in [
                (request.email_marketing, ConsentPurpose::EmailMarketing),
                (request.sms_marketing, ConsentPurpose::SmsMarketing),
            ] {
                if ticked {
                    set_consent_tx(tx, &customer.id, purpose, true, Some(channel), CONSENT_SOURCE, now_ms)?;
                }
            }
            if let Some(v) = &visitor {
                join_visitor_tx(tx, v, &customer.id)?;
            }
            let checkout = CheckoutRequest {
                channel: Some(channel.clone()),
                fulfilment: request.fulfilment.clone(),
                customer: Some(customer.id.clone()),
                email: None,
                note: None,
                expected_total_minor: None,
            };
            let contact =
                OrderContact { phone: phone.as_ref().map(|p| p.value.clone()), payment: Some(request.payment) };
            checkout_tx(tx, cart, &checkout, email.as_ref(), note.clone(), contact, now_ms)
        })
    }
}
