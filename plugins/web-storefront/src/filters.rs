//! The Shopify-named filters a theme expects that are not plain Liquid:
//! money, images, assets, translations, pagination and structured data.

use omnistore_sdk::templates::{FilterArgs, Object, ParseOptions, Value};
use omnistore_sdk::url::percent_encode;

use crate::i18n::Translations;
use crate::money::{MoneyFormat, decimal};

/// What the filters need to know about the page.
#[derive(Debug)]
pub struct FilterContext {
    pub money: MoneyFormat,
    pub translations: Translations,
    /// The path of the shop's root on the host, without the language prefix ("" or "/shop").
    pub base_path: String,
    /// The shop's root in this page's language ("" or "/en").
    pub root: String,
    /// The absolute origin for structured data ("" when unknown).
    pub origin: String,
    /// Changes whenever the theme's assets may have changed, for cache busting.
    pub asset_version: String,
}

type Result = std::result::Result<Value, String>;

/// The page being rendered, as a filter sees it.
fn page<'a>(args: &FilterArgs<'a>) -> std::result::Result<&'a FilterContext, String> {
    args.context::<FilterContext>().ok_or_else(|| "this filter works only on a page of the shop".to_string())
}

/// Parse options with every storefront filter. The filters read the page
/// ([`FilterContext`]) from the render, so a parsed template serves every
/// page of every shop.
pub fn options() -> ParseOptions {
    ParseOptions::default()
        .with_filter("money", money_filter(|c, m| c.money.money(m)))
        .with_filter("money_with_currency", money_filter(|c, m| c.money.with_currency(m)))
        .with_filter("money_without_trailing_zeros", money_filter(|c, m| c.money.without_trailing_zeros(m)))
        .with_filter("money_without_currency", money_filter(|c, m| c.money.without_currency(m)))
        .with_filter("money_amount", money_filter(|c, m| decimal(m, &c.money.currency)))
        .with_filter("image_url", image_url)
        .with_filter("img_url", img_url)
        .with_filter("asset_url", |v: &Value, a: &FilterArgs<'_>| {
            let c = page(a)?;
            let name = v.render();
            if name.is_empty() || name.contains("..") || name.starts_with('/') {
                return Err(format!("asset_url needs the name of a file in assets/, not {name:?}"));
            }
            Ok(Value::from(format!("{}/assets/{}?v={}", c.base_path, url_encode_path(&name), c.asset_version)))
        })
        .with_filter("stylesheet_tag", |v: &Value, _: &FilterArgs<'_>| {
            Ok(Value::from(format!("<link rel=\"stylesheet\" href=\"{}\">", attribute(&v.render()))))
        })
        .with_filter("script_tag", |v: &Value, _: &FilterArgs<'_>| {
            Ok(Value::from(format!("<script src=\"{}\" defer></script>", attribute(&v.render()))))
        })
        .with_filter("url_for_vendor", |v: &Value, a: &FilterArgs<'_>| {
            let c = page(a)?;
            Ok(Value::from(format!("{}/collections/vendors?q={}", c.root, percent_encode(&v.render()))))
        })
        .with_filter("t", |v: &Value, a: &FilterArgs<'_>| {
            let c = page(a)?;
            let args: Vec<(String, String)> = a.keyword.iter().map(|(k, v)| (k.to_string(), v.render())).collect();
            Ok(Value::from(c.translations.translate(&v.render(), &args)))
        })
        .with_filter("default_pagination", default_pagination)
        .with_filter("structured_data", |v: &Value, a: &FilterArgs<'_>| structured_data(v, page(a)?))
}

/// A money filter: the amount in minor units, formatted for the page by `format`.
fn money_filter(
    format: fn(&FilterContext, i64) -> String,
) -> impl Fn(&Value, &FilterArgs<'_>) -> Result + Send + Sync + 'static {
    move |v: &Value, a: &FilterArgs<'_>| {
        let c = page(a)?;
        money_with(v, |m| format(c, m))
    }
}

