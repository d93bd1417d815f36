//! The `carts` interface: carts of the calling channel, priced as it sees
//! them and holding their stock, and their checkout.

use omnistore_core::{self as domain, Core, CoreError, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use wit::HostError;

use super::CoreServices;
use super::call::{Outcome, Scope};
use super::catalog::visible_product;
use super::convert::{core_fulfilment, u32_of, wit_money, wit_order, zero};

fn open_cart(cart: &domain::Cart) -> Outcome<()> {
    match &cart.status {
        domain::CartStatus::Open => Ok(()),
        domain::CartStatus::CheckedOut { order_id } => Err(HostError::Conflict(format!(
            "cart `{}` was checked out as order `{order_id}`; start a new cart",
            cart.id
        ))
        .into()),
        domain::CartStatus::Merged { into } => {
            Err(HostError::Conflict(format!("cart `{}` was merged into cart `{into}`; use that one", cart.id)).into())
        }
    }
}

/// Price the cart as the calling channel sees it (`None` for an empty cart).
fn quote_of(core: &Core, s: &Scope, cart: &domain::Cart) -> Result<Option<domain::Quote>, CoreError> {
    if cart.lines.is_empty() {
        return Ok(None);
    }
    let request = domain::QuoteRequest {
        lines: cart
            .lines
            .iter()
            .map(|l| domain::QuoteLineRequest { variant_id: l.variant_id.clone(), quantity: l.quantity })
            .collect(),
        channel: Some(s.channel.clone()),
        codes: cart.codes.clone(),
    };
    core.quote(&s.tenant, &request, s.now).map(Some)
}

fn wit_cart(
    core: &Core,
    s: &Scope,
    cart: &domain::Cart,
    quote: Option<&domain::Quote>,
    ttl_ms: i64,
) -> Outcome<wit::Cart> {
    let holds = core.cart_holds(&s.tenant, &cart.id)?;
    let expires_at = holds.iter().map(|h| h.expires_ms).min().unwrap_or_else(|| s.now.saturating_add(ttl_ms));
    let Some(q) = quote else {
        let currency = core.get_tenant(&s.tenant)?.currency;
        return Ok(wit::Cart {
            id: cart.id.to_string(),
            customer_id: cart.customer_id.as_ref().map(ToString::to_string),
            lines: vec![],
            codes: cart.codes.clone(),
            promotions: vec![],
            subtotal: zero(&currency),
            discount: zero(&currency),
            total: zero(&currency),
            expires_at,
        });
    };
    let mut products = std::collections::BTreeMap::new();
    for l in &q.lines {
        if !products.contains_key(&l.product_id) {
            products.insert(l.product_id.clone(), core.get_product(&s.tenant, &l.product_id)?.product);
        }
    }
    Ok(wit::Cart {
        id: cart.id.to_string(),
        customer_id: cart.customer_id.as_ref().map(ToString::to_string),
        lines: q
            .lines
            .iter()
            .map(|l| wit::CartLine {
                variant_id: l.variant_id.to_string(),
                product_id: l.product_id.to_string(),
                product_handle: products.get(&l.product_id).map(|p| p.handle.clone()).unwrap_or_default(),
                image: products
                    .get(&l.product_id)
                    .and_then(|p| p.images.first())
                    .map(|i| wit::Image { url: i.url.clone(), alt: i.alt.clone() }),
                sku: l.sku.clone(),
                title: l.title.clone(),
                quantity: u32_of(l.quantity),
                unit_price: wit_money(&l.unit_price),
                // Order-level discount shares are included so that the lines
                // add up to the cart's total.
                discount: wit::Money {
                    amount_minor: l.line_discount.amount_minor.saturating_add(l.order_discount_share.amount_minor),
                    currency: q.currency.clone(),
                },
                total: wit_money(&l.total),
            })
            .collect(),
        codes: cart.codes.clone(),
        promotions: q.applied_promotions().into_iter().map(|p| p.name).collect(),
        subtotal: wit_money(&q.subtotal),
        discount: wit_money(&q.discount_total),
        total: wit_money(&q.total),
        expires_at,
    })
}

fn priced_cart(core: &Core, s: &Scope, cart: &domain::Cart, ttl_ms: i64) -> Outcome<wit::Cart> {
    open_cart(cart)?;
    let quote = quote_of(core, s, cart)?;
    wit_cart(core, s, cart, quote.as_ref(), ttl_ms)
}

pub(super) async fn create_cart(
    services: &CoreServices,
    cx: &CallContext,
    customer_id: Option<String>,
) -> ServiceResult<wit::Cart> {
    let ttl = services.cart_ttl_ms;
    services
        .call(cx, "carts.create", move |core, s| {
            let customer = customer_id.map(domain::CustomerId::new);
            if let Some(c) = &customer {
                core.customer_for_channel(&s.tenant, &s.channel, c, Reach::Handed)?;
            }
            let new = domain::NewCart { channel: Some(s.channel.clone()), customer };
            let cart = core.create_cart(&s.tenant, new, s.now)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
}

pub(super) async fn get_cart(services: &CoreServices, cx: &CallContext, cart_id: &str) -> ServiceResult<wit::Cart> {
    let id = domain::CartId::new(cart_id);
    let ttl = services.cart_ttl_ms;
    services
        .call(cx, "carts.get", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            let cart = core.cart_for_channel(&s.tenant, &s.channel, &id)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
}

pub(super) async fn set_cart_quantity(
    services: &CoreServices,
    cx: &CallContext,
    cart_id: &str,
    variant_id: &str,
    quantity: u32,
) -> ServiceResult<wit::Cart> {
    let cart_id = domain::CartId::new(cart_id);
    let variant_id = domain::VariantId::new(variant_id);
    let ttl = services.cart_ttl_ms;
    services.call(cx, "carts.set-quantity", move |core, s| {
        let before = core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
        open_cart(&before)?;
        if quantity > 0 {
            // A channel sells only what it shows.
            let variant = core.get_variant(&s.tenant, &variant_id)?;
            if visible_product(core, s, &variant.product_id)?.is_none() {
                return Err(HostError::NotFound(format!("variant `{variant_id}` is not sold on this channel")).into());
            }
        }
        let previous = before.lines.iter().find(|l| l.variant_id == variant_id).map_or(0, |l| l.quantity);
        let cart = core.set_cart_line(&s.tenant, &cart_id, &variant_id, i64::from(quantity), s.now)?;
        if !cart.lines.is_empty() {
            match core.hold_cart(&s.tenant, &cart_id, ttl, s.now) {
                Ok(_) => {}
                Err(e @ CoreError::InsufficientStock { .. }) => {
                    // The change cannot be held: undo it, so the cart
                    // stays as the shopper last saw it, with its holds.
                    let restored = core.set_cart_line(&s.tenant, &cart_id, &variant_id, previous, s.now)?;
                    if !restored.lines.is_empty()
                        && let Err(again) = core.hold_cart(&s.tenant, &cart_id, ttl, s.now)
                    {
                        tracing::debug!(cart = %cart_id, error = %again, "cart could not be held again after an undo");
                    }
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        priced_cart(core, s, &cart, ttl)
    })
    .await
}

pub(super) async fn apply_code(
    services: &CoreServices,
    cx: &CallContext,
    cart_id: &str,
    code: &str,
) -> ServiceResult<wit::Cart> {
    let cart_id = domain::CartId::new(cart_id);
    let code = code.to_owned();
    let ttl = services.cart_ttl_ms;
    services
        .call(cx, "carts.apply-code", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            let cart = core.apply_code(&s.tenant, &cart_id, &code, s.now)?;
            let quote = quote_of(core, s, &cart)?;
            if let Some(q) = &quote {
                let normalized = domain::pricing::normalize_code(&code)?;
                if q.codes_not_applied.contains(&normalized) {
                    // The contract promises `invalid` for a code that does
                    // not apply; leaving it on the cart would be a surprise.
                    core.remove_code(&s.tenant, &cart_id, &normalized, s.now)?;
                    return Err(HostError::Invalid(format!(
                        "code `{normalized}` does not apply to this cart (its conditions are not met, it expired, \
                         or a better promotion already applies)"
                    ))
                    .into());
                }
            }
            wit_cart(core, s, &cart, quote.as_ref(), ttl)
        })
        .await
}

pub(super) async fn remove_code(
    services: &CoreServices,
    cx: &CallContext,
    cart_id: &str,
    code: &str,
) -> ServiceResult<wit::Cart> {
    let cart_id = domain::CartId::new(cart_id);
    let code = code.to_owned();
    let ttl = services.cart_ttl_ms;
    services
        .call(cx, "carts.remove-code", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            let cart = core.remove_code(&s.tenant, &cart_id, &code, s.now)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
}

pub(super) async fn set_cart_customer(
    services: &CoreServices,
    cx: &CallContext,
    cart_id: &str,
    customer_id: &str,
) -> ServiceResult<wit::Cart> {
    let cart_id = domain::CartId::new(cart_id);
    let customer = domain::CustomerId::new(customer_id);
    let ttl = services.cart_ttl_ms;
    services
        .call(cx, "carts.set-customer", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            core.customer_for_channel(&s.tenant, &s.channel, &customer, Reach::Handed)?;
            // May return the customer's existing cart, into which this one was folded.
            let cart = core.attach_customer(&s.tenant, &cart_id, &customer, Some(&s.channel), s.now)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
}

pub(super) async fn checkout(
    services: &CoreServices,
    cx: &CallContext,
    cart_id: &str,
    fulfillment: wit::Fulfillment,
) -> ServiceResult<wit::Order> {
    let cart_id = domain::CartId::new(cart_id);
    services
        .call(cx, "carts.checkout", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            let request = domain::CheckoutRequest {
                channel: Some(s.channel.clone()),
                fulfilment: core_fulfilment(&fulfillment),
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            };
            let order = core.checkout(&s.tenant, &cart_id, request, s.now)?;
            if let Some(customer) = &order.customer_id {
                core.grant_customer_reach(&s.tenant, &s.channel, customer, Reach::Identified, s.now)?;
            }
            Ok(wit_order(&order))
        })
        .await
}
