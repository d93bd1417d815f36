//! Catalog text as product feeds and catalog APIs take it: descriptions as
//! plain text, lengths in characters, times in ISO 8601, prices as
//! `"12.50 EUR"`, absolute product and image addresses, CSV and XML fields.
//!
//! Every catalog channel (Meta's Instagram Shopping, Pinterest, Google
//! Merchant, …) needs the same conversions from the commerce core's product,
//! and the feed formats they read descend from one (Google's product feed).
//! They live here once, so a fix to, say, entity decoding reaches every
//! channel, and two channels never show the same product differently. What
//! differs by platform — field names, availability words, length limits —
//! stays in the plugin.
//!
//! ```
//! use omnistore_sdk::{Money, catalog_text};
//! assert_eq!(catalog_text::plain("<p>Crisp &amp; <b>sweet</b></p><p>Ricotta</p>"), "Crisp & sweet\nRicotta");
//! assert_eq!(catalog_text::price(&Money::new(999, "EUR")), "9.99 EUR");
//! assert_eq!(catalog_text::iso8601(0), "1970-01-01T00:00:00+00:00");
//! assert_eq!(
//!     catalog_text::rss_item([("id", "C1"), ("brand", ""), ("title", "Crisp & sweet")]),
//!     "<item>\n<g:id>C1</g:id>\n<g:title>Crisp &amp; sweet</g:title>\n</item>\n"
//! );
//! ```

use crate::Money;

/// Tags whose end is a line break in the text.
const BLOCK_TAGS: &[&str] = &["p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"];

/// `html` (a product description, sanitized HTML or plain text) as plain
/// text: tags dropped, block ends as line breaks, character references
/// decoded, runs of blanks collapsed to one space and of line breaks to one,
/// ends trimmed. Catalogs show descriptions as text, and markup would show
/// literally.
///
/// Inline tags (`<b>`, `<span>`) leave no space, so `pist<b>acchio</b>`
/// stays one word; a `<` that starts no tag (`a < b`) is text; the bodies
/// of `<script>` and `<style>` are not text.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt + 1..];
        // A tag starts with a letter, `/` or `!`; any other `<` is text.
        if !after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            out.push('<');
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            // A `<` never closed is text.
            out.push_str(&decode_entities(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = after[..gt].trim_start_matches('/').split([' ', '/', '\t', '\r', '\n']).next().unwrap_or("");
        let tag = tag.to_ascii_lowercase();
        if BLOCK_TAGS.contains(&tag.as_str()) {
            out.push('\n');
        }
        rest = &after[gt + 1..];
        let opening = !after.starts_with('/');
        if opening && (tag == "script" || tag == "style") {
            let close = format!("</{tag}");
            // ASCII lowercasing keeps byte offsets.
            rest = rest.to_ascii_lowercase().find(&close).map_or("", |i| &rest[i..]);
        }
    }
    out.push_str(&decode_entities(rest));
    collapse(&out)
}

/// Blanks collapsed to one space, line breaks to one, ends trimmed.
fn collapse(text: &str) -> String {
    let lines: Vec<String> =
        text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

/// Character references decoded: the five XML ones, `&nbsp;` (as a plain
/// space, which [`plain`] then collapses) and numeric ones (`&#233;`,
/// `&#xE9;`). Anything else, `&bogus;` or a lone `&`, stays as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| Some((entity(&after[..semi])?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference names (`amp`, `#233`, `#xE9`), if known.
fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// At most `max` characters (not bytes: platforms count characters), cut
/// hard. For identifiers and addresses, where an ellipsis would make a
/// different value; prose takes [`shorten`].
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_string(),
        None => text.to_string(),
    }
}

/// Prose (a title, a description) in at most `max` characters: unchanged
/// when it fits, else cut at a word end when one falls in the last fifth,
/// with `…` so that the reader sees it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = cut.rfind(char::is_whitespace).filter(|&i| cut[..i].chars().count() >= max * 4 / 5);
    let kept = at_word.map_or(cut.as_str(), |i| &cut[..i]).trim_end();
    format!("{kept}…")
}

/// `2026-03-02T10:00:00+00:00` for milliseconds since the epoch, in UTC.
///
/// The offset is written out (`+00:00`, not `Z`): the feed formats
/// descending from Google's (Meta's, Pinterest's) give their dates, such as
/// `sale_price_effective_date`, with a numeric offset.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = omnistore_liquid::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A price as product feeds write it, amount then ISO code: `"12.50 EUR"`,
/// `"1250 JPY"` (the currency's own minor-unit digits).
pub fn price(m: &Money) -> String {
    format!("{} {}", m.format_amount(), m.currency)
}

