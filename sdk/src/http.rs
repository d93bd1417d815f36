//! Outbound HTTP, only to the origins listed in `[capabilities].http` of
//! `plugin.toml`. Needs `"http"` in `[capabilities].imports`.
//!
//! The host sends the request and waits for the whole response; redirects
//! are not followed (a 3xx comes back as is).
//!
//! ```no_run
//! # #[derive(serde::Serialize, serde::Deserialize)] struct Pin { title: String }
//! # fn f(token: &str, pin: Pin) -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::http;
//! let res = http::RequestBuilder::post("https://api.example.com/v1/pins")
//!     .header("authorization", &format!("Bearer {token}"))
//!     .json(&pin)
//!     .timeout_ms(5_000)
//!     .send()?            // HttpError -> PluginError (502/504)
//!     .error_for_status()?; // non-2xx -> PluginError::Upstream
//! let created: Pin = res.json()?;
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::http::{HttpError, IncomingResponse, OutgoingRequest};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::__private::bindings::omnistore::plugin::http as imp;
use crate::web::find_header;
use crate::{PluginError, UpstreamError};

/// Send a request and wait for the whole response.
pub fn send(request: &OutgoingRequest) -> Result<IncomingResponse, HttpError> {
    imp::send(request)
}

/// `GET url`.
pub fn get(url: &str) -> Result<IncomingResponse, HttpError> {
    RequestBuilder::get(url).send()
}

/// `POST url` with `body` as JSON.
pub fn post_json<T: Serialize + ?Sized>(url: &str, body: &T) -> Result<IncomingResponse, HttpError> {
    RequestBuilder::post(url).json(body).send()
}

/// Builds an [`OutgoingRequest`].
///
/// ```
/// use omnistore_sdk::http::RequestBuilder;
/// let req = RequestBuilder::post("https://api.example.com/v1/items")
///     .header("x-api-key", "k")
///     .json(&serde_json::json!({ "sku": "CAN-01" }))
///     .timeout_ms(2_000)
///     .build()
///     .unwrap();
/// assert_eq!(req.method, "POST");
/// assert_eq!(req.body, br#"{"sku":"CAN-01"}"#);
/// assert!(req.headers.contains(&("content-type".into(), "application/json".into())));
/// ```
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    request: OutgoingRequest,
    error: Option<String>,
}

impl RequestBuilder {
    /// A request with this method (upper-cased) and absolute http(s) URL.
    pub fn new(method: &str, url: &str) -> RequestBuilder {
        RequestBuilder {
            request: OutgoingRequest {
                method: method.to_ascii_uppercase(),
                url: url.to_string(),
                headers: Vec::new(),
                body: Vec::new(),
                timeout_ms: None,
            },
            error: None,
        }
    }

    pub fn get(url: &str) -> RequestBuilder {
        RequestBuilder::new("GET", url)
    }

    pub fn post(url: &str) -> RequestBuilder {
        RequestBuilder::new("POST", url)
    }

    pub fn put(url: &str) -> RequestBuilder {
        RequestBuilder::new("PUT", url)
    }

    pub fn delete(url: &str) -> RequestBuilder {
        RequestBuilder::new("DELETE", url)
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> RequestBuilder {
        self.request.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RequestBuilder {
        self.request.body = body.into();
        self
    }

    /// Set the body to `value` as JSON, with `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> RequestBuilder {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.request.body = body;
                self.request.headers.push(("content-type".into(), "application/json".into()));
            }
            Err(e) => self.error = Some(format!("the request body cannot be serialized: {e}")),
        }
        self
    }

    /// A timeout for this request; the host caps it at its own limit and at
    /// what is left of the call's deadline.
    pub fn timeout_ms(mut self, ms: u32) -> RequestBuilder {
        self.request.timeout_ms = Some(ms);
        self
    }

    /// The request, or [`HttpError::InvalidRequest`] when a step failed.
    pub fn build(self) -> Result<OutgoingRequest, HttpError> {
        match self.error {
            Some(e) => Err(HttpError::InvalidRequest(e)),
            None => Ok(self.request),
        }
    }

    /// Build and [`send`] the request.
    pub fn send(self) -> Result<IncomingResponse, HttpError> {
        imp::send(&self.build()?)
    }
}

impl IncomingResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name`, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (invalid UTF-8 replaced by U+FFFD).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; an upstream error (502) when it is not.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PluginError::Upstream(UpstreamError { status: 502, message: format!("unexpected response body: {e}") })
        })
    }

    /// This response when its status is 2xx, otherwise
    /// [`PluginError::Upstream`] with the status and the start of the body.
    pub fn error_for_status(self) -> Result<IncomingResponse, PluginError> {
        if self.is_success() {
            return Ok(self);
        }
        let mut message = self.text();
        if message.len() > 512 {
            let mut end = 512;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        Err(PluginError::Upstream(UpstreamError { status: self.status, message }))
    }
}

/// How a failed request surfaces when a handler passes it on with `?`: no
/// answer in time is an upstream 504, other transport failures an upstream
/// 502, and a refused or malformed request an internal error (a bug or a
/// missing grant in `plugin.toml`, not the remote's fault).
impl From<HttpError> for PluginError {
    fn from(e: HttpError) -> Self {
        let upstream = |status, message| PluginError::Upstream(UpstreamError { status, message });
        match e {
            HttpError::Timeout => upstream(504, "the request timed out".into()),
            HttpError::Connection(m) => upstream(502, format!("connection failed: {m}")),
            HttpError::TooLarge(n) => upstream(502, format!("the response exceeded the size limit ({n} bytes)")),
            HttpError::Denied(m) => PluginError::Internal(format!("outbound request denied: {m}")),
            HttpError::InvalidRequest(m) => PluginError::Internal(format!("invalid outbound request: {m}")),
        }
    }
}
