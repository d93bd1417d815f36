//! Input checks shared by the domain modules. Each returns `Invalid` with the
//! field name, so a merchant sees which field to fix.

use crate::error::{CoreError, CoreResult};

/// A required, trimmed text field of at most `max` characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> CoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CoreError::invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(CoreError::invalid(format!("{field} must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(CoreError::invalid(format!("{field} must not contain control characters")));
    }
    Ok(value.to_owned())
}

/// An optional text field: blank becomes `None`.
pub(crate) fn opt_text(field: &str, value: Option<&str>, max: usize) -> CoreResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// Free text (descriptions): may be empty, bounded in size.
pub(crate) fn long_text(field: &str, value: &str, max: usize) -> CoreResult<String> {
    if value.len() > max {
        return Err(CoreError::invalid(format!("{field} must be at most {max} bytes")));
    }
    Ok(value.to_owned())
}

/// A quantity that must be at least one.
pub(crate) fn positive_qty(field: &str, quantity: i64) -> CoreResult<i64> {
    if quantity <= 0 {
        return Err(CoreError::invalid(format!("{field} must be at least 1, got {quantity}")));
    }
    if quantity > 1_000_000 {
        return Err(CoreError::invalid(format!("{field} must be at most 1000000, got {quantity}")));
    }
    Ok(quantity)
}

/// A handle or code: lower-case letters, digits and dashes.
pub(crate) fn handle(field: &str, value: &str) -> CoreResult<String> {
    let value = value.trim().to_lowercase();
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(value)
    } else {
        Err(CoreError::invalid(format!("{field} `{value}` must be 1-128 characters of a-z, 0-9, '-' or '_'")))
    }
}

/// A list of tags: trimmed, lower-cased, de-duplicated, sorted.
pub(crate) fn tags(field: &str, values: &[String]) -> CoreResult<Vec<String>> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(text(field, v, 64)?.to_lowercase());
    }
    out.sort();
    out.dedup();
    Ok(out)
}
