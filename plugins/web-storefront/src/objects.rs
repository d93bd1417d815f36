//! The Liquid objects, named and shaped as Shopify theme developers expect:
//! `product`, `variant`, `collection`, `cart` and its line items. Prices
//! are integers in minor units, as in Shopify.

use serde_json::{Value as Json, json};

use omnistore_sdk::{Cart, CartLine, Collection, Customer, IdentityKind, Image, Location, Product, Variant};

use crate::context::Ctx;

/// `object` with `fields` moved in. `json!` serialises a value it is given
/// into a new one, so nesting objects built already through it copies them
/// whole: a collection page's products were copied twice that way.
pub fn with_fields(mut object: Json, fields: impl IntoIterator<Item = (&'static str, Json)>) -> Json {
    if let Json::Object(map) = &mut object {
        for (key, value) in fields {
            map.insert(key.to_string(), value);
        }
    }
    object
}

fn or_null(value: Option<Json>) -> Json {
    value.unwrap_or(Json::Null)
}

/// Milliseconds since the epoch as an ISO date (`2026-12-31`).
pub fn iso_date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Civil from days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Milliseconds since the epoch as an ISO timestamp (`2026-12-31T10:00:00Z`).
pub fn iso_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", iso_date(ms), secs / 3600, secs / 60 % 60, secs % 60)
}

/// An image, its URL made absolute when the host gave a path (social
/// networks and search engines need absolute image URLs).
pub fn image(ctx: &Ctx, image: &Image) -> Json {
    let src = absolute_media(ctx, &image.url);
    json!({ "src": src, "url": src, "alt": image.alt })
}

fn absolute_media(ctx: &Ctx, url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        format!("{}{url}", crate::context::origin_of(&ctx.base_url))
    } else {
        url.to_string()
    }
}

pub fn is_available(v: &Variant) -> bool {
    v.available > 0 || v.backorderable
}

/// The option names of a product, in the order of its first variant.
fn option_names(product: &Product) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for v in &product.variants {
        for o in &v.options {
            if !names.contains(&o.name) {
                names.push(o.name.clone());
            }
        }
    }
    names
}

fn option_value(v: &Variant, name: &str) -> Option<String> {
    v.options.iter().find(|o| o.name == name).map(|o| o.value.clone())
}

pub fn product_url(ctx: &Ctx, handle: &str) -> String {
    ctx.url(&format!("/products/{handle}"))
}

pub fn variant(ctx: &Ctx, product: &Product, v: &Variant) -> Json {
    let names = option_names(product);
    let options: Vec<Json> = names.iter().map(|n| Json::from(option_value(v, n).unwrap_or_default())).collect();
    let money = ctx.money();
    let out = json!({
        "id": v.id,
        "title": v.title,
        "name": format!("{} - {}", product.title, v.title),
        "sku": v.sku,
        "barcode": v.gtin,
        "price": v.price.amount_minor,
        "price_formatted": money.money(v.price.amount_minor),
        "compare_at_price": v.compare_at.as_ref().map(|m| m.amount_minor),
        "available": is_available(v),
        "inventory_quantity": v.available,
        "inventory_policy": if v.backorderable { "continue" } else { "deny" },
        "weight": v.weight_grams,
        "url": format!("{}?variant={}", product_url(ctx, &product.handle), v.id),
        "price_valid_until": v.price_valid_until.map(iso_date),
        "product_id": product.id,
    });
    const OPTION_KEYS: [&str; 3] = ["option1", "option2", "option3"];
    let mut fields: Vec<(&'static str, Json)> = OPTION_KEYS.into_iter().zip(options.iter().cloned()).collect();
    fields.push(("options", Json::Array(options)));
    fields.push(("featured_image", or_null(product.images.first().map(|i| image(ctx, i)))));
    with_fields(out, fields)
}

/// The variant a request asks for: `?variant=ID`, or the option values
/// (`option1=…`) of the no-JavaScript picker; else the first available.
pub fn chosen_variant<'p>(product: &'p Product, query: &[(String, String)]) -> Option<&'p Variant> {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Some(id) = param("variant")
        && let Some(v) = product.variants.iter().find(|v| v.id == id)
    {
        return Some(v);
    }
    let names = option_names(product);
    let wanted: Vec<Option<&str>> = (1..=names.len()).map(|i| param(&format!("option{i}"))).collect();
    if wanted.iter().any(Option::is_some) {
        let matched = product.variants.iter().find(|v| {
            names
                .iter()
                .zip(&wanted)
                .all(|(name, want)| want.is_none_or(|w| option_value(v, name).as_deref() == Some(w)))
        });
        if matched.is_some() {
            return matched;
        }
    }
    product.variants.iter().find(|v| is_available(v)).or(product.variants.first())
}

