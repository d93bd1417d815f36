//! Routing, and the catalog pages: home, collections, product, search,
//! about, 404, and the theme's assets.

use serde_json::{Map, Value as Json, json};

use omnistore_sdk::templates::{Object, Value};
use omnistore_sdk::url::form_encode;
use omnistore_sdk::{Cart, PluginError, ProductSort, Request, Response, catalog, html, locations};

use crate::bundled::THEME_VERSION;
use crate::context::Ctx;
use crate::filters::strip_tags;
use crate::theme::Theme;
use crate::{account, ajax, cart, checkout, objects, seo, visit};

/// Products on one search page.
const SEARCH_PAGE_SIZE: u32 = 24;

pub fn handle(req: Request) -> Result<Response, PluginError> {
    let ctx = Ctx::new(req);
    let response = route(&ctx)?;
    ctx.finish(response)
}

fn route(ctx: &Ctx) -> Result<Response, PluginError> {
    let path = ctx.path.clone();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = matches!(ctx.req.method.as_str(), "GET" | "HEAD");
    let post = ctx.req.method == "POST";
    match segments.as_slice() {
        [] if get => index(ctx),
        ["collections"] if get => list_collections(ctx),
        ["collections", "vendors"] if get => search(ctx, true),
        ["collections", handle] if get => collection(ctx, handle),
        ["products", handle] if get => product(ctx, handle),
        ["search"] if get => search(ctx, false),
        ["pages", "about"] if get => about(ctx),
        ["assets", name] if get => asset(ctx, name),
        ["cart"] if get => cart::page(ctx),
        ["cart.js"] | ["cart.json"] if get => ajax::cart(ctx),
        ["cart", "add.js"] if post => ajax::add(ctx),
        ["cart", "change.js"] if post => ajax::change(ctx),
        ["cart", "update.js"] if post => ajax::update(ctx),
        ["cart", "clear.js"] if post => ajax::clear(ctx),
        ["cart", "add"] if post => cart::add_form(ctx),
        ["cart", "change"] if post => cart::change_form(ctx),
        ["cart", "update"] if post => cart::update_form(ctx),
        ["cart", "clear"] if post => cart::clear_form(ctx),
        ["checkout"] if get => checkout::page(ctx),
        ["checkout"] if post => checkout::submit(ctx),
        ["orders", id, token] if get => checkout::order_page(ctx, id, token),
        ["account", "login"] if get => account::form(ctx),
        ["account", "login"] if post => account::request_link(ctx),
        ["account", "login", "confirm"] if get => account::confirm(ctx),
        ["account", "logout"] if post => account::forget(ctx),
        ["robots.txt"] if get => Ok(seo::robots(ctx)),
        ["sitemap.xml"] if get => seo::sitemap_index(ctx),
        [file] if get && file.starts_with("sitemap_") && file.ends_with(".xml") => seo::sitemap_file(ctx, file),
        ["cart" | "checkout"] | ["cart", _] | ["account", "login" | "logout"] => {
            Ok(Response::text("Method Not Allowed").with_status(405))
        }
        _ => not_found(ctx),
    }
}

/// The page `template` rendered in the theme's layout, with the objects
/// every page has and `extra` (the page's own), as a response.
pub fn render(
    ctx: &Ctx,
    theme: &Theme,
    template: &str,
    cart: Option<&Cart>,
    extra: Map<String, Json>,
) -> Result<Response, PluginError> {
    let globals = globals(ctx, theme, template, cart, extra)?;
    match theme.page(ctx, template, &globals) {
        Ok(body) => Ok(Response::html(body).with_header("cache-control", "private, no-cache")),
        Err(e) => e.into_response(),
    }
}

