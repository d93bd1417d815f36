//! What every request needs: the shop, the language and URLs of the page,
//! the signed cookies (visitor, cart, the customer signed in on this
//! browser) and the cookies to set on the answer.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use omnistore_sdk::cookie::{Cookie, CookieKey};
use omnistore_sdk::ids::{CartId, CustomerId};
use omnistore_sdk::{Collection, HostError, PluginError, Request, Response, Shop, catalog, customers, settings};
use serde_json::Value as Json;

use crate::money::MoneyFormat;

/// Cookie names carry the plugin's prefix: other installations may share the host name.
pub const VISITOR_COOKIE: &str = "ws_visitor";
pub const CART_COOKIE: &str = "ws_cart";
pub const SOURCE_COOKIE: &str = "ws_source";
pub const CUSTOMER_COOKIE: &str = "ws_customer";
const CSRF_CONTEXT: &str = "ws-csrf";
const ORDER_CONTEXT: &str = "ws-order";
const YEAR: u64 = 60 * 60 * 24 * 365;
const MONTH: u64 = 60 * 60 * 24 * 30;

/// The merchant's settings of this installation.
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    pub bank_transfer_instructions: String,
    pub show_currency_code: bool,
    pub featured_collection: String,
}

impl StoreSettings {
    fn read() -> StoreSettings {
        StoreSettings {
            bank_transfer_instructions: settings::get("bank_transfer_instructions").unwrap_or_default(),
            show_currency_code: settings::get("show_currency_code").is_some_and(|v| is_true(&v)),
            featured_collection: settings::get("featured_collection").unwrap_or_default().trim().to_string(),
        }
    }
}

