//! Drives what contract 0.2.0 added for storefronts, on the raw generated
//! bindings (no SDK), so the host's side is tested through a real component.
//! Every answer is plain text, one `key=value` per line; a host error is a
//! 400 with its Debug text.
//!
//! - `GET /search?q=&cursor=` — `handles=a,b` and `next=<cursor>`.
//! - `GET /browse?collection=&sort=price-ascending&offset=&limit=` — `total=` and `handles=`.
//! - `GET /product?handle=` — `created_at=`, and `valid_until=` per variant.
//! - `GET /locations`, `GET /for-cart?cart=` — `names=a,b`.
//! - `GET /file?path=` — the bytes (404 when absent); `GET /files?prefix=` — `paths=`.
//! - `GET /cart?sku=&qty=` — a new cart with that line: `cart=`, `product_id=`, `handle=`, `image=`.
//! - `GET /place?cart=&email=&phone=&pickup=<location id>&payment=pickup|manual&visitor=&consent=email`
//!   — `order=`, `payment=`, `email=`, `phone=`.
//! - `GET /touch?visitor=&source=&medium=` — records a `view` of the visitor.
//! - `GET /shop` — `name=`, `currency=`, `languages=`, `email=`.
//! - `GET /random?n=` — `len=` and `hex=`.
//! - `GET /headers` — the request's headers, `name: value` per line.

#[allow(unsafe_code, clippy::all, missing_docs, rust_2018_idioms)]
mod bindings {
    wit_bindgen::generate!({
        world: "channel",
        path: "../../../wit/v0.2.0",
    });
}

use bindings::exports::omnistore::plugin::handler::Guest;
use bindings::omnistore::plugin::types::{
    BodyPage, CheckoutRequest, Contact, Event, Fulfillment, HostError, PaymentMethod, PluginError, PluginInfo,
    ProductSort, Request, Response, Touchpoint, VisitSource,
};
use bindings::omnistore::plugin::{carts, catalog, files, locations, settings, touchpoints};

struct Shopper;

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param(req: &Request, name: &str) -> Option<String> {
    req.query.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| decode(v))
}

fn text(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: body.into_bytes(),
        continuation: None,
    }
}

fn refused(e: HostError) -> Response {
    text(400, format!("{e:?}"))
}

fn handles(products: &[bindings::omnistore::plugin::types::Product]) -> String {
    products.iter().map(|p| p.handle.as_str()).collect::<Vec<_>>().join(",")
}

fn sort(name: &str) -> ProductSort {
    match name {
        "title-ascending" => ProductSort::TitleAscending,
        "title-descending" => ProductSort::TitleDescending,
        "price-ascending" => ProductSort::PriceAscending,
        "price-descending" => ProductSort::PriceDescending,
        "created-ascending" => ProductSort::CreatedAscending,
        "created-descending" => ProductSort::CreatedDescending,
        _ => ProductSort::Manual,
    }
}