fn globals(
    ctx: &Ctx,
    theme: &Theme,
    template: &str,
    cart: Option<&Cart>,
    extra: Map<String, Json>,
) -> Result<Value, PluginError> {
    let collections: Vec<Json> = ctx.collections()?.iter().map(|c| objects::collection(ctx, c)).collect();
    let alternates: Vec<Json> = ctx
        .shop
        .languages
        .iter()
        .map(|l| l.to_ascii_lowercase())
        .map(|l| {
            json!({
                "iso_code": l,
                "name": language_name(&l),
                "path": ctx.url_in(&l, &ctx.path),
                "url": ctx.absolute_in(&l, &ctx.path),
                "current": l == ctx.language,
            })
        })
        .collect();
    let mut header = String::new();
    if alternates.len() > 1 {
        for alt in &alternates {
            header.push_str(&format!(
                "<link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">\n",
                html::escape(alt["iso_code"].as_str().unwrap_or("")),
                html::escape(alt["url"].as_str().unwrap_or(""))
            ));
        }
        header.push_str(&format!(
            "<link rel=\"alternate\" hreflang=\"x-default\" href=\"{}\">\n",
            html::escape(&ctx.absolute_in(&ctx.default_language, &ctx.path))
        ));
    }
    let mut data = json!({
        "template": template,
        "shop": {
            "name": ctx.shop.name,
            "email": ctx.shop.contact_email,
            "phone": ctx.shop.contact_phone,
            "currency": ctx.shop.currency,
            "locale": ctx.language,
            "languages": ctx.shop.languages,
            "url": ctx.absolute("/"),
            "secure_url": ctx.absolute("/"),
            "description": Json::Null,
        },
        "request": {
            "locale": { "iso_code": ctx.language, "primary": ctx.language == ctx.default_language },
            "path": ctx.url(&ctx.path),
            "page_type": template,
            "origin": crate::context::origin_of(&ctx.base_url),
            "design_mode": false,
            "preview": ctx.preview,
        },
        "customer": ctx.customer().cloned().unwrap_or(Json::Null),
        "form": { "authenticity_token": ctx.csrf_token() },
        "page_title": ctx.shop.name,
        "page_description": format!("{} – online shop", ctx.shop.name),
        "canonical_url": ctx.absolute(&ctx.path),
        "content_for_header": header,
        "theme_version": THEME_VERSION,
    });
    data["request"]["alternates"] = Json::Array(alternates);
    let mut data = objects::with_fields(
        data,
        [("routes", routes(ctx)), ("collections", Json::Array(collections)), ("cart", objects::cart(ctx, cart))],
    );
    if let Json::Object(map) = &mut data {
        for (k, v) in extra {
            // A page's own form keeps the token.
            if k == "form"
                && let Json::Object(mut form) = v
            {
                form.insert("authenticity_token".into(), json!(ctx.csrf_token()));
                map.insert(k, Json::Object(form));
                continue;
            }
            map.insert(k, v);
        }
    }
    let mut object = match Value::from(data) {
        Value::Object(o) => (*o).clone(),
        _ => Object::new(),
    };
    object.insert("settings", theme.settings());
    Ok(Value::object(object))
}

fn routes(ctx: &Ctx) -> Json {
    json!({
        "root_url": ctx.url("/"),
        "collections_url": ctx.url("/collections"),
        "all_products_collection_url": ctx.url("/collections"),
        "search_url": ctx.url("/search"),
        "cart_url": ctx.url("/cart"),
        "cart_add_url": ctx.url("/cart/add"),
        "cart_change_url": ctx.url("/cart/change"),
        "cart_update_url": ctx.url("/cart/update"),
        "cart_clear_url": ctx.url("/cart/clear"),
        "checkout_url": ctx.url("/checkout"),
        "account_login_url": ctx.url("/account/login"),
        "account_logout_url": ctx.url("/account/logout"),
        "about_url": ctx.url("/pages/about"),
    })
}

fn language_name(code: &str) -> &str {
    match code {
        "it" => "Italiano",
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        other => other,
    }
}

fn page_extra(title: &str, description: &str) -> Map<String, Json> {
    let mut extra = Map::new();
    extra.insert("page_title".into(), json!(title));
    extra.insert("page_description".into(), json!(summary(description)));
    extra
}

/// At most 160 characters of text, for meta descriptions.
fn summary(text: &str) -> String {
    let text = strip_tags(text);
    if text.chars().count() <= 160 {
        return text;
    }
    let cut: String = text.chars().take(157).collect();
    format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head))
}

fn index(ctx: &Ctx) -> Result<Response, PluginError> {
    let theme = Theme::load(ctx);
    let collections = ctx.collections()?;
    let settings = theme.settings();
    let setting = |key: &str| match &settings {
        Value::Object(o) => o.get(key).cloned(),
        _ => None,
    };
    let wanted = if ctx.settings.featured_collection.is_empty() {
        setting("featured_collection").map(|v| v.render()).unwrap_or_default()
    } else {
        ctx.settings.featured_collection.clone()
    };
    let count = match setting("featured_count") {
        Some(Value::Int(n)) => n.clamp(1, 48) as u32,
        _ => 8,
    };
    let featured = collections.iter().find(|c| c.handle == wanted).or(collections.first());
    let mut extra = page_extra(
        &ctx.shop.name,
        &format!("{} – {}", ctx.shop.name, collections.iter().map(|c| c.title.as_str()).collect::<Vec<_>>().join(", ")),
    );
    if let Some(c) = featured {
        let page = catalog::browse_collection(&c.collection_id(), ProductSort::Manual, 0, count)?;
        let mut object = objects::collection(ctx, c);
        object["products"] = Json::Array(page.products.iter().map(|p| objects::product(ctx, p, None)).collect());
        extra.insert("featured_collection".into(), object);
    }
    let cart = cart::load(ctx);
    render(ctx, &theme, "index", cart.as_ref(), extra)
}

