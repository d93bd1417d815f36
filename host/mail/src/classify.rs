//! lettre's errors turned into [`DeliveryError`]s: transient or permanent,
//! with the relay's reply, what happened in words and what to do.

use lettre::transport::smtp::Error as SmtpError;

use crate::failure::{DeliveryError, Failure, Reply, Stage};

/// Classify `e`, which happened at `at.stage` (`at` carries the relay and
/// the stage; its reply and words are filled in here).
pub(crate) fn classify(mut at: Failure, e: &SmtpError) -> DeliveryError {
    at.reply = e.status().map(|code| Reply { code: u16::from(code), text: reply_text(e) });
    let (detail, advice) = explain(&at.stage, e, at.reply.as_ref());
    (at.detail, at.advice) = (detail, advice);
    // A reply decides by its first digit (RFC 5321, 4.2.1). Without one, a
    // refusal by the client itself (no AUTH mechanism in common, say) would
    // happen again; anything else (a refused or reset connection, a garbled
    // reply, a TLS handshake or certificate that failed) may be fixed in the
    // meantime, and a worker pauses on it (`affects_every_message`) rather
    // than burning through the queue.
    if e.is_permanent() || (at.reply.is_none() && e.is_client()) {
        DeliveryError::Permanent(Box::new(at))
    } else {
        DeliveryError::Transient(Box::new(at))
    }
}

/// The relay's own words for a negative reply (lettre keeps them as the
/// error's source), on one line.
fn reply_text(e: &SmtpError) -> String {
    std::error::Error::source(e)
        .map(|s| s.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// What happened and what to do, per stage and kind of failure.
fn explain(stage: &Stage, e: &SmtpError, reply: Option<&Reply>) -> (String, String) {
    let code = reply.map(|r| r.code);
    let (detail, advice) = match (stage, code) {
        (Stage::Authenticate, Some(535 | 534 | 530 | 538)) => (
            "the relay refused the user name or password".to_owned(),
            "check the relay credentials in the mail settings",
        ),
        (Stage::Authenticate, Some(454)) => {
            ("the relay could not check the credentials just now".to_owned(), "the message will be retried")
        }
        (Stage::Authenticate, None) if e.is_client() => (
            format!("authentication could not start: {e}"),
            "the relay offers no AUTH mechanism this transport speaks (PLAIN, LOGIN) over this connection; \
             check the security setting and the port",
        ),
        (Stage::Sender, Some(c)) if c >= 500 => (
            "the relay refused the sender address".to_owned(),
            "the relay account may not send as this address: check the sender address in the mail settings",
        ),
        (Stage::Recipient(_), Some(c)) if c >= 500 => {
            ("the relay refused the recipient".to_owned(), "check the address; nothing was sent to any recipient")
        }
        (Stage::Recipient(_), Some(_)) => (
            "the relay cannot take mail for the recipient just now".to_owned(),
            "the message will be retried; nothing was sent to any recipient",
        ),
        (Stage::Data, Some(c)) if c >= 500 => {
            ("the relay refused the message".to_owned(), "its reply says why (size, content or policy)")
        }
        (_, Some(c)) if c >= 500 => ("the relay refused to go on".to_owned(), "its reply says why"),
        (_, Some(_)) => ("the relay is temporarily unable to go on".to_owned(), "the message will be retried"),
        (Stage::Connect | Stage::StartTls, None) if e.is_tls() || tls_cause(e).is_some() => (
            format!("the TLS handshake failed: {}", tls_cause(e).unwrap_or_else(|| root_cause(e))),
            "the relay's certificate must be valid for its host name and issued by a CA the system trusts \
             (or one listed in the relay's root certificates); fix the relay or the settings",
        ),
        (Stage::Connect, None) => (
            format!("could not reach the relay: {}", root_cause(e)),
            "check the host and port; the message will be retried",
        ),
        (_, None) => (format!("the session broke: {}", root_cause(e)), "the message will be retried"),
    };
    (detail, advice.to_owned())
}

/// The innermost cause, which says what actually happened ("Connection
/// refused", rustls' reason for refusing a certificate); lettre's own layers
/// only repeat "Connection error".
fn root_cause(e: &SmtpError) -> String {
    let mut deepest: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = next_cause(deepest) {
        deepest = next;
    }
    deepest.to_string()
}

/// rustls' error, when the failure is a TLS one (lettre files a refused
/// certificate under "connection", so its kind alone does not tell).
fn tls_cause(e: &SmtpError) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        cause = next_cause(c);
    }
    None
}

/// `source()`, except through an `io::Error`, whose `source()` skips the
/// error it wraps.
fn next_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn std::error::Error + 'static)> {
    if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
        return Some(inner);
    }
    e.source()
}
