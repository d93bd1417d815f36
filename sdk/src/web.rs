//! Helpers on the request, response and error types of the contract.

use std::fmt::Display;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{BodyPage, HostError, Money, PluginError, Product, Request, Response, Touchpoint, UpstreamError};

/// Decode `%XX` escapes and `+` (a space in query strings). Invalid escapes
/// are kept as they are; bytes that are not UTF-8 become U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    decode(s, true)
}

/// Decode `%XX` escapes in a path segment, where `+` is a plus sign.
pub(crate) fn percent_decode_path(s: &str) -> String {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `bytes` as lower-case hex.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The header in which the host tells a plugin the absolute URL of its
/// mount point (contract 0.2.0).
pub const BASE_URL_HEADER: &str = "x-omnistore-base-url";
/// The header the host sets to `1` when the merchant previews draft files.
pub const PREVIEW_HEADER: &str = "x-omnistore-preview";

impl Request {
    /// A request for tests and examples; real ones come from the host.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("GET", "/feed.csv?page=2&q=caf%C3%A9+latte");
    /// assert_eq!(req.path, "/feed.csv");
    /// assert_eq!(req.query_param("q").as_deref(), Some("café latte"));
    /// ```
    pub fn new(method: &str, path_and_query: &str) -> Request {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This request with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// This request with a body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        crate::form::pairs(&self.query)
    }

    /// The first value of the query parameter `name`, decoded.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("GET", "/?a=1&b=x%26y&a=2&flag");
    /// assert_eq!(req.query_param("a").as_deref(), Some("1"));
    /// assert_eq!(req.query_param("b").as_deref(), Some("x&y"));
    /// assert_eq!(req.query_param("flag").as_deref(), Some(""));
    /// assert_eq!(req.query_param("c"), None);
    /// ```
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The first value of header `name`, compared without regard to case.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("POST", "/hook").with_header("X-Signature", "abc");
    /// assert_eq!(req.header("x-signature"), Some("abc"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The absolute URL of the installation's mount point, without a
    /// trailing slash (`https://shop.example` or
    /// `https://shop.example/hello`), as the host says in
    /// `x-omnistore-base-url`; `None` from a host older than contract 0.2.0.
    /// Clients cannot set it: the host drops every `x-omnistore-*` header
    /// they send.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("GET", "/").with_header("X-Omnistore-Base-Url", "https://shop.example/");
    /// assert_eq!(req.base_url(), Some("https://shop.example"));
    /// assert_eq!(Request::new("GET", "/").base_url(), None);
    /// ```
    pub fn base_url(&self) -> Option<&str> {
        self.header(BASE_URL_HEADER).map(|u| u.trim_end_matches('/')).filter(|u| !u.is_empty())
    }

    /// The absolute URL of `path` (relative to the mount point, starting
    /// with `/`) for links that leave the page: canonical links, sitemaps,
    /// Open Graph tags, e-mails. Without a base URL it stays relative.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("GET", "/").with_header("x-omnistore-base-url", "https://shop.example/it");
    /// assert_eq!(req.absolute_url("/products/cannolo"), "https://shop.example/it/products/cannolo");
    /// assert_eq!(req.absolute_url("cart"), "https://shop.example/it/cart");
    /// assert_eq!(Request::new("GET", "/").absolute_url("/cart"), "/cart");
    /// ```
    pub fn absolute_url(&self, path: &str) -> String {
        let base = self.base_url().unwrap_or("");
        if path.starts_with('/') { format!("{base}{path}") } else { format!("{base}/{path}") }
    }

    /// Whether the merchant is previewing draft files (`x-omnistore-preview:
    /// 1`): show what is wrong with a draft instead of hiding it.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// assert!(Request::new("GET", "/").with_header("x-omnistore-preview", "1").is_preview());
    /// assert!(!Request::new("GET", "/").with_header("x-omnistore-preview", "0").is_preview());
    /// assert!(!Request::new("GET", "/").is_preview());
    /// ```
    pub fn is_preview(&self) -> bool {
        self.header(PREVIEW_HEADER).is_some_and(|v| v.trim() == "1")
    }

    /// The body as UTF-8 text, or a bad-request error.
    pub fn body_text(&self) -> Result<&str, PluginError> {
        std::str::from_utf8(&self.body).map_err(|_| PluginError::BadRequest("the request body is not UTF-8".into()))
    }

    /// The body parsed as JSON, or a bad-request error that says why not.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let req = Request::new("POST", "/hook").with_body(r#"{"id": 7}"#);
    /// let v: serde_json::Value = req.json().unwrap();
    /// assert_eq!(v["id"], 7);
    /// assert!(Request::new("POST", "/").with_body("nope").json::<serde_json::Value>().is_err());
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| PluginError::BadRequest(format!("the request body is not the expected JSON: {e}")))
    }
}

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl Response {
    /// An empty response with this status.
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new(), continuation: None }
    }

    /// 200 with `body` and this content type.
    pub fn bytes(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response::new(200).with_header("content-type", content_type).with_body(body)
    }

    /// 200, `text/html; charset=utf-8`. Escape what you interpolate with
    /// [`html::escape`](crate::html::escape).
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// let r = Response::html("<h1>Hi</h1>");
    /// assert_eq!(r.status, 200);
    /// assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    /// assert_eq!(r.body_text(), Some("<h1>Hi</h1>"));
    /// ```
    pub fn html(body: impl Into<String>) -> Response {
        Response::bytes("text/html; charset=utf-8", body.into())
    }

    /// 200, `text/plain; charset=utf-8`.
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// let r = Response::text("pong").with_status(202);
    /// assert_eq!((r.status, r.body_text()), (202, Some("pong")));
    /// ```
    pub fn text(body: impl Into<String>) -> Response {
        Response::bytes("text/plain; charset=utf-8", body.into())
    }

    /// 200, `application/json`, `value` serialized. A value that cannot be
    /// serialized (a map with non-string keys) gives a 500 that says why.
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// let r = Response::json(&serde_json::json!({ "visits": 3 }));
    /// assert_eq!(r.header("content-type"), Some("application/json"));
    /// assert_eq!(r.body_text(), Some(r#"{"visits":3}"#));
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response::bytes("application/json", body),
            Err(e) => Response::text(format!("the response could not be serialized: {e}")).with_status(500),
        }
    }

    /// `status` with `application/json`, `value` serialized, as
    /// [`json`](Self::json) does for 200.
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// let r = Response::json_status(422, &serde_json::json!({ "error": "quantity must be positive" }));
    /// assert_eq!((r.status, r.header("content-type")), (422, Some("application/json")));
    /// ```
    pub fn json_status<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
        let response = Response::json(value);
        if response.status == 200 { response.with_status(status) } else { response }
    }

    /// A redirect to `location` with status 303 (See Other), the right one
    /// after a form POST; use [`with_status`](Self::with_status) for 301/302/307.
    ///
    /// `location` is not checked: when any of it comes from the request, use
    /// [`redirect_see_other`](Self::redirect_see_other), which refuses line
    /// breaks and control characters (the host would drop such a header).
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// let r = Response::redirect("/thanks");
    /// assert_eq!((r.status, r.header("location")), (303, Some("/thanks")));
    /// ```
    pub fn redirect(location: &str) -> Response {
        Response::new(303).with_header("location", location)
    }

    /// 303 See Other to `location`: after a form POST, the browser GETs the
    /// new location (post/redirect/get). Refused with
    /// [`PluginError::BadRequest`] when `location` is empty or holds a line
    /// break or another control character, which would let a value taken
    /// from the request inject headers.
    ///
    /// A `location` starting with `/` is resolved from the host's root, not
    /// from the installation's mount point; a relative one (`cart`,
    /// `../cart`) from the request's own path.
    ///
    /// ```
    /// use omnistore_sdk::{PluginError, Response};
    /// let r = Response::redirect_see_other("cart?added=1").unwrap();
    /// assert_eq!((r.status, r.header("location")), (303, Some("cart?added=1")));
    /// let injected = Response::redirect_see_other("/x\r\nSet-Cookie: session=stolen");
    /// assert!(matches!(injected, Err(PluginError::BadRequest(_))));
    /// ```
    pub fn redirect_see_other(location: &str) -> Result<Response, PluginError> {
        Response::redirect_with(303, location)
    }

    /// 302 Found to `location`: a temporary redirect (a browser may turn a
    /// POST into a GET; use 303 to say so). Checked like
    /// [`redirect_see_other`](Self::redirect_see_other).
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// assert_eq!(Response::redirect_found("https://example.com/").unwrap().status, 302);
    /// assert!(Response::redirect_found("").is_err());
    /// ```
    pub fn redirect_found(location: &str) -> Result<Response, PluginError> {
        Response::redirect_with(302, location)
    }

    /// 308 Permanent Redirect to `location`: clients may remember it, and
    /// keep the method and body. Checked like
    /// [`redirect_see_other`](Self::redirect_see_other).
    ///
    /// ```
    /// use omnistore_sdk::Response;
    /// let r = Response::redirect_permanent("/products/cannolo").unwrap();
    /// assert_eq!((r.status, r.header("location")), (308, Some("/products/cannolo")));
    /// ```
    pub fn redirect_permanent(location: &str) -> Result<Response, PluginError> {
        Response::redirect_with(308, location)
    }

    fn redirect_with(status: u16, location: &str) -> Result<Response, PluginError> {
        if location.is_empty() {
            return Err(PluginError::BadRequest("a redirect needs a location".into()));
        }
        if location.chars().any(char::is_control) {
            return Err(PluginError::BadRequest(
                "a redirect location may not hold line breaks or control characters".into(),
            ));
        }
        Ok(Response::new(status).with_header("location", location))
    }

    /// 404 with a short text body. Returning `Err(PluginError::NotFound(..))`
    /// does the same through the host's error page.
    pub fn not_found() -> Response {
        Response::text("Not Found").with_status(404)
    }

    /// This response with another status.
    pub fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    /// This response with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// This response with another body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// Mark the body as the first page of a longer one: the host then calls
    /// [`Plugin::next_page`](crate::Plugin::next_page) with `cursor` and
    /// streams every page to the client as it comes, so a large body is never
    /// held in memory whole.
    ///
    /// ```
    /// use omnistore_sdk::{BodyPage, Response};
    /// let first = Response::bytes("text/csv", "id,title\n").with_continuation("page:2");
    /// assert_eq!(first.continuation.as_deref(), Some("page:2"));
    /// let last = BodyPage::last("7,Cannolo\n");
    /// assert_eq!(last.continuation, None);
    /// ```
    pub fn with_continuation(mut self, cursor: impl Into<String>) -> Response {
        self.continuation = Some(cursor.into());
        self
    }

    /// The first value of header `name`, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text, when it is UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

