//! Carts and checkout, priced by the host's one price resolver, so every
//! channel quotes the same total for the same cart. Needs `"carts"` in
//! `[capabilities].imports`.

//!
//! The typed functions ([`cart`], [`set_line_quantity`], …) take
//! [`ids`](crate::ids) so a cart id and a variant id cannot be swapped.
//!
//! ```no_run
//! # fn f(req: &omnistore_sdk::Request) -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::carts;
//! use omnistore_sdk::ids::{CartId, VariantId};
//! let cart = carts::new_cart(None)?;
//! let cart = carts::set_line_quantity(&cart.cart_id(), &VariantId::new("var-1"), 2)?;
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::carts::{
    apply_code, checkout, create, get, place_order as place_order_raw, remove_code, set_customer, set_quantity,
};

use crate::ids::{CartId, CustomerId, VariantId};
use crate::{Cart, CheckoutRequest, Contact, Fulfillment, HostError, Order, PaymentMethod};

/// A new empty cart, for `customer` when known: [`create`] with a typed id.
pub fn new_cart(customer: Option<&CustomerId>) -> Result<Cart, HostError> {
    create(customer.map(CustomerId::as_str))
}

/// The cart with this id: [`get`] with a typed id.
pub fn cart(id: &CartId) -> Result<Cart, HostError> {
    get(id.as_str())
}

/// Set how many units of `variant` the cart holds, 0 removing the line:
/// [`set_quantity`] with typed ids.
pub fn set_line_quantity(cart: &CartId, variant: &VariantId, quantity: u32) -> Result<Cart, HostError> {
    set_quantity(cart.as_str(), variant.as_str(), quantity)
}

/// Attach the cart to `customer`: [`set_customer`] with typed ids.
pub fn attach_customer(cart: &CartId, customer: &CustomerId) -> Result<Cart, HostError> {
    set_customer(cart.as_str(), customer.as_str())
}

/// Apply a discount code to the cart: [`apply_code`] with a typed id.
pub fn apply_discount_code(cart: &CartId, code: &str) -> Result<Cart, HostError> {
    apply_code(cart.as_str(), code)
}

/// Take a discount code off the cart: [`remove_code`] with a typed id.
pub fn remove_discount_code(cart: &CartId, code: &str) -> Result<Cart, HostError> {
    remove_code(cart.as_str(), code)
}

/// Place the order for the cart with nothing but a fulfillment (no
/// contact, consents or payment): [`checkout`] with a typed id.
pub fn check_out(cart: &CartId, fulfillment: &Fulfillment) -> Result<Order, HostError> {
    checkout(cart.as_str(), fulfillment)
}

/// Place the order for the cart with what the shopper entered at checkout:
/// the host identifies or creates the customer from the contact, records the
/// consents she ticked, joins the visitor's touchpoints to her timeline, then
/// takes stock for every line at once. `conflict` when stock ran out
/// meanwhile (nothing is taken: show the cart again), `invalid` for a
/// contact without e-mail or phone, pay-at-pickup with shipping, or a pickup
/// location that does not hold stock for every line.
///
/// ```no_run
/// # fn f(cart: omnistore_sdk::CartId, shop: omnistore_sdk::LocationId) -> Result<(), omnistore_sdk::PluginError> {
/// use omnistore_sdk::{CheckoutRequest, Contact, Fulfillment, HostError, PaymentMethod, carts};
/// let request = CheckoutRequest::new(
///     Contact::with_email("giulia@example.com").named("Giulia Rossi"),
///     Fulfillment::pickup_at(&shop),
///     PaymentMethod::PayAtPickup,
/// )
/// .with_email_marketing(true)
/// .with_visitor("v-3f9a");
/// match carts::place_order(&cart, &request) {
///     Ok(order) => omnistore_sdk::info!("order placed", order = order.id),
///     Err(HostError::Conflict(_)) => { /* sold out meanwhile: show the cart */ }
///     Err(e) => return Err(e.into()),
/// }
/// # Ok(()) }
/// ```
pub fn place_order(cart: &CartId, request: &CheckoutRequest) -> Result<Order, HostError> {
    place_order_raw(cart.as_str(), request)
}

