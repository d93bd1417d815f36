//! A little help for writing HTML by hand.

/// Escape text for HTML element content and quoted attribute values.
///
/// ```
/// assert_eq!(omnistore_sdk::html::escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
