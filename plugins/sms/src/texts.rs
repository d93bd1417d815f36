//! The texts: the merchant's Liquid templates (settings `template.<name>.<language>`)
//! rendered with the shop, the order, the customer and the pickup location.
//!
//! Variables: `shop.name`; `order.number`, `order.total` (formatted for the
//! language, such as `12,50 €`), `order.items`; `customer.name`,
//! `customer.first_name`; `location.name`, `location.address` (only for
//! pickup and ship-to-store orders); `contact` (in the HELP reply).

use omnistore_sdk::templates::{ParseOptions, RenderOptions, Template};
use omnistore_sdk::{Customer, Fulfillment, Location, Order, PluginError};
use serde_json::{Value, json};

use crate::config;

/// Render `source` with `vars`; a broken template is an error that names the setting.
pub fn render(setting: &str, source: &str, vars: &Value) -> Result<String, PluginError> {
    let broken = |e: omnistore_sdk::templates::Error| {
        PluginError::internal(format!("the template `{setting}` cannot be used: {e}; correct it in the settings"))
    };
    let template = Template::parse(source, &ParseOptions::default()).map_err(broken)?;
    let text = template.render_json(vars, &RenderOptions::default()).map_err(broken)?;
    Ok(text.trim().to_string())
}

/// The text named `name` (`order_placed`, `help`, …) in the installation's
/// language, rendered; `None` when the merchant emptied the template (the
/// text is switched off).
pub fn text(name: &str, vars: &Value) -> Result<Option<String>, PluginError> {
    let source = config::template(name).unwrap_or_default();
    if source.trim().is_empty() {
        return Ok(None);
    }
    let setting = format!("template.{name}.{}", language());
    let text = render(&setting, &source, vars)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// The installation's language (`it` or `en`).
pub fn language() -> &'static str {
    let shop = omnistore_sdk::settings::shop();
    config::language(omnistore_sdk::settings::get("language").as_deref(), shop.primary_language())
}

/// The variables of an order text.
pub fn order_vars(
    shop_name: &str,
    order: &Order,
    customer: &Customer,
    locations: &[Location],
    language: &str,
) -> Value {
    let location = match &order.fulfillment {
        Fulfillment::Pickup(id) | Fulfillment::ShipToStore(id) => locations.iter().find(|l| &l.id == id).map(|l| {
            let a = &l.address;
            let address: Vec<&str> =
                [a.line1.as_str(), a.city.as_str()].into_iter().filter(|p| !p.is_empty()).collect();
            json!({ "name": l.name, "address": address.join(", ") })
        }),
        Fulfillment::Ship(_) => None,
    };
    let name = customer.name.clone().unwrap_or_default();
    let first_name = name.split_whitespace().next().unwrap_or("").to_string();
    json!({
        "shop": { "name": shop_name },
        "order": {
            "number": order.number,
            "total": money(&order.total, language),
            "items": order.lines.iter().map(|l| u64::from(l.quantity)).sum::<u64>(),
        },
        "customer": { "name": name, "first_name": first_name },
        "location": location,
    })
}

pub use omnistore_sdk::format_for_reader as money;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_broken_ones_name_their_setting() {
        let vars = json!({ "shop": { "name": "Dolce Vita" }, "order": { "number": "1042" }, "location": null });
        let text = render(
            "template.x.it",
            "{{ shop.name }}: ordine n. {{ order.number }}{% if location %} presso {{ location.name }}{% endif %}. ",
            &vars,
        )
        .unwrap();
        assert_eq!(text, "Dolce Vita: ordine n. 1042.");
        let Err(PluginError::Internal(why)) = render("template.x.it", "{% if %}", &vars) else { panic!() };
        assert!(why.contains("`template.x.it`"), "{why}");
    }
}
