//! Why a message could not be composed, or a transport not configured.
//! Nothing here touched the network: fixing the input or the settings is the
//! only remedy, so none of these is worth retrying.

/// A message or a setting the crate refuses, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the sender address `{address}` is not a valid e-mail address: {reason}; fix the shop's mail settings")]
    InvalidSender { address: String, reason: String },
    #[error("the recipient `{address}` is not a valid e-mail address: {reason}")]
    InvalidRecipient { address: String, reason: String },
    #[error("a message needs at least one recipient")]
    NoRecipients,
    #[error("header `{0}` is set by the mail transport itself and may not be given by a plugin")]
    ReservedHeader(String),
    #[error("header `{name}` is malformed: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error(
        "the DKIM private key for `{domain}` cannot be used: {reason}; paste a PEM RSA private key (2048 bits advised)"
    )]
    DkimKey { domain: String, reason: String },
    #[error(
        "the DKIM key is for `{key_domain}` but the sender address is at `{sender_domain}`; \
         receivers would not align the signature with the From domain: use a key for `{sender_domain}` \
         or a sender address at `{key_domain}`"
    )]
    DkimDomainMismatch { sender_domain: String, key_domain: String },
    #[error("DKIM signing failed: {0}")]
    DkimSign(String),
    #[error("the relay setting `{field}` is invalid: {reason}")]
    InvalidRelay { field: &'static str, reason: String },
}