pub fn product(ctx: &Ctx, product: &Product, selected: Option<&Variant>) -> Json {
    let names = option_names(product);
    let current = selected.or_else(|| chosen_variant(product, &[]));
    let prices: Vec<i64> = product.variants.iter().map(|v| v.price.amount_minor).collect();
    let min = prices.iter().copied().min().unwrap_or(0);
    let max = prices.iter().copied().max().unwrap_or(0);
    let compare_min = product
        .variants
        .iter()
        .filter(|v| v.price.amount_minor == min)
        .filter_map(|v| v.compare_at.as_ref().map(|m| m.amount_minor))
        .max();
    let options_with_values: Vec<Json> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut values: Vec<String> = Vec::new();
            for v in &product.variants {
                if let Some(value) = option_value(v, name)
                    && !values.contains(&value)
                {
                    values.push(value);
                }
            }
            with_fields(
                json!({
                    "name": name,
                    "position": i + 1,
                    "selected_value": current.and_then(|v| option_value(v, name)),
                }),
                [("values", Json::from(values))],
            )
        })
        .collect();
    let only_default = product.variants.len() <= 1 && names.is_empty();
    let object = json!({
        "id": product.id,
        "handle": product.handle,
        "title": product.title,
        "description": product.description,
        "content": product.description,
        "vendor": product.brand,
        "type": Json::Null,
        "tags": product.tags,
        "url": product_url(ctx, &product.handle),
        "price": min,
        "price_min": min,
        "price_max": max,
        "price_varies": min != max,
        "compare_at_price": compare_min,
        "available": product.variants.iter().any(is_available),
        "has_only_default_variant": only_default,
        "created_at": iso_time(product.created_at),
        "published_at": iso_time(product.created_at),
        "updated_at": iso_time(product.updated_at),
        "collections": product.collections,
    });
    let first_available = product.variants.iter().find(|v| is_available(v));
    with_fields(
        object,
        [
            ("images", Json::Array(product.images.iter().map(|i| image(ctx, i)).collect())),
            ("featured_image", or_null(product.images.first().map(|i| image(ctx, i)))),
            ("options", Json::from(names)),
            ("options_with_values", Json::Array(options_with_values)),
            ("variants", Json::Array(product.variants.iter().map(|v| variant(ctx, product, v)).collect())),
            ("selected_variant", or_null(selected.map(|v| variant(ctx, product, v)))),
            ("selected_or_first_available_variant", or_null(current.map(|v| variant(ctx, product, v)))),
            ("first_available_variant", or_null(first_available.map(|v| variant(ctx, product, v)))),
        ],
    )
}

pub fn collection(ctx: &Ctx, c: &Collection) -> Json {
    json!({
        "id": c.id,
        "handle": c.handle,
        "title": c.title,
        "description": c.description,
        "url": ctx.url(&format!("/collections/{}", c.handle)),
    })
}

/// Shopify's `customer`: the one signed in on this browser.
pub fn customer(c: &Customer) -> Json {
    let identity = |kind: IdentityKind| c.identities.iter().find(|i| i.kind == kind).map(|i| i.value.clone());
    let name = c.name.clone().unwrap_or_default();
    json!({
        "id": c.id,
        "name": name,
        "first_name": name.split_whitespace().next().unwrap_or(""),
        "last_name": name.split_whitespace().skip(1).collect::<Vec<_>>().join(" "),
        "email": identity(IdentityKind::Email),
        "phone": identity(IdentityKind::Phone),
        "has_account": false,
    })
}

pub fn location(l: &Location) -> Json {
    json!({
        "id": l.id,
        "name": l.name,
        "pickup": l.pickup,
        "address": {
            "name": l.address.name,
            "line1": l.address.line1,
            "line2": l.address.line2,
            "city": l.address.city,
            "region": l.address.region,
            "postal_code": l.address.postal_code,
            "country": l.address.country,
            "phone": l.address.phone,
        },
    })
}

