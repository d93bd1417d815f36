//! TwiML, the XML Twilio reads from a webhook's answer: `<Response>` with
//! at most one `<Message>` here, the text sent back to whoever wrote.

use omnistore_sdk::Response;

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The answer to an inbound text: `message` sent back, or nothing.
pub fn reply(message: Option<&str>) -> Response {
    let xml = match message {
        Some(text) => format!("{DECLARATION}<Response><Message>{}</Message></Response>", escape(text)),
        None => format!("{DECLARATION}<Response></Response>"),
    };
    Response::bytes("application/xml", xml)
}

/// Text as XML character data, by the SDK's one XML escape (the control
/// characters XML 1.0 forbids are left out: a template may hold them).
pub use omnistore_sdk::catalog_text::xml_escape as escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_escaped_and_stripped_of_what_xml_forbids() {
        assert_eq!(escape("Tom & Jerry <3 \"ciao\" l'ho\u{1}\n"), "Tom &amp; Jerry &lt;3 &quot;ciao&quot; l&apos;ho\n");
        let r = reply(Some("a<b"));
        assert_eq!(r.header("content-type"), Some("application/xml"));
        assert_eq!(
            r.body_text(),
            Some(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>a&lt;b</Message></Response>"#)
        );
        assert_eq!(reply(None).body_text(), Some(r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#));
    }
}
