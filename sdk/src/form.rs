//! Forms: `application/x-www-form-urlencoded` and `multipart/form-data`
//! bodies, and query strings and forms read into your own types.
//!
//! ```
//! use omnistore_sdk::{PluginError, Request};
//!
//! #[derive(serde::Deserialize)]
//! struct AddToCart {
//!     sku: String,
//!     quantity: u32,
//!     #[serde(default)]
//!     gift: bool,
//! }
//!
//! let req = Request::new("POST", "/cart/add")
//!     .with_header("Content-Type", "application/x-www-form-urlencoded")
//!     .with_body("sku=CAN-01&quantity=2&gift=on");
//! let add: AddToCart = req.form_as().unwrap();
//! assert_eq!((add.sku.as_str(), add.quantity, add.gift), ("CAN-01", 2, true));
//!
//! let wrong = Request::new("POST", "/cart/add")
//!     .with_header("Content-Type", "application/x-www-form-urlencoded")
//!     .with_body("sku=CAN-01&quantity=two");
//! let Err(PluginError::BadRequest(why)) = wrong.form_as::<AddToCart>() else { panic!() };
//! assert_eq!(why, r#"the form does not fit: `quantity`: expected a non-negative integer, got "two""#);
//! ```
//!
//! # Reading into a type
//!
//! [`Request::query_as`], [`Request::form_as`] and [`Form::deserialize`] fill
//! a flat struct from the pairs, with serde:
//! - strings, numbers, `char`, and enums of unit variants are parsed from
//!   the text;
//! - `bool` takes `true`/`on`/`1` and `false`/`off`/`0` (a checked checkbox
//!   sends `on`; an unchecked one sends nothing, so give the field
//!   `#[serde(default)]`);
//! - `Option<T>` is `None` when the field is missing or empty (a blank
//!   input);
//! - `Vec<T>` collects every value of a repeated name (`tag=a&tag=b`); any
//!   other field given more than once is refused, so a value cannot be
//!   smuggled past a check on the first one;
//! - nested structs and maps are not supported, and neither is
//!   `#[serde(flatten)]` with non-string fields.
//!
//! Files of a multipart form are not part of it: read them with
//! [`Form::file`].

mod de;
mod multipart;

use serde::de::DeserializeOwned;

use crate::web::percent_decode;
use crate::{PluginError, Request};

/// The most fields (or parts, for multipart) a form may have. A body with
/// more is refused, so a small body cannot make the plugin allocate
/// per-field bookkeeping without end.
pub const MAX_FORM_PARTS: usize = 1000;

/// A parsed form body: its text fields, in order, and its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    fields: Vec<(String, String)>,
    files: Vec<FormFile>,
}

/// A file sent in a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormFile {
    /// The form field's name.
    pub name: String,
    /// The file name as the client sent it (it may be empty when a file
    /// input was left empty, and it may hold a path: never use it as one).
    pub filename: String,
    /// The part's `Content-Type`, `application/octet-stream` when missing.
    pub content_type: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

impl Form {
    /// The first value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of the field `name`, in order (checkboxes, multiple selects).
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.fields.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every text field, in the order of the body.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The first file sent in the field `name`.
    pub fn file(&self, name: &str) -> Option<&FormFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Every file, in the order of the body.
    pub fn files(&self) -> &[FormFile] {
        &self.files
    }

    /// The text fields read into `T` (see the [module documentation](self)),
    /// or a bad-request error that names the field at fault.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        de::from_pairs(&self.fields).map_err(|e| PluginError::BadRequest(format!("the form does not fit: {e}")))
    }
}

