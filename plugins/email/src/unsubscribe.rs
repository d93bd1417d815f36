//! One-click unsubscribe (RFC 8058): `POST /unsubscribe?t=<token>` withdraws
//! the customer's marketing e-mail consent, whatever the body (mail clients
//! send `List-Unsubscribe=One-Click`, the page's button sends nothing). A
//! `GET` of the same address, what a person reaching it from the visible link
//! gets, only shows a page with that button: mail scanners follow links, and
//! a link that unsubscribed on `GET` would unsubscribe people who never
//! clicked.
//!
//! The token is the customer id signed with the installation's key, so it
//! cannot be guessed or made for another customer, and it needs no storage.
//! A second click finds the consent withdrawn and changes nothing.

use omnistore_sdk::cookie::CookieKey;
use omnistore_sdk::url::percent_encode;
use omnistore_sdk::{ConsentPurpose, CustomerId, HostError, Params, PluginError, Request, Response, customers};
use serde_json::json;

use crate::campaign::consents;
use crate::config::Config;
use crate::templates::link_page;

/// What the token's signature is bound to, so no other signed value of this
/// installation can pass as one.
const PURPOSE: &str = "email-unsubscribe";

pub fn token(key: &CookieKey, customer: &str) -> String {
    key.sign(PURPOSE, customer)
}

/// The customer a token was made for, if this installation made it.
pub fn customer_of(key: &CookieKey, token: &str) -> Option<String> {
    key.verify(PURPOSE, token).filter(|c| !c.is_empty())
}

/// The unsubscribe address for one customer.
pub fn link(public_url: &str, customer: &str) -> String {
    let token = token(&CookieKey::installation(), customer);
    format!("{public_url}/unsubscribe?t={}", percent_encode(&token))
}

/// `GET /unsubscribe`: the page with the button.
pub fn confirm(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    let config = Config::read()?;
    let state = if customer(req).is_some() { "ask" } else { "invalid" };
    page(&config, state, req)
}

/// `POST /unsubscribe`: the consent withdrawn.
pub fn withdraw(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    let config = Config::read()?;
    let Some(id) = customer(req) else { return page(&config, "invalid", req) };
    match customers::customer(&id) {
        Ok(c) if consents(&c) => {
            customers::record_consent(&id, ConsentPurpose::EmailMarketing, false)?;
            omnistore_sdk::info!("a customer unsubscribed from marketing e-mail", customer = id.as_str());
        }
        // Already withdrawn: the second click is harmless.
        Ok(_) => {}
        // Erased since, or never handed to this channel: nothing left to mail.
        Err(HostError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    page(&config, "done", req)
}

fn customer(req: &Request) -> Option<CustomerId> {
    customer_of(&CookieKey::installation(), &req.query_param("t")?).map(CustomerId::new)
}

fn page(config: &Config, state: &str, req: &Request) -> Result<Response, PluginError> {
    let action = format!("unsubscribe?t={}", percent_encode(&req.query_param("t").unwrap_or_default()));
    link_page(config.language, "unsubscribe", json!({ "action": action }), state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_customer_and_no_other() {
        let key = CookieKey::new(&[9; 32]).unwrap();
        let t = token(&key, "cus-0001");
        assert_eq!(customer_of(&key, &t).as_deref(), Some("cus-0001"));
        assert_eq!(customer_of(&key, &t.replace("cus-0001", "cus-0002")), None);
        assert_eq!(customer_of(&CookieKey::new(&[8; 32]).unwrap(), &t), None, "another installation's key");
        assert_eq!(customer_of(&key, &key.sign("session", "cus-0001")), None, "a value signed for another purpose");
        assert_eq!(customer_of(&key, ""), None);
    }
}
