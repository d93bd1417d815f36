//! The variables every template gets.
//!
//! `shop.name`, `shop.url`; `order.number`, `order.url`, `order.subtotal`,
//! `order.discount` (empty when none), `order.total` (amounts already
//! formatted for the language, such as `12,50 €`), `order.lines` (each with
//! `title`, `sku`, `quantity`, `unit_price`, `total`); `location.name`,
//! `location.address` (pickup and ship-to-store orders only, else nil).
//! The return mail also gets `return.refund`, `return.location` (`name`,
//! `address`) and `return.lines` (each with `title`, `sku`, `quantity`,
//! `refund` and `restocked`).

use omnistore_sdk::{Fulfillment, Location, Order, OrderReturn};
use serde_json::{Value, json};

use crate::money::money;

pub fn order_vars(shop_name: &str, shop_url: &str, order: &Order, locations: &[Location], language: &str) -> Value {
    let location = match &order.fulfillment {
        Fulfillment::Pickup(id) | Fulfillment::ShipToStore(id) => location_vars(locations, id),
        Fulfillment::Ship(_) => None,
    };
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            json!({
                "title": l.title,
                "sku": l.sku,
                "quantity": l.quantity,
                "unit_price": money(&l.unit_price, language),
                "total": money(&l.total, language),
            })
        })
        .collect();
    let discount = if order.discount.amount_minor == 0 { String::new() } else { money(&order.discount, language) };
    json!({
        "shop": { "name": shop_name, "url": shop_url },
        "order": {
            "number": order.number,
            // Links to the shop's home: the contract has no customer order page.
            "url": shop_url,
            "subtotal": money(&order.subtotal, language),
            "discount": discount,
            "total": money(&order.total, language),
            "lines": lines,
        },
        "location": location,
    })
}

/// `name` and one-line `address` of the location `id`, if it is known.
fn location_vars(locations: &[Location], id: &str) -> Option<Value> {
    locations.iter().find(|l| l.id == id).map(|l| {
        let a = &l.address;
        let city = [a.postal_code.as_str(), a.city.as_str()].join(" ").trim().to_string();
        let parts: Vec<&str> = [a.line1.as_str(), a.line2.as_deref().unwrap_or(""), city.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        json!({ "name": l.name, "address": parts.join(", ") })
    })
}

pub fn return_vars(ret: &OrderReturn, locations: &[Location], language: &str) -> Value {
    let lines: Vec<Value> = ret
        .lines
        .iter()
        .map(|l| {
            json!({
                "title": l.title,
                "sku": l.sku,
                "quantity": l.quantity,
                "refund": money(&l.refund, language),
                "restocked": l.restocked,
            })
        })
        .collect();
    json!({
        "refund": money(&ret.refund, language),
        "location": location_vars(locations, &ret.location_id),
        "lines": lines,
    })
}