fn money_with(value: &Value, format: impl Fn(i64) -> String) -> Result {
    match value {
        Value::Nil => Ok(Value::Nil),
        Value::Int(minor) => Ok(Value::from(format(*minor))),
        Value::Float(f) => Ok(Value::from(format(f.round() as i64))),
        Value::Str(s) => s
            .trim()
            .parse::<i64>()
            .map(|m| Value::from(format(m)))
            .map_err(|_| format!("money filters need an amount in minor units, not {s:?}")),
        other => Err(format!("money filters need an amount in minor units, not {}", other.render())),
    }
}

/// The URL of an image (an image object with `src`/`url`, or a URL).
fn image_src(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.to_string()),
        Value::Object(o) => o.get("src").or_else(|| o.get("url")).map(Value::render),
        _ => None,
    }
}

/// `image_url: width: 400`: the host's image URL asking for that width
/// (the host serves and caches the resized variant).
fn image_url(value: &Value, args: &FilterArgs<'_>) -> Result {
    let Some(src) = image_src(value) else { return Ok(Value::Nil) };
    let width = match args.keyword("width") {
        None | Some(Value::Nil) => None,
        Some(Value::Int(w)) if (1..=5760).contains(w) => Some(*w),
        Some(Value::Str(s)) if s.parse::<i64>().is_ok_and(|w| (1..=5760).contains(&w)) => s.parse().ok(),
        Some(other) => return Err(format!("image_url: width must be between 1 and 5760, not {}", other.render())),
    };
    Ok(Value::from(match width {
        Some(w) => with_query(&src, &format!("width={w}")),
        None => src,
    }))
}

/// The older `img_url: '400x'` (or `'400x400'`, `'master'`).
fn img_url(value: &Value, args: &FilterArgs<'_>) -> Result {
    let Some(src) = image_src(value) else { return Ok(Value::Nil) };
    let size = args.get(0).render();
    let width = size.split('x').next().and_then(|w| w.parse::<u32>().ok()).filter(|w| (1..=5760).contains(w));
    Ok(Value::from(match width {
        Some(w) => with_query(&src, &format!("width={w}")),
        None => src,
    }))
}

fn with_query(url: &str, pair: &str) -> String {
    let (base, fragment) = url.split_once('#').map_or((url, None), |(b, f)| (b, Some(f)));
    let joined = if base.contains('?') { format!("{base}&{pair}") } else { format!("{base}?{pair}") };
    match fragment {
        Some(f) => format!("{joined}#{f}"),
        None => joined,
    }
}

fn attribute(text: &str) -> String {
    omnistore_sdk::html::escape(text)
}

fn url_encode_path(text: &str) -> String {
    text.split('/').map(percent_encode).collect::<Vec<_>>().join("/")
}

/// Shopify's `default_pagination`: links to the previous and next pages and
/// the page numbers around the current one.
fn default_pagination(value: &Value, args: &FilterArgs<'_>) -> Result {
    let Value::Object(paginate) = value else { return Ok(Value::from("")) };
    let label = |name: &str, fallback: &str| {
        args.keyword(name).map(Value::render).filter(|s| !s.is_empty()).unwrap_or_else(|| fallback.to_string())
    };
    let link = |part: Option<&Value>, text: &str, rel: &str| -> Option<String> {
        let url = part?.as_object()?.get("url")?.render();
        Some(format!("<a href=\"{}\" rel=\"{rel}\">{}</a>", attribute(&url), attribute(text)))
    };
    let mut out = Vec::new();
    if let Some(prev) = link(paginate.get("previous"), &label("previous", "« Previous"), "prev") {
        out.push(format!("<span class=\"prev\">{prev}</span>"));
    }
    if let Some(Value::Array(parts)) = paginate.get("parts") {
        for part in parts.iter() {
            let Some(part) = part.as_object() else { continue };
            let title = part.get("title").map(Value::render).unwrap_or_default();
            let is_link = part.get("is_link").is_some_and(Value::is_truthy);
            match part.get("url") {
                Some(url) if is_link => out.push(format!(
                    "<span class=\"page\"><a href=\"{}\">{}</a></span>",
                    attribute(&url.render()),
                    attribute(&title)
                )),
                _ if title == "…" => out.push("<span class=\"deco\">…</span>".to_string()),
                _ => {
                    out.push(format!("<span class=\"page current\" aria-current=\"page\">{}</span>", attribute(&title)))
                }
            }
        }
    }
    if let Some(next) = link(paginate.get("next"), &label("next", "Next »"), "next") {
        out.push(format!("<span class=\"next\">{next}</span>"));
    }
    Ok(Value::from(out.join(" ")))
}

