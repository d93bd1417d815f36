//! The cart: kept by the core, its id in a signed cookie; the cart page and
//! its forms, which work without JavaScript.

use serde_json::{Map, json};

use omnistore_sdk::ids::VariantId;
use omnistore_sdk::{Cart, HostError, PluginError, Response, carts};

use crate::context::Ctx;
use crate::pages::render;
use crate::theme::Theme;
use crate::visit;

/// The most units of one variant a cart line may hold.
pub const MAX_QUANTITY: u32 = 999;

/// Why a cart change was refused, in the shopper's terms.
#[derive(Debug)]
pub enum CartError {
    /// No such variant on this channel.
    Unavailable,
    /// Not enough stock for the quantity asked.
    NotEnough(String),
    /// A discount code that does not apply.
    Code(String),
    /// A quantity out of range or a line that does not exist.
    Invalid(String),
    /// Anything else the host answered.
    Host(HostError),
}

impl CartError {
    fn from_host(e: HostError) -> CartError {
        match e {
            HostError::NotFound(_) => CartError::Unavailable,
            HostError::Conflict(m) => CartError::NotEnough(m),
            HostError::Invalid(m) => CartError::Invalid(m),
            other => CartError::Host(other),
        }
    }

    /// The message for the shopper, translated by the theme where it can be.
    pub fn message(&self, theme: Option<&Theme>) -> String {
        let t =
            |key: &str, fallback: &str| theme.map(|t| t.translate(key, &[])).unwrap_or_else(|| fallback.to_string());
        match self {
            CartError::Unavailable => t("cart.errors.unavailable", "This product is not available."),
            CartError::NotEnough(m) => {
                let fallback = format!("Not enough stock: {m}");
                theme.map(|_| format!("{} ({m})", t("sold_out.title", &fallback))).unwrap_or(fallback)
            }
            CartError::Code(code) => theme
                .map(|t| t.translate("cart.errors.code_invalid", &[("code".into(), code.clone())]))
                .unwrap_or_else(|| format!("The code {code} cannot be used with this cart.")),
            CartError::Invalid(m) => m.clone(),
            CartError::Host(e) => e.message().to_string(),
        }
    }

    /// The HTTP status an Ajax client gets.
    pub fn status(&self) -> u16 {
        match self {
            CartError::Unavailable => 404,
            CartError::Host(HostError::Unavailable(_)) => 503,
            CartError::Host(_) => 500,
            _ => 422,
        }
    }
}

/// The cart this browser holds, when it still exists. For a customer this
/// browser remembers, her open cart wherever she started it (Instagram, a
/// chat, another device): the browser's own cart is folded into it, or
/// becomes it, and the host hands it to this channel.
pub fn load(ctx: &Ctx) -> Option<Cart> {
    let held = ctx.cart_id().and_then(|id| carts::cart(&id).ok());
    let Some(customer) = ctx.customer_id() else {
        return held;
    };
    let continued = match held.as_ref().map(|c| (c, c.customer_id.as_deref())) {
        Some((_, Some(owner))) if owner == customer.as_str() => return held,
        Some((cart, None)) => carts::attach_customer(&cart.cart_id(), &customer),
        // No cart, or one of whoever signed in here before her: hers.
        Some((_, Some(_))) | None => carts::new_cart(Some(&customer)),
    };
    match continued {
        Ok(cart) => {
            if held.as_ref().is_none_or(|h| h.id != cart.id) {
                ctx.remember_cart(&cart.cart_id());
            }
            Some(cart)
        }
        Err(e) => {
            if matches!(e, HostError::NotFound(_)) {
                // Erased, or no longer this channel's to see.
                ctx.forget_customer();
            }
            omnistore_sdk::warn!("the customer's cart could not be continued", error = e.message());
            held
        }
    }
}

/// The browser's cart, created (and its cookie set) when it has none.
pub fn load_or_create(ctx: &Ctx) -> Result<Cart, CartError> {
    if let Some(cart) = load(ctx) {
        return Ok(cart);
    }
    let cart = carts::new_cart(None).map_err(CartError::Host)?;
    ctx.remember_cart(&cart.cart_id());
    Ok(cart)
}