impl Request {
    /// The body as a form, `application/x-www-form-urlencoded` or
    /// `multipart/form-data` by its `Content-Type`. Refused with
    /// [`PluginError::BadRequest`], saying what is wrong, when the body is
    /// of another type, is malformed, or has more than [`MAX_FORM_PARTS`]
    /// fields.
    ///
    /// In an urlencoded body `+` is a space and an invalid escape (`%zz`) is
    /// kept as it is, as browsers do; a field without `=` has an empty value.
    ///
    /// ```
    /// use omnistore_sdk::Request;
    /// let body = "--XyZ\r\n\
    ///     Content-Disposition: form-data; name=\"note\"\r\n\r\n\
    ///     Grazie!\r\n\
    ///     --XyZ\r\n\
    ///     Content-Disposition: form-data; name=\"photo\"; filename=\"cannolo.jpg\"\r\n\
    ///     Content-Type: image/jpeg\r\n\r\n\
    ///     \u{ff}\u{d8}\r\n\
    ///     --XyZ--\r\n";
    /// let req = Request::new("POST", "/review")
    ///     .with_header("content-type", "multipart/form-data; boundary=XyZ")
    ///     .with_body(body);
    /// let form = req.form().unwrap();
    /// assert_eq!(form.get("note"), Some("Grazie!"));
    /// let photo = form.file("photo").unwrap();
    /// assert_eq!((photo.filename.as_str(), photo.content_type.as_str()), ("cannolo.jpg", "image/jpeg"));
    /// ```
    pub fn form(&self) -> Result<Form, PluginError> {
        let content_type = self.header("content-type").ok_or_else(|| {
            PluginError::BadRequest(
                "the request has no Content-Type; a form is application/x-www-form-urlencoded or multipart/form-data"
                    .into(),
            )
        })?;
        let (media_type, params) = multipart::split_header_value(content_type).map_err(bad)?;
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => {
                let text = std::str::from_utf8(&self.body).map_err(|_| bad("the form body is not UTF-8"))?;
                let fields = pairs(text);
                if fields.len() > MAX_FORM_PARTS {
                    return Err(bad(format!("the form has more than {MAX_FORM_PARTS} fields")));
                }
                Ok(Form { fields, files: Vec::new() })
            }
            "multipart/form-data" => {
                let boundary = params
                    .iter()
                    .find(|(k, _)| k == "boundary")
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| bad("the multipart/form-data content type has no boundary"))?;
                multipart::parse(&self.body, boundary, MAX_FORM_PARTS).map_err(bad)
            }
            other => {
                Err(bad(format!("a form is application/x-www-form-urlencoded or multipart/form-data, not {other:?}")))
            }
        }
    }

    /// The form body read into `T` (see the [module documentation](self)).
    pub fn form_as<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        self.form()?.deserialize()
    }

    /// The query string read into `T` (see the [module documentation](self)).
    ///
    /// ```
    /// use omnistore_sdk::Request;
    ///
    /// #[derive(serde::Deserialize, PartialEq, Debug)]
    /// #[serde(rename_all = "lowercase")]
    /// enum Sort { Price, Title }
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Search { q: String, page: Option<u32>, sort: Option<Sort>, tag: Vec<String> }
    ///
    /// let s: Search = Request::new("GET", "/search?q=cannoli+siciliani&page=&sort=price&tag=a&tag=b")
    ///     .query_as()
    ///     .unwrap();
    /// assert_eq!((s.q.as_str(), s.page, s.sort), ("cannoli siciliani", None, Some(Sort::Price)));
    /// assert_eq!(s.tag, ["a", "b"]);
    /// ```
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        de::from_pairs(&self.query_pairs())
            .map_err(|e| PluginError::BadRequest(format!("the query string does not fit: {e}")))
    }
}

