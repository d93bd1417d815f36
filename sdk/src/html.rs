//! A little help for writing HTML by hand.

/// Escape text for HTML element content and quoted attribute values.
///
/// ```
/// assert_eq!(omnistore_sdk::html::escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
    // The same escaping as Liquid's `escape` filter, so hand-written and templated pages agree.
    omnistore_liquid::escape_html(text)
}
