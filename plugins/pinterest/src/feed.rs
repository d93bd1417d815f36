//! The product feed Pinterest can read instead of (or besides) the batch
//! API: `GET /feed.tsv`, one row per variant in Pinterest's field names,
//! streamed one catalog page per body page (the contract's continuation),
//! so a large catalog is never held in memory whole. `register` tells
//! Pinterest where the feed is (`POST /v5/catalogs/feeds`).

use omnistore_sdk::{BodyPage, PluginError, Product, Request, Response, catalog, clock, settings, storage};
use serde_json::json;

use crate::api::{self, ApiError, Body};
use crate::config::Config;
use crate::item::{self, Attributes};
use crate::state;

/// Products per body page.
const PAGE: u32 = 25;

const COLUMNS: [&str; 17] = [
    "id",
    "item_group_id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "price",
    "sale_price",
    "sale_price_effective_date",
    "availability",
    "condition",
    "brand",
    "gtin",
    "google_product_category",
    "shipping_weight",
    "variant_values",
];

fn context() -> Result<item::Context, PluginError> {
    let shop_url = settings::get("shop_url").map(|s| s.trim().trim_end_matches('/').to_string()).unwrap_or_default();
    if shop_url.is_empty() {
        return Err(PluginError::Internal(
            "the setting `shop_url` (address of your online shop) is empty: the feed's product links need it".into(),
        ));
    }
    Ok(item::Context {
        shop_url,
        google_product_category: settings::get("google_product_category").filter(|c| !c.trim().is_empty()),
        now_ms: clock::now(),
    })
}

/// A TSV cell: tabs and line breaks would break the row.
fn cell(text: &str) -> String {
    text.replace(['\t', '\r', '\n'], " ")
}

pub fn row(sku: &str, a: &Attributes) -> String {
    let opt = |v: &Option<String>| v.as_deref().map(cell).unwrap_or_default();
    let cells = [
        cell(sku),
        cell(&a.item_group_id),
        cell(&a.title),
        cell(&a.description),
        cell(&a.link),
        opt(&a.image_link),
        cell(&a.additional_image_link.join(",")),
        cell(&a.price),
        opt(&a.sale_price),
        opt(&a.sale_price_effective_date),
        cell(&a.availability),
        cell(&a.condition),
        opt(&a.brand),
        opt(&a.gtin),
        opt(&a.google_product_category),
        opt(&a.shipping_weight),
        cell(&a.variant_values.join(",")),
    ];
    let mut line = cells.join("\t");
    line.push('\n');
    line
}

fn rows(products: &[Product], cx: &item::Context) -> String {
    let mut out = String::new();
    for p in products {
        for v in &p.variants {
            out.push_str(&row(&v.sku, &item::attributes(p, v, v.available, cx)));
        }
    }
    out
}

/// `GET /feed.tsv`: the header and the first page.
pub fn tsv(_req: &Request, _params: &omnistore_sdk::Params) -> Result<Response, PluginError> {
    let cx = context()?;
    let page = catalog::list_products(None, PAGE)?;
    let mut body = COLUMNS.join("\t");
    body.push('\n');
    body.push_str(&rows(&page.products, &cx));
    let response = Response::bytes("text/tab-separated-values; charset=utf-8", body.into_bytes());
    Ok(match page.next {
        Some(cursor) => response.with_continuation(format!("tsv:{cursor}")),
        None => response,
    })
}

/// A further page of the feed.
pub fn next_page(continuation: &str) -> Result<BodyPage, PluginError> {
    let Some(cursor) = continuation.strip_prefix("tsv:") else {
        return Err(PluginError::BadRequest(format!("`{continuation}` is not a feed cursor of this plugin")));
    };
    let cx = context()?;
    let page = catalog::list_products(Some(cursor), PAGE)?;
    Ok(BodyPage { data: rows(&page.products, &cx).into_bytes(), continuation: page.next.map(|c| format!("tsv:{c}")) })
}

const REGISTERED_KEY: &str = "feed/registered";

/// Register the feed with Pinterest once per feed address, when the
/// merchant turned it on.
pub fn register(cfg: &Config) -> Result<(), PluginError> {
    if !cfg.register_feed {
        return Ok(());
    }
    let Some(base) = cfg.feed_base_url.as_deref() else {
        let message = "The setting `feed_base_url` is empty while `register_feed` is on: set the public address of this channel so Pinterest can download the feed.";
        state::set_channel("misconfigured", message)?;
        return Err(PluginError::Internal(message.into()));
    };
    let location = format!("{base}/feed.tsv");
    if storage::get(REGISTERED_KEY)?.as_deref() == Some(location.as_bytes()) {
        return Ok(());
    }
    let shop = settings::shop();
    let body = json!({
        "name": format!("{} (omnistore)", shop.name),
        "format": "TSV",
        "location": location,
        "default_country": cfg.country,
        "default_locale": format!("{}-{}", cfg.language.to_ascii_lowercase(), cfg.country),
        "default_currency": shop.currency,
    });
    let path = format!("/v5/catalogs/feeds{}", api::ad_account_query(cfg));
    match api::call(cfg, "POST", &path, Body::Json(&body)) {
        Ok(_) => Ok(storage::set(REGISTERED_KEY, location.as_bytes())?),
        // 409: Pinterest has a feed at this address already.
        Err(ApiError::Refused { status: 409, .. }) => Ok(storage::set(REGISTERED_KEY, location.as_bytes())?),
        Err(e) => Err(e.into()),
    }
}
