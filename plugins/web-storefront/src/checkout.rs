//! Checkout for a guest or a known customer: contact, marketing consents (unticked by default),
//! fulfillment (pickup where every line is in stock, ship-to-store, or
//! shipping), payment (at pickup, or by bank transfer); the order placed by
//! the core, and its status page behind an unguessable link.

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use omnistore_sdk::ids::{LocationId, OrderId};
use omnistore_sdk::{
    Address, Cart, CheckoutRequest, Contact, Fulfillment, HostError, Location, Order, OrderStatus, PaymentMethod,
    PluginError, Response, carts, catalog, locations, orders,
};

use crate::cart::{self, forbidden};
use crate::context::Ctx;
use crate::objects;
use crate::pages::{not_found, render};
use crate::theme::Theme;
use crate::visit;

/// What the checkout form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CheckoutForm {
    authenticity_token: String,
    email: String,
    phone: String,
    name: String,
    email_marketing: bool,
    sms_marketing: bool,
    /// `pickup:LOCATION`, `ship-to-store:LOCATION` or `ship`.
    fulfillment: String,
    address1: String,
    address2: String,
    zip: String,
    city: String,
    province: String,
    country: String,
    /// `pay-at-pickup` or `manual`.
    payment: String,
    note: String,
}

impl CheckoutForm {
    fn values(&self) -> Json {
        json!({
            "email": self.email, "phone": self.phone, "name": self.name,
            "email_marketing": self.email_marketing, "sms_marketing": self.sms_marketing,
            "fulfillment": self.fulfillment, "address1": self.address1, "address2": self.address2,
            "zip": self.zip, "city": self.city, "province": self.province, "country": self.country,
            "payment": self.payment, "note": self.note,
        })
    }
}

/// The pickup locations for the cart, and the other pickup-enabled ones
/// (for ship-to-store).
fn fulfillment_choices(cart: &Cart) -> Result<(Vec<Location>, Vec<Location>), PluginError> {
    let pickup = locations::for_cart(&cart.cart_id())?;
    let stores: Vec<Location> =
        locations::all()?.into_iter().filter(|l| l.pickup && !pickup.iter().any(|p| p.id == l.id)).collect();
    Ok((pickup, stores))
}

fn checkout_page(
    ctx: &Ctx,
    theme: &Theme,
    cart: &Cart,
    form: Json,
    errors: Vec<String>,
    status: u16,
) -> Result<Response, PluginError> {
    let (pickup, stores) = fulfillment_choices(cart)?;
    let title = theme.translate("checkout.title", &[]);
    let mut form = form;
    form["errors"] = json!(errors);
    let mut extra = Map::new();
    extra.insert("page_title".into(), json!(title));
    extra.insert("page_description".into(), json!(format!("{title} – {}", ctx.shop.name)));
    extra.insert("form".into(), form);
    extra.insert(
        "checkout".into(),
        json!({
            "pickup_locations": pickup.iter().map(objects::location).collect::<Vec<_>>(),
            "store_locations": stores.iter().map(objects::location).collect::<Vec<_>>(),
            "bank_transfer_instructions": ctx.settings.bank_transfer_instructions,
        }),
    );
    Ok(render(ctx, theme, "checkout", Some(cart), extra)?.with_status(status).with_header("x-robots-tag", "noindex"))
}

/// `GET /checkout`.
pub fn page(ctx: &Ctx) -> Result<Response, PluginError> {
    let Some(cart) = cart::load(ctx).filter(|c| !c.lines.is_empty()) else {
        return Response::redirect_see_other(&ctx.url("/cart"));
    };
    let theme = Theme::load(ctx);
    let (pickup, _) = fulfillment_choices(&cart)?;
    let mut defaults = match pickup.first() {
        Some(l) => json!({ "fulfillment": format!("pickup:{}", l.id), "payment": "pay-at-pickup", "country": "IT" }),
        None => json!({ "fulfillment": "ship", "payment": "manual", "country": "IT" }),
    };
    if let Some(customer) = ctx.customer() {
        // A signed-in customer finds her contact filled in; consents stay unticked.
        for field in ["email", "phone", "name"] {
            defaults[field] = customer[field].clone();
        }
    }
    visit::record(ctx, "checkout-start", None, None, Some(format!("cart={}", cart.id)));
    checkout_page(ctx, &theme, &cart, defaults, Vec::new(), 200)
}

