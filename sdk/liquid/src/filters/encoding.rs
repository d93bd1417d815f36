//! URL and base64 filters.

use super::*;

pub(super) fn url_encode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("url_encode", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let mut out = String::new();
    for b in to_s(v).bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(string(out))
}

pub(super) fn url_decode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("url_decode", 0, 0)?;
    if v.is_nil() {
        return Ok(Value::Nil);
    }
    let s = to_s(v);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map(string).map_err(|_| "invalid byte sequence in url_decode".into())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(super) fn b64_encode(data: &[u8], url_safe: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                let mut c = B64[((n >> (18 - 6 * i)) & 63) as usize];
                if url_safe {
                    c = match c {
                        b'+' => b'-',
                        b'/' => b'_',
                        c => c,
                    };
                }
                out.push(c as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn b64_decode(s: &str, url_safe: bool) -> Option<Vec<u8>> {
    let mut s = s.to_string();
    if url_safe && !s.len().is_multiple_of(4) && !s.ends_with('=') {
        s.extend(std::iter::repeat_n('=', 4 - s.len() % 4));
    }
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !url_safe => 62,
            b'/' if !url_safe => 63,
            b'-' if url_safe => 62,
            b'_' if url_safe => 63,
            _ => return None,
        } as u32)
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (ci, chunk) in bytes.chunks(4).enumerate() {
        let last = ci == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

pub(super) fn base64_encode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_encode", 0, 0)?;
    Ok(string(b64_encode(to_s(v).as_bytes(), false)))
}

pub(super) fn base64_url_safe_encode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_url_safe_encode", 0, 0)?;
    Ok(string(b64_encode(to_s(v).as_bytes(), true)))
}

pub(super) fn base64_decode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_decode", 0, 0)?;
    b64_decode(&to_s(v), false)
        .map(|b| string(String::from_utf8_lossy(&b).into_owned()))
        .ok_or_else(|| "invalid base64 provided to base64_decode".into())
}

pub(super) fn base64_url_safe_decode(v: &Value, a: &FilterArgs<'_>, _: &FilterEnv) -> R {
    a.expect("base64_url_safe_decode", 0, 0)?;
    b64_decode(&to_s(v), true)
        .map(|b| string(String::from_utf8_lossy(&b).into_owned()))
        .ok_or_else(|| "invalid base64 provided to base64_url_safe_decode".into())
}

/// `json`: the value as JSON text, with `<`, `>` and `&` written as `\u003c`,
/// `\u003e` and `\u0026`, so it can sit inside a `<script>` element (even
/// one holding `</script>` in a string) and stay the same JSON.
pub(super) fn json(v: &Value, a: &FilterArgs<'_>, env: &FilterEnv) -> Result<Value, String> {
    a.expect("json", 0, 0)?;
    let out = crate::script_safe_json(v).map_err(|e| e.to_string())?;
    if out.len() > env.max_bytes {
        return Err(env.too_big());
    }
    Ok(Value::from(out))
}
