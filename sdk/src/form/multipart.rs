//! `multipart/form-data` (RFC 7578 over the framing of RFC 2046), strictly:
//! a body that does not follow the framing is refused, never guessed at.

use super::{Form, FormFile};

/// `main/type; name=value; name="quoted value"` → the lower-case main value
/// and the parameters with lower-case names. Quoted values end at the next
/// quote: browsers escape a quote in a file name as `%22`, never with a
/// backslash, and Windows paths are full of backslashes.
pub(super) fn split_header_value(value: &str) -> Result<(String, Vec<(String, String)>), String> {
    let (main, mut rest) = value.split_once(';').unwrap_or((value, ""));
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim().to_ascii_lowercase();
        rest = &rest[name_end..];
        let value = match rest.strip_prefix('=') {
            None => String::new(),
            Some(after) => {
                let after = after.trim_start_matches([' ', '\t']);
                if let Some(quoted) = after.strip_prefix('"') {
                    let end = quoted.find('"').ok_or_else(|| format!("the parameter {name:?} has no closing quote"))?;
                    rest = &quoted[end + 1..];
                    quoted[..end].to_string()
                } else {
                    let end = after.find(';').unwrap_or(after.len());
                    rest = &after[end..];
                    after[..end].trim().to_string()
                }
            }
        };
        if name.is_empty() {
            return Err("a header parameter has no name".into());
        }
        params.push((name, value));
    }
    Ok((main.trim().to_ascii_lowercase(), params))
}

pub(super) fn parse(body: &[u8], boundary: &str, max_parts: usize) -> Result<Form, String> {
    if boundary.is_empty() || boundary.len() > 70 || boundary.chars().any(|c| c.is_control()) {
        return Err("the multipart boundary must be 1 to 70 characters without control characters".into());
    }
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let mut pos = if body.starts_with(opening.as_bytes()) {
        opening.len()
    } else {
        find(body, delimiter.as_bytes(), 0).ok_or("the multipart body has no opening boundary")? + delimiter.len()
    };
    let mut form = Form::default();
    let mut parts = 0;
    loop {
        if body[pos..].starts_with(b"--") {
            // The closing boundary; what follows is an epilogue, ignored.
            return Ok(form);
        }
        while matches!(body.get(pos), Some(b' ' | b'\t')) {
            pos += 1;
        }
        if pos == body.len() {
            return Err("the multipart body ends before its closing boundary".into());
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err("a multipart boundary is followed by something other than a line break".into());
        }
        let start = pos + 2;
        let end = find(body, delimiter.as_bytes(), start)
            .ok_or("the multipart body ends before its closing boundary (or a part misses its line break before it)")?;
        parts += 1;
        if parts > max_parts {
            return Err(format!("the multipart body has more than {max_parts} parts"));
        }
        add_part(&body[start..end], parts, &mut form)?;
        pos = end + delimiter.len();
    }
}

fn add_part(part: &[u8], number: usize, form: &mut Form) -> Result<(), String> {
    let (head, data) = if let Some(data) = part.strip_prefix(b"\r\n") {
        (&[][..], data)
    } else {
        let blank =
            find(part, b"\r\n\r\n", 0).ok_or_else(|| format!("part {number} has no blank line after its headers"))?;
        (&part[..blank], &part[blank + 4..])
    };
    let head = std::str::from_utf8(head).map_err(|_| format!("the headers of part {number} are not UTF-8"))?;
    let mut disposition = None;
    let mut content_type = None;
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) =
            line.split_once(':').ok_or_else(|| format!("a header line of part {number} has no colon"))?;
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(format!("a header line of part {number} has no valid name"));
        }
        if name.eq_ignore_ascii_case("content-disposition") {
            disposition.get_or_insert(value.trim());
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type.get_or_insert(value.trim());
        }
    }
    let disposition = disposition.ok_or_else(|| format!("part {number} has no Content-Disposition header"))?;
    let (kind, params) = split_header_value(disposition).map_err(|e| format!("part {number}: {e}"))?;
    if kind != "form-data" {
        return Err(format!("part {number} is {kind:?}, not form-data"));
    }
    let param = |wanted: &str| params.iter().find(|(k, _)| k == wanted).map(|(_, v)| v.clone());
    let name = param("name").ok_or_else(|| format!("the Content-Disposition of part {number} has no name"))?;
    match param("filename") {
        Some(filename) => form.files.push(FormFile {
            name,
            filename,
            content_type: content_type.unwrap_or("application/octet-stream").to_string(),
            data: data.to_vec(),
        }),
        None => {
            let text = String::from_utf8(data.to_vec()).map_err(|_| format!("the field {name:?} is not UTF-8"))?;
            form.fields.push((name, text));
        }
    }
    Ok(())
}