fn quantity_of(cart: &Cart, variant: &str) -> u32 {
    cart.lines.iter().find(|l| l.variant_id == variant).map_or(0, |l| l.quantity)
}

/// Add `quantity` units of `variant`, recording the add-to-cart touchpoint.
pub fn add(ctx: &Ctx, variant: &str, quantity: u32) -> Result<Cart, CartError> {
    if quantity == 0 || quantity > MAX_QUANTITY {
        return Err(CartError::Invalid(format!("the quantity must be between 1 and {MAX_QUANTITY}")));
    }
    let cart = load_or_create(ctx)?;
    let total = quantity_of(&cart, variant).saturating_add(quantity).min(MAX_QUANTITY);
    let variant_id = VariantId::new(variant);
    let cart = carts::set_line_quantity(&cart.cart_id(), &variant_id, total).map_err(CartError::from_host)?;
    let product = cart.lines.iter().find(|l| l.variant_id == variant).map(|l| l.product_id());
    visit::record(ctx, "add-to-cart", product.as_ref(), Some(&variant_id), Some(format!("quantity={quantity}")));
    Ok(cart)
}

/// Set the quantity of `variant` (0 removes the line).
pub fn set(ctx: &Ctx, variant: &str, quantity: u32) -> Result<Cart, CartError> {
    if quantity > MAX_QUANTITY {
        return Err(CartError::Invalid(format!("the quantity must be at most {MAX_QUANTITY}")));
    }
    let cart = load_or_create(ctx)?;
    if quantity == 0 && quantity_of(&cart, variant) == 0 {
        return Ok(cart);
    }
    carts::set_line_quantity(&cart.cart_id(), &VariantId::new(variant), quantity).map_err(CartError::from_host)
}

/// The variant of line `line` (counted from 1, as Shopify does).
pub fn variant_of_line(cart: &Cart, line: usize) -> Result<String, CartError> {
    line.checked_sub(1)
        .and_then(|i| cart.lines.get(i))
        .map(|l| l.variant_id.clone())
        .ok_or_else(|| CartError::Invalid(format!("the cart has no line {line}")))
}

pub fn clear(ctx: &Ctx) -> Result<Cart, CartError> {
    let mut cart = load_or_create(ctx)?;
    for line in cart.lines.clone() {
        cart = carts::set_line_quantity(&cart.cart_id(), &line.variant_id(), 0).map_err(CartError::from_host)?;
    }
    Ok(cart)
}

pub fn apply_code(ctx: &Ctx, code: &str) -> Result<Cart, CartError> {
    let cart = load_or_create(ctx)?;
    carts::apply_discount_code(&cart.cart_id(), code).map_err(|e| match e {
        HostError::Invalid(_) | HostError::NotFound(_) | HostError::Conflict(_) => CartError::Code(code.to_string()),
        other => CartError::Host(other),
    })
}

pub fn remove_code(ctx: &Ctx, code: &str) -> Result<Cart, CartError> {
    let cart = load_or_create(ctx)?;
    carts::remove_discount_code(&cart.cart_id(), code).map_err(CartError::from_host)
}

/// The answer to a form post that failed its anti-forgery check.
pub fn forbidden(ctx: &Ctx) -> Response {
    let _ = ctx;
    Response::html(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>The form has expired</title>\n</head>\n<body>\n<main>\n<h1>The form has expired</h1>\n<p>Go back, reload the page and send the form again.</p>\n</main>\n</body>\n</html>\n",
    )
    .with_status(403)
}

/// The form's fields, after checking its anti-forgery token.
fn checked_form(ctx: &Ctx) -> Result<Option<omnistore_sdk::Form>, PluginError> {
    let form = ctx.req.form()?;
    let token = form.get("authenticity_token").unwrap_or("");
    Ok(ctx.csrf_ok(token).then_some(form))
}

fn back_to_cart(ctx: &Ctx) -> Result<Response, PluginError> {
    Response::redirect_see_other(&ctx.url("/cart"))
}

