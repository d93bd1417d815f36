//! The theme's translations (`locales/<language>.json`) and the `t` filter.

use std::sync::Arc;

use serde_json::Value as Json;

/// The strings of one language, with English underneath for keys the
/// language's file lacks.
#[derive(Debug, Clone)]
pub struct Translations {
    pub language: String,
    strings: Arc<Json>,
    fallback: Arc<Json>,
}

impl Translations {
    /// Strings are shared: parsed locale files are kept across pages.
    pub fn new(language: &str, strings: impl Into<Arc<Json>>, fallback: impl Into<Arc<Json>>) -> Translations {
        Translations { language: language.to_string(), strings: strings.into(), fallback: fallback.into() }
    }

    fn lookup(&self, key: &str) -> Option<&Json> {
        fn walk<'a>(root: &'a Json, key: &str) -> Option<&'a Json> {
            key.split('.').try_fold(root, |node, part| node.get(part))
        }
        walk(&self.strings, key).or_else(|| walk(&self.fallback, key))
    }

    /// The string for `key`, with `{{ name }}` replaced by the arguments and
    /// the `one`/`other` form chosen by `count`; Shopify's "translation
    /// missing" text when there is none.
    pub fn translate(&self, key: &str, args: &[(String, String)]) -> String {
        let count = args.iter().find(|(k, _)| k == "count").and_then(|(_, v)| v.parse::<i64>().ok());
        let text = match self.lookup(key) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Object(forms)) => {
                let form = match count {
                    Some(0) if forms.contains_key("zero") => "zero",
                    Some(1) => "one",
                    _ => "other",
                };
                match forms.get(form).or_else(|| forms.get("other")) {
                    Some(Json::String(s)) => s.clone(),
                    _ => return format!("translation missing: {}.{key}", self.language),
                }
            }
            _ => return format!("translation missing: {}.{key}", self.language),
        };
        interpolate(&text, args)
    }
}

/// Replace `{{ name }}` (spaces optional) with the argument's value.
fn interpolate(text: &str, args: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match args.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translations() -> Translations {
        Translations::new(
            "it",
            serde_json::json!({ "cart": { "title": "Carrello", "count": { "one": "{{ count }} articolo", "other": "{{count}} articoli" } } }),
            serde_json::json!({ "cart": { "title": "Cart", "empty": "Your cart is empty" }, "hi": "Hi {{ name }} {{ other }}" }),
        )
    }

    #[test]
    fn keys_plurals_arguments_and_fallbacks() {
        let t = translations();
        assert_eq!(t.translate("cart.title", &[]), "Carrello");
        assert_eq!(t.translate("cart.empty", &[]), "Your cart is empty");
        assert_eq!(t.translate("cart.count", &[("count".into(), "1".into())]), "1 articolo");
        assert_eq!(t.translate("cart.count", &[("count".into(), "3".into())]), "3 articoli");
        assert_eq!(t.translate("hi", &[("name".into(), "Giulia".into())]), "Hi Giulia {{ other }}");
        assert_eq!(t.translate("cart.nope", &[]), "translation missing: it.cart.nope");
        assert_eq!(t.translate("cart", &[]), "translation missing: it.cart");
        assert_eq!(interpolate("a {{ b", &[]), "a {{ b");
    }
}
