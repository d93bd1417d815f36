//! Carts and checkout. A cart of an identified customer is found again from
//! any channel (one open cart per customer), so a customer can start on
//! Instagram and finish on the web storefront.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::{ProductStatus, load_product, load_variant};
use crate::customers::{Identity, identify_tx, load_customer};
use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::PromotionId;
use crate::ids::{CartId, ChannelId, CustomerId, TenantId, VariantId};
use crate::inventory::{Hold, cart_holds, hold_line, release_cart_holds, release_cart_holds_of};
use crate::orders::{Fulfilment, Order, OrderDraft, PaymentMethod, load_order, place_order_tx};
use crate::pricing::{Promotion, Quote, normalize_code, quote_tx};
use crate::store::{Core, Tx};
use crate::tenants::load_channel;
use crate::validate;

const MAX_LINES: usize = 100;
/// Longest a cart may hold stock.
pub const MAX_HOLD_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum CartStatus {
    Open,
    CheckedOut {
        order_id: crate::ids::OrderId,
    },
    /// Folded into another cart when its customer was identified.
    Merged {
        into: CartId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub variant_id: VariantId,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub id: CartId,
    /// The channel that last touched it.
    pub channel_id: Option<ChannelId>,
    pub customer_id: Option<CustomerId>,
    pub lines: Vec<CartLine>,
    pub codes: Vec<String>,
    pub status: CartStatus,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewCart {
    pub channel: Option<ChannelId>,
    pub customer: Option<CustomerId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckoutRequest {
    /// The channel checking out; `None` for the admin / point of sale.
    pub channel: Option<ChannelId>,
    pub fulfilment: Fulfilment,
    pub customer: Option<CustomerId>,
    /// For the receipt; identifies (or creates) the customer when none is set.
    pub email: Option<String>,
    pub note: Option<String>,
    /// The total the customer was shown. When given and the price changed
    /// since (a promotion ended, a price was edited), checkout fails with
    /// `Conflict` instead of charging a different amount.
    pub expected_total_minor: Option<i64>,
}

pub(crate) fn load_cart(tx: &mut Tx<'_>, id: &CartId) -> CoreResult<Cart> {
    tx.must("cart", id.as_str())
}

fn load_open(tx: &mut Tx<'_>, id: &CartId) -> CoreResult<Cart> {
    let cart = load_cart(tx, id)?;
    match &cart.status {
        CartStatus::Open => Ok(cart),
        CartStatus::CheckedOut { order_id } => {
            Err(CoreError::conflict(format!("cart `{id}` was checked out as order `{order_id}`; start a new cart")))
        }
        CartStatus::Merged { into } => {
            Err(CoreError::conflict(format!("cart `{id}` was merged into cart `{into}`; use that one")))
        }
    }
}

fn save(tx: &mut Tx<'_>, cart: &Cart) -> CoreResult<()> {
    tx.put(&["crt", cart.id.as_str()], cart)
}

fn new_cart(tx: &mut Tx<'_>, channel: Option<ChannelId>, customer: Option<CustomerId>) -> CoreResult<Cart> {
    let id = CartId::new(tx.new_id(CartId::PREFIX)?);
    let cart = Cart {
        id: id.clone(),
        channel_id: channel,
        customer_id: customer.clone(),
        lines: vec![],
        codes: vec![],
        status: CartStatus::Open,
        created_ms: tx.now()?,
        updated_ms: tx.now()?,
    };
    save(tx, &cart)?;
    if let Some(c) = &customer {
        tx.put(&["custcart", c.as_str()], &id)?;
    }
    Ok(cart)
}

/// The open cart of a customer, or a new one.
fn customer_cart(tx: &mut Tx<'_>, customer: &CustomerId, channel: Option<ChannelId>) -> CoreResult<Cart> {
    if let Some(id) = tx.get::<CartId>(&["custcart", customer.as_str()])?
        && let Ok(mut cart) = load_open(tx, &id)
    {
        if channel.is_some() && cart.channel_id != channel {
            cart.channel_id = channel;
            cart.updated_ms = tx.now()?;
            save(tx, &cart)?;
        }
        return Ok(cart);
    }
    new_cart(tx, channel, Some(customer.clone()))
}

fn add_lines(cart: &mut Cart, lines: &[CartLine]) -> CoreResult<()> {
    for l in lines {
        match cart.lines.iter_mut().find(|x| x.variant_id == l.variant_id) {
            Some(x) => x.quantity = validate::positive_qty("quantity", x.quantity + l.quantity)?,
            None => cart.lines.push(l.clone()),
        }
    }
    if cart.lines.len() > MAX_LINES {
        return Err(CoreError::invalid(format!("a cart holds at most {MAX_LINES} different items")));
    }
    Ok(())
}

/// Move a merged-away customer's open cart to the surviving profile.
pub(crate) fn reassign_cart_tx(tx: &mut Tx<'_>, from: &CustomerId, to: &CustomerId) -> CoreResult<()> {
    if let Some(cart) = tx.get::<CartId>(&["custcart", from.as_str()])? {
        tx.del(&["custcart", from.as_str()])?;
        give_cart_to(tx, &cart, to)?;
    }
    Ok(())
}

/// Give a cart to a customer (after a merge of profiles): it becomes the
/// customer's open cart, or is folded into the one they already have.
fn give_cart_to(tx: &mut Tx<'_>, cart: &CartId, customer: &CustomerId) -> CoreResult<()> {
    let Ok(mut moving) = load_open(tx, cart) else {
        return Ok(());
    };
    match tx.get::<CartId>(&["custcart", customer.as_str()])? {
        Some(existing) if existing != *cart && load_open(tx, &existing).is_ok() => {
            let mut target = load_open(tx, &existing)?;
            add_lines(&mut target, &moving.lines)?;
            for c in &moving.codes {
                if !target.codes.contains(c) {
                    target.codes.push(c.clone());
                }
            }
            target.updated_ms = tx.now()?;
            save(tx, &target)?;
            release_cart_holds(tx, &moving.id)?;
            moving.status = CartStatus::Merged { into: target.id.clone() };
        }
        _ => {
            moving.customer_id = Some(customer.clone());
            tx.put(&["custcart", customer.as_str()], cart)?;
        }
    }
    moving.updated_ms = tx.now()?;
    save(tx, &moving)
}

/// The safety buffer of the channel a cart was last touched from.
fn cart_buffer(tx: &mut Tx<'_>, cart: &Cart) -> CoreResult<i64> {
    match &cart.channel_id {
        Some(ch) => Ok(load_channel(tx, ch)?.safety_buffer),
        None => Ok(0),
    }
}

impl Core {
    /// A new cart; for an identified customer, their open cart if they have
    /// one (from whichever channel they started on).
    pub fn create_cart(&self, tenant: &TenantId, new: NewCart, now_ms: i64) -> CoreResult<Cart> {
        self.write(tenant, now_ms, |tx| {
            if let Some(ch) = &new.channel {
                load_channel(tx, ch)?;
            }
            match &new.customer {
                Some(c) => {
                    let c = load_customer(tx, c)?.id;
                    customer_cart(tx, &c, new.channel.clone())
                }
                None => new_cart(tx, new.channel.clone(), None),
            }
        })
    }

    pub fn get_cart(&self, tenant: &TenantId, id: &CartId) -> CoreResult<Cart> {
        self.read(tenant, |tx| load_cart(tx, id))
    }

    /// The customer's open cart (any channel), if any.
    pub fn customer_open_cart(&self, tenant: &TenantId, customer: &CustomerId) -> CoreResult<Option<Cart>> {
        self.read(tenant, |tx| {
            let c = load_customer(tx, customer)?.id;
            match tx.get::<CartId>(&["custcart", c.as_str()])? {
                Some(id) => Ok(load_open(tx, &id).ok()),
                None => Ok(None),
            }
        })
    }

    /// Set the quantity of a variant in the cart; 0 removes it. A cart that
    /// holds stock keeps holding it: the changed line is re-held in the same
    /// transaction, until the cart's current hold expiry, so no other cart
    /// can take its units in between. If the new quantity cannot be held the
    /// call fails with `InsufficientStock` and changes nothing.
    pub fn set_cart_line(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        variant: &VariantId,
        quantity: i64,
        now_ms: i64,
    ) -> CoreResult<Cart> {
        if quantity != 0 {
            validate::positive_qty("quantity", quantity)?;
        }
        self.change_line(tenant, cart, variant, now_ms, |_| Ok(quantity))
    }

    /// Add `quantity` (at least 1) of a variant to the cart.
    pub fn add_to_cart(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        variant: &VariantId,
        quantity: i64,
        now_ms: i64,
    ) -> CoreResult<Cart> {
        validate::positive_qty("quantity", quantity)?;
        self.change_line(tenant, cart, variant, now_ms, |current| {
            validate::positive_qty("quantity", current + quantity)
        })
    }

    fn change_line(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        variant: &VariantId,
        now_ms: i64,
        new_quantity: impl Fn(i64) -> CoreResult<i64>,
    ) -> CoreResult<Cart> {
        self.write(tenant, now_ms, |tx| {
            let mut c = load_open(tx, cart)?;
            let current = c.lines.iter().find(|l| l.variant_id == *variant).map_or(0, |l| l.quantity);
            let quantity = new_quantity(current)?;
            if quantity > 0 {
                let v = load_variant(tx, variant)?;
                let p = load_product(tx, &v.product_id)?;
                if p.status != ProductStatus::Active {
                    return Err(CoreError::invalid(format!("product `{}` is not on sale", p.handle)));
                }
            }
            c.lines.retain(|l| l.variant_id != *variant);
            if quantity > 0 {
                add_lines(&mut c, &[CartLine { variant_id: variant.clone(), quantity }])?;
            }
            let live_until = cart_holds(tx, cart)?.iter().map(|h| h.expires_ms).filter(|&e| e > now_ms).max();
            let held = release_cart_holds_of(tx, cart, Some(variant))?;
            if let Some(expires_ms) = live_until
                && quantity > 0
            {
                let v = load_variant(tx, variant)?;
                let buffer = cart_buffer(tx, &c)?;
                let credit = held.get(variant).copied().unwrap_or(0);
                hold_line(tx, cart, &v, quantity, buffer, credit, expires_ms)?;
            }
            c.updated_ms = now_ms;
            save(tx, &c)?;
            Ok(c)
        })
    }

    /// Put a promotion code on the cart. `Invalid` if no such code exists
    /// or it is switched off; its conditions are checked when quoting.
    pub fn apply_code(&self, tenant: &TenantId, cart: &CartId, code: &str, now_ms: i64) -> CoreResult<Cart> {
        let code = normalize_code(code)?;
        self.write(tenant, now_ms, |tx| {
            let mut c = load_open(tx, cart)?;
            let valid = match tx.get::<PromotionId>(&["prmcode", &code])? {
                Some(id) => tx.get::<Promotion>(&["prm", id.as_str()])?.is_some_and(|p| p.active),
                None => false,
            };
            if !valid {
                return Err(CoreError::invalid(format!("code `{code}` is not a valid promotion code")));
            }
            if !c.codes.contains(&code) {
                c.codes.push(code.clone());
            }
            c.updated_ms = now_ms;
            save(tx, &c)?;
            Ok(c)
        })
    }

    pub fn remove_code(&self, tenant: &TenantId, cart: &CartId, code: &str, now_ms: i64) -> CoreResult<Cart> {
        let code = normalize_code(code)?;
        self.write(tenant, now_ms, |tx| {
            let mut c = load_open(tx, cart)?;
            c.codes.retain(|x| *x != code);
            c.updated_ms = now_ms;
            save(tx, &c)?;
            Ok(c)
        })
    }

    /// The shopper identified themselves on `channel`: the cart becomes
    /// theirs, or is folded into the open cart they already have (started on
    /// any channel). Returns the cart to use, now the cart of `channel`, as
    /// [`Core::create_cart`] for a known customer is.
    pub fn attach_customer(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        customer: &CustomerId,
        channel: Option<&ChannelId>,
        now_ms: i64,
    ) -> CoreResult<Cart> {
        self.write(tenant, now_ms, |tx| {
            let c = load_open(tx, cart)?;
            let customer = load_customer(tx, customer)?.id;
            if c.customer_id.as_ref().is_some_and(|x| *x != customer) {
                return Err(CoreError::conflict(format!("cart `{cart}` belongs to another customer")));
            }
            give_cart_to(tx, cart, &customer)?;
            customer_cart(tx, &customer, channel.cloned())
        })
    }

    /// Price the cart as `channel` sees it.
    pub fn quote_cart(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        channel: Option<&ChannelId>,
        now_ms: i64,
    ) -> CoreResult<Quote> {
        self.read_at(tenant, now_ms, |tx| {
            let c = load_open(tx, cart)?;
            if c.lines.is_empty() {
                return Err(CoreError::invalid("the cart is empty"));
            }
            let lines: Vec<_> = c.lines.iter().map(|l| (l.variant_id.clone(), l.quantity)).collect();
            quote_tx(tx, &lines, channel, &c.codes, true)
        })
    }

    /// Hold stock for every line until `now_ms + ttl_ms`, replacing earlier
    /// holds. All lines are held or none (`InsufficientStock`);
    /// backorderable lines hold what there is.
    pub fn hold_cart(&self, tenant: &TenantId, cart: &CartId, ttl_ms: i64, now_ms: i64) -> CoreResult<Vec<Hold>> {
        if !(1..=MAX_HOLD_MS).contains(&ttl_ms) {
            return Err(CoreError::invalid(format!("hold time must be between 1 ms and {MAX_HOLD_MS} ms")));
        }
        self.write(tenant, now_ms, |tx| {
            let c = load_open(tx, cart)?;
            if c.lines.is_empty() {
                return Err(CoreError::invalid("the cart is empty"));
            }
            let buffer = cart_buffer(tx, &c)?;
            let held = release_cart_holds(tx, cart)?;
            let mut holds = Vec::new();
            for l in &c.lines {
                let v = load_variant(tx, &l.variant_id)?;
                let credit = held.get(&l.variant_id).copied().unwrap_or(0);
                holds.extend(hold_line(tx, cart, &v, l.quantity, buffer, credit, now_ms + ttl_ms)?);
            }
            Ok(holds)
        })
    }

    /// Give back the cart's held stock now (the shopper left).
    pub fn release_cart(&self, tenant: &TenantId, cart: &CartId, now_ms: i64) -> CoreResult<()> {
        self.write(tenant, now_ms, |tx| {
            load_cart(tx, cart)?;
            release_cart_holds(tx, cart).map(drop)
        })
    }

    /// Turn the cart into an order in one transaction: price it, release its
    /// holds, reserve every line (all or nothing, after the channel's safety
    /// buffer), count promotion uses, and write the order and its
    /// `order.placed` event. Checking out a cart that already became an
    /// order returns that order (safe to retry).
    pub fn checkout(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        request: CheckoutRequest,
        now_ms: i64,
    ) -> CoreResult<Order> {
        let email = request.email.as_deref().map(Identity::email).transpose()?;
        let note = validate::opt_text("note", request.note.as_deref(), 2000)?;
        self.write(tenant, now_ms, |tx| {
            checkout_tx(tx, cart, &request, email.as_ref(), note.clone(), OrderContact::default(), now_ms)
        })
    }
}

/// What an order placed with a contact carries beyond a plain checkout.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderContact {
    /// E.164.
    pub phone: Option<String>,
    pub payment: Option<PaymentMethod>,
}

/// Check out a cart in the caller's transaction (see [`Core::checkout`]);
/// `email` and `note` are already validated.
pub(crate) fn checkout_tx(
    tx: &mut Tx<'_>,
    cart: &CartId,
    request: &CheckoutRequest,
    email: Option<&Identity>,
    note: Option<String>,
    contact: OrderContact,
    now_ms: i64,
) -> CoreResult<Order> {
    let c = load_cart(tx, cart)?;
    if let CartStatus::CheckedOut { order_id } = &c.status {
        return load_order(tx, order_id);
    }
    let mut c = load_open(tx, cart)?;
    if c.lines.is_empty() {
        return Err(CoreError::invalid("the cart is empty"));
    }
    let channel = request.channel.clone().or_else(|| c.channel_id.clone());
    let buffer = match &channel {
        Some(ch) => {
            let ch = load_channel(tx, ch)?;
            if !ch.enabled {
                return Err(CoreError::invalid(format!("channel `{}` is switched off", ch.name)));
            }
            ch.safety_buffer
        }
        None => 0,
    };
    let lines: Vec<_> = c.lines.iter().map(|l| (l.variant_id.clone(), l.quantity)).collect();
    let quote = quote_tx(tx, &lines, channel.as_ref(), &c.codes, true)?;
    if let Some(expected) = request.expected_total_minor
        && expected != quote.total.amount_minor
    {
        return Err(CoreError::conflict(format!(
            "the total changed from {expected} to {} minor units; show the new quote and confirm",
            quote.total.amount_minor
        )));
    }
    let customer_id = match (&request.customer, &c.customer_id, &email) {
        (Some(id), _, _) | (None, Some(id), _) => Some(load_customer(tx, id)?.id),
        (None, None, Some(e)) => Some(identify_tx(tx, e, None)?.id),
        (None, None, None) => None,
    };
    let held = release_cart_holds(tx, cart)?;
    let order = place_order_tx(
        tx,
        OrderDraft {
            channel: channel.clone(),
            buffer,
            held,
            external_id: None,
            cart_id: Some(c.id.clone()),
            customer_id: customer_id.clone(),
            email: email.map(|e| e.value.clone()),
            phone: contact.phone.clone(),
            payment: contact.payment,
            codes: quote.codes_applied.clone(),
            quote,
            fulfilment: request.fulfilment.clone(),
            note,
        },
    )?;
    c.status = CartStatus::CheckedOut { order_id: order.id.clone() };
    c.updated_ms = now_ms;
    save(tx, &c)?;
    for cust in c.customer_id.iter().chain(customer_id.iter()) {
        if tx.get::<CartId>(&["custcart", cust.as_str()])?.as_ref() == Some(&c.id) {
            tx.del(&["custcart", cust.as_str()])?;
        }
    }
    tx.emit(DomainEventKind::CartCheckedOut, c.id.as_str(), json!({ "cart_id": c.id, "order_id": order.id }));
    Ok(order)
}