/// `price` and `sale_price` of a variant. The channel's price is after
/// automatic promotions, so with a higher reference (compare-at) price in
/// the same currency the reference is the regular price, shown struck
/// through, and the channel's price the sale price. Otherwise there is no
/// sale.
pub fn prices(price: &Money, compare_at: Option<&Money>) -> (String, Option<String>) {
    match compare_at {
        Some(reference) if reference.currency == price.currency && reference.amount_minor > price.amount_minor => {
            (self::price(reference), Some(self::price(price)))
        }
        _ => (self::price(price), None),
    }
}

/// The storefront's page of a product, `{shop_url}/products/{handle}`
/// (a trailing `/` of `shop_url` is not doubled).
pub fn product_url(shop_url: &str, handle: &str) -> String {
    format!("{}/products/{handle}", shop_url.trim_end_matches('/'))
}

/// An image address as a platform must have it to fetch the image,
/// absolute. The host keeps uploaded images at paths of the shop's own
/// address (`/media/...`), so a path is the shop's; a protocol-relative
/// `//cdn...` is taken as `https:`. Anything else (`a.jpg`, `data:`, an
/// empty string) has no address a platform could fetch: `None`.
pub fn absolute_url(shop_url: &str, url: &str) -> Option<String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Some(url.to_string())
    } else if let Some(rest) = url.strip_prefix("//") {
        (!rest.is_empty()).then(|| format!("https://{rest}"))
    } else if url.starts_with('/') {
        Some(format!("{}{url}", shop_url.trim_end_matches('/')))
    } else {
        None
    }
}

/// One CSV field per RFC 4180: quoted when it holds a comma, a quote or a
/// line break, quotes doubled.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One CSV record, CRLF-terminated as RFC 4180 writes it.
pub fn csv_record<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = fields.into_iter().map(csv_field).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The start of an RSS 2.0 product feed with Google's `g:` namespace (the
/// XML layout Meta's and Pinterest's catalogs both read): the channel's
/// title, link and description. [`RSS_END`] closes it.
pub fn rss_start(title: &str, link: &str, description: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n",
        xml_escape(title),
        xml_escape(link),
        xml_escape(description),
    )
}

/// What closes a feed [`rss_start`] opened.
pub const RSS_END: &str = "</channel>\n</rss>\n";

/// One `<item>` of such a feed: a `g:` element per field, in the order
/// given, with empty values left out (an empty element would say the field
/// is empty rather than absent). A field may appear more than once
/// (`additional_image_link`).
pub fn rss_item<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("<item>\n");
    for (name, value) in fields {
        if !value.is_empty() {
            out.push_str(&format!("<g:{name}>{}</g:{name}>\n", xml_escape(value)));
        }
    }
    out.push_str("</item>\n");
    out
}

