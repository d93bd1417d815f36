//! Money: integer minor units and an ISO-4217 code. Never floats; every
//! operation is checked, and mixing currencies is an error rather than a
//! silent conversion.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

/// An amount in minor units (cents for EUR) of an ISO-4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

/// Active ISO-4217 codes with their number of minor-unit digits.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWL", 2),
];

/// The number of minor-unit digits of an ISO-4217 code, if the code is known.
pub fn currency_exponent(code: &str) -> Option<u8> {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|(_, e)| *e)
}

/// Check that `code` is an active ISO-4217 code, written in upper case.
pub fn validate_currency(code: &str) -> CoreResult<()> {
    if currency_exponent(code).is_some() {
        Ok(())
    } else {
        Err(CoreError::invalid(format!(
            "currency `{code}` is not an ISO-4217 code; use three upper-case letters such as EUR or USD"
        )))
    }
}

fn overflow() -> CoreError {
    CoreError::invalid("amount out of range; use smaller amounts or quantities")
}

impl Money {
    /// An amount in a validated currency.
    pub fn new(amount_minor: i64, currency: &str) -> CoreResult<Money> {
        validate_currency(currency)?;
        Ok(Money { amount_minor, currency: currency.to_owned() })
    }

    pub fn zero(currency: &str) -> CoreResult<Money> {
        Money::new(0, currency)
    }

    /// Check the currency of a value that arrived from outside (serde does
    /// not), and that it is the one expected.
    pub fn validate(&self, expected_currency: &str) -> CoreResult<()> {
        validate_currency(&self.currency)?;
        if self.currency != expected_currency {
            return Err(CoreError::invalid(format!(
                "amount is in {} but this store sells in {expected_currency}",
                self.currency
            )));
        }
        Ok(())
    }

    fn same_currency(&self, other: &Money) -> CoreResult<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(CoreError::invalid(format!(
                "cannot combine {} with {}; amounts must share a currency",
                self.currency, other.currency
            )))
        }
    }

    pub fn checked_add(&self, other: &Money) -> CoreResult<Money> {
        self.same_currency(other)?;
        let amount_minor = self.amount_minor.checked_add(other.amount_minor).ok_or_else(overflow)?;
        Ok(Money { amount_minor, currency: self.currency.clone() })
    }

    pub fn checked_sub(&self, other: &Money) -> CoreResult<Money> {
        self.same_currency(other)?;
        let amount_minor = self.amount_minor.checked_sub(other.amount_minor).ok_or_else(overflow)?;
        Ok(Money { amount_minor, currency: self.currency.clone() })
    }

    pub fn checked_mul(&self, factor: i64) -> CoreResult<Money> {
        let amount_minor = self.amount_minor.checked_mul(factor).ok_or_else(overflow)?;
        Ok(Money { amount_minor, currency: self.currency.clone() })
    }

    /// `bps` basis points (1/100 of a percent) of this amount, rounded half
    /// away from zero. 2000 bps is 20%.
    pub fn percent_bps(&self, bps: u32) -> Money {
        let product = i128::from(self.amount_minor) * i128::from(bps);
        let rounded = (product.abs() + 5_000) / 10_000 * product.signum();
        // |amount| * bps / 10_000 <= |amount| when bps <= 10_000; larger bps
        // are refused at promotion creation, so this cannot exceed i64.
        let amount_minor = i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN });
        Money { amount_minor, currency: self.currency.clone() }
    }

    pub fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    pub fn is_negative(&self) -> bool {
        self.amount_minor < 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(currency_exponent(&self.currency).unwrap_or(2));
        if exp == 0 {
            return write!(f, "{} {}", self.amount_minor, self.currency);
        }
        let unit = 10i128.pow(exp);
        let amount = i128::from(self.amount_minor);
        let sign = if amount < 0 { "-" } else { "" };
        let abs = amount.abs();
        write!(f, "{sign}{}.{:0width$} {}", abs / unit, abs % unit, self.currency, width = exp as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_validated() {
        assert!(Money::new(100, "EUR").is_ok());
        for bad in ["eur", "EURO", "", "XXX", "E1R"] {
            assert!(matches!(Money::new(1, bad), Err(CoreError::Invalid(_))), "{bad}");
        }
        assert_eq!(currency_exponent("JPY"), Some(0));
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = Money::new(i64::MAX, "EUR").unwrap();
        assert!(a.checked_add(&Money::new(1, "EUR").unwrap()).is_err());
        assert!(a.checked_mul(2).is_err());
        assert!(a.checked_add(&Money::new(1, "USD").unwrap()).is_err());
        let b = Money::new(250, "EUR").unwrap();
        assert_eq!(b.checked_mul(3).unwrap().amount_minor, 750);
        assert_eq!(b.checked_sub(&Money::new(300, "EUR").unwrap()).unwrap().amount_minor, -50);
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        let m = |a| Money::new(a, "EUR").unwrap();
        assert_eq!(m(1000).percent_bps(2000).amount_minor, 200);
        assert_eq!(m(5).percent_bps(1000).amount_minor, 1); // 0.5 -> 1
        assert_eq!(m(4).percent_bps(1000).amount_minor, 0); // 0.4 -> 0
        assert_eq!(m(-5).percent_bps(1000).amount_minor, -1);
        assert_eq!(m(i64::MAX).percent_bps(10_000).amount_minor, i64::MAX);
    }

    #[test]
    fn displays_with_minor_digits() {
        assert_eq!(Money::new(1250, "EUR").unwrap().to_string(), "12.50 EUR");
        assert_eq!(Money::new(-5, "EUR").unwrap().to_string(), "-0.05 EUR");
        assert_eq!(Money::new(1250, "JPY").unwrap().to_string(), "1250 JPY");
        assert_eq!(Money::new(1, "KWD").unwrap().to_string(), "0.001 KWD");
    }
}