impl Contact {
    /// A contact reached by e-mail.
    pub fn with_email(email: impl Into<String>) -> Contact {
        Contact { email: Some(email.into()), phone: None, name: None }
    }

    /// A contact reached by phone.
    pub fn with_phone(phone: impl Into<String>) -> Contact {
        Contact { email: None, phone: Some(phone.into()), name: None }
    }

    /// A contact from what a checkout form holds: blank fields count as
    /// missing (surrounding spaces are dropped); `None` when neither an
    /// e-mail nor a phone is left.
    ///
    /// ```
    /// use omnistore_sdk::Contact;
    /// let c = Contact::from_fields(" giulia@example.com ", "", " Giulia ").unwrap();
    /// assert_eq!((c.email.as_deref(), c.phone, c.name.as_deref()), (Some("giulia@example.com"), None, Some("Giulia")));
    /// assert_eq!(Contact::from_fields("  ", "", "Giulia"), None);
    /// ```
    pub fn from_fields(email: &str, phone: &str, name: &str) -> Option<Contact> {
        let field = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
        let contact = Contact { email: field(email), phone: field(phone), name: field(name) };
        (contact.email.is_some() || contact.phone.is_some()).then_some(contact)
    }

    /// This contact, also reached by `phone`.
    pub fn and_phone(mut self, phone: impl Into<String>) -> Contact {
        self.phone = Some(phone.into());
        self
    }

    /// This contact, with the name the shopper gave.
    pub fn named(mut self, name: impl Into<String>) -> Contact {
        self.name = Some(name.into());
        self
    }
}

impl CheckoutRequest {
    /// A request with no marketing consent ticked, no visitor and no note.
    pub fn new(contact: Contact, fulfillment: Fulfillment, payment: PaymentMethod) -> CheckoutRequest {
        CheckoutRequest {
            contact,
            email_marketing: false,
            sms_marketing: false,
            fulfillment,
            payment,
            visitor_id: None,
            note: None,
        }
    }

    /// Whether the shopper ticked the e-mail marketing box.
    pub fn with_email_marketing(mut self, ticked: bool) -> CheckoutRequest {
        self.email_marketing = ticked;
        self
    }

    /// Whether the shopper ticked the SMS marketing box.
    pub fn with_sms_marketing(mut self, ticked: bool) -> CheckoutRequest {
        self.sms_marketing = ticked;
        self
    }

    /// The anonymous visitor (the channel's cookie value) whose touchpoints
    /// join the customer's timeline.
    pub fn with_visitor(mut self, visitor_id: impl Into<String>) -> CheckoutRequest {
        self.visitor_id = Some(visitor_id.into());
        self
    }

    /// A note for the merchant (the host refuses more than 1 KiB).
    pub fn with_note(mut self, note: impl Into<String>) -> CheckoutRequest {
        self.note = Some(note.into());
        self
    }
}

impl PaymentMethod {
    /// The method's name in forms and URLs: `pay-at-pickup` or `manual`.
    ///
    /// ```
    /// use omnistore_sdk::PaymentMethod;
    /// assert_eq!(PaymentMethod::parse(PaymentMethod::Manual.as_str()), Some(PaymentMethod::Manual));
    /// assert_eq!(PaymentMethod::parse("cash"), None);
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::PayAtPickup => "pay-at-pickup",
            PaymentMethod::Manual => "manual",
        }
    }

    /// The method named `name` ([`as_str`](Self::as_str)'s names).
    pub fn parse(name: &str) -> Option<PaymentMethod> {
        [PaymentMethod::PayAtPickup, PaymentMethod::Manual].into_iter().find(|m| m.as_str() == name)
    }

    /// Whether the method needs the order to be collected at a location.
    pub fn needs_collection(self) -> bool {
        matches!(self, PaymentMethod::PayAtPickup)
    }
}
