//! `GET /feed.csv` and `GET /feed.xml`: the catalog as a Meta data feed,
//! for Commerce Manager's scheduled feeds. Streamed: each body page is one
//! catalog page, so memory stays bounded however big the catalog is. The
//! continuation carries the format, the shop's address and the catalog's
//! cursor, as each page runs in a fresh instance.

use omnistore_sdk::catalog_text::{RSS_END, csv_record, rss_item, rss_start};
use omnistore_sdk::{BodyPage, Params, PluginError, Request, Response, catalog, clock, settings};

use crate::item::{self, Context, FIELDS, Item};

/// Products per body page: well inside the host's page size and deadline.
const PAGE: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xml,
}

impl Format {
    fn tag(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xml => "xml",
        }
    }
}

pub fn csv(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    first(req, Format::Csv)
}

pub fn xml(req: &Request, _params: &Params) -> Result<Response, PluginError> {
    first(req, Format::Xml)
}

fn first(req: &Request, format: Format) -> Result<Response, PluginError> {
    let shop_url = shop_url(req)?;
    let mut body = header(format, &shop_url);
    let (page, next) = page(format, &shop_url, None)?;
    body.push_str(&page);
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xml => "application/rss+xml; charset=utf-8",
    };
    let response = Response::bytes(content_type, body.into_bytes());
    Ok(match next {
        Some(cursor) => response.with_continuation(cursor),
        None => response,
    })
}

/// The page after `continuation` (`{format}\n{shop_url}\n{catalog cursor}`).
pub fn next_page(continuation: &str) -> Result<BodyPage, PluginError> {
    let mut parts = continuation.splitn(3, '\n');
    let (Some(tag), Some(shop_url), Some(cursor)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(PluginError::bad_request("this feed cursor is not one the plugin made; fetch the feed again"));
    };
    let format = match tag {
        "csv" => Format::Csv,
        "xml" => Format::Xml,
        _ => return Err(PluginError::bad_request("unknown feed format in the cursor; fetch the feed again")),
    };
    let (data, next) = page(format, shop_url, Some(cursor))?;
    Ok(BodyPage { data: data.into_bytes(), continuation: next })
}

/// One catalog page of items, with the footer after the last page, and the
/// continuation of the next page.
fn page(format: Format, shop_url: &str, cursor: Option<&str>) -> Result<(String, Option<String>), PluginError> {
    let category = settings::get("google_product_category").map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let cx = Context { shop_url, default_category: category.as_deref(), now_ms: clock::now() };
    let page = catalog::list_products(cursor, PAGE)?;
    let mut out = String::new();
    for product in &page.products {
        for item in item::items(product, &cx) {
            match format {
                Format::Csv => out.push_str(&csv_row(&item)),
                Format::Xml => out.push_str(&xml_item(&item)),
            }
        }
    }
    let next = page.next.map(|c| format!("{}\n{shop_url}\n{c}", format.tag()));
    if next.is_none() && format == Format::Xml {
        out.push_str(RSS_END);
    }
    Ok((out, next))
}

fn header(format: Format, shop_url: &str) -> String {
    match format {
        Format::Csv => csv_record(FIELDS.iter().copied()),
        Format::Xml => {
            let shop = settings::shop();
            rss_start(&shop.name, shop_url, &format!("Products of {}", shop.name))
        }
    }
}

/// One row, a column per field in [`FIELDS`] order.
fn csv_row(item: &Item) -> String {
    let value = |name: &str| item.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v.as_str());
    csv_record(FIELDS.iter().map(|f| value(f)))
}

/// One `<item>` with `g:` elements; each additional image its own element.
fn xml_item(item: &Item) -> String {
    rss_item(item.iter().flat_map(|(name, value)| {
        let values: Vec<&str> =
            if *name == "additional_image_link" { value.split(',').collect() } else { vec![value.as_str()] };
        values.into_iter().map(move |v| (*name, v))
    }))
}

/// The `shop_url` setting, else the origin the feed is fetched at.
fn shop_url(req: &Request) -> Result<String, PluginError> {
    if let Some(url) = settings::get("shop_url").map(|u| u.trim().trim_end_matches('/').to_string())
        && !url.is_empty()
    {
        return Ok(url);
    }
    let base = req.base_url().ok_or_else(|| {
        PluginError::internal("set `shop_url` to your shop's address: the host did not say where the feed is served")
    })?;
    let origin_end = base.find("://").map_or(base.len(), |s| base[s + 3..].find('/').map_or(base.len(), |p| s + 3 + p));
    Ok(base[..origin_end].to_string())
}
