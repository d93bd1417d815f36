//! Prices as shoppers read them: integer minor units formatted for the
//! shop's currency and the page's language.

use omnistore_sdk::minor_unit_digits;

/// How amounts of the shop's currency are written on a page.
#[derive(Debug, Clone)]
pub struct MoneyFormat {
    pub currency: String,
    /// Digits of the minor unit (2 for EUR).
    pub digits: u32,
    /// `,` for Italian, `.` for English.
    pub decimal_separator: char,
    pub thousands_separator: char,
    /// Whether the symbol goes after the amount ("3,50 €") or before ("€3.50").
    pub symbol_after: bool,
    /// Whether `money` shows the currency code too (the merchant's setting).
    pub always_code: bool,
}

impl MoneyFormat {
    pub fn new(currency: &str, language: &str, always_code: bool) -> MoneyFormat {
        let continental = !matches!(language.split('-').next().unwrap_or(""), "en" | "ja" | "zh" | "ko" | "he");
        MoneyFormat {
            currency: currency.to_string(),
            digits: minor_unit_digits(currency),
            decimal_separator: if continental { ',' } else { '.' },
            thousands_separator: if continental { '.' } else { ',' },
            symbol_after: continental,
            always_code,
        }
    }

    fn symbol(&self) -> &str {
        match self.currency.as_str() {
            "EUR" => "€",
            "USD" => "$",
            "GBP" => "£",
            "JPY" => "¥",
            "CHF" => "CHF",
            other => other,
        }
    }

    /// The number alone, with the language's separators: `1.234,50`.
    pub fn number(&self, minor: i64, trim_zeros: bool) -> String {
        let negative = minor < 0;
        let abs = minor.unsigned_abs();
        let scale = 10u64.pow(self.digits);
        let (units, fraction) = (abs / scale, abs % scale);
        let mut grouped = String::new();
        let text = units.to_string();
        for (i, c) in text.chars().enumerate() {
            if i > 0 && (text.len() - i) % 3 == 0 {
                grouped.push(self.thousands_separator);
            }
            grouped.push(c);
        }
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(&grouped);
        if self.digits > 0 && !(trim_zeros && fraction == 0) {
            out.push(self.decimal_separator);
            out.push_str(&format!("{fraction:0width$}", width = self.digits as usize));
        }
        out
    }

    /// `money`: `3,50 €` or `€3.50` (with the code when the merchant asked).
    pub fn money(&self, minor: i64) -> String {
        if self.always_code { self.with_currency(minor) } else { self.with_symbol(minor, false) }
    }

    fn with_symbol(&self, minor: i64, trim_zeros: bool) -> String {
        let number = self.number(minor, trim_zeros);
        if self.symbol_after {
            format!("{number}\u{a0}{}", self.symbol())
        } else {
            format!("{}{number}", self.symbol())
        }
    }

    /// `money_with_currency`: `3,50 € EUR` / `€3.50 EUR`.
    pub fn with_currency(&self, minor: i64) -> String {
        format!("{} {}", self.with_symbol(minor, false), self.currency)
    }

    /// `money_without_trailing_zeros`: `3 €` for 300, `3,50 €` for 350.
    pub fn without_trailing_zeros(&self, minor: i64) -> String {
        self.with_symbol(minor, true)
    }

    /// `money_without_currency`: `3,50`.
    pub fn without_currency(&self, minor: i64) -> String {
        self.number(minor, false)
    }
}

/// The amount as a plain decimal with a dot, as schema.org and Open Graph
/// want it: `3.50`, `1200` for JPY.
pub fn decimal(minor: i64, currency: &str) -> String {
    let digits = minor_unit_digits(currency);
    let scale = 10u64.pow(digits);
    let abs = minor.unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    if digits == 0 {
        format!("{sign}{abs}")
    } else {
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = digits as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_language_and_currency() {
        let it = MoneyFormat::new("EUR", "it", false);
        assert_eq!(it.money(350), "3,50\u{a0}€");
        assert_eq!(it.money(123456789), "1.234.567,89\u{a0}€");
        assert_eq!(it.with_currency(350), "3,50\u{a0}€ EUR");
        assert_eq!(it.without_trailing_zeros(300), "3\u{a0}€");
        assert_eq!(it.without_trailing_zeros(350), "3,50\u{a0}€");
        assert_eq!(it.without_currency(-5), "-0,05");
        let en = MoneyFormat::new("EUR", "en", false);
        assert_eq!(en.money(350), "€3.50");
        assert_eq!(en.money(100000), "€1,000.00");
        let coded = MoneyFormat::new("EUR", "en", true);
        assert_eq!(coded.money(350), "€3.50 EUR");
        let yen = MoneyFormat::new("JPY", "en", false);
        assert_eq!(yen.money(1200), "¥1,200");
    }

    #[test]
    fn decimals_for_machines() {
        assert_eq!(decimal(350, "EUR"), "3.50");
        assert_eq!(decimal(5, "EUR"), "0.05");
        assert_eq!(decimal(-1250, "EUR"), "-12.50");
        assert_eq!(decimal(1200, "JPY"), "1200");
        assert_eq!(decimal(1234, "KWD"), "1.234");
    }
}
