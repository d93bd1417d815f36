//! Where a visit came from, remembered for the whole visit, and the
//! touchpoints the storefront records (product view, add to cart, checkout
//! start and completion) for attribution.

use omnistore_sdk::cookie::Cookie;
use omnistore_sdk::ids::{CampaignId, ProductId, VariantId};
use omnistore_sdk::{Touchpoint, VisitSource, touchpoints};

use crate::context::{Ctx, SOURCE_COOKIE};

/// How long a landing's source is credited with what follows.
const SOURCE_MAX_AGE: u64 = 60 * 60 * 24 * 7;
const SEPARATOR: char = '\u{1f}';

/// The source of this visit: the request's own (`utm_*`, an outside
/// referrer) — remembered in a signed cookie for the pages that follow — or
/// the one remembered from the landing page.
pub fn source(ctx: &Ctx) -> Option<VisitSource> {
    if let Some(found) = VisitSource::from_request(&ctx.req) {
        ctx.set_cookie(Cookie::signed(&ctx.key, SOURCE_COOKIE, &encode(&found)).max_age(SOURCE_MAX_AGE));
        return Some(found);
    }
    ctx.req.signed_cookie(&ctx.key, SOURCE_COOKIE).and_then(|v| decode(&v))
}

/// Record a touchpoint of this visitor; a failure is logged, never shown:
/// the shopper's page matters more than the statistics.
pub fn record(ctx: &Ctx, kind: &str, product: Option<&ProductId>, variant: Option<&VariantId>, detail: Option<String>) {
    let mut touchpoint = Touchpoint::new(kind).for_visitor(ctx.visitor.clone());
    if let Some(customer) = ctx.customer_id() {
        // Signed in: this visit joins her timeline now, not at her next order.
        touchpoint = touchpoint.for_customer(&customer);
    }
    if let Some(source) = source(ctx) {
        if let Some(campaign) = source.campaign.clone() {
            touchpoint = touchpoint.for_campaign(&CampaignId::new(campaign));
        }
        touchpoint = touchpoint.from_source(source);
    }
    if let Some(p) = product {
        touchpoint = touchpoint.for_product(p);
    }
    if let Some(v) = variant {
        touchpoint = touchpoint.for_variant(v);
    }
    touchpoint.detail = detail;
    if let Err(e) = touchpoints::record(&touchpoint) {
        omnistore_sdk::warn!("a touchpoint was not recorded", kind = kind, error = e.message());
    }
}

/// Cookie-safe: hex of the fields joined by a unit separator.
fn encode(source: &VisitSource) -> String {
    let joined =
        [source.source.as_str(), source.medium.as_deref().unwrap_or(""), source.campaign.as_deref().unwrap_or("")]
            .join(&SEPARATOR.to_string());
    let joined: String = joined.chars().take(300).collect();
    joined.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode(hex: &str) -> Option<VisitSource> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    let text = String::from_utf8(bytes?).ok()?;
    let mut parts = text.split(SEPARATOR);
    let source = parts.next().filter(|s| !s.is_empty())?.to_string();
    let field = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    Some(VisitSource { source, medium: field(parts.next()), campaign: field(parts.next()), referrer: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_survive_the_cookie() {
        let source = VisitSource {
            source: "instagram".into(),
            medium: Some("social".into()),
            campaign: Some("primavera;26".into()),
            referrer: Some("https://instagram.com/".into()),
        };
        let encoded = encode(&source);
        assert!(encoded.bytes().all(|b| b.is_ascii_hexdigit()));
        let back = decode(&encoded).unwrap();
        assert_eq!((back.source.as_str(), back.medium.as_deref()), ("instagram", Some("social")));
        assert_eq!(back.campaign.as_deref(), Some("primavera;26"));
        assert_eq!(decode(&encode(&VisitSource::new("google"))).unwrap().medium, None);
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("abc"), None);
        assert_eq!(decode(""), None);
    }
}