fn answer(req: &Request) -> Result<Response, HostError> {
    let p = |name: &str| param(req, name);
    Ok(match req.path.as_str() {
        "/search" => {
            let page = catalog::search(&p("q").unwrap_or_default(), p("cursor").as_deref(), 2)?;
            text(200, format!("handles={}\nnext={}", handles(&page.products), page.next.unwrap_or_default()))
        }
        "/browse" => {
            let offset = p("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            let limit = p("limit").and_then(|o| o.parse().ok()).unwrap_or(10);
            let page = catalog::browse_collection(
                &p("collection").unwrap_or_default(),
                sort(&p("sort").unwrap_or_default()),
                offset,
                limit,
            )?;
            text(200, format!("total={}\nhandles={}", page.total, handles(&page.products)))
        }
        "/product" => match catalog::get_product_by_handle(&p("handle").unwrap_or_default())? {
            Some(product) => {
                let until: Vec<String> = product
                    .variants
                    .iter()
                    .map(|v| v.price_valid_until.map(|t| t.to_string()).unwrap_or_else(|| "none".into()))
                    .collect();
                text(200, format!("created_at={}\nvalid_until={}", product.created_at, until.join(",")))
            }
            None => text(404, "no such product".into()),
        },
        "/locations" => {
            let names: Vec<String> = locations::list()?.into_iter().map(|l| l.name).collect();
            text(200, format!("names={}", names.join(",")))
        }
        "/for-cart" => {
            let names: Vec<String> =
                locations::for_cart(&p("cart").unwrap_or_default())?.into_iter().map(|l| l.name).collect();
            text(200, format!("names={}", names.join(",")))
        }
        "/file" => match files::get(&p("path").unwrap_or_default())? {
            Some(bytes) => Response { status: 200, headers: vec![], body: bytes, continuation: None },
            None => text(404, "no such file".into()),
        },
        "/files" => text(200, format!("paths={}", files::list(&p("prefix").unwrap_or_default())?.join(","))),
        "/cart" => {
            let Some((_, variant)) = catalog::find_sku(&p("sku").unwrap_or_default())? else {
                return Ok(text(404, "no such sku".into()));
            };
            let cart = carts::create(None)?;
            let qty = p("qty").and_then(|q| q.parse().ok()).unwrap_or(1);
            let cart = carts::set_quantity(&cart.id, &variant.id, qty)?;
            let line = cart.lines.first().ok_or_else(|| HostError::Invalid("the cart has no line".into()))?;
            text(
                200,
                format!(
                    "cart={}\nproduct_id={}\nhandle={}\nimage={}",
                    cart.id,
                    line.product_id,
                    line.product_handle,
                    line.image.as_ref().map(|i| i.url.as_str()).unwrap_or("none")
                ),
            )
        }
        "/place" => {
            let fulfillment = match p("pickup") {
                Some(location) => Fulfillment::Pickup(location),
                None => Fulfillment::ShipToStore(p("store").unwrap_or_default()),
            };
            let request = CheckoutRequest {
                contact: Contact { email: p("email"), phone: p("phone"), name: p("name") },
                email_marketing: p("consent").as_deref() == Some("email"),
                sms_marketing: p("consent").as_deref() == Some("sms"),
                fulfillment,
                payment: if p("payment").as_deref() == Some("manual") {
                    PaymentMethod::Manual
                } else {
                    PaymentMethod::PayAtPickup
                },
                visitor_id: p("visitor"),
                note: p("note"),
            };
            let order = carts::place_order(&p("cart").unwrap_or_default(), &request)?;
            text(
                200,
                format!(
                    "order={}\npayment={:?}\nemail={}\nphone={}\ncustomer={}",
                    order.id,
                    order.payment,
                    order.email.unwrap_or_default(),
                    order.phone.unwrap_or_default(),
                    order.customer_id.unwrap_or_default()
                ),
            )
        }
        "/touch" => {
            let source =
                p("source").map(|source| VisitSource { source, medium: p("medium"), campaign: None, referrer: None });
            touchpoints::record(&Touchpoint {
                kind: "view".into(),
                visitor_id: p("visitor"),
                source,
                customer_id: None,
                product_id: None,
                variant_id: None,
                campaign_id: None,
                detail: None,
            })?;
            text(200, "recorded".into())
        }
        "/shop" => {
            let shop = settings::shop();
            text(
                200,
                format!(
                    "name={}\ncurrency={}\nlanguages={}\nemail={}",
                    shop.name,
                    shop.currency,
                    shop.languages.join(","),
                    shop.contact_email.unwrap_or_default()
                ),
            )
        }
        "/random" => {
            let bytes = settings::random_bytes(p("n").and_then(|n| n.parse().ok()).unwrap_or(16));
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            text(200, format!("len={}\nhex={hex}", bytes.len()))
        }
        "/headers" => {
            let lines: Vec<String> = req.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            text(200, lines.join("\n"))
        }
        _ => text(404, "no such route".into()),
    })
}

impl Guest for Shopper {
    fn describe() -> PluginInfo {
        PluginInfo {
            id: "shopper".into(),
            name: "Test guest: shopper".into(),
            version: "0.1.0".into(),
            events: vec![],
            settings: vec![],
        }
    }

    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Ok(answer(&req).unwrap_or_else(refused))
    }

    fn next_page(_continuation: String) -> Result<BodyPage, PluginError> {
        Err(PluginError::BadRequest("nothing continues".into()))
    }

    fn on_event(_event: Event) -> Result<(), PluginError> {
        Ok(())
    }
}

bindings::export!(Shopper with_types_in bindings);
