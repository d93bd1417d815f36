//! Ruby number semantics: integer vs float results, and the decimal arithmetic
//! Liquid does on floats (so `10.1 | minus: 2.2` is `7.9`, not `7.8999999999999995`).

use std::fmt::Write as _;

use crate::value::Value;

/// A number as Liquid's math filters see it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    /// `m × 10^e`, exact: what Ruby's BigDecimal holds for a float.
    Dec(i128, i32),
    /// Where the decimal would overflow, plain float arithmetic takes over.
    Float(f64),
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Num {
    pub(crate) fn from_f64(f: f64) -> Num {
        if !f.is_finite() {
            return Num::Float(f);
        }
        if f == 0.0 {
            return Num::Dec(0, 0);
        }
        let (m, e) = shortest(f.abs());
        Num::Dec(if f < 0.0 { -i128::from(m) } else { i128::from(m) }, e)
    }

    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
            Num::Dec(m, e) => dec_to_f64(m, e),
        }
    }

    pub(crate) fn is_int(self) -> bool {
        matches!(self, Num::Int(_))
    }

    /// Back to a template value: decimals become floats, as Liquid's `to_f` does.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            other => Value::Float(other.to_f64()),
        }
    }

    fn as_dec(self) -> Option<(i128, i32)> {
        match self {
            Num::Int(i) => Some((i as i128, 0)),
            Num::Dec(m, e) => Some((m, e)),
            Num::Float(_) => None,
        }
    }

    /// Both operands as decimal mantissas on a common exponent.
    fn aligned(self, other: Num) -> Option<(i128, i128, i32)> {
        let (m1, e1) = self.as_dec()?;
        let (m2, e2) = other.as_dec()?;
        let e = e1.min(e2);
        let a = m1.checked_mul(pow10((e1 - e).try_into().ok()?)?)?;
        let b = m2.checked_mul(pow10((e2 - e).try_into().ok()?)?)?;
        Some((a, b, e))
    }

    pub(crate) fn add(self, other: Num) -> Num {
        self.arith(other, i64::checked_add, i128::checked_add, |a, b| a + b)
    }

    pub(crate) fn sub(self, other: Num) -> Num {
        self.arith(other, i64::checked_sub, i128::checked_sub, |a, b| a - b)
    }

    fn arith(
        self,
        other: Num,
        int: fn(i64, i64) -> Option<i64>,
        dec: fn(i128, i128) -> Option<i128>,
        float: fn(f64, f64) -> f64,
    ) -> Num {
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            if let Some(r) = int(a, b) {
                return Num::Int(r);
            }
            return Num::Float(float(a as f64, b as f64));
        }
        match self.aligned(other).and_then(|(a, b, e)| Some((dec(a, b)?, e))) {
            Some((m, e)) => Num::Dec(m, e).normalized(),
            None => Num::Float(float(self.to_f64(), other.to_f64())),
        }
    }

    pub(crate) fn mul(self, other: Num) -> Num {
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return a.checked_mul(b).map(Num::Int).unwrap_or(Num::Float(a as f64 * b as f64));
        }
        match (self.as_dec(), other.as_dec()) {
            (Some((m1, e1)), Some((m2, e2))) => match (m1.checked_mul(m2), e1.checked_add(e2)) {
                // A zero keeps its sign, as BigDecimal's does: -1 * 0.0 is -0.0.
                (Some(0), _) => Num::Float(self.to_f64() * other.to_f64()),
                (Some(m), Some(e)) => Num::Dec(m, e).normalized(),
                _ => Num::Float(self.to_f64() * other.to_f64()),
            },
            _ => Num::Float(self.to_f64() * other.to_f64()),
        }
    }

    /// Ruby division: integers floor, anything else divides as floats (a float divided
    /// by zero is infinite). `None` on integer division by zero.
    pub(crate) fn div(self, other: Num) -> Option<Num> {
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            if b == 0 {
                return None;
            }
            return Some(match a.checked_div_euclid(b) {
                Some(_) => Num::Int(floor_div(a, b)),
                None => Num::Float(a as f64 / b as f64),
            });
        }
        Some(Num::from_f64(self.to_f64() / other.to_f64()))
    }

    /// Ruby `%`: the result takes the divisor's sign. `None` on modulo by zero.
    pub(crate) fn rem(self, other: Num) -> Option<Num> {
        if other.is_zero() {
            return None;
        }
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return Some(match a.checked_rem(b) {
                Some(r) if r != 0 && ((r < 0) != (b < 0)) => Num::Int(r + b),
                Some(r) => Num::Int(r),
                None => Num::Int(0),
            });
        }
        match self.aligned(other) {
            Some((a, b, e)) => {
                let mut r = a % b;
                if r != 0 && ((r < 0) != (b < 0)) {
                    r += b;
                }
                Some(Num::Dec(r, e).normalized())
            }
            None => {
                let (a, b) = (self.to_f64(), other.to_f64());
                let mut r = a % b;
                if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
                    r += b;
                }
                Some(Num::Float(r))
            }
        }
    }

    fn is_zero(self) -> bool {
        match self {
            Num::Int(i) => i == 0,
            Num::Dec(m, _) => m == 0,
            Num::Float(f) => f == 0.0,
        }
    }

    fn normalized(self) -> Num {
        match self {
            Num::Dec(mut m, mut e) => {
                while m != 0 && m % 10 == 0 && e < 0 {
                    m /= 10;
                    e += 1;
                }
                if m == 0 {
                    e = 0;
                }
                Num::Dec(m, e)
            }
            other => other,
        }
    }

    pub(crate) fn abs(self) -> Num {
        match self {
            Num::Int(i) => i.checked_abs().map(Num::Int).unwrap_or(Num::Float((i as f64).abs())),
            Num::Dec(m, e) => Num::Dec(m.abs(), e),
            Num::Float(f) => Num::Float(f.abs()),
        }
    }

    /// Rounds half away from zero to `digits` decimal places (negative: to tens, hundreds...).
    pub(crate) fn round(self, digits: i64) -> Num {
        let digits = digits.clamp(-40, 40) as i32;
        let (m, e) = match self {
            Num::Float(f) => {
                let p = 10f64.powi(digits);
                return Num::Float((f * p).round() / p);
            }
            Num::Int(i) if digits >= 0 => return Num::Int(i),
            other => other.as_dec().unwrap_or((0, 0)),
        };
        // Keep `digits` places: drop (−e − digits) digits from the mantissa.
        let drop = -e - digits;
        if drop <= 0 {
            return self;
        }
        let Some(p) = pow10(drop as u32) else {
            return if self.is_int() { Num::Int(0) } else { Num::Dec(0, 0) };
        };
        let q = m / p;
        let r = (m % p).abs();
        let q = if r * 2 >= p { q + m.signum() } else { q };
        match self {
            Num::Int(_) => {
                let v = q.checked_mul(pow10((-digits) as u32).unwrap_or(0)).unwrap_or(0);
                Num::Int(i64::try_from(v).unwrap_or(0))
            }
            _ => Num::Dec(q, -digits).normalized(),
        }
    }

    pub(crate) fn floor(self) -> Value {
        self.to_integer_value(f64::floor, |m, p| m.div_euclid(p))
    }

    pub(crate) fn ceil(self) -> Value {
        self.to_integer_value(f64::ceil, |m, p| -(-m).div_euclid(p))
    }

    fn to_integer_value(self, float: fn(f64) -> f64, dec: fn(i128, i128) -> i128) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Dec(m, e) if e >= 0 => pow10(e as u32)
                .and_then(|p| m.checked_mul(p))
                .and_then(|v| i64::try_from(v).ok())
                .map_or(Value::Float(self.to_f64()), Value::Int),
            Num::Dec(m, e) => match pow10((-e) as u32) {
                Some(p) => i64::try_from(dec(m, p)).map(Value::Int).unwrap_or(Value::Float(float(self.to_f64()))),
                None => Value::Int(0),
            },
            Num::Float(f) => {
                let r = float(f);
                if r.abs() < 9.0e18 { Value::Int(r as i64) } else { Value::Float(r) }
            }
        }
    }

    pub(crate) fn cmp_num(self, other: Num) -> std::cmp::Ordering {
        if let Some((a, b, _)) = self.aligned(other) {
            return a.cmp(&b);
        }
        self.to_f64().partial_cmp(&other.to_f64()).unwrap_or(std::cmp::Ordering::Equal)
    }
}

