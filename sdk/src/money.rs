//! Money arithmetic on integer minor units. No floats anywhere: a price is
//! exact, and rounding happens only where a method says so.

use std::fmt;

use crate::{Money, PluginError};

/// Why a money operation has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    CurrencyMismatch { left: String, right: String },
    /// The result does not fit in an `i64` of minor units.
    Overflow,
    /// A percentage outside 0–100.
    InvalidPercent(u32),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::CurrencyMismatch { left, right } => {
                write!(f, "cannot combine amounts in {left} and {right}")
            }
            MoneyError::Overflow => f.write_str("the amount is too large"),
            MoneyError::InvalidPercent(p) => write!(f, "{p}% is not a percentage between 0 and 100"),
        }
    }
}

impl std::error::Error for MoneyError {}

impl From<MoneyError> for PluginError {
    fn from(e: MoneyError) -> Self {
        PluginError::Internal(e.to_string())
    }
}

/// How many digits the minor unit of an ISO-4217 currency has: 2 for EUR and
/// USD (cents), 0 for JPY, 3 for KWD. Unknown codes count as 2.
///
/// ```
/// use omnistore_sdk::minor_unit_digits;
/// assert_eq!(minor_unit_digits("EUR"), 2);
/// assert_eq!(minor_unit_digits("JPY"), 0);
/// assert_eq!(minor_unit_digits("KWD"), 3);
/// ```
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

impl Money {
    /// `amount_minor` in the currency's minor unit (cents for EUR):
    /// `Money::new(1250, "EUR")` is EUR 12.50.
    ///
    /// ```
    /// use omnistore_sdk::Money;
    /// let price = Money::new(1250, "EUR");
    /// assert_eq!(price.amount_minor, 1250);
    /// assert_eq!(price.to_string(), "EUR 12.50");
    /// ```
    pub fn new(amount_minor: i64, currency: &str) -> Money {
        Money { amount_minor, currency: currency.to_string() }
    }

    /// Zero in `currency`.
    pub fn zero(currency: &str) -> Money {
        Money::new(0, currency)
    }

