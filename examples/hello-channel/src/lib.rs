//! The example channel to copy: small, and it uses every part of the SDK a
//! channel needs.
//!
//! - `GET /` — the `greeting` setting, a visit counter kept in plugin
//!   storage, the first products of the catalog, the guestbook and its form;
//!   a visitor whose name a signed cookie remembers is welcomed back.
//! - `GET /products/:handle` — a product page found by the handle in its
//!   path (404 for a handle the catalog does not have), with a view counter
//!   per product id.
//! - `POST /guestbook` — the home page's form (urlencoded, with the
//!   visitor's anti-forgery token: 403 without it, 422 for a blank name or
//!   note): keeps the note, remembers the name in a signed cookie and
//!   answers 303 See Other back to the home page.
//! - `GET /api/notes` — the guestbook as JSON.
//! - `POST /api/notes` — a note as JSON in (`{"name": …, "message": …}`),
//!   the note kept as JSON out (201); 422 with the reason for a body that is
//!   not such a note.
//! - `GET /api/visits` — the visit counter as JSON.
//! - `GET /feed.csv` — the whole catalog as CSV, streamed one catalog page
//!   per body page, so memory stays bounded however large the catalog is.
//! - anything else — 404; a known path with another method — 405.
//!
//! Pages are Liquid templates (`templates/`, compiled into the plugin).

mod guestbook;
mod visitor;

use serde_json::{Value as Json, json};

use omnistore_sdk::ids::ProductId;
use omnistore_sdk::templates::{ParseOptions, RenderOptions, Template};
use omnistore_sdk::{
    BodyPage, Event, Params, Plugin, PluginError, Product, Request, Response, Router, catalog, clock, export_plugin,
    settings, storage,
};

use visitor::Visitor;

/// Products on the home page.
const HOME_PRODUCTS: u32 = 8;
/// Products per feed page: one host call and one body page each.
const FEED_PAGE: u32 = 100;
/// Continuations of the feed start with this, so a cursor from elsewhere is refused.
const FEED_CURSOR: &str = "feed:";
const VISITS_KEY: &str = "visits";

/// A template of `templates/`, named for error messages.
struct Page {
    name: &'static str,
    source: &'static str,
}

const LAYOUT: Page = Page { name: "layout.liquid", source: include_str!("../templates/layout.liquid") };
const HOME: Page = Page { name: "home.liquid", source: include_str!("../templates/home.liquid") };
const PRODUCT: Page = Page { name: "product.liquid", source: include_str!("../templates/product.liquid") };
const MESSAGE: Page = Page { name: "message.liquid", source: include_str!("../templates/message.liquid") };

struct Hello;

impl Plugin for Hello {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Router::new()
            .get("/", home)
            .get("/products/:handle", product_page)
            .post("/guestbook", guestbook::sign_from_form)
            .get("/api/notes", guestbook::list_json)
            .post("/api/notes", guestbook::add_json)
            .get("/api/visits", visits)
            .get("/feed.csv", feed_start)
            .handle(&req)
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
        omnistore_sdk::info!("event received", kind = event.kind, id = event.event_id());
        Ok(())
    }
}

export_plugin!(Hello);

fn home(req: &Request, _: &Params) -> Result<Response, PluginError> {
    let greeting = settings::get_or("greeting", "Hello");
    // One atomic step on the host: simultaneous visits are all counted.
    let visits = storage::increment(VISITS_KEY, 1)?;
    let page = catalog::list_products(None, HOME_PRODUCTS)?;
    omnistore_sdk::info!("home page served", visits = visits, products = page.products.len());
    let products: Vec<Json> = page
        .products
        .iter()
        .map(|p| json!({ "title": p.title, "handle": p.handle, "price": p.min_price().map(|m| m.format()) }))
        .collect();
    let visitor = Visitor::of(req);
    let data = json!({
        "greeting": greeting,
        "visits": visits,
        "products": products,
        "notes": guestbook::notes()?,
        "name": visitor.name,
        "form_token": visitor.form_token(),
        "max_name": guestbook::MAX_NAME,
        "max_message": guestbook::MAX_MESSAGE,
    });
    visitor.welcome(render(req, &HOME, &greeting, data)?)
}

fn product_page(req: &Request, params: &Params) -> Result<Response, PluginError> {
    let handle = params.get("handle").unwrap_or_default();
    let Some(product) = catalog::get_product_by_handle(handle)? else {
        return Err(PluginError::not_found(format!("this channel has no product {handle:?}")));
    };
    let views = count_view(&product.product_id())?;
    let variants: Vec<Json> = product
        .variants
        .iter()
        .map(|v| {
            json!({
                "title": v.title,
                "sku": v.sku,
                "price": v.price.format(),
                "available": v.available > 0 || v.backorderable,
            })
        })
        .collect();
    let data = json!({
        "product": { "title": product.title, "description": product.description, "variants": variants },
        "views": views,
    });
    render(req, &PRODUCT, &product.title, data)
}

/// Counts a view of `product`. The typed id keeps any other string, such as
/// the handle from the path, from making a key here.
fn count_view(product: &ProductId) -> Result<i64, PluginError> {
    Ok(storage::increment(&format!("views/{product}"), 1)?)
}

fn visits(_: &Request, _: &Params) -> Result<Response, PluginError> {
    // `increment` keeps the counter as decimal text, which is also JSON.
    let visits: i64 = storage::get_json(VISITS_KEY)?.unwrap_or(0);
    Ok(Response::json(&json!({ "visits": visits })))
}

/// `page` rendered with `data`, inside the layout. Liquid does not escape by
/// itself: the templates put `| escape` on every value from the shop or the
/// visitor. Links start with `base`, the installation's own URL, because
/// the plugin does not know where the host mounted it.
fn render(req: &Request, page: &Page, title: &str, mut data: Json) -> Result<Response, PluginError> {
    let base = req.base_url().unwrap_or("");
    data["base"] = json!(base);
    let content = liquid(page, &data)?;
    let layout = json!({ "title": title, "base": base, "now": clock::now(), "content_for_layout": content });
    Ok(Response::html(liquid(&LAYOUT, &layout)?))
}

fn liquid(page: &Page, data: &Json) -> Result<String, PluginError> {
    let mut options = ParseOptions::default();
    // A misspelt filter (`| escpae`) would otherwise be skipped and leave a
    // value unescaped.
    options.strict_filters = true;
    let template = Template::parse(page.source, &options)
        .map_err(|e| PluginError::internal(format!("the template {}: {e}", page.name)))?;
    template
        .render_json(data, &RenderOptions::default())
        .map_err(|e| PluginError::internal(format!("rendering {}: {e}", page.name)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        assert_eq!(csv_field("Cannolo"), "Cannolo");
        assert_eq!(csv_field("Torta \"della nonna\", fetta"), "\"Torta \"\"della nonna\"\", fetta\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn every_template_parses() {
        for page in [LAYOUT, HOME, PRODUCT, MESSAGE] {
            let mut options = ParseOptions::default();
            options.strict_filters = true;
            if let Err(e) = Template::parse(page.source, &options) {
                panic!("{}: {e}", page.name);
            }
        }
    }
}