/// Why the form cannot be placed, as translation keys.
fn validate(form: &CheckoutForm) -> Result<CheckoutRequest, Vec<&'static str>> {
    let mut errors = Vec::new();
    let contact = Contact::from_fields(&form.email, &form.phone, &form.name);
    if contact.is_none() {
        errors.push("checkout.errors.contact_missing");
    }
    let email = form.email.trim();
    if !email.is_empty() && !looks_like_email(email) {
        errors.push("checkout.errors.email_invalid");
    }
    let fulfillment = match form.fulfillment.split_once(':') {
        Some(("pickup", id)) if !id.is_empty() => Some(Fulfillment::pickup_at(&LocationId::new(id))),
        Some(("ship-to-store", id)) if !id.is_empty() => Some(Fulfillment::ship_to_store_at(&LocationId::new(id))),
        None if form.fulfillment == "ship" => {
            let field = |s: &str| s.trim().to_string();
            let country = field(&form.country).to_ascii_uppercase();
            if [&form.address1, &form.zip, &form.city].iter().any(|f| f.trim().is_empty())
                || country.len() != 2
                || !country.bytes().all(|b| b.is_ascii_alphabetic())
            {
                errors.push("checkout.errors.address_missing");
                None
            } else if form.name.trim().is_empty() {
                // The core refuses a parcel without a recipient: say so by the form.
                errors.push("checkout.errors.name_missing");
                None
            } else {
                Some(Fulfillment::Ship(Address {
                    name: field(&form.name),
                    line1: field(&form.address1),
                    line2: Some(field(&form.address2)).filter(|s| !s.is_empty()),
                    city: field(&form.city),
                    region: Some(field(&form.province)).filter(|s| !s.is_empty()),
                    postal_code: field(&form.zip),
                    country,
                    phone: Some(field(&form.phone)).filter(|s| !s.is_empty()),
                }))
            }
        }
        _ => {
            errors.push("checkout.errors.fulfillment_missing");
            None
        }
    };
    let payment = PaymentMethod::parse(&form.payment);
    match (payment, &fulfillment) {
        (None, _) => errors.push("checkout.errors.payment_missing"),
        (Some(PaymentMethod::PayAtPickup), Some(Fulfillment::Ship(_))) => {
            errors.push("checkout.errors.pay_at_pickup_needs_collection")
        }
        _ => {}
    }
    match (contact, fulfillment, payment) {
        (Some(contact), Some(fulfillment), Some(payment)) if errors.is_empty() => {
            let note: String = form.note.trim().chars().take(1000).collect();
            let mut request = CheckoutRequest::new(contact, fulfillment, payment)
                .with_email_marketing(form.email_marketing)
                .with_sms_marketing(form.sms_marketing);
            if !note.is_empty() {
                request = request.with_note(note);
            }
            Ok(request)
        }
        _ => Err(errors),
    }
}

