//! A queued message turned into RFC 5322 bytes, From the merchant.

use std::time::SystemTime;

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest, Sha256};

use crate::MailError;
use crate::dkim::DkimKey;

/// Headers this crate sets itself (sender, recipients, MIME structure, the
/// signature): a plugin setting one could spoof the merchant or break the
/// DKIM signature. The outbox refuses them already; this is the last line.
pub const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "return-path",
    "received",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "authentication-results",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// RFC 5322's limit on a header line, CRLF excluded.
const MAX_LINE: usize = 998;

/// A message to send, as the outbox holds it (the integrator maps its
/// queued record to this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Vec<String>,
    pub subject: String,
    /// The plain-text body; always sent.
    pub text: String,
    /// An HTML alternative; with it the message is `multipart/alternative`.
    pub html: Option<String>,
    /// Extra headers chosen by the plugin (`List-Unsubscribe`, `Reply-To`…).
    pub headers: Vec<(String, String)>,
    /// Something stable and unique for this message (the outbox's tenant, id
    /// and queue time): the `Message-ID` is derived from it, so a retried
    /// message keeps its `Message-ID` and receivers can drop duplicates.
    /// Empty means a random one.
    pub message_id_hint: String,
}

/// Who the mail is from: the merchant's configured address, never one a
/// plugin chose, and the key to sign with.
#[derive(Debug, Clone)]
pub struct Sender {
    pub address: String,
    /// Shown beside the address (`Pasticceria Dolce Vità <ordini@…>`).
    pub display_name: Option<String>,
    /// Sign with this key; its domain must be the address's domain.
    pub dkim: Option<DkimKey>,
}

impl Sender {
    /// Check the settings as [`compose`] will use them (the address, the
    /// display name, the key's domain), e.g. when the merchant saves them.
    /// Returns the address's domain, lower-cased.
    pub fn validate(&self) -> Result<String, MailError> {
        let address = parse_sender(&self.address)?;
        let domain = address.domain().to_ascii_lowercase();
        if let Some(name) = &self.display_name {
            one_line("From display name", name)?;
        }
        if let Some(key) = &self.dkim {
            key.check_domain(&domain)?;
        }
        Ok(domain)
    }
}

fn parse_sender(address: &str) -> Result<Address, MailError> {
    address
        .parse::<Address>()
        .map_err(|e| MailError::InvalidSender { address: address.to_owned(), reason: e.to_string() })
}

/// The message as it goes on the wire: RFC 5322 with CRLF line ends, every
/// line within 998 octets, non-ASCII words in headers RFC 2047-encoded,
/// bodies quoted-printable (UTF-8), `multipart/alternative` (text, then
/// HTML) when there is HTML; DKIM-signed when the sender has a key.
pub fn compose(mail: &OutgoingMail, sender: &Sender, now: SystemTime) -> Result<Vec<u8>, MailError> {
    // Settings first: a bad sender or key fails every message, whatever its content.
    let domain = sender.validate()?;
    let from_address = parse_sender(&sender.address)?;
    let display_name = sender.display_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    one_line("Subject", &mail.subject)?;
    if mail.to.is_empty() {
        return Err(MailError::NoRecipients);
    }

    let mut builder = Message::builder()
        .from(Mailbox::new(display_name, from_address))
        .subject(mail.subject.as_str())
        .date(now)
        .message_id(Some(message_id(&mail.message_id_hint, &domain)));
    for to in &mail.to {
        let address = to
            .parse::<Address>()
            .map_err(|e| MailError::InvalidRecipient { address: to.clone(), reason: e.to_string() })?;
        builder = builder.to(Mailbox::new(None, address));
    }
    for (name, value) in &mail.headers {
        builder = builder.raw_header(extra_header(name, value)?);
    }

    let text = body_part(ContentType::TEXT_PLAIN, &mail.text);
    let message = match &mail.html {
        Some(html) => builder
            .multipart(MultiPart::alternative().singlepart(text).singlepart(body_part(ContentType::TEXT_HTML, html))),
        None => builder.singlepart(text),
    }
    .map_err(|e| MailError::Build(e.to_string()))?;

    let mut raw = message.formatted();
    if mail.html.is_none() && raw.ends_with(b"\r\n\r\n") {
        // lettre closes a single part with a CRLF of its own (in a multipart it
        // belongs to the boundary); at the end of the message it is a stray empty line.
        raw.truncate(raw.len() - 2);
    }
    match &sender.dkim {
        Some(key) => key.sign(&raw),
        None => Ok(raw),
    }
}

/// Quoted-printable always: it keeps lines short whatever the text (no
/// relay re-wraps them and breaks the signature) and stays readable.
fn body_part(content_type: ContentType, body: &str) -> SinglePart {
    SinglePart::builder().header(content_type).header(ContentTransferEncoding::QuotedPrintable).body(body.to_owned())
}

/// `<left@domain>`: the left part is a digest of the hint (stable across
/// retries, reveals nothing of the shop's ids, always a valid dot-atom), or
/// random without one.
fn message_id(hint: &str, domain: &str) -> String {
    let digest: [u8; 32] = if hint.is_empty() {
        let mut random = [0u8; 32];
        // A broken system RNG leaves zeros, then the time decides: still unique enough for an id.
        if getrandom::fill(&mut random).is_err() {
            let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
            random[..16].copy_from_slice(&nanos.to_be_bytes());
        }
        random
    } else {
        Sha256::digest(hint.as_bytes()).into()
    };
    format!("<{}@{domain}>", hex::encode(&digest[..16]))
}

