//! A browser stand-in: keeps cookies, sends what the host adds (the base URL).

use std::collections::BTreeMap;

use omnistore_sdk_harness::{Harness, TestResponse, request};

pub const BASE_URL: &str = "https://shop.example";

pub fn shop() -> Harness {
    Harness::for_plugin("web-storefront").start().expect("the storefront starts in the harness")
}

pub struct Browser<'h> {
    pub h: &'h Harness,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Whether requests are the merchant's preview of draft files.
    pub preview: bool,
}

impl<'h> Browser<'h> {
    pub fn new(h: &'h Harness) -> Browser<'h> {
        Browser { h, cookies: BTreeMap::new(), headers: Vec::new(), preview: false }
    }

    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> TestResponse {
        let mut req = request(method, path, body.to_vec());
        req.headers.push(("x-omnistore-base-url".into(), BASE_URL.into()));
        req.headers.push(("host".into(), "shop.example".into()));
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req.headers.push(("cookie".into(), cookie));
        }
        if let Some(ct) = content_type {
            req.headers.push(("content-type".into(), ct.into()));
        }
        for (k, v) in &self.headers {
            req.headers.push((k.clone(), v.clone()));
        }
        for (k, v) in extra {
            req.headers.push((k.to_string(), v.to_string()));
        }
        let response = if self.preview {
            req.headers.push(("x-omnistore-preview".into(), "1".into()));
            self.h.request_preview(req)
        } else {
            self.h.request(req)
        };
        let response = response.unwrap_or_else(|e| panic!("{method} {path} failed: {e}"));
        for (k, v) in &response.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_string(), value.to_string());
                    }
                }
            }
        }
        response
    }

    pub fn get(&mut self, path: &str) -> TestResponse {
        self.send("GET", path, None, b"", &[])
    }

    /// A form post as a browser sends it from the shop's page.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        self.send("POST", path, Some("application/x-www-form-urlencoded"), body.as_bytes(), &[("origin", BASE_URL)])
    }

    /// A `fetch` from the shop's page with a JSON body.
    pub fn post_json(&mut self, path: &str, value: &serde_json::Value) -> TestResponse {
        let body = serde_json::to_vec(value).unwrap();
        self.send("POST", path, Some("application/json"), &body, &[("origin", BASE_URL)])
    }

    /// The anti-forgery token of the forms on `path`.
    pub fn token(&mut self, path: &str) -> String {
        let page = self.get(path).text();
        attribute_after(&page, "name=\"authenticity_token\" value=\"").expect("the page has a form with a token")
    }

    pub fn cart(&mut self) -> serde_json::Value {
        let r = self.get("/cart.js");
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_slice(&r.body).expect("cart.js is JSON")
    }
}

pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
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

/// The JSON of the `<script>` element whose opening tag contains `marker`.
pub fn script_json(html: &str, marker: &str) -> serde_json::Value {
    let at = html.find(marker).unwrap_or_else(|| panic!("no script with {marker}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the script holds JSON")
}

/// The product JSON a product page embeds for its script.
pub fn product_json(b: &mut Browser<'_>, handle: &str) -> serde_json::Value {
    let page = b.get(&format!("/products/{handle}"));
    assert_eq!(page.status, 200, "{}", page.text());
    script_json(&page.text(), "id=\"ProductJson\"")
}

/// The id of the variant of `handle` titled `title`.
pub fn variant_id(b: &mut Browser<'_>, handle: &str, title: &str) -> String {
    let product = product_json(b, handle);
    product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["title"] == title)
        .unwrap_or_else(|| panic!("{handle} has no variant {title}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every `id="…"` appears once: the Nu checker refuses duplicates.
pub fn assert_unique_ids(html: &str) {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = html;
    while let Some(i) = rest.find(" id=\"") {
        rest = &rest[i + 5..];
        let id = &rest[..rest.find('"').unwrap()];
        assert!(seen.insert(id.to_string()), "duplicate id {id}");
    }
}

/// What every page must be: HTML5 with a language, one h1, a skip link, a main landmark.
pub fn assert_page_basics(html: &str) {
    assert!(html.starts_with("<!doctype html>"), "{}", &html[..html.len().min(200)]);
    assert!(html.contains("<html lang=\""), "no lang");
    assert_eq!(html.matches("<h1").count(), 1, "one h1");
    assert!(html.contains("class=\"skip-link\" href=\"#MainContent\""));
    assert!(html.contains("<main id=\"MainContent\""));
    assert!(html.contains("<meta name=\"viewport\""));
    assert!(html.contains("<meta name=\"description\" content=\""));
    assert!(!html.contains("Liquid error"), "a Liquid error in the page");
    assert!(!html.contains("translation missing"), "a missing translation in the page");
    assert_unique_ids(html);
}