fn floor_div(a: i64, b: i64) -> i64 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) { q - 1 } else { q }
}

/// Parses `[-]digits[.digits][e[-]digits]` into an exact decimal.
fn parse_decimal(s: &str) -> Option<Num> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int_part}{frac_part}");
    if digits.is_empty() || digits.len() > 36 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let m: i128 = digits.parse().ok()?;
    let e = exp.checked_sub(frac_part.len() as i32)?;
    Some(Num::Dec(if neg { -m } else { m }, e).normalized())
}

/// Powers of ten that are exact as `f64`.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Integers up to this are exact as `f64`.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// The fewest decimal digits that read back as `f` (finite, positive): `m × 10^e`
/// with no trailing zero in `m`, as Rust's (and Ruby's) shortest float printing
/// gives them. Prices and other numbers with a few decimals are found by
/// arithmetic; printing the float and reading the digits back is the general
/// way, and costs far more inside a plugin, where 128-bit arithmetic and
/// formatting are slow.
fn shortest(f: f64) -> (u64, i32) {
    if f < EXACT_INTEGERS {
        // The smallest number of decimals that reads back is the shortest
        // form: fewer decimals would be fewer digits. Below 2^50 the rounded
        // candidate is the nearest such decimal, and the division is exact
        // rounding of it, so reading it back is checked exactly.
        for (decimals, power) in EXACT_POWERS_OF_TEN.iter().enumerate().take(7) {
            let scaled = (f * power).round();
            if scaled >= 1.0 && scaled < (1u64 << 50) as f64 && scaled / power == f {
                let (mut m, mut e) = (scaled as u64, -(decimals as i32));
                while m % 10 == 0 {
                    m /= 10;
                    e += 1;
                }
                return (m, e);
            }
        }
    }
    shortest_by_printing(f)
}

