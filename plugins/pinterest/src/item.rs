//! A variant as a Pinterest catalog item: the attributes of API v5's
//! `ItemAttributesRequest`, in Pinterest's vocabulary and within the limits
//! its description states (title ≤ 500 characters, description ≤ 10,000,
//! link and item_group_id ≤ 511 and 127, prices as "12.50 EUR").
//! Pure functions: the same item goes to the batch API and to the feed.

use omnistore_sdk::{Money, Product, Variant};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const LINK_MAX: usize = 511;
pub const ID_MAX: usize = 127;
pub const IMAGE_LINK_MAX: usize = 2000;

/// What the item is built from besides the product: the merchant's settings.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The storefront's address without a trailing slash.
    pub shop_url: String,
    pub google_product_category: Option<String>,
    /// Now: a sale's effective period starts when it is sent.
    pub now_ms: i64,
}

/// The attributes Pinterest receives for one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    pub title: String,
    pub description: String,
    pub link: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_link: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub additional_image_link: Vec<String>,
    pub price: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sale_price_effective_date: Option<String>,
    pub availability: String,
    pub condition: String,
    pub item_group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub google_product_category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_weight: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub variant_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub variant_values: Vec<String>,
}

/// The item of `variant` of `product`, with `available` units (the
/// product's own figure unless a stock change says otherwise).
pub fn attributes(product: &Product, variant: &Variant, available: i64, cx: &Context) -> Attributes {
    let title = if product.variants.len() > 1 && !variant.title.is_empty() {
        format!("{} – {}", product.title, variant.title)
    } else {
        product.title.clone()
    };
    let description = plain_text(&product.description);
    let (price, sale_price) = prices(&variant.price, variant.compare_at.as_ref());
    let sale_price_effective_date = match (&sale_price, variant.price_valid_until) {
        // Pinterest wants a start and an end; the promotion is on now.
        (Some(_), Some(until)) => Some(format!("{}/{}", iso8601(cx.now_ms.min(until)), iso8601(until))),
        _ => None,
    };
    let mut images =
        product.images.iter().filter_map(|i| absolute(&cx.shop_url, &i.url)).filter(|u| u.len() <= IMAGE_LINK_MAX);
    Attributes {
        title: truncate(&title, TITLE_MAX),
        description: truncate(if description.is_empty() { &title } else { &description }, DESCRIPTION_MAX),
        link: truncate(&product_url(&cx.shop_url, &product.handle), LINK_MAX),
        image_link: images.next(),
        additional_image_link: images.take(10).collect(),
        price,
        sale_price,
        sale_price_effective_date,
        availability: availability(available, variant.backorderable).into(),
        condition: "new".into(),
        item_group_id: truncate(&product.id, ID_MAX),
        brand: product.brand.clone().filter(|b| !b.is_empty()),
        gtin: variant.gtin.clone().filter(|g| !g.is_empty()),
        google_product_category: cx.google_product_category.clone().filter(|c| !c.is_empty()),
        shipping_weight: variant.weight_grams.map(|g| format!("{g} g")),
        variant_names: variant.options.iter().map(|o| o.name.clone()).collect(),
        variant_values: variant.options.iter().map(|o| o.value.clone()).collect(),
    }
}

/// `{shop_url}/products/{handle}`.
pub fn product_url(shop_url: &str, handle: &str) -> String {
    format!("{}/products/{handle}", shop_url.trim_end_matches('/'))
}

/// Pinterest's three availabilities: a variant that may be sold at zero
/// stock is a preorder then.
pub fn availability(available: i64, backorderable: bool) -> &'static str {
    if available > 0 {
        "in stock"
    } else if backorderable {
        "preorder"
    } else {
        "out of stock"
    }
}

/// `price` and `sale_price`: when the channel's price is below the
/// reference price, Pinterest shows the reference struck through.
pub fn prices(price: &Money, compare_at: Option<&Money>) -> (String, Option<String>) {
    match compare_at {
        Some(reference) if reference.currency == price.currency && reference.amount_minor > price.amount_minor => {
            (money(reference), Some(money(price)))
        }
        _ => (money(price), None),
    }
}