/// Text escaped for XML content and attributes; characters XML 1.0 forbids
/// (most control characters) are dropped, since one would make the whole
/// feed unreadable.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            plain("<p>Crisp &amp; <b>sweet</b></p><p>Ricotta&nbsp;di&#32;pecora</p>"),
            "Crisp & sweet\nRicotta di pecora"
        );
        assert_eq!(
            plain("<p>Ricotta &amp; <b>pistacchio</b></p><ul><li>Crisp&nbsp;shell</li><li>&#233;t&#xE9;</li></ul>"),
            "Ricotta & pistacchio\nCrisp shell\nété"
        );
        assert_eq!(plain("a < b &bogus; c<br/>d"), "a < b &bogus; c\nd");
        assert_eq!(plain("a < b & c"), "a < b & c");
        assert_eq!(plain("x<script>alert('<p>')</script>y"), "xy");
        assert_eq!(plain("caf&#xE9;  \n  latte"), "café\nlatte");
        assert_eq!(plain("no tags"), "no tags");
        assert_eq!(plain(""), "");
    }

    /// Where the plugins' copies disagreed: an inline tag is no word break,
    /// and `a < b > c` keeps its text (a `<` followed by a blank is no tag).
    #[test]
    fn inline_tags_and_stray_brackets_keep_the_text() {
        assert_eq!(plain("pist<b>acchio</b> di <i>Bronte</i>"), "pistacchio di Bronte");
        assert_eq!(plain("a < b > c"), "a < b > c");
        assert_eq!(plain("<style>p { color: red }</style><P>Ciao</P>"), "Ciao");
        assert_eq!(plain("x <unclosed"), "x <unclosed");
    }

    #[test]
    fn entities_are_decoded_and_unknown_ones_kept() {
        assert_eq!(decode_entities("&lt;&gt;&quot;&apos;&#39;&#X41;"), "<>\"''A");
        assert_eq!(
            decode_entities("Tom &amp Jerry &; &#xZZ; &verylongentityname;"),
            "Tom &amp Jerry &; &#xZZ; &verylongentityname;"
        );
        assert_eq!(decode_entities("&#x110000;"), "&#x110000;");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("àèìòù", 3), "àèì");
        assert_eq!(truncate_chars("àèì", 3), "àèì");
        assert_eq!(truncate_chars("àèì", 0), "");
    }

    #[test]
    fn shortening_counts_characters_and_prefers_a_word_end() {
        assert_eq!(shorten("Cannolo", 10), "Cannolo");
        assert_eq!(shorten("Cannolo", 7), "Cannolo");
        let long = "Cannolo siciliano con ricotta di pecora e granella di pistacchio di Bronte";
        let cut = shorten(long, 40);
        assert!(cut.chars().count() <= 40 && cut.ends_with('…'), "{cut}");
        assert!(cut.starts_with("Cannolo siciliano con ricotta di"), "{cut}");
        let accents = "è".repeat(600);
        assert_eq!(shorten(&accents, 500).chars().count(), 500);
        assert_eq!(shorten("Cannolo", 1), "…");
        assert_eq!(shorten("Cannolo", 0), "");
    }

    #[test]
    fn times_are_iso8601_in_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_772_445_600_000), "2026-03-02T10:00:00+00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00+00:00");
        assert_eq!(iso8601(1_772_582_399_999), "2026-03-03T23:59:59+00:00");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59+00:00");
    }

    #[test]
    fn prices_are_amount_then_currency_and_a_sale_needs_a_higher_reference() {
        let eur = |m| Money { amount_minor: m, currency: "EUR".into() };
        assert_eq!(prices(&eur(1250), None), ("12.50 EUR".into(), None));
        assert_eq!(prices(&eur(1000), Some(&eur(1250))), ("12.50 EUR".into(), Some("10.00 EUR".into())));
        assert_eq!(prices(&eur(1250), Some(&eur(1250))), ("12.50 EUR".into(), None));
        assert_eq!(prices(&eur(1250), Some(&Money::new(2000, "USD"))), ("12.50 EUR".into(), None));
        assert_eq!(price(&Money { amount_minor: 1250, currency: "JPY".into() }), "1250 JPY");
        assert_eq!(price(&Money::new(999, "EUR")), "9.99 EUR");
    }

    #[test]
    fn product_pages_are_under_products() {
        assert_eq!(product_url("https://s.example", "cannolo"), "https://s.example/products/cannolo");
        assert_eq!(product_url("https://s.example/", "cannolo"), "https://s.example/products/cannolo");
    }

    #[test]
    fn image_links_are_absolute() {
        assert_eq!(
            absolute_url("https://s.example/", "/media/1/a.jpg").as_deref(),
            Some("https://s.example/media/1/a.jpg")
        );
        assert_eq!(absolute_url("https://s.example", "/img/a.jpg").as_deref(), Some("https://s.example/img/a.jpg"));
        assert_eq!(
            absolute_url("https://s.example", "https://cdn.example/a.jpg").as_deref(),
            Some("https://cdn.example/a.jpg")
        );
        assert_eq!(
            absolute_url("https://s.example", "//cdn.example/a.jpg").as_deref(),
            Some("https://cdn.example/a.jpg")
        );
        assert_eq!(absolute_url("https://s.example", "a.jpg"), None);
        assert_eq!(absolute_url("https://s.example", ""), None);
        assert_eq!(absolute_url("https://s.example", "data:image/png;base64,AAAA"), None);
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(
            csv_record(["a", "b c", "d,e", "say \"hi\"", "two\nlines"]),
            "a,b c,\"d,e\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(
            xml_escape("<a href=\"x\">Tom & 'Jerry'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
    }
}
