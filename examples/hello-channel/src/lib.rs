//! The smallest useful omnistore channel.
//!
//! - `GET /` — an HTML page with the `greeting` setting, a visit counter kept
//!   in plugin storage, and the first products of the catalog.
//! - `GET /api/visits` — the counter as JSON.
//! - `GET /feed.csv` — the whole catalog as CSV, streamed one catalog page per
//!   body page, so memory stays bounded however large the catalog is.
//! - anything else — 404.

use omnistore_sdk::html::escape;
use omnistore_sdk::{
    BodyPage, Event, Plugin, PluginError, Product, Request, Response, catalog, clock, export_plugin, settings, storage,
};

/// Products on the home page.
const HOME_PRODUCTS: u32 = 8;
/// Products per feed page: one host call and one body page each.
const FEED_PAGE: u32 = 100;
/// Continuations of the feed start with this, so a cursor from elsewhere is refused.
const FEED_CURSOR: &str = "feed:";
const VISITS_KEY: &str = "visits";

struct Hello;

impl Plugin for Hello {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/") => home(),
            ("GET", "/api/visits") => {
                let visits: u64 = storage::get_json(VISITS_KEY)?.unwrap_or(0);
                Ok(Response::json(&serde_json::json!({ "visits": visits })))
            }
            ("GET", "/feed.csv") => feed_start(),
            _ => Err(PluginError::not_found(format!("{} {}", req.method, req.path))),
        }
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

fn home() -> Result<Response, PluginError> {
    let greeting = settings::get_or("greeting", "Hello");
    // Read-modify-write: two simultaneous visits may count once. Good enough
    // for a greeting page; a real counter would keep one key per visit.
    let visits = storage::get_json::<u64>(VISITS_KEY)?.unwrap_or(0) + 1;
    storage::set_json(VISITS_KEY, &visits)?;
    let page = catalog::list_products(None, HOME_PRODUCTS)?;
    omnistore_sdk::info!("home page served", visits = visits, products = page.products.len());

    let mut items = String::new();
    for p in &page.products {
        let price = p.min_price().map(|m| m.format()).unwrap_or_default();
        items.push_str(&format!("<li>{} <span class=\"price\">{}</span></li>\n", escape(&p.title), escape(&price)));
    }
    if items.is_empty() {
        items.push_str("<li>No products yet.</li>\n");
    }
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{greeting}</title></head>\n\
         <body>\n<h1>{greeting}!</h1>\n<p>This page was visited <span id=\"visits\">{visits}</span> times.</p>\n\
         <ul id=\"products\">\n{items}</ul>\n<p><a href=\"feed.csv\">Catalog as CSV</a></p>\n\
         <footer>Rendered at {now} ms since the epoch.</footer>\n</body></html>\n",
        greeting = escape(&greeting),
        now = clock::now(),
    );
    Ok(Response::html(body))
}

fn feed_start() -> Result<Response, PluginError> {
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