impl BodyPage {
    /// A page followed by the page at `cursor`.
    pub fn more(data: impl Into<Vec<u8>>, cursor: impl Into<String>) -> BodyPage {
        BodyPage { data: data.into(), continuation: Some(cursor.into()) }
    }

    /// The last page of the body.
    pub fn last(data: impl Into<Vec<u8>>) -> BodyPage {
        BodyPage { data: data.into(), continuation: None }
    }
}

impl PluginError {
    /// 400: the request or event was malformed; not retried.
    pub fn bad_request(message: impl Display) -> PluginError {
        PluginError::BadRequest(message.to_string())
    }

    /// 404: the addressed thing does not exist.
    pub fn not_found(what: impl Display) -> PluginError {
        PluginError::NotFound(what.to_string())
    }

    /// 401: the caller is not allowed (a webhook with a bad signature).
    pub fn unauthorized(message: impl Display) -> PluginError {
        PluginError::Unauthorized(message.to_string())
    }

    /// 502: a remote service failed with `status`.
    pub fn upstream(status: u16, message: impl Display) -> PluginError {
        PluginError::Upstream(UpstreamError { status, message: message.to_string() })
    }

    /// 500: anything else; the message is logged for the operator.
    pub fn internal(message: impl Display) -> PluginError {
        PluginError::Internal(message.to_string())
    }
}