fn one_line(name: &str, value: &str) -> Result<(), MailError> {
    if value.chars().any(char::is_control) {
        return Err(MailError::InvalidHeader {
            name: name.to_owned(),
            reason: "it contains a line break or another control character".into(),
        });
    }
    if value.len() > MAX_LINE {
        return Err(MailError::InvalidHeader {
            name: name.to_owned(),
            reason: format!("it is {} bytes long; at most {MAX_LINE} are allowed", value.len()),
        });
    }
    Ok(())
}

fn extra_header(name: &str, value: &str) -> Result<HeaderValue, MailError> {
    let name_ok = !name.is_empty() && name.len() <= 76 && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !name_ok {
        return Err(MailError::InvalidHeader {
            name: name.to_owned(),
            reason: "a header name is 1 to 76 printable ASCII characters without `:`".into(),
        });
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(MailError::ReservedHeader(name.to_owned()));
    }
    one_line(name, value)?;
    let header_name = HeaderName::new_from_ascii(name.to_owned())
        .map_err(|e| MailError::InvalidHeader { name: name.to_owned(), reason: e.to_string() })?;
    Ok(HeaderValue::new(header_name, value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            to: vec!["cliente@example.net".into()],
            subject: "Il tuo ordine è pronto ✓".into(),
            text: "Ciao!\nIl tuo ordine è pronto.\n".into(),
            html: Some("<p>Il tuo ordine è <b>pronto</b>.</p>".into()),
            headers: vec![("List-Unsubscribe".into(), "<https://shop.example.com/u/1>".into())],
            message_id_hint: "demo.mail-0000000001.1700000000000".into(),
        }
    }

    fn sender() -> Sender {
        Sender {
            address: "ordini@dolcevita.example".into(),
            display_name: Some("Pasticceria Dolce Vità".into()),
            dkim: None,
        }
    }

    fn text(raw: &[u8]) -> String {
        String::from_utf8(raw.to_vec()).expect("a composed message is ASCII")
    }

    #[test]
    fn message_is_ascii_crlf_with_short_lines() {
        let mut m = mail();
        m.text = format!("{}\nshort\r\nline\n", "é".repeat(3000));
        let raw = compose(&m, &sender(), SystemTime::now()).expect("composes");
        assert!(raw.is_ascii());
        let t = text(&raw);
        assert!(!t.replace("\r\n", "").contains(['\r', '\n']), "bare CR or LF in\n{t}");
        assert!(t.split("\r\n").all(|l| l.len() <= 998));
    }

    #[test]
    fn the_same_hint_gives_the_same_message_id() {
        let a = message_id("t.mail-1.5", "dolcevita.example");
        assert_eq!(a, message_id("t.mail-1.5", "dolcevita.example"));
        assert_ne!(a, message_id("t.mail-2.5", "dolcevita.example"));
        let left = a.strip_prefix('<').and_then(|a| a.strip_suffix("@dolcevita.example>")).expect("<left@domain>");
        assert!(left.len() == 32 && left.bytes().all(|b| b.is_ascii_hexdigit()), "{a}");
        assert_ne!(message_id("", "d.example"), message_id("", "d.example"));
    }

    #[test]
    fn reserved_headers_are_refused_whatever_their_case() {
        for name in ["From", "dkim-signature", "CONTENT-TYPE", "Bcc"] {
            let mut m = mail();
            m.headers = vec![(name.into(), "x".into())];
            let e = compose(&m, &sender(), SystemTime::now()).unwrap_err();
            assert!(matches!(e, MailError::ReservedHeader(ref n) if n == name), "{name}: {e}");
        }
    }

    #[test]
    fn header_injection_is_refused() {
        let mut m = mail();
        m.headers = vec![("X-Note".into(), "a\r\nBcc: victim@example.org".into())];
        assert!(matches!(compose(&m, &sender(), SystemTime::now()), Err(MailError::InvalidHeader { .. })));
        let mut m = mail();
        m.subject = "hello\nBcc: victim@example.org".into();
        assert!(matches!(compose(&m, &sender(), SystemTime::now()), Err(MailError::InvalidHeader { .. })));
        let mut m = mail();
        m.headers = vec![("X Bad".into(), "x".into())];
        assert!(matches!(compose(&m, &sender(), SystemTime::now()), Err(MailError::InvalidHeader { .. })));
    }

    #[test]
    fn addresses_are_checked() {
        let bad_sender = Sender { address: "not an address".into(), ..sender() };
        assert!(matches!(compose(&mail(), &bad_sender, SystemTime::now()), Err(MailError::InvalidSender { .. })));
        let mut m = mail();
        m.to = vec!["nobody".into()];
        assert!(matches!(compose(&m, &sender(), SystemTime::now()), Err(MailError::InvalidRecipient { .. })));
        m.to.clear();
        assert!(matches!(compose(&m, &sender(), SystemTime::now()), Err(MailError::NoRecipients)));
    }

    #[test]
    fn text_only_is_a_single_text_part() {
        let mut m = mail();
        m.html = None;
        let t = text(&compose(&m, &sender(), SystemTime::now()).expect("composes"));
        assert!(t.contains("Content-Type: text/plain; charset=utf-8\r\n"), "{t}");
        assert!(t.contains("Content-Transfer-Encoding: quoted-printable\r\n"));
        assert!(!t.contains("multipart"));
        assert!(t.contains("MIME-Version: 1.0\r\n"));
    }
}
