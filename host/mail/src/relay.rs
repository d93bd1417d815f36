//! The relay the host hands its mail to: where it is and how to talk to it.

use std::time::Duration;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text throughout: only for a relay on the same host or a trusted
    /// network, and never with a password.
    None,
    /// STARTTLS when the relay offers it, plain text otherwise; a password is
    /// only ever sent encrypted (without STARTTLS the delivery fails, as a
    /// transient failure: the offer may have been stripped on the way).
    StartTlsOptional,
    /// STARTTLS or no delivery (port 587, usually).
    StartTlsRequired,
    /// TLS from the first byte (port 465).
    ImplicitTls,
}

/// A user name and password for the relay's AUTH. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"<hidden>").finish()
    }
}

/// Where and how to reach the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<Credentials>,
    /// The longest wait for any one exchange with the relay (connecting,
    /// each command, the message): a silent relay fails after this.
    pub timeout: Duration,
    /// PEM certificates trusted besides the system's roots, for a relay with
    /// a private CA (and tests with a throwaway one). Verification is never
    /// switched off.
    pub root_certificates: Vec<String>,
    /// The name given in EHLO; the envelope sender's domain when `None`.
    pub hello_name: Option<String>,
}

impl RelayConfig {
    /// A relay with the usual settings for `security`: no credentials,
    /// 30 seconds per exchange, the system's roots.
    pub fn new(host: impl Into<String>, port: u16, security: Security) -> RelayConfig {
        RelayConfig {
            host: host.into(),
            port,
            security,
            credentials: None,
            timeout: Duration::from_secs(30),
            root_certificates: Vec::new(),
            hello_name: None,
        }
    }
}