pub fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// `POST /checkout`: place the order and show its status page (303), or the
/// form again with what to fix (422), or a clear page when stock ran out
/// meanwhile (409; nothing is ordered).
pub fn submit(ctx: &Ctx) -> Result<Response, PluginError> {
    let form: CheckoutForm = ctx.req.form_as()?;
    if !ctx.csrf_ok(&form.authenticity_token) {
        return Ok(forbidden(ctx));
    }
    let Some(cart) = cart::load(ctx).filter(|c| !c.lines.is_empty()) else {
        return Response::redirect_see_other(&ctx.url("/cart"));
    };
    let theme = Theme::load(ctx);
    let request = match validate(&form) {
        Ok(r) => r.with_visitor(ctx.visitor.clone()),
        Err(keys) => {
            let errors = keys.iter().map(|k| theme.translate(k, &[])).collect();
            return checkout_page(ctx, &theme, &cart, form.values(), errors, 422);
        }
    };
    match carts::place_order(&cart.cart_id(), &request) {
        Ok(order) => {
            ctx.forget_cart();
            visit::record(ctx, "checkout-complete", None, None, Some(format!("order={}", order.id)));
            let url = ctx.url(&format!("/orders/{}/{}?placed=1", order.id, ctx.order_token(&order.id)));
            Response::redirect_see_other(&url)
        }
        Err(HostError::Conflict(reason)) => {
            omnistore_sdk::info!("checkout refused: stock ran out", cart = cart.id, reason = reason);
            sold_out_page(ctx, &theme, &cart)
        }
        Err(HostError::Invalid(reason)) => {
            let error = theme.translate("checkout.errors.rejected", &[("reason".into(), reason)]);
            checkout_page(ctx, &theme, &cart, form.values(), vec![error], 422)
        }
        Err(e) => Err(e.into()),
    }
}

/// The cart as it stands, with how many of each line are left.
fn sold_out_page(ctx: &Ctx, theme: &Theme, cart: &Cart) -> Result<Response, PluginError> {
    let mut cart_json = objects::cart(ctx, Some(cart));
    if let Some(items) = cart_json["items"].as_array_mut() {
        for (item, line) in items.iter_mut().zip(&cart.lines) {
            let left = catalog::product(&line.product_id())
                .ok()
                .flatten()
                .and_then(|p| p.variants.into_iter().find(|v| v.id == line.variant_id))
                .map_or(0, |v| if v.backorderable { i64::from(line.quantity) } else { v.available.max(0) });
            item["available_quantity"] = json!(left);
        }
    }
    let title = theme.translate("sold_out.title", &[]);
    let mut extra = Map::new();
    extra.insert("page_title".into(), json!(title));
    extra.insert("page_description".into(), json!(title));
    // The page's cart object shows what is left per line.
    extra.insert("cart".into(), cart_json);
    let response = render(ctx, theme, "sold-out", Some(cart), extra)?;
    Ok(response.with_status(409).with_header("x-robots-tag", "noindex"))
}

fn status_key(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => "placed",
        OrderStatus::ReadyForPickup => "ready-for-pickup",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Completed => "completed",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Refunded => "refunded",
    }
}

fn order_json(ctx: &Ctx, theme: &Theme, order: &Order) -> Result<Json, PluginError> {
    let all = locations::all()?;
    let location = |id: &str| all.iter().find(|l| l.id == id).map(objects::location);
    let fulfillment = match &order.fulfillment {
        Fulfillment::Pickup(id) => json!({ "kind": "pickup", "location": location(id) }),
        Fulfillment::ShipToStore(id) => json!({ "kind": "ship-to-store", "location": location(id) }),
        Fulfillment::Ship(a) => json!({ "kind": "ship", "address": {
            "name": a.name, "line1": a.line1, "line2": a.line2, "city": a.city, "region": a.region,
            "postal_code": a.postal_code, "country": a.country,
        }}),
    };
    let key = status_key(order.status);
    Ok(json!({
        "id": order.id,
        "name": order.number,
        "order_number": order.number,
        "status": key,
        "status_label": theme.translate(&format!("order.statuses.{key}"), &[]),
        "line_items": order.lines.iter().map(|l| json!({
            "title": l.title, "sku": l.sku, "quantity": l.quantity,
            "original_price": l.unit_price.amount_minor,
            "final_line_price": l.total.amount_minor,
            "total_discount": l.discount.amount_minor,
        })).collect::<Vec<_>>(),
        "subtotal_price": order.subtotal.amount_minor,
        "total_discounts": order.discount.amount_minor,
        "total_price": order.total.amount_minor,
        "fulfillment": fulfillment,
        "payment": order.payment.map(|p| p.as_str()),
        "email": order.email,
        "phone": order.phone,
        "created_at": objects::iso_time(order.placed_at),
        "bank_transfer_instructions": ctx.settings.bank_transfer_instructions,
        "just_placed": ctx.req.query_param("placed").as_deref() == Some("1"),
    }))
}