/// Where `needle` first occurs in `haystack` at or after `from`. Needles are
/// short (a boundary is at most 70 bytes), so the simple search is enough.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use crate::form::MAX_FORM_PARTS;
    use crate::{PluginError, Request};

    use super::*;

    fn multipart(content_type: &str, body: &[u8]) -> Result<Form, String> {
        match Request::new("POST", "/").with_header("Content-Type", content_type).with_body(body).form() {
            Ok(form) => Ok(form),
            Err(PluginError::BadRequest(m)) => Err(m),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    fn with_boundary(body: &str) -> Result<Form, String> {
        multipart("multipart/form-data; boundary=\"b-1\"", body.as_bytes())
    }

    #[test]
    fn fields_and_files() {
        let form = with_boundary(
            "preamble\r\n--b-1\r\n\
             content-disposition: form-data; name=\"title\"\r\n\r\n\
             Cannolo \"siciliano\"\r\n\r\n\
             --b-1  \r\n\
             Content-Disposition: form-data; name=\"upload\"; filename=\"C:\\photos\\a b.png\"\r\n\
             Content-Type: image/png\r\n\r\n\
             \x00\x01--b\r\n\
             --b-1\r\n\
             Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\r\n\
             \r\n\
             --b-1--\r\nepilogue",
        )
        .unwrap();
        assert_eq!(form.fields(), [("title".into(), "Cannolo \"siciliano\"\r\n".into())]);
        let upload = form.file("upload").unwrap();
        assert_eq!(upload.filename, "C:\\photos\\a b.png");
        assert_eq!(upload.content_type, "image/png");
        assert_eq!(upload.data, b"\x00\x01--b");
        let empty = form.file("empty").unwrap();
        assert_eq!(
            (empty.filename.as_str(), empty.content_type.as_str(), empty.data.len()),
            ("", "application/octet-stream", 0)
        );
        assert_eq!(form.files().len(), 2);
    }

    #[test]
    fn an_empty_form_is_just_the_closing_boundary() {
        assert_eq!(with_boundary("--b-1--"), Ok(Form::default()));
        assert_eq!(with_boundary("--b-1--\r\n"), Ok(Form::default()));
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        let part = "--b-1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n";
        let cases: &[(&str, &str, &str)] = &[
            ("multipart/form-data", "--b-1--", "no boundary"),
            ("multipart/form-data; boundary=", "--b-1--", "1 to 70"),
            ("multipart/form-data; boundary=\"b-1", "--b-1--", "no closing quote"),
            ("multipart/form-data; boundary=b-1", "no boundary anywhere", "no opening boundary"),
            ("multipart/form-data; boundary=b-1", part, "ends before its closing boundary"),
            ("multipart/form-data; boundary=b-1", "--b-1", "ends before its closing boundary"),
            (
                "multipart/form-data; boundary=b-1",
                "--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\nx",
                "ends before",
            ),
            ("multipart/form-data; boundary=b-1", "--b-1x\r\n\r\n--b-1--", "something other than a line break"),
            ("multipart/form-data; boundary=b-1", "--b-1\r\n: form-data\r\n\r\nx\r\n--b-1--", "no valid name"),
            (
                "multipart/form-data; boundary=b-1",
                "--b-1\r\nContent-Disposition form-data\r\n\r\nx\r\n--b-1--",
                "no colon",
            ),
            (
                "multipart/form-data; boundary=b-1",
                "--b-1\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b-1--",
                "has no name",
            ),
            (
                "multipart/form-data; boundary=b-1",
                "--b-1\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b-1--",
                "not form-data",
            ),
            (
                "multipart/form-data; boundary=b-1",
                "--b-1\r\nContent-Disposition: form-data; name=a\r\nx\r\n--b-1--",
                "no blank line",
            ),
            ("multipart/form-data; boundary=b-1", "--b-1\r\n\r\nx\r\n--b-1--", "no Content-Disposition"),
            (
                "multipart/form-data; boundary=b-1",
                "--b-1\r\nContent-Disposition: form-data; =a\r\n\r\nx\r\n--b-1--",
                "parameter has no name",
            ),
        ];
        for (content_type, body, expected) in cases {
            let err = multipart(content_type, body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body:?}: {err:?} does not say {expected:?}");
        }
        let not_utf8 = b"--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\n\xff\r\n--b-1--";
        assert!(multipart("multipart/form-data; boundary=b-1", not_utf8).unwrap_err().contains("not UTF-8"));
    }

    #[test]
    fn too_many_parts_are_refused() {
        let part = "--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n";
        let body = format!("{}--b-1--", part.repeat(MAX_FORM_PARTS + 1));
        assert!(with_boundary(&body).unwrap_err().contains("more than 1000 parts"));
        let body = format!("{}--b-1--", part.repeat(MAX_FORM_PARTS));
        assert_eq!(with_boundary(&body).unwrap().fields().len(), MAX_FORM_PARTS);
    }

    #[test]
    fn header_values_split_into_parameters() {
        let (main, params) = split_header_value(" Multipart/Form-Data ; Boundary = \"a;b\" ;x; y=1 ").unwrap();
        assert_eq!(main, "multipart/form-data");
        assert_eq!(params, [("boundary".into(), "a;b".into()), ("x".into(), "".into()), ("y".into(), "1".into())]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = multipart("multipart/form-data; boundary=b", &body);
        }

        #[test]
        fn near_misses_never_panic(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("--b".to_string()),
                    proptest::strategy::Just("\r\n".to_string()),
                    proptest::strategy::Just("--".to_string()),
                    proptest::strategy::Just("Content-Disposition: form-data; name=\"a\"".to_string()),
                    proptest::strategy::Just("; filename=\"".to_string()),
                    "[ a-z:;=\"]{0,8}",
                ],
                0..24,
            ),
            content_type in "[ a-z/;=\"-]{0,30}",
        ) {
            let body = pieces.concat();
            let _ = multipart("multipart/form-data; boundary=b", body.as_bytes());
            let _ = multipart(&content_type, body.as_bytes());
        }
    }
}
