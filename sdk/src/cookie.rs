//! Cookies: read them from the request, set them on the response, and sign
//! them so a value the plugin set comes back unchanged or not at all.
//!
//! ```
//! use omnistore_sdk::cookie::{Cookie, CookieKey};
//! use omnistore_sdk::{Request, Response};
//!
//! # fn main() -> Result<(), omnistore_sdk::PluginError> {
//! let key = CookieKey::new(b"a secret setting of at least 32 bytes, random")?;
//! let response = Response::redirect_see_other("cart")?
//!     .with_cookie(Cookie::signed(&key, "cart", "crt-0001").max_age(60 * 60 * 24 * 30))?;
//! let set = response.header("set-cookie").unwrap();
//! assert!(set.starts_with("cart=crt-0001."));
//! assert!(set.ends_with("; Path=/; Max-Age=2592000; Secure; HttpOnly; SameSite=Lax"));
//!
//! // The browser sends it back; only a value this key signed, for this name, is read.
//! let cookie = set.split(';').next().unwrap();
//! let req = Request::new("GET", "/cart").with_header("Cookie", &format!("theme=dark; {cookie}"));
//! assert_eq!(req.cookie("theme"), Some("dark"));
//! assert_eq!(req.signed_cookie(&key, "cart").as_deref(), Some("crt-0001"));
//! # Ok(()) }
//! ```
//!
//! Each installation of a channel shares its host name and path with the
//! others mounted there, and so their cookies: prefix the names with the
//! plugin's id when that matters.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{PluginError, Request, Response};

/// Where a browser sends a cookie from: see [`Cookie::same_site`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SameSite {
    /// With top-level navigations from other sites and same-site requests:
    /// a link from elsewhere keeps the visitor's cart, a form posted from
    /// elsewhere does not carry it.
    #[default]
    Lax,
    /// With same-site requests only.
    Strict,
    /// With every request, also from other sites' pages (needs `Secure`).
    None,
}

/// A cookie to set with [`Response::with_cookie`].
///
/// By default it is sent to every path (`Path=/`), only over HTTPS
/// (`Secure`; Chromium and Firefox also keep it on `http://localhost`), hidden from
/// scripts (`HttpOnly`), with `SameSite=Lax`, to this host name only (no
/// `Domain`), and kept until the browser closes (no `Max-Age`).
///
/// The value is sent as it is: it must be cookie-safe (visible ASCII without
/// spaces, `"`, `,`, `;` or `\`); encode anything else, with hex or
/// base64url for example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<u64>,
    http_only: bool,
    secure: bool,
    same_site: SameSite,
}