/// "12.50 EUR", the first of the forms Pinterest accepts.
pub fn money(m: &Money) -> String {
    format!("{} {}", m.format_amount(), m.currency)
}

/// An image URL as Pinterest must have it, absolute: the host keeps
/// uploaded images at paths of the shop's own address (`/media/...`).
pub fn absolute(shop_url: &str, url: &str) -> Option<String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Some(url.to_string())
    } else if url.starts_with('/') && !url.starts_with("//") {
        Some(format!("{}{url}", shop_url.trim_end_matches('/')))
    } else {
        None
    }
}

/// At most `max` characters (not bytes), cut at a word when one ends in
/// the last fifth, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let at_word = cut.rfind(char::is_whitespace).filter(|&i| cut[..i].chars().count() >= max * 4 / 5);
    let kept = at_word.map_or(cut.as_str(), |i| &cut[..i]).trim_end();
    format!("{kept}…")
}

/// Text of a description that may be sanitized HTML: tags dropped, block
/// ends as line breaks, entities decoded, blank runs collapsed.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&decode_entities(&rest[start..]));
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim_start_matches('/').to_ascii_lowercase();
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        if matches!(name, "p" | "br" | "li" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr") {
            out.push('\n');
        } else {
            out.push(' ');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode_entities(rest));
    let lines: Vec<String> =
        out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| entity(&after[..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// `2026-03-02T10:00:00Z` of a time in ms since the epoch (UTC).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_amount_then_currency_and_a_sale_needs_a_higher_reference() {
        let eur = |m| Money { amount_minor: m, currency: "EUR".into() };
        assert_eq!(prices(&eur(1250), None), ("12.50 EUR".into(), None));
        assert_eq!(prices(&eur(1000), Some(&eur(1250))), ("12.50 EUR".into(), Some("10.00 EUR".into())));
        assert_eq!(prices(&eur(1250), Some(&eur(1250))), ("12.50 EUR".into(), None));
        assert_eq!(money(&Money { amount_minor: 1250, currency: "JPY".into() }), "1250 JPY");
    }

    #[test]
    fn availability_in_pinterests_words() {
        assert_eq!(availability(3, false), "in stock");
        assert_eq!(availability(0, false), "out of stock");
        assert_eq!(availability(0, true), "preorder");
    }

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            plain_text(
                "<p>Ricotta &amp; <b>pistacchio</b></p><ul><li>Crisp&nbsp;shell</li><li>&#233;t&#xE9;</li></ul>"
            ),
            "Ricotta & pistacchio\nCrisp shell\nété"
        );
        assert_eq!(plain_text("a < b & c"), "a < b & c");
    }

    #[test]
    fn truncation_counts_characters_and_prefers_a_word_end() {
        assert_eq!(truncate("Cannolo", 10), "Cannolo");
        let long = "Cannolo siciliano con ricotta di pecora e granella di pistacchio di Bronte";
        let cut = truncate(long, 40);
        assert!(cut.chars().count() <= 40 && cut.ends_with('…'), "{cut}");
        assert!(cut.starts_with("Cannolo siciliano con ricotta di"), "{cut}");
        let accents = "è".repeat(600);
        assert_eq!(truncate(&accents, TITLE_MAX).chars().count(), TITLE_MAX);
    }

    #[test]
    fn image_links_are_absolute() {
        assert_eq!(
            absolute("https://s.example/", "/media/1/a.jpg").as_deref(),
            Some("https://s.example/media/1/a.jpg")
        );
        assert_eq!(
            absolute("https://s.example", "https://cdn.example/a.jpg").as_deref(),
            Some("https://cdn.example/a.jpg")
        );
        assert_eq!(absolute("https://s.example", "a.jpg"), None);
    }

    #[test]
    fn dates_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_772_445_600_000), "2026-03-02T10:00:00Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