fn is_true(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

/// One request, with everything derived from it once.
pub struct Ctx {
    pub req: Request,
    /// The path inside the shop, without the mount point and language prefix.
    pub path: String,
    pub shop: Shop,
    /// The language of this page and the one served without a prefix.
    pub language: String,
    pub default_language: String,
    /// The absolute URL of the mount point ("" when the host did not say).
    pub base_url: String,
    /// The path of the mount point on the host ("" or "/shop").
    pub base_path: String,
    pub key: CookieKey,
    pub visitor: String,
    visitor_is_new: bool,
    pub preview: bool,
    pub settings: StoreSettings,
    cookies: RefCell<Vec<Cookie>>,
    /// The channel's collections, asked of the host once per request.
    collections: OnceCell<Rc<Vec<Collection>>>,
    /// The customer signed in on this browser, read from her cookie once.
    signed_in: Option<CustomerId>,
    /// The signed-in customer as the theme sees her, asked once per request.
    customer: OnceCell<Option<Json>>,
}

impl Ctx {
    pub fn new(req: Request) -> Ctx {
        let shop = settings::shop();
        let key = CookieKey::installation();
        let base_url = req.base_url().unwrap_or("").to_string();
        let base_path = path_of(&base_url).to_string();
        let default_language = default_language_of(&shop);
        let (language, path) = split_language(&req.path, &shop, &default_language);
        let (visitor, visitor_is_new) = match req.signed_cookie(&key, VISITOR_COOKIE) {
            Some(v) if !v.is_empty() => (v, false),
            _ => (settings::random_token(16), true),
        };
        let preview = req.is_preview();
        let signed_in = req.signed_cookie(&key, CUSTOMER_COOKIE).filter(|v| !v.is_empty()).map(CustomerId::new);
        Ctx {
            req,
            path,
            shop,
            language,
            default_language,
            base_url,
            base_path,
            key,
            visitor,
            visitor_is_new,
            preview,
            settings: StoreSettings::read(),
            cookies: RefCell::new(Vec::new()),
            collections: OnceCell::new(),
            signed_in,
            customer: OnceCell::new(),
        }
    }

    /// The channel's collections: every page lists them (the menu), and the
    /// home and collection pages use them too; one host call serves all.
    pub fn collections(&self) -> Result<Rc<Vec<Collection>>, HostError> {
        if let Some(c) = self.collections.get() {
            return Ok(c.clone());
        }
        let listed = Rc::new(catalog::list_collections()?);
        Ok(self.collections.get_or_init(|| listed).clone())
    }

    /// The path on the host of `path` inside the shop, in this page's language.
    pub fn url(&self, path: &str) -> String {
        self.url_in(&self.language, path)
    }

    /// The path on the host of `path` inside the shop, in `language`.
    pub fn url_in(&self, language: &str, path: &str) -> String {
        path_in(&self.base_path, &self.default_language, language, path)
    }

    /// The absolute URL (when the host told the base URL) of `path` in this page's language.
    pub fn absolute(&self, path: &str) -> String {
        self.absolute_in(&self.language, path)
    }

    pub fn absolute_in(&self, language: &str, path: &str) -> String {
        absolute_in(&self.base_url, &self.default_language, language, path)
    }

    pub fn money(&self) -> MoneyFormat {
        MoneyFormat::new(&self.shop.currency, &self.language, self.settings.show_currency_code)
    }

    /// Whether this visitor's cookie came with the request (a form posted
    /// without it cannot carry a valid token).
    pub fn known_visitor(&self) -> bool {
        !self.visitor_is_new
    }

    /// The anti-forgery token of this visitor's forms: a MAC of the visitor
    /// id with the installation's key.
    pub fn csrf_token(&self) -> String {
        mac_part(&self.key.sign(CSRF_CONTEXT, &self.visitor))
    }

    /// Whether `token` is this visitor's (compared in constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        self.known_visitor() && self.key.verify(CSRF_CONTEXT, &format!("{}.{token}", self.visitor)).is_some()
    }

    /// The unguessable part of an order's status link.
    pub fn order_token(&self, order_id: &str) -> String {
        mac_part(&self.key.sign(ORDER_CONTEXT, order_id))
    }

    /// Whether `token` is the status link token of `order_id` (constant time).
    pub fn order_token_ok(&self, order_id: &str, token: &str) -> bool {
        self.key.verify(ORDER_CONTEXT, &format!("{order_id}.{token}")).is_some()
    }

    /// The cart this browser holds, if any.
    pub fn cart_id(&self) -> Option<CartId> {
        self.req.signed_cookie(&self.key, CART_COOKIE).filter(|v| !v.is_empty()).map(CartId::new)
    }

    pub fn remember_cart(&self, cart: &CartId) {
        self.set_cookie(Cookie::signed(&self.key, CART_COOKIE, cart.as_str()).max_age(MONTH));
    }

    pub fn forget_cart(&self) {
        self.set_cookie(Cookie::removal(CART_COOKIE));
    }

    /// The customer signed in on this browser by an e-mail link, until she
    /// asks to be forgotten: her cart follows her here from the other channels.
    pub fn customer_id(&self) -> Option<CustomerId> {
        self.signed_in.clone()
    }

    /// Shopify's `customer` object for the signed-in customer.
    pub fn customer(&self) -> Option<&Json> {
        self.customer
            .get_or_init(|| {
                let id = self.customer_id()?;
                match customers::customer(&id) {
                    Ok(c) => Some(crate::objects::customer(&c)),
                    Err(e) => {
                        omnistore_sdk::warn!("the remembered customer could not be read", error = e.message());
                        None
                    }
                }
            })
            .as_ref()
    }

    pub fn remember_customer(&self, customer: &str) {
        self.set_cookie(Cookie::signed(&self.key, CUSTOMER_COOKIE, customer).max_age(YEAR));
    }

    pub fn forget_customer(&self) {
        self.set_cookie(Cookie::removal(CUSTOMER_COOKIE));
    }

    pub fn set_cookie(&self, cookie: Cookie) {
        let cookie = cookie.secure(self.secure_cookies());
        let mut cookies = self.cookies.borrow_mut();
        cookies.retain(|c| c.name() != cookie.name());
        cookies.push(cookie);
    }

    /// `Secure` cookies are dropped by browsers on plain-HTTP hosts other
    /// than localhost: set them only where they will be kept.
    fn secure_cookies(&self) -> bool {
        match self.base_url.strip_prefix("http://") {
            Some(rest) => {
                let host = rest.split(['/', ':']).next().unwrap_or("");
                host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1"
            }
            None => true,
        }
    }

    /// The response with the cookies this request set (and the visitor's,
    /// when it is new), never cached by shared caches.
    pub fn finish(&self, mut response: Response) -> Result<Response, PluginError> {
        if self.visitor_is_new {
            self.set_cookie(Cookie::signed(&self.key, VISITOR_COOKIE, &self.visitor).max_age(YEAR));
        }
        for cookie in self.cookies.borrow().iter() {
            response = response.with_cookie(cookie.clone())?;
        }
        Ok(response)
    }
}

