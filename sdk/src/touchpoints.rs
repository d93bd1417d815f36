//! The journey journal: what happened on this channel, for analytics and
//! campaign attribution. Needs `"touchpoints"` in `[capabilities].imports`.
//!
//! ```no_run
//! # fn f(req: &omnistore_sdk::Request, product: &omnistore_sdk::Product) -> Result<(), omnistore_sdk::PluginError> {
//! use omnistore_sdk::{Touchpoint, VisitSource, touchpoints};
//! let mut view = Touchpoint::new("view").for_product(&product.product_id()).for_visitor("v-3f9a");
//! if let Some(source) = VisitSource::from_request(req) {
//!     view = view.from_source(source);
//! }
//! touchpoints::record(&view)?;
//! # Ok(()) }
//! ```

pub use crate::__private::bindings::omnistore::plugin::touchpoints::record;

use crate::{Request, Touchpoint, VisitSource};

/// The longest referrer kept, in bytes (the contract's limit).
pub const MAX_REFERRER_BYTES: usize = 1024;

impl Touchpoint {
    /// This touchpoint, of the anonymous visitor `visitor_id` (the
    /// channel's cookie value): the host joins it to the customer's timeline
    /// when the visitor places an order.
    pub fn for_visitor(mut self, visitor_id: impl Into<String>) -> Touchpoint {
        self.visitor_id = Some(visitor_id.into());
        self
    }

    /// This touchpoint, from a visit that came from `source`.
    pub fn from_source(mut self, source: VisitSource) -> Touchpoint {
        self.source = Some(source);
        self
    }
}

/// Referring sites known by name, with the medium a visit from them has.
const KNOWN_REFERRERS: &[(&str, &str, &str)] = &[
    ("instagram.com", "instagram", "social"),
    ("pinterest.", "pinterest", "social"),
    ("pin.it", "pinterest", "social"),
    ("facebook.com", "facebook", "social"),
    ("fb.com", "facebook", "social"),
    ("fb.me", "facebook", "social"),
    ("messenger.com", "facebook", "social"),
    ("whatsapp.com", "whatsapp", "social"),
    ("wa.me", "whatsapp", "social"),
    ("tiktok.com", "tiktok", "social"),
    ("t.co", "twitter", "social"),
    ("twitter.com", "twitter", "social"),
    ("x.com", "twitter", "social"),
    ("linkedin.com", "linkedin", "social"),
    ("lnkd.in", "linkedin", "social"),
    ("youtube.com", "youtube", "social"),
    ("google.", "google", "organic"),
    ("bing.com", "bing", "organic"),
    ("duckduckgo.com", "duckduckgo", "organic"),
    ("yahoo.", "yahoo", "organic"),
    ("ecosia.org", "ecosia", "organic"),
    ("mail.google.com", "email", "email"),
    ("outlook.live.com", "email", "email"),
    ("mail.yahoo.", "email", "email"),
];

impl VisitSource {
    /// A visit from `source` with nothing else known.
    pub fn new(source: impl Into<String>) -> VisitSource {
        VisitSource { source: source.into(), medium: None, campaign: None, referrer: None }
    }

    /// A visit typed in or from a bookmark: no campaign, no referrer.
    pub fn direct() -> VisitSource {
        VisitSource::new("direct")
    }

