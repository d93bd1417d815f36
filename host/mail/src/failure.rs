//! Why a delivery to the relay failed, classified for the worker that retries:
//! a transient failure keeps the message queued, a permanent one does not.

use std::fmt;

/// A delivery that did not happen. The variant says whether trying the same
/// message again later can succeed; the [`Failure`] (boxed: errors travel
/// often, failures are rare) says what failed, what the relay answered, and
/// what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A 4xx reply, a refused or reset connection, a timeout, TLS that was
    /// optional and not offered while a password had to be sent: the same
    /// message may go through later.
    #[error("temporary mail delivery failure: {0}")]
    Transient(Box<Failure>),
    /// A 5xx reply, STARTTLS required and not offered, credentials refused,
    /// an address that cannot be sent to: retrying the same thing fails the
    /// same way until someone changes something.
    #[error("mail delivery failed: {0}")]
    Permanent(Box<Failure>),
}

impl DeliveryError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Transient(_))
    }

    pub fn failure(&self) -> &Failure {
        match self {
            DeliveryError::Transient(f) | DeliveryError::Permanent(f) => f,
        }
    }

    /// The relay's reply code, when the relay answered.
    pub fn reply_code(&self) -> Option<u16> {
        self.failure().reply.as_ref().map(|r| r.code)
    }

    /// Whether the failure is the relay's or its settings' rather than this
    /// message's: every other message would fail the same way, so a worker
    /// should pause the queue and tell the merchant instead of giving up on
    /// messages one by one.
    pub fn affects_every_message(&self) -> bool {
        self.failure().stage.is_relay_wide()
    }
}

/// What failed during one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `host:port` of the relay.
    pub relay: String,
    pub stage: Stage,
    /// What the relay answered, if it answered.
    pub reply: Option<Reply>,
    /// What went wrong, in words.
    pub detail: String,
    /// What to do about it.
    pub advice: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at relay {}: {}", self.stage, self.relay, self.detail)?;
        if let Some(reply) = &self.reply {
            write!(f, " (the relay answered {reply})")?;
        }
        if !self.advice.is_empty() {
            write!(f, "; {}", self.advice)?;
        }
        Ok(())
    }
}

/// A reply from the relay: the three-digit code and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() { write!(f, "{}", self.code) } else { write!(f, "{} {}", self.code, self.text) }
    }
}

/// The step of the SMTP session that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Checking the envelope before connecting.
    Envelope,
    /// Connecting, the greeting, EHLO (and the TLS handshake of implicit TLS).
    Connect,
    /// STARTTLS: offered or not, and the handshake.
    StartTls,
    /// AUTH.
    Authenticate,
    /// MAIL FROM: the relay's view of the envelope sender.
    Sender,
    /// RCPT TO for this recipient.
    Recipient(String),
    /// DATA and the message itself.
    Data,
}

impl Stage {
    /// Stages whose failure does not depend on the message.
    fn is_relay_wide(&self) -> bool {
        matches!(self, Stage::Connect | Stage::StartTls | Stage::Authenticate | Stage::Sender)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Envelope => f.write_str("checking the envelope"),
            Stage::Connect => f.write_str("connecting"),
            Stage::StartTls => f.write_str("starting TLS"),
            Stage::Authenticate => f.write_str("authenticating"),
            Stage::Sender => f.write_str("giving the sender"),
            Stage::Recipient(to) => write!(f, "giving the recipient {to}"),
            Stage::Data => f.write_str("sending the message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(stage: Stage, reply: Option<Reply>) -> Failure {
        Failure {
            relay: "smtp.example.com:587".into(),
            stage,
            reply,
            detail: "the relay refused the recipient".into(),
            advice: "check the address".into(),
        }
    }

    #[test]
    fn message_names_the_stage_the_relay_the_reply_and_the_advice() {
        let reply = Reply { code: 550, text: "5.1.1 No such user".into() };
        let e = DeliveryError::Permanent(Box::new(failure(Stage::Recipient("a@b.example".into()), Some(reply))));
        assert_eq!(
            e.to_string(),
            "mail delivery failed: giving the recipient a@b.example at relay smtp.example.com:587: \
             the relay refused the recipient (the relay answered 550 5.1.1 No such user); check the address"
        );
        assert!(!e.is_retryable());
        assert_eq!(e.reply_code(), Some(550));
        assert!(!e.affects_every_message());
    }

    #[test]
    fn relay_wide_failures_are_told_apart() {
        let e = DeliveryError::Transient(Box::new(failure(Stage::Authenticate, None)));
        assert!(e.is_retryable());
        assert!(e.affects_every_message());
        assert_eq!(e.reply_code(), None);
    }
}