pub fn mac_part(signed: &str) -> String {
    signed.rsplit_once('.').map(|(_, mac)| mac.to_string()).unwrap_or_default()
}

/// The path on the host of `path` inside a shop mounted at `base_path`, in
/// `language` (unprefixed when it is the default language).
fn path_in(base_path: &str, default_language: &str, language: &str, path: &str) -> String {
    let prefix = format!("{base_path}{}", prefix_for(language, default_language));
    match path {
        "/" | "" if prefix.is_empty() => "/".to_string(),
        "/" | "" => prefix,
        _ => format!("{prefix}{path}"),
    }
}

/// The absolute URL (when `base_url` is one) of `path` in `language`, in a
/// shop mounted at `base_url`.
pub fn absolute_in(base_url: &str, default_language: &str, language: &str, path: &str) -> String {
    format!("{}{}", origin_of(base_url), path_in(path_of(base_url), default_language, language, path))
}

/// The language served without a prefix: the merchant's choice when the
/// shop speaks it, else the shop's primary language.
pub fn default_language_of(shop: &Shop) -> String {
    let wanted = settings::get("default_language").map(|l| l.trim().to_ascii_lowercase()).unwrap_or_default();
    if !wanted.is_empty() && shop.speaks(&wanted) { wanted } else { shop.primary_language().to_ascii_lowercase() }
}

fn prefix_for(language: &str, default_language: &str) -> String {
    if language.eq_ignore_ascii_case(default_language) { String::new() } else { format!("/{language}") }
}

/// The language a path is in and the path without its prefix: `/en/cart` is
/// the cart in English when the shop speaks English and it is not the default.
pub fn split_language(path: &str, shop: &Shop, default_language: &str) -> (String, String) {
    let trimmed = path.trim_start_matches('/');
    let first = trimmed.split('/').next().unwrap_or("");
    if !first.is_empty() && !first.eq_ignore_ascii_case(default_language) && shop.speaks(first) {
        let rest = &trimmed[first.len()..];
        let rest = if rest.is_empty() { "/" } else { rest };
        return (first.to_ascii_lowercase(), rest.to_string());
    }
    (default_language.to_string(), if path.is_empty() { "/".to_string() } else { path.to_string() })
}

/// `https://shop.example` of `https://shop.example/hello`.
pub fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let after = i + 3;
            match url[after..].find('/') {
                Some(j) => &url[..after + j],
                None => url,
            }
        }
        None => "",
    }
}

/// `/hello` of `https://shop.example/hello`, "" without a path.
fn path_of(url: &str) -> &str {
    let origin = origin_of(url);
    url[origin.len()..].trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(languages: &[&str]) -> Shop {
        Shop {
            name: "Dolce Vita".into(),
            currency: "EUR".into(),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            contact_email: None,
            contact_phone: None,
        }
    }

    #[test]
    fn language_prefixes_are_stripped_only_for_other_languages_of_the_shop() {
        let s = shop(&["it", "en"]);
        assert_eq!(split_language("/en/products/x", &s, "it"), ("en".into(), "/products/x".into()));
        assert_eq!(split_language("/en", &s, "it"), ("en".into(), "/".into()));
        assert_eq!(split_language("/it/products/x", &s, "it"), ("it".into(), "/it/products/x".into()));
        assert_eq!(split_language("/de/x", &s, "it"), ("it".into(), "/de/x".into()));
        assert_eq!(split_language("/products/x", &s, "it"), ("it".into(), "/products/x".into()));
        assert_eq!(split_language("/entremets", &s, "it"), ("it".into(), "/entremets".into()));
    }

    #[test]
    fn origins_and_paths_of_base_urls() {
        assert_eq!(origin_of("https://shop.example/hello"), "https://shop.example");
        assert_eq!(origin_of("http://dolce-vita.localhost:8080"), "http://dolce-vita.localhost:8080");
        assert_eq!(origin_of(""), "");
        assert_eq!(path_of("https://shop.example/hello/"), "/hello");
        assert_eq!(path_of("https://shop.example"), "");
        assert_eq!(mac_part("v.abc"), "abc");
        assert_eq!(prefix_for("en", "it"), "/en");
        assert_eq!(prefix_for("it", "it"), "");
    }
}