fn list_collections(ctx: &Ctx) -> Result<Response, PluginError> {
    let theme = Theme::load(ctx);
    let cart = cart::load(ctx);
    let title = theme_translate(&theme, "collections.all");
    render(ctx, &theme, "list-collections", cart.as_ref(), page_extra(&title, &format!("{title} – {}", ctx.shop.name)))
}

fn theme_translate(theme: &Theme, key: &str) -> String {
    theme.translate(key, &[])
}

fn collection(ctx: &Ctx, handle: &str) -> Result<Response, PluginError> {
    let collections = ctx.collections()?;
    let Some(c) = collections.iter().find(|c| c.handle == handle) else {
        return not_found(ctx);
    };
    let theme = Theme::load(ctx);
    let per_page = match &theme.settings() {
        Value::Object(o) => match o.get("products_per_page") {
            Some(Value::Int(n)) => (*n).clamp(1, 60) as u32,
            _ => 12,
        },
        _ => 12,
    };
    let sort_by = ctx.req.query_param("sort_by").unwrap_or_default();
    let sort = ProductSort::from_sort_by(&sort_by).unwrap_or(ProductSort::Manual);
    let page_number = ctx.req.query_param("page").and_then(|p| p.parse::<u32>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let offset = (page_number - 1).saturating_mul(per_page);
    let page = catalog::browse_collection(&c.collection_id(), sort, offset, per_page)?;
    let pages = page.total.div_ceil(per_page).max(1);
    if page_number > pages {
        return not_found(ctx);
    }
    let base = ctx.url(&format!("/collections/{}", c.handle));
    let page_url = |n: u32| {
        let mut query = Vec::new();
        if sort != ProductSort::Manual {
            query.push(format!("sort_by={}", sort.sort_by()));
        }
        if n > 1 {
            query.push(format!("page={n}"));
        }
        if query.is_empty() { base.clone() } else { format!("{base}?{}", query.join("&")) }
    };
    let parts: Vec<Json> = (1..=pages)
        .filter(|n| *n == 1 || *n == pages || n.abs_diff(page_number) <= 2)
        .map(|n| json!({ "title": n.to_string(), "url": page_url(n), "is_link": n != page_number }))
        .collect();
    let mut object = objects::collection(ctx, c);
    object["products"] = Json::Array(page.products.iter().map(|p| objects::product(ctx, p, None)).collect());
    object["products_count"] = json!(page.total);
    object["all_products_count"] = json!(page.total);
    object["sort_by"] = json!(sort.sort_by());
    object["default_sort_by"] = json!("manual");
    object["sort_options"] = Json::Array(ProductSort::ALL.iter().map(|s| json!({ "value": s.sort_by() })).collect());
    let mut extra = page_extra(&c.title, if c.description.is_empty() { &c.title } else { &c.description });
    extra.insert("collection".into(), object);
    let paginate = json!({
        "current_page": page_number,
        "current_offset": offset,
        "items": page.total,
        "page_size": per_page,
        "pages": pages,
        "previous": (page_number > 1).then(|| json!({ "title": "previous", "url": page_url(page_number - 1), "is_link": true })),
        "next": (page_number < pages).then(|| json!({ "title": "next", "url": page_url(page_number + 1), "is_link": true })),
    });
    extra.insert("paginate".into(), objects::with_fields(paginate, [("parts", Json::Array(parts))]));
    if page_number > 1 {
        extra.insert("canonical_url".into(), json!(format!("{}?page={page_number}", ctx.absolute(&ctx.path))));
    }
    let cart = cart::load(ctx);
    render(ctx, &theme, "collection", cart.as_ref(), extra)
}

fn product(ctx: &Ctx, handle: &str) -> Result<Response, PluginError> {
    let Some(product) = catalog::get_product_by_handle(handle)? else {
        return not_found(ctx);
    };
    let theme = Theme::load(ctx);
    let query = ctx.req.query_pairs();
    let chosen = objects::chosen_variant(&product, &query);
    let explicit = query.iter().any(|(k, _)| k == "variant" || k.starts_with("option"));
    let mut extra =
        page_extra(&product.title, if product.description.is_empty() { &product.title } else { &product.description });
    extra.insert("product".into(), objects::product(ctx, &product, if explicit { chosen } else { None }));
    extra.insert("current_variant".into(), chosen.map(|v| objects::variant(ctx, &product, v)).unwrap_or(Json::Null));
    extra.insert("canonical_url".into(), json!(ctx.absolute(&format!("/products/{}", product.handle))));
    visit::record(ctx, "view", Some(&product.product_id()), chosen.map(|v| v.variant_id()).as_ref(), None);
    let cart = cart::load(ctx);
    render(ctx, &theme, "product", cart.as_ref(), extra)
}

fn search(ctx: &Ctx, vendor: bool) -> Result<Response, PluginError> {
    let theme = Theme::load(ctx);
    let terms = ctx.req.query_param("q").map(|q| q.trim().chars().take(200).collect::<String>()).unwrap_or_default();
    let after = ctx.req.query_param("after").filter(|a| !a.is_empty());
    let mut search = json!({ "performed": false, "terms": terms, "results": [], "results_count": 0 });
    if !terms.is_empty() {
        let page = match catalog::search(&terms, after.as_deref(), SEARCH_PAGE_SIZE) {
            Ok(page) => page,
            // A cursor this search did not make: start again from the first page.
            Err(omnistore_sdk::HostError::Invalid(_)) if after.is_some() => {
                catalog::search(&terms, None, SEARCH_PAGE_SIZE)?
            }
            Err(e) => return Err(e.into()),
        };
        let base = ctx.url(if vendor { "/collections/vendors" } else { "/search" });
        let q = form_encode(&terms);
        search = json!({
            "performed": true,
            "terms": terms,
            "results_count": page.products.len(),
            "next_url": page.next.as_ref().map(|n| format!("{base}?q={q}&after={}", form_encode(n))),
            "first_url": after.is_some().then(|| format!("{base}?q={q}")),
        });
        search["results"] = Json::Array(page.products.iter().map(|p| objects::product(ctx, p, None)).collect());
    }
    let title = if terms.is_empty() {
        theme.translate("search.title", &[])
    } else {
        theme.translate("search.results_for", &[("terms".into(), terms.clone())])
    };
    let mut extra = page_extra(&title, &title);
    extra.insert("search".into(), search);
    let cart = cart::load(ctx);
    let mut response = render(ctx, &theme, "search", cart.as_ref(), extra)?;
    // Result pages are not for search engines' indexes.
    response = response.with_header("x-robots-tag", "noindex");
    Ok(response)
}

fn about(ctx: &Ctx) -> Result<Response, PluginError> {
    let theme = Theme::load(ctx);
    let title = theme.translate("pages.about.title", &[]);
    let mut extra =
        page_extra(&title, &theme.translate("pages.about.intro", &[("shop".into(), ctx.shop.name.clone())]));
    extra.insert("page".into(), json!({ "title": title, "handle": "about" }));
    extra.insert("locations".into(), json!(locations::all()?.iter().map(objects::location).collect::<Vec<_>>()));
    let cart = cart::load(ctx);
    render(ctx, &theme, "page", cart.as_ref(), extra)
}

pub fn not_found(ctx: &Ctx) -> Result<Response, PluginError> {
    let theme = Theme::load(ctx);
    let title = theme.translate("general.404.title", &[]);
    let cart = cart::load(ctx);
    let mut extra = page_extra(&title, &title);
    extra.insert("canonical_url".into(), json!(ctx.absolute("/")));
    Ok(render(ctx, &theme, "404", cart.as_ref(), extra)?.with_status(404))
}

fn asset(ctx: &Ctx, name: &str) -> Result<Response, PluginError> {
    if name.contains("..") || name.contains('\\') {
        return Ok(Response::not_found());
    }
    let theme = Theme::load(ctx);
    let Some(bytes) = theme.asset(name) else { return Ok(Response::not_found()) };
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    let version = theme.asset_version();
    let etag = format!("\"{version}\"");
    // The URL the theme links to never changes content; another (an old
    // page's, or none) is checked again soon.
    let cache_control = if ctx.req.query_param("v").as_deref() == Some(version) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    if ctx.req.header("if-none-match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag)) {
        return Ok(Response::new(304).with_header("etag", &etag).with_header("cache-control", cache_control));
    }
    Ok(Response::bytes(content_type, bytes)
        .with_header("x-content-type-options", "nosniff")
        .with_header("etag", &etag)
        .with_header("cache-control", cache_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_short_plain_text() {
        assert_eq!(summary("<p>Ricotta &amp; cialda</p>"), "Ricotta & cialda");
        let long = "parola ".repeat(60);
        let s = summary(&long);
        assert!(s.chars().count() <= 160 && s.ends_with('…'), "{s}");
        assert_eq!(form_encode("cannolo al pistacchio&x"), "cannolo+al+pistacchio%26x");
    }
}