    /// Where the visit of `req` came from, when the request says: its
    /// `utm_source` (with `utm_medium` and `utm_campaign`), or else the site
    /// of its `Referer` — `instagram`, `pinterest`, `facebook`, `google`, … or
    /// the host name for others. `None` when it says nothing, or when the
    /// referrer is the shop itself (a click from page to page of one visit)
    /// as told by [`Request::base_url`] or the `Host` header.
    ///
    /// ```
    /// use omnistore_sdk::{Request, VisitSource};
    /// let from_mail = Request::new("GET", "/products/cannolo?utm_source=newsletter&utm_medium=email&utm_campaign=cmp-7");
    /// let s = VisitSource::from_request(&from_mail).unwrap();
    /// assert_eq!((s.source.as_str(), s.medium.as_deref(), s.campaign.as_deref()), ("newsletter", Some("email"), Some("cmp-7")));
    ///
    /// let from_pin = Request::new("GET", "/").with_header("Referer", "https://www.pinterest.it/pin/123/");
    /// let s = VisitSource::from_request(&from_pin).unwrap();
    /// assert_eq!((s.source.as_str(), s.medium.as_deref()), ("pinterest", Some("social")));
    ///
    /// let inside = Request::new("GET", "/cart")
    ///     .with_header("x-omnistore-base-url", "https://shop.example")
    ///     .with_header("referer", "https://shop.example/products/cannolo");
    /// assert_eq!(VisitSource::from_request(&inside), None);
    /// ```
    pub fn from_request(req: &Request) -> Option<VisitSource> {
        let referrer = req.header("referer").filter(|r| !r.is_empty()).map(|r| truncate(r, MAX_REFERRER_BYTES));
        let param = |name: &str| req.query_param(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(source) = param("utm_source") {
            return Some(VisitSource {
                source: source.to_lowercase(),
                medium: param("utm_medium").map(|m| m.to_lowercase()),
                campaign: param("utm_campaign"),
                referrer,
            });
        }
        let referrer = referrer?;
        let host = host_of(&referrer)?;
        let own = req.base_url().and_then(host_of).or_else(|| req.header("host").map(|h| strip_port(h).to_string()));
        if own.is_some_and(|own| own.eq_ignore_ascii_case(&host)) {
            return None;
        }
        let (source, medium) = classify(&host);
        Some(VisitSource { source, medium: Some(medium), campaign: None, referrer: Some(referrer) })
    }
}

/// The name and medium of a referring host.
fn classify(host: &str) -> (String, String) {
    let host = host.to_ascii_lowercase();
    let bare = host.strip_prefix("www.").unwrap_or(&host);
    let matches = |pattern: &str| {
        if let Some(prefix) = pattern.strip_suffix('.') {
            // "google." is google.com, google.it, news.google.co.uk …
            bare.starts_with(pattern) || bare.contains(&format!(".{prefix}."))
        } else {
            bare == pattern || bare.ends_with(&format!(".{pattern}"))
        }
    };
    // Mail sites first: mail.google.com is a mail link, not a search.
    let mut known: Vec<&(&str, &str, &str)> = KNOWN_REFERRERS.iter().collect();
    known.sort_by_key(|(_, _, medium)| *medium != "email");
    match known.into_iter().find(|(pattern, _, _)| matches(pattern)) {
        Some((_, name, medium)) => (name.to_string(), medium.to_string()),
        None => (bare.to_string(), "referral".to_string()),
    }
}

/// The host name of an absolute URL, without user info and port.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = strip_port(authority);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_once(']').map_or(authority, |(h, _)| &authority[..=h.len()]);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_of(referer: &str) -> Option<(String, Option<String>)> {
        let req = Request::new("GET", "/").with_header("Host", "shop.example:8080").with_header("Referer", referer);
        VisitSource::from_request(&req).map(|s| (s.source, s.medium))
    }

    #[test]
    fn referrers_are_named_by_their_site() {
        let named = |s: &str, m: &str| Some((s.to_string(), Some(m.to_string())));
        assert_eq!(source_of("https://l.instagram.com/?u=x"), named("instagram", "social"));
        assert_eq!(source_of("https://www.instagram.com/"), named("instagram", "social"));
        assert_eq!(source_of("https://it.pinterest.com/pin/1"), named("pinterest", "social"));
        assert_eq!(source_of("https://pin.it/abc"), named("pinterest", "social"));
        assert_eq!(source_of("https://lm.facebook.com/l.php"), named("facebook", "social"));
        assert_eq!(source_of("https://www.google.it/"), named("google", "organic"));
        assert_eq!(source_of("https://news.google.co.uk/x"), named("google", "organic"));
        assert_eq!(source_of("https://mail.google.com/mail/u/0"), named("email", "email"));
        assert_eq!(source_of("https://blog.example.org:443/post"), named("blog.example.org", "referral"));
        // Not fooled by look-alikes.
        assert_eq!(source_of("https://notinstagram.com/"), named("notinstagram.com", "referral"));
        assert_eq!(source_of("https://user@www.x.com/"), named("twitter", "social"));
        // The shop itself, or something that is not a URL, says nothing.
        assert_eq!(source_of("http://shop.example:8080/cart"), None);
        assert_eq!(source_of("not a url"), None);
        assert_eq!(source_of(""), None);
        assert_eq!(VisitSource::from_request(&Request::new("GET", "/")), None);
    }

    #[test]
    fn utm_parameters_win_over_the_referrer_and_long_referrers_are_cut() {
        let long = format!("https://www.google.com/search?q={}", "é".repeat(1000));
        let req =
            Request::new("GET", "/?utm_source=Instagram&utm_medium=Social&utm_campaign=Spring%2026&utm_content=a")
                .with_header("Referer", &long);
        let s = VisitSource::from_request(&req).unwrap();
        assert_eq!(s.source, "instagram");
        assert_eq!(s.medium.as_deref(), Some("social"));
        assert_eq!(s.campaign.as_deref(), Some("Spring 26"));
        let referrer = s.referrer.unwrap();
        assert!(referrer.len() <= MAX_REFERRER_BYTES && referrer.len() > 1000, "{}", referrer.len());
        let blank = Request::new("GET", "/?utm_source=%20&utm_medium=email");
        assert_eq!(VisitSource::from_request(&blank), None);
        let t = Touchpoint::new("view").for_visitor("v1").from_source(VisitSource::direct());
        assert_eq!((t.visitor_id.as_deref(), t.source.map(|s| s.source)), (Some("v1"), Some("direct".to_string())));
    }
}
