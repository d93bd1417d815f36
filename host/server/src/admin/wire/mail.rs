//! The tenant's mail: messages waiting for the relay and dead letters.

use omnistore_services::commerce::QueuedMail;
use schemars::JsonSchema;
use serde::Serialize;

/// A message a channel handed to the host's mail transport. The bodies are
/// left out: they can be large, and a merchant reading the queue needs who,
/// what and why it has not gone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Mail {
    pub id: String,
    /// The channel that sent it.
    pub channel_id: String,
    pub to: Vec<String>,
    pub subject: String,
    pub queued_ms: i64,
    /// Deliveries tried and failed.
    pub attempts: u32,
    /// Not tried again before this time; 0 is at once.
    pub next_attempt_ms: i64,
    /// What the relay said the last time, or why the message was given up.
    pub last_error: Option<String>,
}

impl From<QueuedMail> for Mail {
    fn from(m: QueuedMail) -> Mail {
        Mail {
            id: m.id,
            channel_id: m.channel,
            to: m.to,
            subject: m.subject,
            queued_ms: m.queued_ms,
            attempts: m.attempts,
            next_attempt_ms: m.next_attempt_ms,
            last_error: m.last_error,
        }
    }
}