/// [`shortest`] by Rust's float printing.
fn shortest_by_printing(f: f64) -> (u64, i32) {
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let m = int_part.bytes().chain(frac_part.bytes()).fold(0u64, |m, b| m * 10 + u64::from(b - b'0'));
    (m, exp - frac_part.len() as i32)
}

/// `m × 10^e` as the nearest `f64`. Where both `m` and the power of ten are
/// exact as floats, one multiplication or division rounds exactly once, so
/// it is the nearest float; elsewhere the decimal is read as text.
fn dec_to_f64(m: i128, e: i32) -> f64 {
    let exact = m.unsigned_abs() <= 1 << 53;
    match usize::try_from(e.unsigned_abs()).ok().and_then(|i| EXACT_POWERS_OF_TEN.get(i)) {
        Some(power) if exact && e >= 0 => m as f64 * power,
        Some(power) if exact => m as f64 / power,
        _ => format!("{m}e{e}").parse().unwrap_or(f64::NAN),
    }
}

/// `n` in decimal digits, written into `buffer`.
fn write_u64(mut n: u64, buffer: &mut [u8; 20]) -> &str {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[start..]).unwrap_or_default()
}

/// An integer as Ruby prints it.
pub(crate) fn write_int(i: i64, out: &mut String) {
    if i < 0 {
        out.push('-');
    }
    let mut buffer = [0u8; 20];
    out.push_str(write_u64(i.unsigned_abs(), &mut buffer));
}

/// Ruby's `Float#to_s`.
pub(crate) fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let (m, e) = shortest(f.abs());
    let mut buffer = [0u8; 20];
    let digits = write_u64(m, &mut buffer);
    // The power of ten of the first digit, as in `1.25e1`.
    let exp = e + digits.len() as i32 - 1;
    if f < 0.0 {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// Liquid's `Utils.to_number`: what arithmetic filters make of any value.
pub(crate) fn to_number(v: &Value) -> Num {
    match v {
        Value::Int(i) => Num::Int(*i),
        Value::Float(f) => Num::from_f64(*f),
        Value::Str(s) => {
            let t = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
            if is_decimal_literal(t) {
                parse_decimal(t).unwrap_or_else(|| Num::Float(t.parse().unwrap_or(0.0)))
            } else {
                Num::Int(ruby_to_i(s))
            }
        }
        _ => Num::Int(0),
    }
}

fn is_decimal_literal(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    match t.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Ruby's lenient `String#to_i`: leading digits, else 0.
pub(crate) fn ruby_to_i(s: &str) -> i64 {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    let mut prev_digit = false;
    for b in t.bytes() {
        if b.is_ascii_digit() {
            n = n.saturating_mul(10).saturating_add((b - b'0') as i64);
            prev_digit = true;
        } else if b == b'_' && prev_digit {
            prev_digit = false;
        } else {
            break;
        }
    }
    if neg { -n } else { n }
}

/// Liquid's `Utils.to_integer`: integers and integer strings, anything else is an error.
pub(crate) fn to_integer(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Str(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(t.parse::<i64>().unwrap_or(if t.starts_with('-') { i64::MIN } else { i64::MAX }))
            } else {
                Err("invalid integer".into())
            }
        }
        _ => Err("invalid integer".into()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A decimal's digits as the float printing gives them, which the arithmetic
    /// must match.
    fn assert_shortest(f: f64) {
        assert_eq!(shortest(f), shortest_by_printing(f), "the shortest digits of {f:e}");
    }

    #[test]
    fn prices_and_round_numbers_have_their_printed_digits() {
        for cents in [1u32, 5, 10, 99, 100, 101, 1250, 1999, 123_456, 9_999_999] {
            assert_shortest(f64::from(cents) / 100.0);
        }
        for f in [0.1, 0.2, 0.3, 1.1, 2.675, 1.005, 1e-6, 1.5e-6, 1e15, 123_000.0, 2f64.powi(50), 2f64.powi(53) - 1.0] {
            assert_shortest(f);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

        #[test]
        fn any_float_has_its_printed_digits(bits in any::<u64>()) {
            let f = f64::from_bits(bits).abs();
            prop_assume!(f.is_finite() && f > 0.0);
            assert_shortest(f);
        }

        #[test]
        fn any_short_decimal_has_its_printed_digits(m in 1u64..1 << 52, decimals in 0u32..8) {
            assert_shortest(m as f64 / 10f64.powi(decimals as i32));
        }

        #[test]
        fn a_decimal_reads_as_its_nearest_float(m in any::<i64>(), e in -30i32..30) {
            let read: f64 = format!("{m}e{e}").parse().unwrap();
            prop_assert_eq!(dec_to_f64(i128::from(m), e).to_bits(), read.to_bits());
        }

        #[test]
        fn an_integer_prints_as_ruby_prints_it(i in any::<i64>()) {
            let mut out = String::new();
            write_int(i, &mut out);
            prop_assert_eq!(out, i.to_string());
        }
    }
}
