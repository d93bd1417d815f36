//! The host's mail transport: turns a message a plugin queued in the outbox
//! into a signed RFC 5322 message from the merchant and hands it to the
//! merchant's SMTP relay. A lower layer than the services: it knows nothing of
//! tenants, the store or plugins; the worker that drains the outbox maps its
//! queued records to [`OutgoingMail`] and decides, from [`DeliveryError`],
//! whether to retry ([`RetryPolicy`]), dead-letter, or pause and tell the
//! merchant ([`DeliveryError::affects_every_message`]).
//!
//! - **Composing** ([`compose`]): `From` is always the configured [`Sender`],
//!   never an address a plugin chose; the plugin's extra headers are checked
//!   again against [`RESERVED_HEADERS`] and for line breaks. Built with
//!   `lettre`'s message builder, which RFC 2047-encodes non-ASCII subjects and
//!   display names and writes CRLF; bodies are always quoted-printable UTF-8,
//!   so every line stays short and the message is 7-bit whatever the relay
//!   supports. The `Message-ID` is a digest of a stable hint, so a retried
//!   message keeps it and receivers can drop a duplicate.
//! - **Signing** ([`DkimKey`]): RSA-SHA256, relaxed/relaxed, with `mail-auth`
//!   (the DKIM/ARC/SPF/DMARC library of the Stalwart mail server) rather than
//!   `lettre`'s `dkim` feature, which re-serialises its own header model
//!   instead of signing the bytes sent, reads only PKCS#1 keys and reports no
//!   errors (it unwraps); `mail-auth` signs the bytes that go on the wire and
//!   is what a production mail server signs with. Its pure-Rust crypto is
//!   used (`rsa`, `sha2`: no aws-lc); the crate does not build without a DNS
//!   backend, so hickory's resolver is compiled in, unused. Its 0.13 line is
//!   the newest that builds on the workspace's Rust. A key is checked when loaded
//!   (format, at least 1024 bits), [`DkimKey::dns_record`] is the TXT record
//!   to publish, and a message is only signed when the sender's domain is the
//!   key's domain.
//! - **Delivering** ([`SmtpTransport`]): one SMTP session per message on
//!   tokio, `lettre`'s SMTP connection driven step by step so each failure is
//!   attributed (connect, STARTTLS, AUTH, MAIL, RCPT, DATA) and every exchange
//!   is bounded by the configured timeout. All recipients are accepted or the
//!   session ends before DATA: a refused recipient never leaves the others
//!   served and a retry sending them a second copy. TLS is rustls on
//!   `ring` with the platform's verifier; a private CA is *added*
//!   ([`RelayConfig::root_certificates`]), verification is never turned off,
//!   and a password is never sent over an unencrypted connection.
//! - **Failures** ([`DeliveryError`]): `Transient` (4xx, refused or reset
//!   connections, timeouts, a failed TLS handshake, optional STARTTLS missing
//!   when a password is due) or `Permanent` (5xx, required STARTTLS missing,
//!   credentials refused), with the relay's reply, what happened and what to do.

mod classify;
mod compose;
mod dkim;
mod error;
mod failure;
mod relay;
mod retry;
mod transport;

pub use compose::{OutgoingMail, RESERVED_HEADERS, Sender, compose};
pub use dkim::DkimKey;
pub use error::MailError;
pub use failure::{DeliveryError, Failure, Reply, Stage};
pub use relay::{Credentials, RelayConfig, Security};
pub use retry::RetryPolicy;
pub use transport::SmtpTransport;