impl Cookie {
    /// A cookie `name=value` with the defaults above.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Cookie {
        Cookie {
            name: name.into(),
            value: value.into(),
            path: Some("/".into()),
            domain: None,
            max_age: None,
            http_only: true,
            secure: true,
            same_site: SameSite::Lax,
        }
    }

    /// A cookie that makes the browser forget the cookie `name`. Give it the
    /// same path and domain as the one it removes.
    ///
    /// ```
    /// use omnistore_sdk::cookie::Cookie;
    /// assert_eq!(
    ///     Cookie::removal("cart").to_header_value().unwrap(),
    ///     "cart=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
    /// );
    /// ```
    pub fn removal(name: impl Into<String>) -> Cookie {
        Cookie::new(name, "").max_age(0)
    }

    /// A cookie whose value is signed with `key` (see [`CookieKey::sign`]);
    /// read it back with [`Request::signed_cookie`].
    pub fn signed(key: &CookieKey, name: impl Into<String>, value: &str) -> Cookie {
        let name = name.into();
        let value = key.sign(&name, value);
        Cookie::new(name, value)
    }

    /// Send the cookie only with requests under `path`.
    pub fn path(mut self, path: impl Into<String>) -> Cookie {
        self.path = Some(path.into());
        self
    }

    /// Send the cookie to `domain` and its subdomains too, not only to the
    /// host name that set it.
    pub fn domain(mut self, domain: impl Into<String>) -> Cookie {
        self.domain = Some(domain.into());
        self
    }

    /// Keep the cookie for `seconds` (0 removes it), also across browser restarts.
    pub fn max_age(mut self, seconds: u64) -> Cookie {
        self.max_age = Some(seconds);
        self
    }

    /// Whether scripts on the page are kept from reading the cookie.
    pub fn http_only(mut self, http_only: bool) -> Cookie {
        self.http_only = http_only;
        self
    }

    /// Whether the cookie is sent over HTTPS only.
    pub fn secure(mut self, secure: bool) -> Cookie {
        self.secure = secure;
        self
    }

    /// From which pages' requests the browser sends the cookie.
    pub fn same_site(mut self, same_site: SameSite) -> Cookie {
        self.same_site = same_site;
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value, as it is sent.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The value of a `Set-Cookie` header, or a bad-request error when a
    /// part of the cookie is not allowed there (a value with a `;` would set
    /// other attributes) or browsers would refuse the cookie
    /// (`SameSite=None` without `Secure`, a `__Host-` cookie with a domain).
    ///
    /// ```
    /// use omnistore_sdk::cookie::{Cookie, SameSite};
    /// let c = Cookie::new("lang", "it").path("/shop").domain("example.com").http_only(false);
    /// assert_eq!(c.to_header_value().unwrap(), "lang=it; Path=/shop; Domain=example.com; Secure; SameSite=Lax");
    /// assert!(Cookie::new("lang", "it; Domain=evil.example").to_header_value().is_err());
    /// assert!(Cookie::new("x", "1").same_site(SameSite::None).secure(false).to_header_value().is_err());
    /// ```
    pub fn to_header_value(&self) -> Result<String, PluginError> {
        let refuse =
            |why: String| Err(PluginError::BadRequest(format!("the cookie {:?} cannot be set: {why}", self.name)));
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return refuse("its name must be a non-empty token (letters, digits and !#$%&'*+-.^_`|~)".into());
        }
        if !self.value.bytes().all(is_cookie_octet) {
            return refuse("its value may only hold visible ASCII without spaces, '\"', ',', ';' or '\\'".into());
        }
        for (attribute, text) in [("path", &self.path), ("domain", &self.domain)] {
            if let Some(text) = text
                && (text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic() && b != b';'))
            {
                return refuse(format!("its {attribute} must be non-empty visible ASCII without ';'"));
            }
        }
        if self.same_site == SameSite::None && !self.secure {
            return refuse("SameSite=None needs Secure".into());
        }
        if self.name.starts_with("__Secure-") && !self.secure {
            return refuse("a __Secure- cookie needs Secure".into());
        }
        if self.name.starts_with("__Host-")
            && (!self.secure || self.domain.is_some() || self.path.as_deref() != Some("/"))
        {
            return refuse("a __Host- cookie needs Secure, Path=/ and no Domain".into());
        }
        let mut out = format!("{}={}", self.name, self.value);
        if let Some(path) = &self.path {
            out.push_str(&format!("; Path={path}"));
        }
        if let Some(domain) = &self.domain {
            out.push_str(&format!("; Domain={domain}"));
        }
        if let Some(seconds) = self.max_age {
            out.push_str(&format!("; Max-Age={seconds}"));
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        out.push_str(match self.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::Strict => "; SameSite=Strict",
            SameSite::None => "; SameSite=None",
        });
        Ok(out)
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_cookie_octet(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\')
}

impl Response {
    /// This response with a `Set-Cookie` header for `cookie`, or a
    /// bad-request error when the cookie cannot be set (see
    /// [`Cookie::to_header_value`]).
    pub fn with_cookie(self, cookie: Cookie) -> Result<Response, PluginError> {
        Ok(self.with_header("set-cookie", &cookie.to_header_value()?))
    }
}

impl Request {
    /// Every cookie the client sent, in order, values as sent (without
    /// surrounding quotes). A pair without `=` or without a name is skipped.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("GET", "/")
    ///     .with_header("Cookie", " a=1 ;b=\"two\";;junk; c = 3=3")
    ///     .with_header("cookie", "a=shadowed");
    /// assert_eq!(req.cookies(), [("a", "1"), ("b", "two"), ("c", "3=3"), ("a", "shadowed")]);
    /// ```
    pub fn cookies(&self) -> Vec<(&str, &str)> {
        cookie_pairs(&self.headers).collect()
    }

