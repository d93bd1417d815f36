//! A browser stand-in: keeps the cookies the plugin sets and sends what the
//! host adds to every request (the installation's URL).

use std::collections::BTreeMap;

use omnistore_sdk_harness::{Harness, TestResponse, request};

/// Where the tests pretend the host mounted the plugin.
pub const BASE_URL: &str = "https://shop.example/hello";
/// The harness's clock, so pages say when they were rendered.
pub const T0: i64 = 1_767_225_600_000;

pub fn hello() -> Harness {
    Harness::for_plugin("hello-channel").clock_at(T0).start().expect("hello-channel starts in the harness")
}

pub struct Browser<'h> {
    h: &'h Harness,
    pub cookies: BTreeMap<String, String>,
}

impl<'h> Browser<'h> {
    pub fn new(h: &'h Harness) -> Browser<'h> {
        Browser { h, cookies: BTreeMap::new() }
    }

    pub fn send(&mut self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> TestResponse {
        let mut req = request(method, path, body.to_vec());
        req.headers.push(("x-omnistore-base-url".into(), BASE_URL.into()));
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req.headers.push(("cookie".into(), cookie));
        }
        if let Some(content_type) = content_type {
            req.headers.push(("content-type".into(), content_type.into()));
        }
        let response = self.h.request(req).unwrap_or_else(|e| panic!("{method} {path} failed: {e}"));
        for (name, value) in set_cookies(&response) {
            self.cookies.insert(name, value);
        }
        response
    }

    pub fn get(&mut self, path: &str) -> TestResponse {
        self.send("GET", path, None, b"")
    }

    /// A form posted as a browser sends it.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        self.send("POST", path, Some("application/x-www-form-urlencoded"), body.as_bytes())
    }

    /// The anti-forgery token of the home page's form.
    pub fn token(&mut self) -> String {
        let page = self.get("/").text();
        attribute_after(&page, "name=\"authenticity_token\" value=\"").expect("the home page has a form with a token")
    }
}

/// The `(name, value)` of every cookie the response sets.
pub fn set_cookies(response: &TestResponse) -> Vec<(String, String)> {
    let headers = response.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"));
    headers
        .filter_map(|(_, v)| v.split(';').next()?.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// The whole `Set-Cookie` header of the cookie `name`.
pub fn set_cookie<'r>(response: &'r TestResponse, name: &str) -> Option<&'r str> {
    let prefix = format!("{name}=");
    response
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with(&prefix))
        .map(|(_, v)| v.as_str())
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The text between `marker` and the next `"`.
pub fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

pub fn json(response: &TestResponse) -> serde_json::Value {
    assert_eq!(response.header("content-type"), Some("application/json"), "{}", response.text());
    serde_json::from_slice(&response.body).expect("the body is JSON")
}