/// The cart page, with an error above it when a change was refused.
pub fn page_with_error(ctx: &Ctx, error: Option<&CartError>, status: u16) -> Result<Response, PluginError> {
    let theme = Theme::load(ctx);
    let cart = load(ctx);
    let title = theme.translate("cart.title", &[]);
    let mut extra = Map::new();
    extra.insert("page_title".into(), json!(title));
    extra.insert("page_description".into(), json!(format!("{title} – {}", ctx.shop.name)));
    if let Some(e) = error {
        extra.insert("cart_error".into(), json!(e.message(Some(&theme))));
    }
    Ok(render(ctx, &theme, "cart", cart.as_ref(), extra)?.with_status(status).with_header("x-robots-tag", "noindex"))
}

pub fn page(ctx: &Ctx) -> Result<Response, PluginError> {
    page_with_error(ctx, None, 200)
}

fn quantity_field(value: Option<&str>, default: u32) -> Result<u32, CartError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().map_err(|_| CartError::Invalid(format!("{v:?} is not a quantity"))),
    }
}

fn outcome(ctx: &Ctx, result: Result<Cart, CartError>) -> Result<Response, PluginError> {
    match result {
        Ok(_) => back_to_cart(ctx),
        Err(CartError::Host(e)) => Err(e.into()),
        Err(e) => page_with_error(ctx, Some(&e), 422),
    }
}

/// `POST /cart/add`: `id` and `quantity` (default 1).
pub fn add_form(ctx: &Ctx) -> Result<Response, PluginError> {
    let Some(form) = checked_form(ctx)? else { return Ok(forbidden(ctx)) };
    let Some(variant) = form.get("id").filter(|v| !v.is_empty()) else {
        return outcome(ctx, Err(CartError::Invalid("choose a product to add".into())));
    };
    let result = quantity_field(form.get("quantity"), 1).and_then(|q| add(ctx, variant, q));
    outcome(ctx, result)
}

/// `POST /cart/change`: `line` (from 1) or `id`, and `quantity`.
pub fn change_form(ctx: &Ctx) -> Result<Response, PluginError> {
    let Some(form) = checked_form(ctx)? else { return Ok(forbidden(ctx)) };
    let result = (|| {
        let quantity = quantity_field(form.get("quantity"), 0)?;
        let variant = match (form.get("line"), form.get("id")) {
            (Some(line), _) if !line.is_empty() => {
                let line = line.parse::<usize>().map_err(|_| CartError::Invalid(format!("{line:?} is not a line")))?;
                variant_of_line(&load_or_create(ctx)?, line)?
            }
            (_, Some(id)) if !id.is_empty() => id.to_string(),
            _ => return Err(CartError::Invalid("say which line to change".into())),
        };
        set(ctx, &variant, quantity)
    })();
    outcome(ctx, result)
}

/// `POST /cart/update`: `updates[VARIANT]=QUANTITY` for each line, and
/// `discount=CODE` to apply a code or `remove_discount=CODE` to take one off.
pub fn update_form(ctx: &Ctx) -> Result<Response, PluginError> {
    let Some(form) = checked_form(ctx)? else { return Ok(forbidden(ctx)) };
    let result = (|| {
        let mut cart = load_or_create(ctx)?;
        for (name, value) in form.fields() {
            if let Some(variant) = name.strip_prefix("updates[").and_then(|r| r.strip_suffix(']')) {
                let quantity = quantity_field(Some(value), 0)?;
                if quantity != quantity_of(&cart, variant) {
                    cart = set(ctx, variant, quantity)?;
                }
            }
        }
        if let Some(code) = form.get("remove_discount").map(str::trim).filter(|c| !c.is_empty()) {
            cart = remove_code(ctx, code)?;
        }
        if let Some(code) = form.get("discount").map(str::trim).filter(|c| !c.is_empty()) {
            cart = apply_code(ctx, code)?;
        }
        Ok(cart)
    })();
    outcome(ctx, result)
}

/// `POST /cart/clear`.
pub fn clear_form(ctx: &Ctx) -> Result<Response, PluginError> {
    let Some(_) = checked_form(ctx)? else { return Ok(forbidden(ctx)) };
    outcome(ctx, clear(ctx))
}
