//! A variant as a Pinterest catalog item: the attributes of API v5's
//! `ItemAttributesRequest`, in Pinterest's vocabulary and within the limits
//! its description states (title ≤ 500 characters, description ≤ 10,000,
//! link and item_group_id ≤ 511 and 127, prices as "12.50 EUR").
//! Pure functions: the same item goes to the batch API and to the feed.

use omnistore_sdk::catalog_text::{absolute_url, iso8601, plain, prices, product_url, shorten, truncate_chars};
use omnistore_sdk::{Product, Variant};
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
    let description = plain(&product.description);
    let (price, sale_price) = prices(&variant.price, variant.compare_at.as_ref());
    let sale_price_effective_date = match (&sale_price, variant.price_valid_until) {
        // Pinterest wants a start and an end; the promotion is on now.
        (Some(_), Some(until)) => Some(format!("{}/{}", iso8601(cx.now_ms.min(until)), iso8601(until))),
        _ => None,
    };
    let mut images =
        product.images.iter().filter_map(|i| absolute_url(&cx.shop_url, &i.url)).filter(|u| u.len() <= IMAGE_LINK_MAX);
    Attributes {
        title: shorten(&title, TITLE_MAX),
        description: shorten(if description.is_empty() { &title } else { &description }, DESCRIPTION_MAX),
        // Identifiers and addresses are cut, never given an ellipsis.
        link: truncate_chars(&product_url(&cx.shop_url, &product.handle), LINK_MAX),
        image_link: images.next(),
        additional_image_link: images.take(10).collect(),
        price,
        sale_price,
        sale_price_effective_date,
        availability: availability(available, variant.backorderable).into(),
        condition: "new".into(),
        item_group_id: truncate_chars(&product.id, ID_MAX),
        brand: product.brand.clone().filter(|b| !b.is_empty()),
        gtin: variant.gtin.clone().filter(|g| !g.is_empty()),
        google_product_category: cx.google_product_category.clone().filter(|c| !c.is_empty()),
        shipping_weight: variant.weight_grams.map(|g| format!("{g} g")),
        variant_names: variant.options.iter().map(|o| o.name.clone()).collect(),
        variant_values: variant.options.iter().map(|o| o.value.clone()).collect(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    // The text conversions (plain text, shortening, dates, prices, links)
    // are the SDK's `catalog_text`, tested there.

    #[test]
    fn availability_in_pinterests_words() {
        assert_eq!(availability(3, false), "in stock");
        assert_eq!(availability(0, false), "out of stock");
        assert_eq!(availability(0, true), "preorder");
    }
}