impl HostError {
    /// The host's explanation, whatever the kind.
    pub fn message(&self) -> &str {
        match self {
            HostError::Denied(m)
            | HostError::NotFound(m)
            | HostError::Invalid(m)
            | HostError::Conflict(m)
            | HostError::QuotaExceeded(m)
            | HostError::Unavailable(m) => m,
        }
    }
}

/// How a failed host call surfaces when a handler passes it on with `?`:
/// `not-found` stays a 404 and `invalid` becomes a 400 (the arguments usually
/// come from the request), `unavailable` asks the host to retry in 5 seconds,
/// and `denied`, `conflict` and `quota-exceeded` are internal errors (500)
/// whose message names the host's reason. Match on the [`HostError`] instead
/// when another answer fits better (a sold-out `conflict` as a friendly page).
impl From<HostError> for PluginError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::NotFound(m) => PluginError::NotFound(m),
            HostError::Invalid(m) => PluginError::BadRequest(m),
            HostError::Unavailable(_) => PluginError::RetryLater(5),
            HostError::Denied(m) => PluginError::Internal(format!("the host denied a call: {m}")),
            HostError::Conflict(m) => PluginError::Internal(format!("conflict: {m}")),
            HostError::QuotaExceeded(m) => PluginError::Internal(format!("quota exceeded: {m}")),
        }
    }
}

impl Product {
    /// The lowest price among the variants, if it has any.
    pub fn min_price(&self) -> Option<&Money> {
        self.variants.iter().map(|v| &v.price).min_by_key(|m| m.amount_minor)
    }

    /// Whether any variant can be sold now (in stock or backorderable).
    pub fn is_available(&self) -> bool {
        self.variants.iter().any(|v| v.available > 0 || v.backorderable)
    }
}

impl Touchpoint {
    /// A touchpoint of this kind ("view", "add-to-cart", "click", …) with
    /// nothing else set; fill in the ids with struct update syntax.
    pub fn new(kind: &str) -> Touchpoint {
        Touchpoint {
            kind: kind.to_string(),
            visitor_id: None,
            source: None,
            customer_id: None,
            product_id: None,
            variant_id: None,
            campaign_id: None,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%00"), "\0");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
