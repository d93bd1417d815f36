//! Who is at the browser, kept in cookies signed with the installation's key:
//! a random visitor id, the name the visitor gave, and the anti-forgery
//! token of the visitor's forms.
//!
//! Every call runs in a fresh instance, so what must outlive a request lives
//! here or in storage. A signed cookie comes back as it was set or not at all.

use omnistore_sdk::cookie::{Cookie, CookieKey};
use omnistore_sdk::{PluginError, Request, Response, settings};

/// Cookie names carry the plugin's prefix: every installation on a host
/// name shares its cookies (the web storefront runs beside this one).
const VISITOR_COOKIE: &str = "hello_visitor";
const NAME_COOKIE: &str = "hello_name";
/// What the form token's MAC is bound to, so the visitor cookie's own value
/// can never pass as a token.
const FORM_TOKEN: &str = "hello_form";
const YEAR: u64 = 60 * 60 * 24 * 365;

/// The visitor of one request.
pub struct Visitor {
    key: CookieKey,
    id: String,
    /// No valid visitor cookie came with the request.
    is_new: bool,
    /// The name the visitor gave in the guestbook form, when they did.
    pub name: Option<String>,
}

impl Visitor {
    pub fn of(req: &Request) -> Visitor {
        let key = CookieKey::installation();
        let (id, is_new) = match req.signed_cookie(&key, VISITOR_COOKIE) {
            Some(id) => (id, false),
            None => (settings::random_token(16), true),
        };
        let name = req.signed_cookie(&key, NAME_COOKIE).and_then(|hex| from_hex(&hex));
        Visitor { key, id, is_new, name }
    }

    /// The token the visitor's forms carry: the MAC of the visitor id. A page
    /// of another site can neither read it from ours nor compute it.
    pub fn form_token(&self) -> String {
        let signed = self.key.sign(FORM_TOKEN, &self.id);
        signed[self.id.len() + 1..].to_string()
    }

    /// Whether a posted form carries this visitor's token (compared in
    /// constant time). A form from elsewhere arrives without the visitor
    /// cookie (`SameSite=Lax`) or with a token made for someone else.
    pub fn sent_own_token(&self, token: &str) -> bool {
        !self.is_new && self.key.verify(FORM_TOKEN, &format!("{}.{token}", self.id)).is_some()
    }

    /// `response`, setting the visitor cookie when the visitor is new, so the
    /// token of the page's form is theirs on the way back.
    pub fn welcome(&self, response: Response) -> Result<Response, PluginError> {
        if !self.is_new {
            return Ok(response);
        }
        response.with_cookie(Cookie::signed(&self.key, VISITOR_COOKIE, &self.id).max_age(YEAR))
    }

    /// `response`, remembering `name` for the next visits.
    pub fn remember_name(&self, response: Response, name: &str) -> Result<Response, PluginError> {
        response.with_cookie(Cookie::signed(&self.key, NAME_COOKIE, &to_hex(name)).max_age(YEAR))
    }
}

/// A cookie value is ASCII without spaces, commas or semicolons; a name may
/// hold any of them, so it travels as hex.
fn to_hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_the_trip_through_hex() {
        for name in ["Giulia", "Anna Maria, \"la Nonna\"; 🍰", ""] {
            assert_eq!(from_hex(&to_hex(name)).as_deref(), Some(name));
        }
        assert_eq!(from_hex("4"), None, "odd length");
        assert_eq!(from_hex("zz"), None, "not hex");
        assert_eq!(from_hex("ff"), None, "not UTF-8");
    }
}
