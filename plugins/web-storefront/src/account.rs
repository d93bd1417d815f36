//! Sign-in by e-mail link: the shopper proves she reads the address, and
//! this browser remembers her until "Not you?". Nothing else identifies a
//! shopper — an address typed at checkout places the order for that profile
//! but shows nothing of it — so her cart from the other channels, her
//! contact and her name are only ever shown to whoever reads her mail.

use serde::Deserialize;
use serde_json::{Map, json};

use omnistore_sdk::mail::{self, Message};
use omnistore_sdk::url::percent_encode;
use omnistore_sdk::{HostError, Identity, IdentityKind, PluginError, Response, clock, customers, storage};

use crate::cart::{self, forbidden};
use crate::checkout::looks_like_email;
use crate::context::{Ctx, mac_part};
use crate::pages::render;
use crate::theme::Theme;

const LINK_CONTEXT: &str = "ws-sign-in";
const RATE_CONTEXT: &str = "ws-sign-in-rate";
/// How long a sign-in link works.
const LINK_MS: i64 = 30 * 60 * 1000;
/// At most one link per address in each such time, so the form cannot flood a mailbox.
const RESEND_MS: i64 = 60 * 1000;
const RATE_PREFIX: &str = "sign-in/";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    authenticity_token: String,
    email: String,
}

fn page(ctx: &Ctx, theme: &Theme, email: &str, error: Option<String>, status: u16) -> Result<Response, PluginError> {
    let title = theme.translate("customer.login.title", &[]);
    let mut extra = Map::new();
    extra.insert("page_title".into(), json!(title));
    extra.insert("page_description".into(), json!(format!("{title} – {}", ctx.shop.name)));
    let sent = error.is_none() && ctx.req.query_param("sent").is_some();
    extra.insert(
        "form".into(),
        json!({ "authenticity_token": ctx.csrf_token(), "email": email, "error": error, "sent": sent }),
    );
    let cart = cart::load(ctx);
    Ok(render(ctx, theme, "customers/login", cart.as_ref(), extra)?
        .with_status(status)
        .with_header("x-robots-tag", "noindex"))
}

/// `GET /account/login`: the form, or what happens next once a link was sent.
pub fn form(ctx: &Ctx) -> Result<Response, PluginError> {
    page(ctx, &Theme::load(ctx), "", None, 200)
}

/// `POST /account/login`: mail a sign-in link to the address. The answer is
/// the same whether the address is a customer's or not, and whether a link
/// went out now or a minute ago.
pub fn request_link(ctx: &Ctx) -> Result<Response, PluginError> {
    let form: SignInForm = ctx.req.form_as()?;
    if !ctx.csrf_ok(&form.authenticity_token) {
        return Ok(forbidden(ctx));
    }
    let email = form.email.trim().to_lowercase();
    let theme = Theme::load(ctx);
    if !looks_like_email(&email) {
        let error = theme.translate("checkout.errors.email_invalid", &[]);
        return page(ctx, &theme, &form.email, Some(error), 422);
    }
    match send_link(ctx, &theme, &email) {
        Ok(()) => Response::redirect_see_other(&ctx.url("/account/login?sent=1")),
        Err(e @ (HostError::Denied(_) | HostError::QuotaExceeded(_) | HostError::Unavailable(_))) => {
            omnistore_sdk::warn!("a sign-in link could not be sent", error = e.message());
            let error = theme.translate("customer.login.unavailable", &[]);
            page(ctx, &theme, &form.email, Some(error), 503)
        }
        Err(e) => Err(e.into()),
    }
}

/// Mail a sign-in link to `email`, unless one went out this minute. A
/// link that could not be sent does not count against the minute.
fn send_link(ctx: &Ctx, theme: &Theme, email: &str) -> Result<(), HostError> {
    let Some(note) = first_request_this_minute(ctx, email)? else {
        return Ok(());
    };
    let expires = clock::now().saturating_add(LINK_MS);
    let signed = ctx.key.sign(LINK_CONTEXT, &format!("{expires}|{email}"));
    let link = ctx.absolute(&format!("/account/login/confirm?token={}", percent_encode(&signed)));
    let shop = ctx.shop.name.clone();
    let subject = theme.translate("customer.login.mail_subject", &[("shop".into(), shop.clone())]);
    let text = theme.translate("customer.login.mail_text", &[("shop".into(), shop), ("link".into(), link)]);
    if let Err(e) = mail::send(&Message::new(email, &subject, &text)) {
        storage::delete(&note)?;
        return Err(e);
    }
    Ok(())
}

/// The note of the first link for `email` in this minute, written
/// atomically under a key of the minute and a MAC of the address (no
/// address is kept in the plugin's storage); `None` when a link already
/// went out this minute. Notes of past minutes are deleted as requests
/// come, so a flood of addresses cannot fill the installation's storage.
fn first_request_this_minute(ctx: &Ctx, email: &str) -> Result<Option<String>, HostError> {
    let minute = clock::now().div_euclid(RESEND_MS);
    let current = format!("{RATE_PREFIX}{minute:015}/");
    for old in storage::list_keys(RATE_PREFIX, None, 100)?.into_iter().take_while(|k| *k < current) {
        storage::delete(&old)?;
    }
    let key = format!("{current}{}", mac_part(&ctx.key.sign(RATE_CONTEXT, email)));
    Ok(storage::compare_and_set(&key, None, Some(b"1"))?.then_some(key))
}

/// `GET /account/login/confirm?token=`: the link from the mail. The browser
/// remembers the customer and goes to her cart, the one she has everywhere.
pub fn confirm(ctx: &Ctx) -> Result<Response, PluginError> {
    let proven =
        ctx.req.query_param("token").and_then(|token| ctx.key.verify(LINK_CONTEXT, &token)).and_then(|value| {
            let (expires, email) = value.split_once('|')?;
            let expires = expires.parse::<i64>().ok()?;
            (clock::now() <= expires).then(|| email.to_string())
        });
    let Some(email) = proven else {
        let theme = Theme::load(ctx);
        let error = theme.translate("customer.login.link_invalid", &[]);
        return page(ctx, &theme, "", Some(error), 410);
    };
    let customer = customers::identify(&Identity { kind: IdentityKind::Email, value: email }, None)?;
    ctx.remember_customer(&customer.id);
    // The cart this browser held is folded into hers on the next page.
    Response::redirect_see_other(&ctx.url("/cart"))
}

/// `POST /account/logout`: "Not you?" — this browser forgets the customer
/// and her cart; nothing of hers is changed.
pub fn forget(ctx: &Ctx) -> Result<Response, PluginError> {
    let form: SignInForm = ctx.req.form_as()?;
    if !ctx.csrf_ok(&form.authenticity_token) {
        return Ok(forbidden(ctx));
    }
    ctx.forget_customer();
    ctx.forget_cart();
    Response::redirect_see_other(&ctx.url("/"))
}
