//! The smallest useful omnistore channel.
//!
//! - `GET /` — an HTML page with the `greeting` setting, a visit counter kept
//!   in plugin storage, and the first products of the catalog.
//! - `GET /api/visits` — the counter as JSON.
//! - `GET /feed.csv` — the whole catalog as CSV, streamed one catalog page per
//!   body page, so memory stays bounded however large the catalog is.
//! - anything else — 404.

use omnistore_sdk::templates::{ParseOptions, RenderOptions, Template};
use omnistore_sdk::{
    BodyPage, Event, Params, Plugin, PluginError, Product, Request, Response, Router, catalog, clock, export_plugin,
    settings, storage,
};

/// Products on the home page.
const HOME_PRODUCTS: u32 = 8;
/// Products per feed page: one host call and one body page each.
const FEED_PAGE: u32 = 100;
/// Continuations of the feed start with this, so a cursor from elsewhere is refused.
const FEED_CURSOR: &str = "feed:";
const VISITS_KEY: &str = "visits";

/// The home page, in Liquid as a Shopify theme would write it. Liquid does
/// not escape by itself: every value from the shop goes through `escape`.
const HOME: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>{{ greeting | escape }}</title></head>
<body>
<h1>{{ greeting | escape }}!</h1>
<p>This page was visited <span id="visits">{{ visits }}</span> times.</p>
<ul id="products">
{%- for product in products %}
<li>{{ product.title | escape }} <span class="price">{{ product.price | escape }}</span></li>
{%- else %}
<li>No products yet.</li>
{%- endfor %}
</ul>
<p><a href="feed.csv">Catalog as CSV</a></p>
<footer>Rendered at {{ now }} ms since the epoch.</footer>
</body></html>
"#;

struct Hello;

impl Plugin for Hello {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Router::new().get("/", home).get("/api/visits", visits).get("/feed.csv", feed_start).handle(&req)
    }

    fn next_page(continuation: String) -> Result<BodyPage, PluginError> {
        let cursor = continuation
            .strip_prefix(FEED_CURSOR)
            .ok_or_else(|| PluginError::bad_request("not a continuation of this plugin"))?;
        let page = catalog::list_products(Some(cursor), FEED_PAGE)?;
        let rows = csv_rows(&page.products);
        Ok(match page.next {
            Some(next) => BodyPage::more(rows, format!("{FEED_CURSOR}{next}")),
            None => BodyPage::last(rows),
        })
    }

    fn on_event(event: Event) -> Result<(), PluginError> {
        omnistore_sdk::info!("event received", kind = event.kind, id = event.id);
        Ok(())
    }
}

export_plugin!(Hello);

fn visits(_: &Request, _: &Params) -> Result<Response, PluginError> {
    // `increment` keeps the counter as decimal text, which is also JSON.
    let visits: i64 = storage::get_json(VISITS_KEY)?.unwrap_or(0);
    Ok(Response::json(&serde_json::json!({ "visits": visits })))
}

fn home(_: &Request, _: &Params) -> Result<Response, PluginError> {
    let greeting = settings::get_or("greeting", "Hello");
    // One atomic step on the host: simultaneous visits are all counted.
    let visits = storage::increment(VISITS_KEY, 1)?;
    let page = catalog::list_products(None, HOME_PRODUCTS)?;
    omnistore_sdk::info!("home page served", visits = visits, products = page.products.len());
    let products: Vec<serde_json::Value> = page
        .products
        .iter()
        .map(|p| {
            let price = p.min_price().map(|m| m.format()).unwrap_or_default();
            serde_json::json!({ "title": p.title, "price": price })
        })
        .collect();
    let data = serde_json::json!({ "greeting": greeting, "visits": visits, "products": products, "now": clock::now() });
    let template = Template::parse(HOME, &ParseOptions::default())
        .map_err(|e| PluginError::Internal(format!("the home template: {e}")))?;
    let body = template
        .render_json(&data, &RenderOptions::default())
        .map_err(|e| PluginError::Internal(format!("rendering the home page: {e}")))?;
    Ok(Response::html(body))
}

fn feed_start(_: &Request, _: &Params) -> Result<Response, PluginError> {
    let page = catalog::list_products(None, FEED_PAGE)?;
    let mut body = String::from("product_id,handle,title,sku,price,currency,available\n");
    body.push_str(&csv_rows(&page.products));
    let response = Response::bytes("text/csv; charset=utf-8", body);
    Ok(match page.next {
        Some(next) => response.with_continuation(format!("{FEED_CURSOR}{next}")),
        None => response,
    })
}

/// One row per variant: feeds list purchasable items, not products.
fn csv_rows(products: &[Product]) -> String {
    let mut out = String::new();
    for p in products {
        for v in &p.variants {
            let fields = [
                p.id.as_str(),
                &p.handle,
                &p.title,
                &v.sku,
                &v.price.format_amount(),
                &v.price.currency,
                &v.available.to_string(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}
