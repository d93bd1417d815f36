//! One catalog item per variant, in Meta's feed vocabulary: the same fields
//! and formats for the CSV feed, the XML feed and the Batch API's `data`.

use omnistore_sdk::catalog_text::{absolute_url, iso8601, plain, prices, product_url, shorten};
use omnistore_sdk::{Product, Variant};

/// A variant as Meta's catalog item: `(field, value)` in feed order, empty
/// values left out.
pub type Item = Vec<(&'static str, String)>;

/// Every field an item may carry, in the order the CSV feed's columns take.
pub const FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "sale_price",
    "sale_price_effective_date",
    "link",
    "image_link",
    "additional_image_link",
    "brand",
    "item_group_id",
    "size",
    "color",
    "gtin",
    "inventory",
    "google_product_category",
];

/// Meta's limits, in characters.
pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 9999;

/// What an item needs besides the product.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The storefront's address, without a trailing slash.
    pub shop_url: &'a str,
    /// The category when the product's tags name none.
    pub default_category: Option<&'a str>,
    /// Now, the start of a sale's effective range.
    pub now_ms: i64,
}

/// The items of a product, one per variant.
pub fn items(product: &Product, cx: &Context<'_>) -> Vec<Item> {
    product.variants.iter().map(|v| item(product, v, v.available, cx)).collect()
}

/// The item of one variant, with `available` units (a stock change's figure
/// may be newer than the variant's).
pub fn item(product: &Product, variant: &Variant, available: i64, cx: &Context<'_>) -> Item {
    let mut out: Item = Vec::with_capacity(FIELDS.len());
    let mut put = |name: &'static str, value: String| {
        if !value.is_empty() {
            out.push((name, value));
        }
    };
    put("id", variant.sku.clone());
    put("title", title(product, variant));
    put("description", shorten(&plain(&product.description), DESCRIPTION_MAX));
    put("availability", availability(product, variant, available).into());
    put("condition", condition(product).into());
    let (price, sale) = prices(&variant.price, variant.compare_at.as_ref());
    put("price", price);
    if let Some(sale) = sale {
        put("sale_price", sale);
        if let Some(until) = variant.price_valid_until {
            put("sale_price_effective_date", format!("{}/{}", iso8601(cx.now_ms), iso8601(until)));
        }
    }
    put("link", product_url(cx.shop_url, &product.handle));
    // Meta fetches the images itself: only addresses it can reach.
    let mut images = product.images.iter().filter_map(|i| absolute_url(cx.shop_url, &i.url));
    put("image_link", images.next().unwrap_or_default());
    put("additional_image_link", images.take(20).collect::<Vec<_>>().join(","));
    put("brand", product.brand.clone().unwrap_or_default());
    put("item_group_id", product.id.clone());
    put("size", option(variant, SIZE_NAMES));
    put("color", option(variant, COLOR_NAMES));
    put("gtin", variant.gtin.clone().unwrap_or_default());
    put("inventory", available.max(0).to_string());
    put("google_product_category", category(product, cx.default_category));
    out
}

/// The fields a stock change touches, for an item Meta already has.
pub fn stock_fields(product: Option<&Product>, variant: Option<&Variant>, sku: &str, available: i64) -> Item {
    let availability = match (product, variant) {
        (Some(p), Some(v)) => availability(p, v, available),
        _ if available > 0 => "in stock",
        _ => "out of stock",
    };
    vec![("id", sku.to_string()), ("availability", availability.into()), ("inventory", available.max(0).to_string())]
}

/// The product's title, with the variant's when there are several (Meta
/// shows each item on its own in search and ads).
fn title(product: &Product, variant: &Variant) -> String {
    let title = if product.variants.len() > 1 && !variant.title.is_empty() {
        format!("{} - {}", product.title, variant.title)
    } else {
        product.title.clone()
    };
    shorten(&title, TITLE_MAX)
}

/// `in stock` while units are available; sold out, `available for order`
/// when it may be backordered; tags `preorder` and `discontinued` say so.
pub fn availability(product: &Product, variant: &Variant, available: i64) -> &'static str {
    let tagged = |t: &str| product.tags.iter().any(|tag| tag.trim().eq_ignore_ascii_case(t));
    if tagged("discontinued") {
        "discontinued"
    } else if tagged("preorder") {
        "preorder"
    } else if available > 0 {
        "in stock"
    } else if variant.backorderable {
        "available for order"
    } else {
        "out of stock"
    }
}

/// `new` unless a tag `condition:used` or `condition:refurbished` says otherwise.
fn condition(product: &Product) -> &'static str {
    match tag_value(product, "condition").as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("used") => "used",
        Some("refurbished") => "refurbished",
        _ => "new",
    }
}

const SIZE_NAMES: &[&str] = &["size", "taglia", "formato", "größe", "groesse", "taille", "talla", "tamaño"];
const COLOR_NAMES: &[&str] = &["color", "colour", "colore", "farbe", "couleur", "colore/color"];