trait AsObject {
    fn as_object(&self) -> Option<&omnistore_sdk::templates::Object>;
}

impl AsObject for Value {
    fn as_object(&self) -> Option<&omnistore_sdk::templates::Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// `{{ product | structured_data }}`: a schema.org `Product` with one
/// `Offer` per variant, as JSON-LD in a script element.
fn structured_data(value: &Value, context: &FilterContext) -> Result {
    // Read straight from the page's object: converting the whole product to
    // JSON first cost more than writing the JSON-LD.
    let Value::Object(product) = value else { return Ok(Value::from("")) };
    let Some(Value::Array(variants)) = product.get("variants") else { return Ok(Value::from("")) };
    let field = |object: &Object, key: &str| object.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let currency = &context.money.currency;
    let absolute =
        |path: &str| if path.starts_with('/') { format!("{}{path}", context.origin) } else { path.to_string() };
    let offers: Vec<serde_json::Value> = variants
        .iter()
        .filter_map(|v| match v {
            Value::Object(v) => Some(v),
            _ => None,
        })
        .map(|v| {
            let price = match v.get("price") {
                Some(Value::Int(minor)) => *minor,
                _ => 0,
            };
            let mut offer = serde_json::json!({
                "@type": "Offer",
                "url": absolute(&field(v, "url")),
                "sku": v.get("sku").and_then(Value::as_str),
                "price": decimal(price, currency),
                "priceCurrency": currency,
                "availability": if matches!(v.get("available"), Some(Value::Bool(true))) {
                    "https://schema.org/InStock"
                } else {
                    "https://schema.org/OutOfStock"
                },
                "itemCondition": "https://schema.org/NewCondition",
            });
            let gtin = field(v, "barcode");
            if !gtin.is_empty() {
                offer["gtin"] = serde_json::json!(gtin);
            }
            let until = field(v, "price_valid_until");
            if !until.is_empty() {
                offer["priceValidUntil"] = serde_json::json!(until);
            }
            if let Some(title) = v.get("title").and_then(Value::as_str) {
                offer["name"] = serde_json::json!(title);
            }
            offer
        })
        .collect();
    let images: Vec<String> = match product.get("images") {
        Some(Value::Array(images)) => images
            .iter()
            .filter_map(|i| match i {
                Value::Object(i) => i.get("src").and_then(Value::as_str).map(absolute),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": field(product, "title"),
        "url": absolute(&field(product, "url")),
        "description": strip_tags(&field(product, "description")),
        "offers": offers,
    });
    if !images.is_empty() {
        ld["image"] = serde_json::json!(images);
    }
    let vendor = field(product, "vendor");
    if !vendor.is_empty() {
        ld["brand"] = serde_json::json!({ "@type": "Brand", "name": vendor });
    }
    if let Some(Value::Object(chosen)) = product.get("selected_or_first_available_variant") {
        if let Some(sku) = chosen.get("sku").and_then(Value::as_str) {
            ld["sku"] = serde_json::json!(sku);
        }
        let gtin = field(chosen, "barcode");
        if !gtin.is_empty() {
            ld["gtin"] = serde_json::json!(gtin);
        }
    }
    let safe = omnistore_sdk::templates::script_safe_json(&ld).map_err(|e| e.to_string())?;
    Ok(Value::from(format!("<script type=\"application/ld+json\">{safe}</script>")))
}

/// The text of sanitized HTML, for descriptions in structured data.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out.split_whitespace().collect::<Vec<_>>().join(" ");
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use omnistore_sdk::templates::{RenderOptions, Template};

    fn context() -> FilterContext {
        FilterContext {
            money: MoneyFormat::new("EUR", "it", false),
            translations: Translations::new(
                "it",
                serde_json::json!({ "cart": { "title": "Carrello di {{ name }}" } }),
                serde_json::json!({}),
            ),
            base_path: "/shop".into(),
            root: "/shop/en".into(),
            origin: "https://example.test".into(),
            asset_version: "v1".into(),
        }
    }

    fn render(source: &str, data: serde_json::Value) -> String {
        let template = Template::parse(source, &options()).unwrap();
        template.render(&Value::from(data), &RenderOptions::default().with_context(&context())).unwrap()
    }

    #[test]
    fn money_filters() {
        let data = serde_json::json!({ "p": 350, "q": 300 });
        assert_eq!(render("{{ p | money }}", data.clone()), "3,50\u{a0}€");
        assert_eq!(render("{{ p | money_with_currency }}", data.clone()), "3,50\u{a0}€ EUR");
        assert_eq!(render("{{ q | money_without_trailing_zeros }}", data.clone()), "3\u{a0}€");
        assert_eq!(render("{{ p | money_without_currency }}", data.clone()), "3,50");
        assert_eq!(render("{{ p | money_amount }}", data), "3.50");
        let template = Template::parse("{{ 'x' | money }}", &options()).unwrap();
        assert!(template.render(&Value::Nil, &RenderOptions::default().with_context(&context())).is_err());
        // Outside a page (no context) the filter says so instead of guessing a currency.
        let outside = Template::parse("{{ 1 | money }}", &options()).unwrap();
        let err = outside.render(&Value::Nil, &RenderOptions::default()).unwrap_err().to_string();
        assert!(err.contains("only on a page of the shop"), "{err}");
    }

    /// One parsed template, two shops: each render formats with its own page.
    #[test]
    fn one_parsed_template_renders_each_page_with_its_own_money_and_language() {
        let template = Template::parse("{{ 350 | money }} {{ 'cart.title' | t: name: 'Ada' }}", &options()).unwrap();
        let english = FilterContext {
            money: MoneyFormat::new("USD", "en", false),
            translations: Translations::new(
                "en",
                serde_json::json!({ "cart": { "title": "{{ name }}'s cart" } }),
                serde_json::json!({}),
            ),
            ..context()
        };
        let render =
            |c: &FilterContext| template.render(&Value::Nil, &RenderOptions::default().with_context(c)).unwrap();
        assert_eq!(render(&context()), "3,50\u{a0}€ Carrello di Ada");
        assert_eq!(render(&english), "$3.50 Ada's cart");
        assert_eq!(render(&context()), "3,50\u{a0}€ Carrello di Ada");
    }

    #[test]
    fn image_and_asset_urls() {
        let data = serde_json::json!({ "img": { "src": "/media/a.jpg", "alt": "A" }, "q": "/media/b.jpg?v=2" });
        assert_eq!(render("{{ img | image_url: width: 400 }}", data.clone()), "/media/a.jpg?width=400");
        assert_eq!(render("{{ q | image_url: width: 80 }}", data.clone()), "/media/b.jpg?v=2&width=80");
        assert_eq!(render("{{ img | image_url }}", data.clone()), "/media/a.jpg");
        assert_eq!(render("{{ img | img_url: '300x300' }}", data.clone()), "/media/a.jpg?width=300");
        assert_eq!(render("{{ img | img_url: 'master' }}", data), "/media/a.jpg");
        assert_eq!(render("{{ 'base.css' | asset_url }}", serde_json::json!({})), "/shop/assets/base.css?v=v1");
        assert_eq!(
            render("{{ 'base.css' | asset_url | stylesheet_tag }}", serde_json::json!({})),
            "<link rel=\"stylesheet\" href=\"/shop/assets/base.css?v=v1\">"
        );
        assert_eq!(
            render("{{ 'a.js' | asset_url | script_tag }}", serde_json::json!({})),
            "<script src=\"/shop/assets/a.js?v=v1\" defer></script>"
        );
        assert_eq!(
            render("{{ 'Dolce Vita' | url_for_vendor }}", serde_json::json!({})),
            "/shop/en/collections/vendors?q=Dolce%20Vita"
        );
        assert_eq!(render("{{ 'cart.title' | t: name: 'Giulia' }}", serde_json::json!({})), "Carrello di Giulia");
    }

    #[test]
    fn pagination_links() {
        let data = serde_json::json!({ "paginate": {
            "previous": { "url": "/c?page=1", "title": "prev" },
            "next": { "url": "/c?page=3", "title": "next" },
            "parts": [
                { "title": "1", "url": "/c?page=1", "is_link": true },
                { "title": "2", "is_link": false },
                { "title": "3", "url": "/c?page=3", "is_link": true }
            ]
        }});
        let out = render("{{ paginate | default_pagination: previous: 'Prima', next: 'Dopo' }}", data);
        assert!(out.starts_with("<span class=\"prev\"><a href=\"/c?page=1\" rel=\"prev\">Prima</a></span>"), "{out}");
        assert!(out.contains("<span class=\"page current\" aria-current=\"page\">2</span>"), "{out}");
        assert!(out.ends_with("<a href=\"/c?page=3\" rel=\"next\">Dopo</a></span>"), "{out}");
    }

    #[test]
    fn structured_data_describes_every_offer() {
        let product = serde_json::json!({ "product": {
            "title": "Cannolo", "url": "/products/cannolo", "description": "<p>Ricotta &amp; <b>cialda</b></p>",
            "vendor": "Dolce Vita", "images": [{ "src": "/media/c.jpg" }],
            "selected_or_first_available_variant": { "sku": "C-1", "barcode": "8001234567890" },
            "variants": [
                { "title": "Mignon", "sku": "C-1", "barcode": "8001234567890", "price": 180, "available": true,
                  "url": "/products/cannolo?variant=v1", "price_valid_until": "2026-12-31" },
                { "title": "Grande", "sku": "C-2", "barcode": null, "price": 350, "available": false,
                  "url": "/products/cannolo?variant=v2", "price_valid_until": null }
            ]
        }});
        let out = render("{{ product | structured_data }}", product);
        let json =
            out.strip_prefix("<script type=\"application/ld+json\">").unwrap().strip_suffix("</script>").unwrap();
        let ld: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(ld["@type"], "Product");
        assert_eq!(ld["brand"]["name"], "Dolce Vita");
        assert_eq!(ld["image"][0], "https://example.test/media/c.jpg");
        assert_eq!(ld["offers"][0]["price"], "1.80");
        assert_eq!(ld["offers"][0]["priceCurrency"], "EUR");
        assert_eq!(ld["offers"][0]["availability"], "https://schema.org/InStock");
        assert_eq!(ld["offers"][0]["gtin"], "8001234567890");
        assert_eq!(ld["offers"][0]["priceValidUntil"], "2026-12-31");
        assert_eq!(ld["offers"][0]["url"], "https://example.test/products/cannolo?variant=v1");
        assert_eq!(ld["offers"][1]["availability"], "https://schema.org/OutOfStock");
        assert_eq!(ld["offers"][1].get("gtin"), None);
        assert_eq!(ld["offers"][1]["itemCondition"], "https://schema.org/NewCondition");
        assert_eq!(ld["description"], "Ricotta & cialda");
    }
}