/// Decoded `key=value` pairs of a query string or urlencoded body.
pub(crate) fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn bad(message: impl Into<String>) -> PluginError {
    PluginError::BadRequest(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urlencoded(body: &str) -> Result<Form, PluginError> {
        Request::new("POST", "/")
            .with_header("Content-Type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
            .with_body(body)
            .form()
    }

    #[test]
    fn urlencoded_edge_cases() {
        let form = urlencoded("a=1+2&b=%zz&=empty-key&flag&a=3&&c=x%3Dy=z&d=%E2%82%AC").unwrap();
        assert_eq!(
            form.fields(),
            [
                ("a".into(), "1 2".into()),
                ("b".into(), "%zz".into()),
                ("".into(), "empty-key".into()),
                ("flag".into(), "".into()),
                ("a".into(), "3".into()),
                ("c".into(), "x=y=z".into()),
                ("d".into(), "€".into()),
            ]
        );
        assert_eq!(form.get("a"), Some("1 2"));
        assert_eq!(form.get_all("a").collect::<Vec<_>>(), ["1 2", "3"]);
        assert_eq!(form.get("nope"), None);
        assert!(form.files().is_empty());
        assert_eq!(urlencoded("").unwrap(), Form::default());
    }

    #[test]
    fn urlencoded_refuses_what_is_not_a_form() {
        let too_many = "a=1&".repeat(MAX_FORM_PARTS + 1);
        assert!(matches!(urlencoded(&too_many), Err(PluginError::BadRequest(m)) if m.contains("more than")));
        assert!(urlencoded(&"a=1&".repeat(MAX_FORM_PARTS)).is_ok());
        let not_utf8 = Request::new("POST", "/")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(vec![b'a', b'=', 0xff])
            .form();
        assert!(matches!(not_utf8, Err(PluginError::BadRequest(m)) if m.contains("UTF-8")));
        let json = Request::new("POST", "/").with_header("content-type", "application/json").with_body("{}").form();
        assert!(matches!(json, Err(PluginError::BadRequest(m)) if m.contains("application/json")));
        let none = Request::new("POST", "/").with_body("a=1").form();
        assert!(matches!(none, Err(PluginError::BadRequest(m)) if m.contains("no Content-Type")));
    }

    #[test]
    fn typed_forms_and_queries() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Filter {
            min: i64,
            ratio: f64,
            exact: bool,
            initial: char,
            note: Option<String>,
            missing: Option<u8>,
        }
        let req = Request::new("GET", "/?min=-5&ratio=0.5&exact=off&initial=%C3%A9&note=");
        let f: Filter = req.query_as().unwrap();
        assert_eq!(f, Filter { min: -5, ratio: 0.5, exact: false, initial: 'é', note: None, missing: None });

        let twice = Request::new("GET", "/?min=1&min=2&ratio=1&exact=1&initial=x").query_as::<Filter>();
        assert!(matches!(twice, Err(PluginError::BadRequest(m)) if m.contains("`min`") && m.contains("2 times")));
        let missing = Request::new("GET", "/?ratio=1&exact=1&initial=x").query_as::<Filter>();
        assert!(matches!(missing, Err(PluginError::BadRequest(m)) if m.contains("missing field `min`")));
        let bad_bool = Request::new("GET", "/?min=1&ratio=1&exact=maybe&initial=x").query_as::<Filter>();
        assert!(matches!(bad_bool, Err(PluginError::BadRequest(m)) if m.contains("`exact`")));
        let bad_int = Request::new("GET", "/?min=1.5&ratio=1&exact=1&initial=x").query_as::<Filter>();
        assert!(matches!(bad_int, Err(PluginError::BadRequest(m)) if m.contains("`min`")));
    }

    #[test]
    fn typed_values_of_other_shapes() {
        use std::collections::BTreeMap;
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Sku(String);
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Line {
            sku: Sku,
            sizes: Vec<u8>,
            #[serde(default)]
            none: Vec<u8>,
            pair: (u8, String),
            anything: serde_json::Value,
        }
        let l: Line = Request::new("GET", "/?sku=A&sizes=1&sizes=2&pair=3&pair=x&anything=hi").query_as().unwrap();
        assert_eq!(l.sku, Sku("A".into()));
        assert_eq!((l.sizes, l.none, l.pair), (vec![1, 2], vec![], (3, "x".into())));
        assert_eq!(l.anything, serde_json::json!("hi"));
        let map: BTreeMap<String, String> = Request::new("GET", "/?b=2&a=1").query_as().unwrap();
        assert_eq!(map.into_iter().collect::<Vec<_>>(), [("a".into(), "1".into()), ("b".into(), "2".into())]);

        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Nested {
            inner: Line,
        }
        assert!(Request::new("GET", "/?inner=x").query_as::<Nested>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn urlencoded_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let req = Request::new("POST", "/")
                .with_header("content-type", "application/x-www-form-urlencoded")
                .with_body(body);
            let _ = req.form();
        }

        #[test]
        fn typed_reading_never_panics(query in "[a-z=&%0-9+]{0,40}") {
            #[derive(serde::Deserialize)]
            #[allow(dead_code)]
            struct Any { a: Option<u8>, b: Vec<bool>, c: Option<char>, d: Option<f32> }
            let _ = Request::new("GET", &format!("/?{query}")).query_as::<Any>();
        }
    }
}