    /// The value of the cookie `name`. When the client sent it twice (one
    /// set for `/`, one for `/shop`), the first wins: browsers send the one
    /// with the longer path first.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("GET", "/").with_header("Cookie", "cart=c2; cart=c1");
    /// assert_eq!(req.cookie("cart"), Some("c2"));
    /// assert_eq!(req.cookie("nope"), None);
    /// ```
    pub fn cookie(&self, name: &str) -> Option<&str> {
        cookie_pairs(&self.headers).find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The value of the cookie `name` when `key` signed it for that name
    /// (see [`CookieKey::verify`]); `None` when it is missing, altered, or
    /// signed for another name or with another key.
    pub fn signed_cookie(&self, key: &CookieKey, name: &str) -> Option<String> {
        key.verify(name, self.cookie(name)?)
    }
}

fn cookie_pairs(headers: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("cookie")).flat_map(|(_, v)| v.split(';')).filter_map(
        |pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim_matches([' ', '\t']);
            let value = value.trim_matches([' ', '\t']);
            // A quoted value is allowed by RFC 6265; the quotes are not part of it.
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            (!name.is_empty()).then_some((name, value))
        },
    )
}

/// A key that signs cookie values with HMAC-SHA256, so the plugin can tell a
/// value it set from one the client made up or changed.
///
/// Signing does not hide the value (the client can read it) and does not
/// expire it: a signed value stays valid for as long as the key does, so put
/// an expiry time into the value (from [`clock::now`](crate::clock::now))
/// when that matters.
///
/// Where the key comes from: [`CookieKey::installation`] (or
/// [`installation_key`]) is the host's key for this installation, the same
/// on every call and after restarts, and different for every other
/// installation; it needs `"settings"` in `[capabilities].imports`. A plugin
/// may also bring its own with [`CookieKey::new`], for example from a secret
/// setting that the merchant fills with a long random string.
#[derive(Clone)]
pub struct CookieKey {
    mac: Hmac<Sha256>,
}

/// Bound into every MAC, so a MAC made with the same key for another purpose
/// can never pass as a cookie's.
const CONTEXT: &[u8] = b"omnistore signed cookie v1\0";
const MAC_HEX_LEN: usize = 64;

