//! Percent-encoding for the URLs and form bodies a plugin builds: one rule,
//! RFC 3986's unreserved characters (`A–Z a–z 0–9 - . _ ~`) kept, every other
//! byte of the UTF-8 text written as `%XX`.
//!
//! ```
//! use omnistore_sdk::url::{form_encode, percent_encode};
//! assert_eq!(percent_encode("torta & caffè/2"), "torta%20%26%20caff%C3%A8%2F2");
//! assert_eq!(form_encode("torta & caffè"), "torta+%26+caff%C3%A8");
//! ```

/// `text` with every byte but the unreserved ones as `%XX`: safe in a path
/// segment, a query value and an `application/x-www-form-urlencoded` body.
pub fn percent_encode(text: &str) -> String {
    encode(text, "%20")
}

/// As [`percent_encode`], but a space is `+`, as HTML forms send it and as
/// `application/x-www-form-urlencoded` and query strings read it.
pub fn form_encode(text: &str) -> String {
    encode(text, "+")
}

fn encode(text: &str, space: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            b' ' => out.push_str(space),
            b => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_sdks_decoder() {
        for s in ["", "a b+c", "100%", "ñ/€?&=#", "cus-0a.ff~_"] {
            assert_eq!(crate::web::percent_decode(&percent_encode(s)), s, "{s}");
            assert_eq!(crate::web::percent_decode(&form_encode(s)), s, "{s}");
        }
        assert_eq!(percent_encode("cus-0a.ff~_"), "cus-0a.ff~_");
    }
}