/// `GET /orders/:id/:token`: the order's status, for whoever holds the link.
pub fn order_page(ctx: &Ctx, id: &str, token: &str) -> Result<Response, PluginError> {
    if !ctx.order_token_ok(id, token) {
        return not_found(ctx);
    }
    let order = match orders::order(&OrderId::new(id)) {
        Ok(order) => order,
        Err(HostError::NotFound(_)) => return not_found(ctx),
        Err(e) => return Err(e.into()),
    };
    let theme = Theme::load(ctx);
    let title = theme.translate("order.title", &[("number".into(), order.number.clone())]);
    let mut extra = Map::new();
    extra.insert("page_title".into(), json!(title));
    extra.insert("page_description".into(), json!(title));
    extra.insert("order".into(), order_json(ctx, &theme, &order)?);
    let cart = cart::load(ctx);
    Ok(render(ctx, &theme, "order", cart.as_ref(), extra)?
        .with_header("x-robots-tag", "noindex")
        .with_header("referrer-policy", "no-referrer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fulfillment: &str, payment: &str) -> CheckoutForm {
        CheckoutForm {
            email: "giulia@example.com".into(),
            fulfillment: fulfillment.into(),
            payment: payment.into(),
            ..CheckoutForm::default()
        }
    }

    #[test]
    fn the_form_becomes_a_checkout_request_or_says_what_to_fix() {
        let r = validate(&form("pickup:loc-1", "pay-at-pickup")).unwrap();
        assert_eq!(r.fulfillment, Fulfillment::Pickup("loc-1".into()));
        assert!(!r.email_marketing && !r.sms_marketing);
        assert_eq!(
            validate(&CheckoutForm { email: String::new(), ..form("ship", "manual") }).unwrap_err(),
            ["checkout.errors.contact_missing", "checkout.errors.address_missing"]
        );
        assert_eq!(validate(&form("pickup:loc-1", "cash")).unwrap_err(), ["checkout.errors.payment_missing"]);
        assert_eq!(validate(&form("", "manual")).unwrap_err(), ["checkout.errors.fulfillment_missing"]);
        let nameless = CheckoutForm {
            name: String::new(),
            address1: "Via Roma 1".into(),
            zip: "80100".into(),
            city: "Napoli".into(),
            country: "it".into(),
            ..form("ship", "manual")
        };
        assert_eq!(validate(&nameless).unwrap_err(), ["checkout.errors.name_missing"]);
        let shipped = CheckoutForm {
            name: "Anna Esposito".into(),
            address1: "Via Roma 1".into(),
            zip: "80100".into(),
            city: "Napoli".into(),
            country: "it".into(),
            ..form("ship", "pay-at-pickup")
        };
        assert_eq!(validate(&shipped).unwrap_err(), ["checkout.errors.pay_at_pickup_needs_collection"]);
        let shipped = CheckoutForm { payment: "manual".into(), ..shipped };
        let Fulfillment::Ship(address) = validate(&shipped).unwrap().fulfillment else { panic!() };
        assert_eq!(address.country, "IT");
        assert_eq!(
            validate(&CheckoutForm { email: "nope".into(), ..form("ship-to-store:l", "manual") }).unwrap_err(),
            ["checkout.errors.email_invalid"]
        );
        let phone_only =
            CheckoutForm { email: String::new(), phone: "+39 333 1234567".into(), ..form("pickup:l", "manual") };
        assert_eq!(validate(&phone_only).unwrap().contact.phone.as_deref(), Some("+39 333 1234567"));
    }
}