    pub fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    pub fn is_negative(&self) -> bool {
        self.amount_minor < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency.clone(), right: other.currency.clone() })
        }
    }

    /// `self + other`; fails on different currencies or overflow.
    ///
    /// ```
    /// use omnistore_sdk::{Money, MoneyError};
    /// let sum = Money::new(250, "EUR").checked_add(&Money::new(100, "EUR"));
    /// assert_eq!(sum, Ok(Money::new(350, "EUR")));
    /// assert!(matches!(
    ///     Money::new(1, "EUR").checked_add(&Money::new(1, "USD")),
    ///     Err(MoneyError::CurrencyMismatch { .. })
    /// ));
    /// ```
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount_minor.checked_add(other.amount_minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount_minor: amount, currency: self.currency.clone() })
    }

    /// `self - other`; fails on different currencies or overflow. The result
    /// may be negative.
    ///
    /// ```
    /// use omnistore_sdk::Money;
    /// let rest = Money::new(250, "EUR").checked_sub(&Money::new(300, "EUR")).unwrap();
    /// assert_eq!(rest.to_string(), "EUR -0.50");
    /// ```
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount_minor.checked_sub(other.amount_minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount_minor: amount, currency: self.currency.clone() })
    }

    /// `self * quantity`, as for a line total; fails on overflow.
    ///
    /// ```
    /// use omnistore_sdk::{Money, MoneyError};
    /// assert_eq!(Money::new(250, "EUR").checked_mul(3), Ok(Money::new(750, "EUR")));
    /// assert_eq!(Money::new(i64::MAX, "EUR").checked_mul(2), Err(MoneyError::Overflow));
    /// ```
    pub fn checked_mul(&self, quantity: i64) -> Result<Money, MoneyError> {
        let amount = self.amount_minor.checked_mul(quantity).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount_minor: amount, currency: self.currency.clone() })
    }

    /// `percent`% of this amount, rounded to a whole minor unit with halves
    /// rounded away from zero (20% of EUR 0.99 is EUR 0.198, which is EUR 0.20).
    ///
    /// ```
    /// use omnistore_sdk::Money;
    /// assert_eq!(Money::new(99, "EUR").percent_of(20), Ok(Money::new(20, "EUR")));
    /// assert_eq!(Money::new(-99, "EUR").percent_of(20), Ok(Money::new(-20, "EUR")));
    /// assert!(Money::new(99, "EUR").percent_of(101).is_err());
    /// ```
    pub fn percent_of(&self, percent: u32) -> Result<Money, MoneyError> {
        if percent > 100 {
            return Err(MoneyError::InvalidPercent(percent));
        }
        // i128 keeps `amount * percent` exact for every i64 amount.
        let scaled = i128::from(self.amount_minor) * i128::from(percent);
        let (q, r) = (scaled / 100, scaled % 100);
        let rounded = if r.abs() * 2 >= 100 { q + scaled.signum() } else { q };
        let amount = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        Ok(Money { amount_minor: amount, currency: self.currency.clone() })
    }

    /// The price after `percent`% off: `self - self.percent_of(percent)`. The
    /// discount is rounded (halves away from zero) before it is subtracted,
    /// so the discount and the new price always add up to the old price.
    ///
    /// ```
    /// use omnistore_sdk::Money;
    /// // 20% off EUR 0.99: the discount EUR 0.198 rounds to EUR 0.20.
    /// assert_eq!(Money::new(99, "EUR").percent_off(20).unwrap().to_string(), "EUR 0.79");
    /// // 15% off JPY 1,005: the discount JPY 150.75 rounds to JPY 151.
    /// assert_eq!(Money::new(1005, "JPY").percent_off(15).unwrap().to_string(), "JPY 854");
    /// ```
    pub fn percent_off(&self, percent: u32) -> Result<Money, MoneyError> {
        self.checked_sub(&self.percent_of(percent)?)
    }

    /// The amount as a decimal number with the currency's minor-unit digits,
    /// without the code: `"12.50"` for EUR 12.50, `"1250"` for JPY 1250.
    ///
    /// ```
    /// use omnistore_sdk::Money;
    /// assert_eq!(Money::new(1250, "EUR").format_amount(), "12.50");
    /// assert_eq!(Money::new(5, "EUR").format_amount(), "0.05");
    /// assert_eq!(Money::new(-5, "EUR").format_amount(), "-0.05");
    /// assert_eq!(Money::new(1250, "JPY").format_amount(), "1250");
    /// assert_eq!(Money::new(1250, "KWD").format_amount(), "1.250");
    /// ```
    pub fn format_amount(&self) -> String {
        let digits = minor_unit_digits(&self.currency);
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        // unsigned_abs: i64::MIN has no positive i64 counterpart.
        let abs = self.amount_minor.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10u64.pow(digits);
        format!("{sign}{}.{:0width$}", abs / unit, abs % unit, width = digits as usize)
    }

    /// The ISO code and the amount: `"EUR 12.50"`, `"JPY 1250"`. The same as
    /// `to_string()`. Locale-specific symbols and separators are up to the
    /// channel's templates.
    ///
    /// ```
    /// use omnistore_sdk::Money;
    /// assert_eq!(Money::new(1250, "EUR").format(), "EUR 12.50");
    /// assert_eq!(Money::new(1250, "JPY").format(), "JPY 1250");
    /// ```
    pub fn format(&self) -> String {
        format!("{} {}", self.currency, self.format_amount())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounding_is_half_away_from_zero() {
        let cases = [(10, 50, 5), (1, 50, 1), (3, 50, 2), (-3, 50, -2), (101, 10, 10), (105, 10, 11), (0, 37, 0)];
        for (amount, pct, expected) in cases {
            assert_eq!(Money::new(amount, "EUR").percent_of(pct).unwrap().amount_minor, expected, "{pct}% of {amount}");
        }
        assert_eq!(Money::new(i64::MAX, "EUR").percent_of(100).unwrap().amount_minor, i64::MAX);
        assert_eq!(Money::new(i64::MIN, "EUR").percent_off(100).unwrap().amount_minor, 0);
    }

    #[test]
    fn extreme_amounts_format() {
        assert_eq!(Money::new(i64::MIN, "EUR").format_amount(), "-92233720368547758.08");
        assert_eq!(Money::new(7, "CLF").format(), "CLF 0.0007");
    }
}

/// An amount as a customer of `language` reads it: `12,50 €` in Italian,
/// `€12.50` in English, `1.234,00 CHF`. Channels that write to customers
/// (mail, texts) show the same total the same way.
pub fn format_for_reader(m: &Money, language: &str) -> String {
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
mod reader_tests {
    use super::*;

    #[test]
    fn amounts_read_as_in_each_language() {
        let money = format_for_reader;
        assert_eq!(money(&Money::new(1250, "EUR"), "it"), "12,50 €");
        assert_eq!(money(&Money::new(1250, "EUR"), "en"), "€12.50");
        assert_eq!(money(&Money::new(123_400, "CHF"), "it"), "1.234,00 CHF");
        assert_eq!(money(&Money::new(123_400, "CHF"), "en"), "1,234.00 CHF");
        assert_eq!(money(&Money::new(1250, "JPY"), "en"), "1,250 JPY");
        assert_eq!(money(&Money::new(-5, "USD"), "en"), "-$0.05");
    }
}
