//! What Twilio calls: `POST /inbound` for a text a customer sent to the
//! merchant's number, `POST /status` for a delivery report of a text the
//! plugin sent. Both are signed by Twilio (`X-Twilio-Signature`); an
//! unsigned or wrongly signed call is answered 403 and changes nothing.

use omnistore_sdk::{
    ConsentPurpose, HostError, Identity, IdentityKind, Params, PluginError, Request, Response, clock, customers,
    settings, storage,
};
use omnistore_sms::{Keyword, keyword, signature};
use serde_json::json;

use crate::records::{self, Record};
use crate::send::Text;
use crate::twilio::UNSUBSCRIBED;
use crate::{texts, twiml};

/// The header Twilio signs its webhook requests with.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// A text from a customer: STOP and its synonyms withdraw SMS consent,
/// START restores it, HELP is answered with the merchant's contact.
pub fn inbound(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    let Some(form) = verified(req) else { return Ok(forbidden()) };
    let from = field(&form, "From");
    let answer = match keyword(field(&form, "Body")) {
        Some(Keyword::OptOut) => {
            record_consent(from, false)?;
            texts::text("stop", &json!({ "shop": { "name": settings::shop().name } }))?
        }
        Some(Keyword::OptIn) => {
            record_consent(from, true)?;
            texts::text("start", &json!({ "shop": { "name": settings::shop().name } }))?
        }
        Some(Keyword::Help) => {
            let shop = settings::shop();
            let contact = settings::get("help_contact")
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .or(shop.contact_phone)
                .or(shop.contact_email)
                .unwrap_or_default();
            texts::text("help", &json!({ "shop": { "name": shop.name }, "contact": contact }))?
        }
        // A number answers a survey; any other text is for the merchant to
        // read in Twilio, with no reply.
        None => crate::survey::answer(from, field(&form, "Body"))?,
    };
    Ok(twiml::reply(answer.as_deref()))
}

/// A delivery report: the text's record takes the new status; a report of
/// error 21610 (the recipient had unsubscribed) withdraws SMS consent.
pub fn status(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    let Some(form) = verified(req) else { return Ok(forbidden()) };
    // The callback address names the text it is about (the plugin set it,
    // and the signature covers it).
    let order_text = (req.query_param("order"), req.query_param("text").and_then(|t| Text::from_name(&t)));
    let campaign = (req.query_param("campaign"), req.query_param("customer"));
    let key = match (order_text, campaign) {
        ((Some(order), Some(text)), _) => records::key(&order, text.name()),
        (_, (Some(campaign), Some(customer))) => records::campaign_key(&campaign, &customer),
        _ => return Ok(Response::new(204)),
    };
    let sid = field(&form, "MessageSid").to_string();
    let status = field(&form, "MessageStatus").to_ascii_lowercase();
    let code = field(&form, "ErrorCode").trim().parse::<i64>().ok();
    if status.is_empty() {
        return Err(PluginError::bad_request("a status callback without MessageStatus"));
    }
    if storage::get(&key)?.is_none() {
        // Not a text of this installation (or one it no longer keeps).
        return Ok(Response::new(204));
    }
    let now = clock::now();
    // A report of another message than the one recorded does not count.
    let about_it = |r: &Record| r.sid.as_deref().is_none_or(|s| s == sid);
    let updated = storage::update_json(&key, |stored: Option<Record>| {
        stored.map(|mut r| {
            if about_it(&r) {
                r.report(&status, code, now);
            }
            r
        })
    })?;
    if code == Some(UNSUBSCRIBED)
        && let Some(customer) = updated.filter(about_it).and_then(|r| r.customer_id)
    {
        customers::set_consent(&customer, ConsentPurpose::SmsMarketing, false)?;
        omnistore_sdk::warn!("a delivery report says the recipient unsubscribed; SMS consent withdrawn");
    }
    Ok(Response::new(204))
}

/// Record a consent decision texted from `from`, for the customer known by
/// that number (created when unknown, so an opt-out is kept even for a
/// number the shop has not seen yet).
fn record_consent(from: &str, granted: bool) -> Result<(), PluginError> {
    let identity = Identity { kind: IdentityKind::Phone, value: from.to_string() };
    let customer = match customers::identify(&identity, None) {
        Ok(c) => c,
        Err(HostError::Invalid(why)) => {
            // A short code or a sender name: nobody to record it for.
            omnistore_sdk::warn!("a keyword came from something that is not a phone number", why = why);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    customers::set_consent(&customer.id, ConsentPurpose::SmsMarketing, granted)?;
    omnistore_sdk::info!(if granted { "SMS consent restored by START" } else { "SMS consent withdrawn by STOP" });
    Ok(())
}

/// The request's form fields when Twilio signed it, else `None`.
///
/// Twilio signs the address it called: the installation's public address
/// as the host saw the request (`x-omnistore-base-url`) or, behind a proxy
/// that changes it, the `callback_base_url` the merchant set; either is
/// accepted, both need the Auth Token.
fn verified(req: &Request) -> Option<Vec<(String, String)>> {
    let token = settings::get("auth_token").map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let Some(token) = token else {
        omnistore_sdk::error!("a Twilio webhook was refused: the secret `auth_token` is not set");
        return None;
    };
    let signature = req.header(SIGNATURE_HEADER)?;
    let form = req.form().ok()?.fields().to_vec();
    let suffix = if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
    let configured = settings::get("callback_base_url").map(|b| b.trim().trim_end_matches('/').to_string());
    let bases = [req.base_url().map(str::to_string), configured.filter(|b| !b.is_empty())];
    let ok = bases.iter().flatten().any(|base| signature::verify(&token, &format!("{base}{suffix}"), &form, signature));
    if !ok {
        omnistore_sdk::warn!("a webhook without a valid Twilio signature was refused", path = req.path);
    }
    ok.then_some(form)
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn forbidden() -> Response {
    Response::text("Forbidden: the request is not signed by Twilio with this installation's Auth Token")
        .with_status(403)
}