/// The value of the variant's option with one of these names.
fn option(variant: &Variant, names: &[&str]) -> String {
    variant
        .options
        .iter()
        .find(|o| names.iter().any(|n| o.name.trim().to_lowercase() == *n))
        .map(|o| o.value.trim().to_string())
        .unwrap_or_default()
}

/// The tag `google_product_category:<id or path>`, else the setting.
fn category(product: &Product, default: Option<&str>) -> String {
    tag_value(product, "google_product_category").or_else(|| default.map(str::to_string)).unwrap_or_default()
}

/// The value of a `name:value` tag.
fn tag_value(product: &Product, name: &str) -> Option<String> {
    product.tags.iter().find_map(|t| {
        let (k, v) = t.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(name) && !v.trim().is_empty()).then(|| v.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use omnistore_sdk::{Image, Money, VariantOption};

    use super::*;

    fn variant(sku: &str, cents: i64, was: Option<i64>) -> Variant {
        Variant {
            id: format!("var-{sku}"),
            sku: sku.into(),
            title: "Grande".into(),
            options: vec![VariantOption { name: "Formato".into(), value: "Grande".into() }],
            gtin: None,
            weight_grams: None,
            price: Money::new(cents, "EUR"),
            compare_at: was.map(|w| Money::new(w, "EUR")),
            available: 5,
            backorderable: false,
            price_valid_until: Some(1_772_582_399_000),
        }
    }

    fn product(variants: Vec<Variant>, tags: &[&str]) -> Product {
        Product {
            id: "prod-1".into(),
            handle: "cannolo".into(),
            title: "Cannolo".into(),
            description: "<p>Crisp &amp; <b>sweet</b></p><p>Ricotta</p>".into(),
            brand: Some("Dolce Vita".into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            collections: vec![],
            images: vec![
                Image { url: "/img/a.jpg".into(), alt: None },
                Image { url: "https://cdn.example/b.jpg".into(), alt: None },
            ],
            variants,
            updated_at: 0,
            created_at: 0,
        }
    }

    fn get<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
        item.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    const CX: Context<'static> =
        Context { shop_url: "https://shop.example", default_category: Some("5750"), now_ms: 1_772_445_600_000 };

    #[test]
    fn a_promotion_is_a_sale_price_under_the_compare_at_price() {
        let p = product(vec![variant("C-1", 280, Some(350))], &[]);
        let item = &items(&p, &CX)[0];
        assert_eq!(get(item, "price"), Some("3.50 EUR"));
        assert_eq!(get(item, "sale_price"), Some("2.80 EUR"));
        assert_eq!(get(item, "sale_price_effective_date"), Some("2026-03-02T10:00:00+00:00/2026-03-03T23:59:59+00:00"));
        let p = product(vec![variant("C-1", 350, None)], &[]);
        let item = &items(&p, &CX)[0];
        assert_eq!(get(item, "price"), Some("3.50 EUR"));
        assert_eq!(get(item, "sale_price"), None);
        assert_eq!(get(item, "sale_price_effective_date"), None);
    }

    #[test]
    fn fields_take_metas_names_and_formats() {
        let p = product(vec![variant("C-1", 350, None)], &["google_product_category:Food > Pastries"]);
        let item = &items(&p, &CX)[0];
        assert_eq!(get(item, "id"), Some("C-1"));
        assert_eq!(get(item, "description"), Some("Crisp & sweet\nRicotta"));
        assert_eq!(get(item, "link"), Some("https://shop.example/products/cannolo"));
        assert_eq!(get(item, "image_link"), Some("https://shop.example/img/a.jpg"));
        assert_eq!(get(item, "additional_image_link"), Some("https://cdn.example/b.jpg"));
        assert_eq!(get(item, "item_group_id"), Some("prod-1"));
        assert_eq!(get(item, "size"), Some("Grande"));
        assert_eq!(get(item, "color"), None);
        assert_eq!(get(item, "inventory"), Some("5"));
        assert_eq!(get(item, "condition"), Some("new"));
        assert_eq!(get(item, "google_product_category"), Some("Food > Pastries"));
        let names: Vec<_> = item.iter().map(|(k, _)| *k).collect();
        assert!(names.iter().all(|n| FIELDS.contains(n)), "{names:?}");
    }

    #[test]
    fn availability_follows_stock_backorders_and_tags() {
        let mut v = variant("C-1", 350, None);
        let p = product(vec![v.clone()], &[]);
        assert_eq!(availability(&p, &v, 3), "in stock");
        assert_eq!(availability(&p, &v, 0), "out of stock");
        v.backorderable = true;
        assert_eq!(availability(&p, &v, 0), "available for order");
        assert_eq!(availability(&product(vec![], &["Preorder"]), &v, 3), "preorder");
        assert_eq!(availability(&product(vec![], &["discontinued"]), &v, 3), "discontinued");
        assert_eq!(
            stock_fields(None, None, "X", -2)[1..],
            [("availability", "out of stock".to_string()), ("inventory", "0".into())]
        );
    }
}
