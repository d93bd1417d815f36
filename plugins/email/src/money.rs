//! Amounts as a customer of each language reads them. The same rules as the
//! SMS channel's texts (a plugin crate cannot depend on another), so both
//! channels show the same total the same way.

use omnistore_sdk::{Money, minor_unit_digits};

/// `12,50 €` in Italian, `€12.50` in English, `1.234,00 CHF`.
pub fn money(m: &Money, language: &str) -> String {
    let italian = language == "it";
    let digits = minor_unit_digits(&m.currency);
    let abs = m.amount_minor.unsigned_abs();
    let scale = 10u64.pow(digits);
    let (group, decimal) = if italian { ('.', ',') } else { (',', '.') };
    let units = (abs / scale).to_string();
    let mut number = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            number.push(group);
        }
        number.push(c);
    }
    if digits > 0 {
        number.push(decimal);
        number.push_str(&format!("{:0width$}", abs % scale, width = digits as usize));
    }
    let sign = if m.amount_minor < 0 { "-" } else { "" };
    let symbol = match m.currency.as_str() {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        other => other,
    };
    // Italian puts the symbol after the amount; a three-letter code reads as
    // a word, so it goes after in every language.
    if italian || symbol == m.currency { format!("{sign}{number} {symbol}") } else { format!("{sign}{symbol}{number}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_in_each_language() {
        assert_eq!(money(&Money::new(1250, "EUR"), "it"), "12,50 €");
        assert_eq!(money(&Money::new(1250, "EUR"), "en"), "€12.50");
        assert_eq!(money(&Money::new(123_400, "CHF"), "it"), "1.234,00 CHF");
        assert_eq!(money(&Money::new(1250, "JPY"), "en"), "1,250 JPY");
        assert_eq!(money(&Money::new(-5, "USD"), "en"), "-$0.05");
    }
}
