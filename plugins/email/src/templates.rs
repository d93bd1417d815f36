//! The templates: bundled with the plugin, each replaceable by a merchant
//! file at the same path (`templates/<language>/<mail>.<part>.liquid`),
//! as the storefront's theme is.
//!
//! A merchant file that does not parse or render is logged and the bundled
//! template is used instead: a customer waiting for a receipt should get the
//! plain one rather than nothing, and the merchant learns from the log.

use omnistore_sdk::templates::{ParseOptions, RenderOptions, Template};
use omnistore_sdk::{PluginError, Response, files, settings};
use serde_json::Value;

macro_rules! bundled {
    ($($lang:literal / $mail:literal . $part:literal),* $(,)?) => {
        /// (path, source) of every bundled template.
        static BUNDLED: &[(&str, &str)] = &[$((
            concat!("templates/", $lang, "/", $mail, ".", $part, ".liquid"),
            include_str!(concat!("../templates/", $lang, "/", $mail, ".", $part, ".liquid")),
        )),*];
    };
}

bundled!(
    "it" / "order_placed" . "subject", "it" / "order_placed" . "txt", "it" / "order_placed" . "html",
    "it" / "ready_for_pickup" . "subject", "it" / "ready_for_pickup" . "txt", "it" / "ready_for_pickup" . "html",
    "it" / "shipped" . "subject", "it" / "shipped" . "txt", "it" / "shipped" . "html",
    "it" / "return_received" . "subject", "it" / "return_received" . "txt", "it" / "return_received" . "html",
    "en" / "order_placed" . "subject", "en" / "order_placed" . "txt", "en" / "order_placed" . "html",
    "en" / "ready_for_pickup" . "subject", "en" / "ready_for_pickup" . "txt", "en" / "ready_for_pickup" . "html",
    "en" / "shipped" . "subject", "en" / "shipped" . "txt", "en" / "shipped" . "html",
    "en" / "return_received" . "subject", "en" / "return_received" . "txt", "en" / "return_received" . "html",
    "it" / "campaign_footer" . "txt", "it" / "campaign_footer" . "html", "it" / "unsubscribe" . "html",
    "en" / "campaign_footer" . "txt", "en" / "campaign_footer" . "html", "en" / "unsubscribe" . "html",
    "it" / "survey" . "subject", "it" / "survey" . "txt", "it" / "survey" . "html", "it" / "survey_page" . "html",
    "en" / "survey" . "subject", "en" / "survey" . "txt", "en" / "survey" . "html", "en" / "survey_page" . "html",
);

/// The path of one part (`subject`, `txt`, `html`) of one mail.
pub fn path(language: &str, mail: &str, part: &str) -> String {
    format!("templates/{language}/{mail}.{part}.liquid")
}

pub fn bundled(path: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(p, _)| *p == path).map(|(_, source)| *source)
}

pub fn render(source: &str, vars: &Value) -> Result<String, omnistore_sdk::templates::Error> {
    Template::parse(source, &ParseOptions::default())?.render_json(vars, &RenderOptions::default())
}

/// The part rendered: the merchant's file when there is one and it renders,
/// else the bundled template.
pub fn render_part(language: &str, mail: &str, part: &str, vars: &Value) -> Result<String, PluginError> {
    let path = path(language, mail, part);
    let merchant = match files::get_text(&path) {
        Ok(found) => found,
        Err(e) => {
            omnistore_sdk::warn!(
                "a merchant template cannot be read; the bundled one is used",
                path = path,
                error = e.to_string()
            );
            None
        }
    };
    if let Some(source) = merchant {
        match render(&source, vars) {
            Ok(text) => return Ok(text),
            Err(e) => omnistore_sdk::warn!(
                "a merchant template is broken; the bundled one is used until it is corrected",
                path = path,
                error = e.to_string(),
            ),
        }
    }
    let source = bundled(&path).ok_or_else(|| PluginError::internal(format!("no bundled template {path}")))?;
    render(source, vars).map_err(|e| PluginError::internal(format!("the bundled template {path} is broken: {e}")))
}

/// A page a link in a mail opens (`unsubscribe`, `survey_page`), in the
/// installation's language: `state` is `ask`, `done` or `invalid` (a 404).
/// Never cached and never telling the next site where the visitor came
/// from, since its address carries a signed token.
pub fn link_page(language: &str, page: &str, mut vars: Value, state: &str) -> Result<Response, PluginError> {
    vars["state"] = Value::from(state);
    vars["shop"] = serde_json::json!({ "name": settings::shop().name });
    let html = render_part(language, page, "html", &vars)?;
    Ok(Response::html(html)
        .with_status(if state == "invalid" { 404 } else { 200 })
        .with_header("Cache-Control", "no-store")
        .with_header("Referrer-Policy", "no-referrer"))
}

/// A subject is one line: whatever a template leaves around it, or inside
/// it, would break the header.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars() -> Value {
        json!({
            "shop": { "name": "Dolce <Vita>", "url": "https://dv.example" },
            "order": {
                "number": "1042", "url": "https://dv.example", "subtotal": "10,00 €", "discount": "",
                "total": "10,00 €",
                "lines": [{ "title": "Cannolo & co", "sku": "C1", "quantity": 2, "unit_price": "5,00 €", "total": "10,00 €" }],
            },
            "location": { "name": "Negozio", "address": "Via dei Dolci 1, 80100 Napoli" },
            "unsubscribe_url": "https://dv.example/email/unsubscribe?t=cus-1.ab",
            "action": "https://dv.example/email/unsubscribe?t=cus-1.ab",
            "scores": [{ "score": 0, "url": "https://dv.example/email/survey?s=0&t=x" }],
            "score": 9,
            "return": {
                "refund": "5,00 €",
                "location": { "name": "Negozio", "address": "Via dei Dolci 1, 80100 Napoli" },
                "lines": [{ "title": "Cannolo & co", "sku": "C1", "quantity": 1, "refund": "5,00 €", "restocked": true }],
            },
        })
    }

    #[test]
    fn every_bundled_template_renders_and_html_is_escaped() {
        assert_eq!(BUNDLED.len(), 38);
        for (path, source) in BUNDLED {
            let text = render(source, &vars()).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(!text.trim().is_empty(), "{path}");
            if path.ends_with(".html.liquid") {
                assert!(!text.contains("Dolce <Vita>") && !text.contains("Cannolo & co"), "{path} escapes: {text}");
                assert!(text.contains("Dolce &lt;Vita&gt;"), "{path}");
                if !path.contains("unsubscribe") && !path.contains("survey_page") {
                    assert!(text.contains("href=\"https://dv.example"), "{path}: links are absolute");
                }
            } else {
                assert!(text.contains("Dolce <Vita>"), "{path}: plain text is not escaped");
            }
        }
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(one_line("\n  Ordine n. 1042\r\n ricevuto \n"), "Ordine n. 1042 ricevuto");
    }
}