impl CookieKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A key from `secret`, refused (as an internal error, a mistake of the
    /// installation's configuration) when shorter than [`Self::MIN_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<CookieKey, PluginError> {
        if secret.len() < Self::MIN_LEN {
            return Err(PluginError::Internal(format!("a cookie key needs at least {} bytes", Self::MIN_LEN)));
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        Ok(CookieKey { mac })
    }

    /// This installation's own key, kept by the host (see [`installation_key`]).
    pub fn installation() -> CookieKey {
        installation_key()
    }

    fn mac(&self, name: &str, value: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        // The name's length first, so no (name, value) pair can be re-split
        // into another with the same bytes.
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
        mac
    }

    /// `value` followed by `.` and the hex MAC of the cookie name and value:
    /// a value for the cookie `name` only. The result is cookie-safe when
    /// `value` is.
    ///
    /// ```
    /// use omnistore_sdk::cookie::CookieKey;
    /// let key = CookieKey::new(&[7; 32]).unwrap();
    /// let signed = key.sign("session", "cus-42");
    /// assert_eq!(key.verify("session", &signed).as_deref(), Some("cus-42"));
    /// assert_eq!(key.verify("admin", &signed), None);
    /// assert_eq!(key.verify("session", &signed.replace("cus-42", "cus-43")), None);
    /// ```
    pub fn sign(&self, name: &str, value: &str) -> String {
        let tag = self.mac(name, value).finalize().into_bytes();
        let mut out = String::with_capacity(value.len() + 1 + MAC_HEX_LEN);
        out.push_str(value);
        out.push('.');
        for b in tag {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }

    /// The value inside `signed` when this key signed it for the cookie
    /// `name`; `None` otherwise. The MAC is compared in constant time.
    pub fn verify(&self, name: &str, signed: &str) -> Option<String> {
        let (value, tag_hex) = signed.rsplit_once('.')?;
        if tag_hex.len() != MAC_HEX_LEN {
            return None;
        }
        let mut tag = [0u8; MAC_HEX_LEN / 2];
        for (byte, pair) in tag.iter_mut().zip(tag_hex.as_bytes().chunks_exact(2)) {
            *byte = hex_value(pair[0])? << 4 | hex_value(pair[1])?;
        }
        self.mac(name, value).verify_slice(&tag).ok()?;
        Some(value.to_string())
    }
}

/// The key the host keeps for this installation: 32 secret bytes chosen at
/// random on first use, the same on every call and after restarts; another
/// installation, also a reinstall of this plugin, has another key, so its
/// cookies do not verify here. Needs `"settings"` in `[capabilities].imports`.
///
/// ```text
/// let key = omnistore_sdk::cookie::installation_key();
/// let response = response.with_cookie(Cookie::signed(&key, "cart", cart.id.as_str()))?;
/// ```
pub fn installation_key() -> CookieKey {
    let secret = crate::__private::bindings::omnistore::plugin::settings::cookie_key();
    // The host always hands 32 bytes; a shorter answer would be a host bug,
    // and HMAC still takes it.
    let mac = Hmac::<Sha256>::new_from_slice(&secret).expect("HMAC takes keys of any length");
    CookieKey { mac }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower case only: `sign` writes lower case, so anything else was not made by it.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

impl fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CookieKey {
        CookieKey::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn cookie_headers_parse_with_quotes_spaces_and_duplicates() {
        let req = Request::new("GET", "/")
            .with_header("Cookie", "a=\"quoted value\";\tb = spaced ; c=\"half; d=; =nameless; e=\"\"; a=again")
            .with_header("X-Other", "z=1");
        assert_eq!(
            req.cookies(),
            [("a", "quoted value"), ("b", "spaced"), ("c", "\"half"), ("d", ""), ("e", ""), ("a", "again")]
        );
        assert_eq!(req.cookie("a"), Some("quoted value"));
        assert_eq!(req.cookie("z"), None);
        assert_eq!(Request::new("GET", "/").cookie("a"), None);
        let lone_quote = Request::new("GET", "/").with_header("cookie", "q=\"");
        assert_eq!(lone_quote.cookie("q"), Some("\""));
    }

    #[test]
    fn set_cookie_has_safe_defaults_and_every_attribute() {
        assert_eq!(
            Cookie::new("cart", "c1").to_header_value().unwrap(),
            "cart=c1; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        let all = Cookie::new("__Secure-id", "x")
            .path("/p")
            .domain("shop.example")
            .max_age(10)
            .http_only(false)
            .same_site(SameSite::Strict);
        assert_eq!(
            all.to_header_value().unwrap(),
            "__Secure-id=x; Path=/p; Domain=shop.example; Max-Age=10; Secure; SameSite=Strict"
        );
        let none = Cookie::new("embed", "1").same_site(SameSite::None);
        assert!(none.to_header_value().unwrap().ends_with("; SameSite=None"));
        let response = Response::text("hi")
            .with_cookie(Cookie::new("a", "1"))
            .unwrap()
            .with_cookie(Cookie::new("b", "2"))
            .unwrap();
        let set: Vec<_> = response.headers.iter().filter(|(k, _)| k == "set-cookie").collect();
        assert_eq!(set.len(), 2);
        assert_eq!((Cookie::new("a", "1").name(), Cookie::new("a", "1").value()), ("a", "1"));
    }

    #[test]
    fn cookies_that_would_inject_or_be_refused_are_refused() {
        let refused = [
            Cookie::new("", "x"),
            Cookie::new("a b", "x"),
            Cookie::new("a=b", "x"),
            Cookie::new("a", "x y"),
            Cookie::new("a", "x\r\nSet-Cookie: admin=1"),
            Cookie::new("a", "caffè"),
            Cookie::new("a", "\"q\""),
            Cookie::new("a", "x").path("/a; Domain=evil"),
            Cookie::new("a", "x").path(""),
            Cookie::new("a", "x").domain("evil\n"),
            Cookie::new("a", "x").same_site(SameSite::None).secure(false),
            Cookie::new("__Secure-a", "x").secure(false),
            Cookie::new("__Host-a", "x").domain("example.com"),
            Cookie::new("__Host-a", "x").path("/shop"),
        ];
        for cookie in refused {
            assert!(
                matches!(Response::new(200).with_cookie(cookie.clone()), Err(PluginError::BadRequest(_))),
                "{cookie:?} was accepted"
            );
        }
        assert!(Cookie::new("__Host-a", "x").to_header_value().is_ok());
    }

    #[test]
    fn signed_values_round_trip_even_with_dots() {
        let key = key();
        for value in ["", "a.b.c", "cus-1", "x.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"] {
            assert_eq!(key.verify("n", &key.sign("n", value)).as_deref(), Some(value));
        }
        assert_eq!(key.sign("n", "v"), key.sign("n", "v"));
        assert_eq!(key.sign("n", "v").len(), 2 + MAC_HEX_LEN);
    }

    #[test]
    fn tampered_moved_truncated_or_foreign_values_are_refused() {
        let key = key();
        let signed = key.sign("cart", "crt-1");
        let (value, tag) = signed.rsplit_once('.').unwrap();
        let flipped = format!("{value}.{}{}", if tag.starts_with('0') { '1' } else { '0' }, &tag[1..]);
        let cases = [
            ("cart", format!("crt-2.{tag}")),
            ("cart", flipped),
            ("cart", signed[..signed.len() - 1].to_string()),
            ("cart", signed[..signed.len() - 2].to_string()),
            ("cart", value.to_string()),
            ("cart", format!("{value}.")),
            ("cart", format!("{signed}0")),
            ("cart", signed.to_uppercase()),
            ("cart", format!("{value}.{}", tag.to_uppercase())),
            ("cart", String::new()),
            ("carts", signed.clone()),
            ("car", format!("tcrt-1.{tag}")),
            ("session", signed.clone()),
        ];
        for (name, candidate) in cases {
            assert_eq!(key.verify(name, &candidate), None, "{name} {candidate}");
        }
        let other = CookieKey::new(&[1; 32]).unwrap();
        assert_eq!(other.verify("cart", &signed), None);
        assert_eq!(key.verify("cart", &signed).as_deref(), Some("crt-1"));
    }

    #[test]
    fn short_keys_are_refused_and_keys_do_not_show() {
        assert!(matches!(CookieKey::new(&[0; 31]), Err(PluginError::Internal(_))));
        assert_eq!(format!("{:?}", key()), "CookieKey(..)");
    }

    #[test]
    fn signed_cookies_from_the_request() {
        let key = key();
        let set = Cookie::signed(&key, "cart", "crt-9").to_header_value().unwrap();
        let pair = set.split(';').next().unwrap();
        let req = Request::new("GET", "/").with_header("cookie", &format!("{pair}; other={}", key.sign("other", "x")));
        assert_eq!(req.signed_cookie(&key, "cart").as_deref(), Some("crt-9"));
        assert_eq!(req.signed_cookie(&key, "missing"), None);
        let moved = Request::new("GET", "/").with_header("cookie", &format!("cart={}", key.sign("other", "x")));
        assert_eq!(moved.signed_cookie(&key, "cart"), None);
    }

    proptest::proptest! {
        #[test]
        fn parsing_and_verifying_never_panic(header in "\\PC{0,80}", signed in "[a-f0-9.]{0,80}|\\PC{0,80}") {
            let req = Request::new("GET", "/").with_header("cookie", &header);
            let _ = req.cookies();
            let _ = key().verify("n", &signed);
            let _ = req.signed_cookie(&key(), "n");
        }

        #[test]
        fn any_signed_value_verifies(name in "[a-z]{1,8}", value in "[!-~]{0,40}") {
            let key = key();
            proptest::prop_assert_eq!(key.verify(&name, &key.sign(&name, &value)), Some(value));
        }
    }
}
