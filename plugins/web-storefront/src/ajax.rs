//! The Ajax cart API, shaped as Shopify's (`/cart.js`, `/cart/add.js`,
//! `/cart/change.js`, `/cart/update.js`, `/cart/clear.js`): the same JSON
//! field names, prices in minor units, JSON or form bodies, so theme
//! JavaScript written for Shopify works.
//!
//! Writes are accepted from the shop's own pages only: the request's
//! `Origin` (or, without one, its `Referer`) must be the shop's, or it must
//! carry the visitor's anti-forgery token (`X-CSRF-Token` or
//! `authenticity_token`).

use serde_json::{Map, Value as Json, json};

use omnistore_sdk::{PluginError, Response};

use crate::cart::{self, CartError, MAX_QUANTITY};
use crate::context::{Ctx, origin_of};
use crate::objects;

fn json_response(status: u16, value: &Json) -> Response {
    Response::json_status(status, value).with_header("cache-control", "no-store")
}

/// Shopify's error document.
fn error(status: u16, description: &str) -> Response {
    json_response(status, &json!({ "status": status, "message": "Cart Error", "description": description }))
}

fn cart_error(e: &CartError) -> Response {
    error(e.status(), &e.message(None))
}

/// The body as JSON: a JSON body as it is, a form body as an object
/// (`updates[ID]=2` becomes `"updates": {"ID": 2}`).
fn body(ctx: &Ctx) -> Result<Json, Response> {
    let content_type = ctx.req.header("content-type").unwrap_or("").to_ascii_lowercase();
    if ctx.req.body.is_empty() {
        return Ok(json!({}));
    }
    if content_type.contains("json") || (!content_type.contains("form") && ctx.req.body.first() == Some(&b'{')) {
        return serde_json::from_slice(&ctx.req.body).map_err(|e| error(400, &format!("the body is not JSON: {e}")));
    }
    let form = ctx.req.form().map_err(|e| error(400, &format!("{e:?}")))?;
    let mut object = Map::new();
    let mut updates = Map::new();
    for (name, value) in form.fields() {
        if let Some(id) = name.strip_prefix("updates[").and_then(|r| r.strip_suffix(']')) {
            updates.insert(id.to_string(), json!(value));
        } else {
            object.insert(name.clone(), json!(value));
        }
    }
    if !updates.is_empty() {
        object.insert("updates".into(), Json::Object(updates));
    }
    Ok(Json::Object(object))
}

/// Whether a write comes from the shop's own pages.
fn same_origin(ctx: &Ctx, body: &Json) -> bool {
    let token = ctx.req.header("x-csrf-token").or_else(|| body.get("authenticity_token").and_then(Json::as_str));
    if token.is_some_and(|t| ctx.csrf_ok(t)) {
        return true;
    }
    let claimed = match ctx.req.header("origin").filter(|o| *o != "null") {
        Some(origin) => origin.to_string(),
        None => match ctx.req.header("referer") {
            Some(referer) => origin_of(referer).to_string(),
            None => return false,
        },
    };
    if claimed.is_empty() {
        return false;
    }
    let expected = origin_of(&ctx.base_url);
    if !expected.is_empty() {
        return claimed.eq_ignore_ascii_case(expected);
    }
    // No base URL from the host: compare with the Host header.
    let host = claimed.split_once("://").map_or("", |(_, h)| h);
    ctx.req.header("host").is_some_and(|h| h.eq_ignore_ascii_case(host))
}

fn guarded(ctx: &Ctx) -> Result<Json, Response> {
    let body = body(ctx)?;
    if !same_origin(ctx, &body) {
        return Err(error(403, "This request did not come from the shop's pages."));
    }
    Ok(body)
}

