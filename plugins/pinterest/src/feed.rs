//! The product feed Pinterest can read instead of (or besides) the batch
//! API: `GET /feed.tsv`, `GET /feed.csv` (RFC 4180) and `GET /feed.xml`
//! (RSS 2.0 with the `g:` namespace), one row (or item) per variant in
//! Pinterest's field names,
//! streamed one catalog page per body page (the contract's continuation),
//! so a large catalog is never held in memory whole. `register` tells
//! Pinterest where the feed is (`POST /v5/catalogs/feeds`).

use omnistore_sdk::catalog_text::{RSS_END, csv_record, rss_item, rss_start};
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

/// The three layouts of the same feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tsv,
    Csv,
    Xml,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::Xml => "xml",
        }
    }

    fn parse(name: &str) -> Option<Format> {
        [Format::Tsv, Format::Csv, Format::Xml].into_iter().find(|f| f.name() == name)
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Tsv => "text/tab-separated-values; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xml => "application/rss+xml; charset=utf-8",
        }
    }

    /// What opens the feed: the column names, or the RSS channel.
    fn start(self) -> String {
        match self {
            Format::Tsv | Format::Csv => self.line(COLUMNS),
            Format::Xml => {
                let shop = settings::shop();
                rss_start(&shop.name, &shop_link(), &format!("Products of {}", shop.name))
            }
        }
    }

    /// One variant's row (or item).
    fn row(self, cells: &[String; 17]) -> String {
        match self {
            Format::Tsv | Format::Csv => self.line(cells.iter().map(String::as_str)),
            // Each additional image is an element of its own, as in Google's feeds.
            Format::Xml => rss_item(COLUMNS.iter().zip(cells).flat_map(|(name, value)| {
                let values: Vec<&str> =
                    if *name == "additional_image_link" { value.split(',').collect() } else { vec![value.as_str()] };
                values.into_iter().map(move |v| (*name, v))
            })),
        }
    }

    /// One line of cells: TSV has no quoting, so tabs and line breaks in a
    /// cell become spaces; CSV quotes what needs it (RFC 4180).
    fn line<'a>(self, cells: impl IntoIterator<Item = &'a str>) -> String {
        match self {
            Format::Tsv => {
                let cells: Vec<String> = cells.into_iter().map(|c| c.replace(['\t', '\r', '\n'], " ")).collect();
                let mut line = cells.join("\t");
                line.push('\n');
                line
            }
            // XML rows are items (`row`); only the delimited layouts come here.
            Format::Csv | Format::Xml => csv_record(cells),
        }
    }
}

/// The cells of one variant's row, in [`COLUMNS`] order.
fn cells(sku: &str, a: &Attributes) -> [String; 17] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        sku.to_string(),
        a.item_group_id.clone(),
        a.title.clone(),
        a.description.clone(),
        a.link.clone(),
        opt(&a.image_link),
        a.additional_image_link.join(","),
        a.price.clone(),
        opt(&a.sale_price),
        opt(&a.sale_price_effective_date),
        a.availability.clone(),
        a.condition.clone(),
        opt(&a.brand),
        opt(&a.gtin),
        opt(&a.google_product_category),
        opt(&a.shipping_weight),
        a.variant_values.join(","),
    ]
}

fn rows(format: Format, products: &[Product], cx: &item::Context) -> String {
    let mut out = String::new();
    for p in products {
        for v in &p.variants {
            let cells = cells(&v.sku, &item::attributes(p, v, v.available, cx));
            out.push_str(&format.row(&cells));
        }
    }
    out
}

/// `GET /feed.tsv`: the header and the first page.
pub fn tsv(_req: &Request, _params: &omnistore_sdk::Params) -> Result<Response, PluginError> {
    first_page(Format::Tsv)
}

/// `GET /feed.csv`: the same feed as RFC 4180 CSV.
pub fn csv(_req: &Request, _params: &omnistore_sdk::Params) -> Result<Response, PluginError> {
    first_page(Format::Csv)
}

/// `GET /feed.xml`: the same feed as RSS 2.0 with the `g:` namespace.
pub fn xml(_req: &Request, _params: &omnistore_sdk::Params) -> Result<Response, PluginError> {
    first_page(Format::Xml)
}

/// The shop's address for the RSS channel's link.
fn shop_link() -> String {
    settings::get("shop_url").map(|s| s.trim().trim_end_matches('/').to_string()).unwrap_or_default()
}

/// The rows of one page, and the end of the feed after its last page.
fn page_body(format: Format, products: &[Product], cx: &item::Context, last: bool) -> String {
    let mut out = rows(format, products, cx);
    if last && format == Format::Xml {
        out.push_str(RSS_END);
    }
    out
}

fn first_page(format: Format) -> Result<Response, PluginError> {
    let cx = context()?;
    let page = catalog::list_products(None, PAGE)?;
    let mut body = format.start();
    body.push_str(&page_body(format, &page.products, &cx, page.next.is_none()));
    let response = Response::bytes(format.content_type(), body.into_bytes());
    Ok(match page.next {
        Some(cursor) => response.with_continuation(format!("{}:{cursor}", format.name())),
        None => response,
    })
}

/// A further page of the feed.
pub fn next_page(continuation: &str) -> Result<BodyPage, PluginError> {
    let (format, cursor) = match continuation.split_once(':').and_then(|(f, c)| Some((Format::parse(f)?, c))) {
        Some(found) => found,
        None => return Err(PluginError::BadRequest(format!("`{continuation}` is not a feed cursor of this plugin"))),
    };
    let cx = context()?;
    let page = catalog::list_products(Some(cursor), PAGE)?;
    let data = page_body(format, &page.products, &cx, page.next.is_none()).into_bytes();
    let next = page.next.map(|c| format!("{}:{c}", format.name()));
    Ok(BodyPage { data, continuation: next })
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