/// A cart line as Shopify's Ajax API and `line_item` object have it.
pub fn line_item(ctx: &Ctx, line: &CartLine) -> Json {
    let quantity = i64::from(line.quantity);
    let original_line = line.unit_price.amount_minor * quantity;
    let final_line = line.total.amount_minor;
    let final_price = if quantity > 0 { final_line / quantity } else { line.unit_price.amount_minor };
    // The core titles lines "Product — Variant".
    let (product_title, variant_title) = match line.title.split_once(" — ").or_else(|| line.title.split_once(" - ")) {
        Some((p, v)) => (p.to_string(), Some(v.to_string())),
        None => (line.title.clone(), None),
    };
    let url = format!("{}?variant={}", product_url(ctx, &line.product_handle), line.variant_id);
    let image_url = line.image.as_ref().map(|i| absolute_media(ctx, &i.url));
    let image = line.image.as_ref().map(|i| {
        let url = absolute_media(ctx, &i.url);
        json!({ "url": url, "src": url, "alt": i.alt.clone().unwrap_or_else(|| line.title.clone()), "aspect_ratio": Json::Null, "width": Json::Null, "height": Json::Null })
    });
    let object = json!({
        "id": line.variant_id,
        "key": line.variant_id,
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "handle": line.product_handle,
        "title": line.title,
        "product_title": product_title,
        "variant_title": variant_title,
        "product_has_only_default_variant": variant_title.is_none(),
        "sku": line.sku,
        "quantity": line.quantity,
        "properties": {},
        "price": line.unit_price.amount_minor,
        "original_price": line.unit_price.amount_minor,
        "discounted_price": final_price,
        "final_price": final_price,
        "line_price": final_line,
        "original_line_price": original_line,
        "final_line_price": final_line,
        "total_discount": line.discount.amount_minor,
        "line_level_total_discount": line.discount.amount_minor,
        "line_level_discount_allocations": [],
        "discounts": [],
        "url": url,
        "image": image_url,
        "options_with_values": variant_title.as_ref().map(|v| vec![json!({ "name": "Title", "value": v })]).unwrap_or_default(),
        "variant_options": variant_title.iter().collect::<Vec<_>>(),
        "requires_shipping": true,
        "taxable": true,
        "gift_card": false,
        "grams": 0,
        "vendor": Json::Null,
        "product_type": "",
        "product_description": Json::Null,
    });
    with_fields(object, [("featured_image", or_null(image))])
}

/// The cart as Shopify's `/cart.js` returns it (and the `cart` object).
pub fn cart(ctx: &Ctx, cart: Option<&Cart>) -> Json {
    let currency = ctx.shop.currency.clone();
    let Some(cart) = cart else {
        return json!({
            "token": Json::Null, "note": Json::Null, "attributes": {}, "original_total_price": 0, "total_price": 0,
            "total_discount": 0, "total_weight": 0, "item_count": 0, "items": [], "requires_shipping": false,
            "currency": currency, "items_subtotal_price": 0, "cart_level_discount_applications": [],
            "discount_codes": [], "promotions": [],
        });
    };
    let items: Vec<Json> = cart.lines.iter().map(|l| line_item(ctx, l)).collect();
    let item_count: u64 = cart.lines.iter().map(|l| u64::from(l.quantity)).sum();
    let items_subtotal: i64 = cart.lines.iter().map(|l| l.total.amount_minor).sum();
    let line_discounts: i64 = cart.lines.iter().map(|l| l.discount.amount_minor).sum();
    let cart_level = cart.discount.amount_minor - line_discounts;
    let object = json!({
        "token": cart.id,
        "note": Json::Null,
        "attributes": {},
        "original_total_price": cart.subtotal.amount_minor,
        "total_price": cart.total.amount_minor,
        "total_discount": cart.discount.amount_minor,
        "total_weight": 0,
        "item_count": item_count,
        "requires_shipping": !cart.lines.is_empty(),
        "currency": currency,
        "items_subtotal_price": items_subtotal,
        "cart_level_discount_applications": if cart_level > 0 {
            vec![json!({ "type": "discount_code", "title": cart.codes.join(", "), "total_allocated_amount": cart_level })]
        } else {
            vec![]
        },
        "discount_codes": cart.codes.iter().map(|c| json!({ "code": c, "applicable": true })).collect::<Vec<_>>(),
        "promotions": cart.promotions,
    });
    with_fields(object, [("items", Json::Array(items))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_798_675_200_000), "2026-12-31");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29");
        assert_eq!(iso_time(1_798_714_861_000), "2026-12-31T11:01:01Z");
        assert_eq!(iso_date(-86_400_000), "1969-12-31");
    }
}