fn quantity(value: Option<&Json>, default: u32) -> Result<u32, Response> {
    let q = match value {
        None | Some(Json::Null) => return Ok(default),
        Some(Json::Number(n)) => n.as_u64(),
        Some(Json::String(s)) if s.trim().is_empty() => return Ok(default),
        Some(Json::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match q {
        Some(q) if q <= u64::from(MAX_QUANTITY) => Ok(q as u32),
        _ => Err(error(422, &format!("The quantity must be a whole number from 0 to {MAX_QUANTITY}."))),
    }
}

/// A variant id, as a string or a number.
fn id(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::String(s) if !s.is_empty() => Some(s.split(':').next().unwrap_or(s).to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn cart_json(ctx: &Ctx) -> Json {
    objects::cart(ctx, cart::load(ctx).as_ref())
}

/// `GET /cart.js`.
pub fn cart(ctx: &Ctx) -> Result<Response, PluginError> {
    Ok(json_response(200, &cart_json(ctx)))
}

/// `POST /cart/add.js`: `{id, quantity}` (the added line comes back) or
/// `{items: [{id, quantity}, …]}` (`{items: [lines]}` comes back).
pub fn add(ctx: &Ctx) -> Result<Response, PluginError> {
    let body = match guarded(ctx) {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let (items, single) = match body.get("items").and_then(Json::as_array) {
        Some(items) => (items.clone(), false),
        None => (vec![body.clone()], true),
    };
    if items.is_empty() {
        return Ok(error(422, "Add at least one item."));
    }
    let mut added = Vec::new();
    for item in &items {
        let Some(variant) = id(item.get("id")) else { return Ok(error(422, "Each item needs the id of a variant.")) };
        let q = match quantity(item.get("quantity"), 1) {
            Ok(0) => return Ok(error(422, "The quantity must be at least 1.")),
            Ok(q) => q,
            Err(r) => return Ok(r),
        };
        match cart::add(ctx, &variant, q) {
            Ok(cart) => {
                if let Some(line) = cart.lines.iter().find(|l| l.variant_id == variant) {
                    added.push(objects::line_item(ctx, line));
                }
            }
            Err(e) => return Ok(cart_error(&e)),
        }
    }
    Ok(if single && added.len() == 1 {
        json_response(200, &added[0])
    } else {
        json_response(200, &json!({ "items": added }))
    })
}

/// `POST /cart/change.js`: `{id or line, quantity}`; the cart comes back.
pub fn change(ctx: &Ctx) -> Result<Response, PluginError> {
    let body = match guarded(ctx) {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let q = match quantity(body.get("quantity"), 0) {
        Ok(q) => q,
        Err(r) => return Ok(r),
    };
    let variant = if let Some(line) = body.get("line") {
        let line = match line {
            Json::Number(n) => n.as_u64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let Some(line) = line else { return Ok(error(400, "line must be a number from 1")) };
        let current = match cart::load_or_create(ctx) {
            Ok(c) => c,
            Err(e) => return Ok(cart_error(&e)),
        };
        match cart::variant_of_line(&current, line as usize) {
            Ok(v) => v,
            Err(e) => return Ok(error(400, &e.message(None))),
        }
    } else if let Some(variant) = id(body.get("id")) {
        variant
    } else {
        return Ok(error(400, "Say which line to change with id or line."));
    };
    match cart::set(ctx, &variant, q) {
        Ok(_) => Ok(json_response(200, &cart_json(ctx))),
        Err(e) => Ok(cart_error(&e)),
    }
}

/// `POST /cart/update.js`: `{updates: {ID: quantity}}` or `{updates:
/// [quantities by line]}`; the cart comes back.
pub fn update(ctx: &Ctx) -> Result<Response, PluginError> {
    let body = match guarded(ctx) {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let changes: Vec<(String, u32)> = match body.get("updates") {
        Some(Json::Object(map)) => {
            let mut out = Vec::new();
            for (variant, q) in map {
                match quantity(Some(q), 0) {
                    Ok(q) => out.push((variant.split(':').next().unwrap_or(variant).to_string(), q)),
                    Err(r) => return Ok(r),
                }
            }
            out
        }
        Some(Json::Array(list)) => {
            let current = match cart::load_or_create(ctx) {
                Ok(c) => c,
                Err(e) => return Ok(cart_error(&e)),
            };
            let mut out = Vec::new();
            for (i, q) in list.iter().enumerate() {
                let Some(line) = current.lines.get(i) else { return Ok(error(400, "More quantities than lines.")) };
                match quantity(Some(q), 0) {
                    Ok(q) => out.push((line.variant_id.clone(), q)),
                    Err(r) => return Ok(r),
                }
            }
            out
        }
        None => Vec::new(),
        Some(_) => return Ok(error(400, "updates must be an object of quantities by id or a list by line.")),
    };
    for (variant, q) in changes {
        if let Err(e) = cart::set(ctx, &variant, q) {
            return Ok(cart_error(&e));
        }
    }
    if let Some(code) = body.get("discount").and_then(Json::as_str).map(str::trim).filter(|c| !c.is_empty())
        && let Err(e) = cart::apply_code(ctx, code)
    {
        return Ok(cart_error(&e));
    }
    Ok(json_response(200, &cart_json(ctx)))
}

/// `POST /cart/clear.js`: the emptied cart comes back.
pub fn clear(ctx: &Ctx) -> Result<Response, PluginError> {
    if let Err(r) = guarded(ctx) {
        return Ok(r);
    }
    match cart::clear(ctx) {
        Ok(c) => Ok(json_response(200, &objects::cart(ctx, Some(&c)))),
        Err(e) => Ok(cart_error(&e)),
    }
}
