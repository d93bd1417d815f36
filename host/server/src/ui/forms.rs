//! Reading forms as people fill them: every field arrives as text, is checked
//! here, and a refusal is a message keyed by the field, shown next to it.
//! Nothing is changed until every field of a form has passed.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::i18n::Locale;

/// What the core answered a form: its value, or — when the core refused the
/// input (a client error) — the reason, for the page to show next to the
/// form; any other error (the store failed) goes on up.
pub(crate) fn refused_or<T>(
    result: omnistore_core::CoreResult<T>,
) -> Result<Result<T, String>, crate::admin::AdminError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) => {
            let e = crate::admin::AdminError::from(e);
            if e.status.is_client_error() { Ok(Err(e.message)) } else { Err(e) }
        }
    }
}

/// The fields of a submitted form (`application/x-www-form-urlencoded`).
pub(crate) type Fields = BTreeMap<String, String>;

/// The form's fields `names` as they were typed, to show them again beside
/// their errors (a missing one as empty).
pub(crate) fn typed(fields: &Fields, names: &[&str]) -> Value {
    json!(names.iter().map(|n| (*n, fields.get(*n).cloned().unwrap_or_default())).collect::<BTreeMap<_, _>>())
}

/// Messages per field name, already translated.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldErrors {
    errors: BTreeMap<String, String>,
}

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// For templates: `{field: message}`.
    pub(crate) fn to_json(&self) -> Value {
        json!(self.errors)
    }
}

/// A required line of text of at most `max` characters, trimmed.
pub(crate) fn text(
    fields: &Fields,
    name: &str,
    max: usize,
    locale: Locale,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    if value.is_empty() {
        errors.add(name, locale.t("err_required"));
        None
    } else if value.chars().count() > max {
        errors.add(name, locale.t("err_too_long").replace("{max}", &max.to_string()));
        None
    } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.add(name, locale.t("err_invalid"));
        None
    } else {
        Some(value)
    }
}

/// Optional text of at most `max` characters (empty is allowed).
pub(crate) fn optional_text(
    fields: &Fields,
    name: &str,
    max: usize,
    locale: Locale,
    errors: &mut FieldErrors,
) -> String {
    let value = fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    if value.chars().count() > max {
        errors.add(name, locale.t("err_too_long").replace("{max}", &max.to_string()));
        return String::new();
    }
    value
}

/// A price typed by a person, in minor units; zero is allowed, negative is not.
pub(crate) fn price(
    fields: &Fields,
    name: &str,
    currency: &str,
    locale: Locale,
    errors: &mut FieldErrors,
) -> Option<i64> {
    let value = fields.get(name).map(|v| v.trim()).unwrap_or_default();
    if value.is_empty() {
        errors.add(name, locale.t("err_required"));
        return None;
    }
    if value.starts_with('-') {
        errors.add(name, locale.t("err_negative"));
        return None;
    }
    match super::i18n::parse_money(value, currency) {
        // A hundred million in the currency is no cake's price: a typo.
        Some(minor) if minor <= 100_000_000 * 100 => Some(minor),
        Some(_) => {
            errors.add(name, locale.t("err_too_large"));
            None
        }
        None => {
            errors.add(name, locale.t("err_price"));
            None
        }
    }
}

/// A whole number in `min..=max`.
pub(crate) fn integer(
    fields: &Fields,
    name: &str,
    min: i64,
    max: i64,
    locale: Locale,
    errors: &mut FieldErrors,
) -> Option<i64> {
    let value = fields.get(name).map(|v| v.trim()).unwrap_or_default();
    if value.is_empty() {
        errors.add(name, locale.t("err_required"));
        return None;
    }
    match value.parse::<i64>() {
        Ok(n) if n < min && min >= 0 => {
            errors.add(name, locale.t("err_negative"));
            None
        }
        Ok(n) if (min..=max).contains(&n) => Some(n),
        Ok(_) => {
            errors
                .add(name, locale.t("err_range").replace("{min}", &min.to_string()).replace("{max}", &max.to_string()));
            None
        }
        Err(_) => {
            errors.add(name, locale.t("err_integer"));
            None
        }
    }
}

/// A handle (the product's address) made from a title: lowercase ASCII
/// letters and digits joined by dashes, accents folded.
pub(crate) fn handle_from(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(80).collect()
}

/// Percent-encode a query value.
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A path inside the admin to come back to, or the admin's home: never
/// another site (an open redirect would lend the admin's name to phishing).
pub(crate) fn local_path(back: Option<&str>) -> String {
    match back {
        Some(p)
            if p.starts_with("/admin") && !p.starts_with("//") && !p.contains('\\') && !p.contains(['\r', '\n']) =>
        {
            p.to_owned()
        }
        _ => "/admin".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_made_from_titles() {
        assert_eq!(handle_from("Cannolo Siciliano (grande)"), "cannolo-siciliano-grande");
        assert_eq!(handle_from("Babà al rum!"), "baba-al-rum");
    }

    #[test]
    fn only_admin_paths_are_come_back_to() {
        assert_eq!(local_path(Some("/admin/orders?status=placed")), "/admin/orders?status=placed");
        for bad in ["https://evil.example", "//evil.example", "/adminx\\..", "/other"] {
            assert!(local_path(Some(bad)) == "/admin" || bad.starts_with("/admin"), "{bad}");
        }
        assert_eq!(local_path(Some("//evil.example")), "/admin");
    }
}
