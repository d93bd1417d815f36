//! One delivery: an SMTP session with the relay, step by step.

use std::future::Future;

use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials as LettreCredentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::MailError;
use crate::classify::classify;
use crate::failure::{DeliveryError, Failure, Reply, Stage};
use crate::relay::{RelayConfig, Security};

/// Delivers composed messages to one relay over SMTP, a new connection per
/// message (a worker sends little, and a fresh session never inherits a
/// broken one's state).
#[derive(Clone)]
pub struct SmtpTransport {
    config: RelayConfig,
    /// Built once: parsing roots and the system store is not free.
    tls: Option<TlsParameters>,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTransport").field("config", &self.config).finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// Check the settings and prepare TLS; nothing is sent yet.
    pub fn new(config: RelayConfig) -> Result<SmtpTransport, MailError> {
        if config.host.trim().is_empty() {
            return Err(MailError::InvalidRelay { field: "host", reason: "it is empty".into() });
        }
        if config.port == 0 {
            return Err(MailError::InvalidRelay { field: "port", reason: "port 0 cannot be connected to".into() });
        }
        if config.timeout.is_zero() {
            return Err(MailError::InvalidRelay { field: "timeout", reason: "it must be more than zero".into() });
        }
        if config.security == Security::None && config.credentials.is_some() {
            return Err(MailError::InvalidRelay {
                field: "security",
                reason: "a password would be sent in clear; use STARTTLS or implicit TLS, or no credentials".into(),
            });
        }
        let tls = match config.security {
            Security::None => None,
            _ => Some(tls_parameters(&config)?),
        };
        Ok(SmtpTransport { config, tls })
    }

    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// Hand one message to the relay: `raw_message` as [`crate::compose`]
    /// made it, for `recipients`, with `envelope_from` as the return path.
    /// Every recipient is accepted or none is: the first refusal ends the
    /// session before DATA, so no recipient gets a copy a retry would repeat.
    #[tracing::instrument(
        name = "mail.deliver",
        skip_all,
        fields(relay = %self.config.host, port = self.config.port, recipients = recipients.len())
    )]
    pub async fn deliver(
        &self,
        envelope_from: &str,
        recipients: &[String],
        raw_message: &[u8],
    ) -> Result<(), DeliveryError> {
        let result = self.session(envelope_from, recipients, raw_message).await;
        match &result {
            Ok(()) => tracing::info!("mail handed to the relay"),
            Err(e) => tracing::warn!(retryable = e.is_retryable(), error = %e, "mail delivery failed"),
        }
        result
    }

    async fn session(&self, envelope_from: &str, recipients: &[String], raw: &[u8]) -> Result<(), DeliveryError> {
        let from = self.address(envelope_from, "envelope sender")?;
        if recipients.is_empty() {
            return Err(self.permanent(Stage::Envelope, None, "no recipients were given", "give at least one"));
        }
        let to = recipients.iter().map(|r| self.address(r, "recipient")).collect::<Result<Vec<_>, _>>()?;
        let hello = ClientId::Domain(self.config.hello_name.clone().unwrap_or_else(|| from.domain().to_owned()));

        let implicit = match self.config.security {
            Security::ImplicitTls => self.tls.clone(),
            _ => None,
        };
        let address = (self.config.host.as_str(), self.config.port);
        let connect = AsyncSmtpConnection::connect_tokio1(address, Some(self.config.timeout), &hello, implicit, None);
        let mut conn = self.step(Stage::Connect, connect).await?;

        let result = self.transaction(&mut conn, &hello, &from, &to, raw).await;
        match &result {
            // The message is the relay's now; a failed QUIT must not make the worker send it again.
            Ok(()) => {
                let _ = tokio::time::timeout(self.config.timeout, conn.quit()).await;
            }
            // The relay answered, so the session is in step: say goodbye.
            Err(e) if e.failure().reply.is_some() => {
                let _ = tokio::time::timeout(self.config.timeout, conn.abort()).await;
            }
            // A timeout or a broken TLS upgrade leaves the stream half-gone (lettre
            // panics writing to a connection whose upgrade failed): just close it.
            Err(_) => drop(conn),
        }
        result
    }

    async fn transaction(
        &self,
        conn: &mut AsyncSmtpConnection,
        hello: &ClientId,
        from: &Address,
        to: &[Address],
        raw: &[u8],
    ) -> Result<(), DeliveryError> {
        self.start_tls(conn, hello).await?;
        if let Some(credentials) = &self.config.credentials {
            if !conn.is_encrypted() {
                return Err(self.transient(
                    Stage::StartTls,
                    None,
                    "the relay did not offer STARTTLS, so the password was not sent",
                    "if the relay never offers TLS, it is misconfigured or something on the way strips the offer; \
                     check the relay, or use a relay that supports TLS",
                ));
            }
            let credentials = LettreCredentials::new(credentials.user.clone(), credentials.password.clone());
            self.step(Stage::Authenticate, conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)).await?;
        }

        let mut options = Vec::new();
        // Composed messages are ASCII; a raw one that is not needs 8BITMIME (RFC 6152).
        if !raw.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(self.permanent(
                    Stage::Data,
                    None,
                    "the message has 8-bit content and the relay does not accept it (no 8BITMIME)",
                    "send it through compose, which encodes every body in 7-bit",
                ));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.step(Stage::Sender, conn.command(Mail::new(Some(from.clone()), options))).await?;
        for address in to {
            self.step(Stage::Recipient(address.to_string()), conn.command(Rcpt::new(address.clone(), Vec::new())))
                .await?;
        }
        self.step(Stage::Data, conn.command(Data)).await?;
        // lettre ends DATA with CRLF.CRLF whatever the message ends with; without
        // this the relay would store one more empty line than was composed.
        let content = raw.strip_suffix(b"\r\n").unwrap_or(raw);
        self.step(Stage::Data, conn.message(content)).await?;
        Ok(())
    }

    async fn start_tls(&self, conn: &mut AsyncSmtpConnection, hello: &ClientId) -> Result<(), DeliveryError> {
        let required = match self.config.security {
            Security::StartTlsRequired => true,
            Security::StartTlsOptional => false,
            Security::None | Security::ImplicitTls => return Ok(()),
        };
        let Some(tls) = self.tls.clone() else { return Ok(()) };
        if conn.can_starttls() {
            return self.step(Stage::StartTls, conn.starttls(tls, hello)).await;
        }
        if required {
            return Err(self.permanent(
                Stage::StartTls,
                None,
                "the relay does not offer STARTTLS and the settings require it; nothing was sent",
                "check the relay's host and port (587 usually offers STARTTLS, 465 is implicit TLS)",
            ));
        }
        tracing::warn!("the relay does not offer STARTTLS; continuing without encryption as the settings allow");
        Ok(())
    }

    /// Run one exchange under the timeout, classifying its failure.
    async fn step<T>(
        &self,
        stage: Stage,
        exchange: impl Future<Output = Result<T, SmtpError>>,
    ) -> Result<T, DeliveryError> {
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(classify(self.failure(stage, None, "", ""), &e)),
            Err(_) => Err(self.transient(
                stage,
                None,
                &format!("the relay did not answer within {:?}", self.config.timeout),
                "it may be overloaded or unreachable; the message will be retried",
            )),
        }
    }

    fn address(&self, address: &str, role: &str) -> Result<Address, DeliveryError> {
        address.parse::<Address>().map_err(|e| {
            self.permanent(
                Stage::Envelope,
                None,
                &format!("the {role} `{}` is not a valid address: {e}", address.escape_debug()),
                "fix the address; nothing was sent",
            )
        })
    }

    fn failure(&self, stage: Stage, reply: Option<Reply>, detail: &str, advice: &str) -> Failure {
        Failure {
            relay: format!("{}:{}", self.config.host, self.config.port),
            stage,
            reply,
            detail: detail.to_owned(),
            advice: advice.to_owned(),
        }
    }

    fn transient(&self, stage: Stage, reply: Option<Reply>, detail: &str, advice: &str) -> DeliveryError {
        DeliveryError::Transient(Box::new(self.failure(stage, reply, detail, advice)))
    }

    fn permanent(&self, stage: Stage, reply: Option<Reply>, detail: &str, advice: &str) -> DeliveryError {
        DeliveryError::Permanent(Box::new(self.failure(stage, reply, detail, advice)))
    }
}

fn tls_parameters(config: &RelayConfig) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(config.host.clone());
    for pem in &config.root_certificates {
        let certificate = Certificate::from_pem(pem.as_bytes()).map_err(|e| MailError::InvalidRelay {
            field: "root_certificates",
            reason: format!("a certificate is not PEM: {e}"),
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| MailError::InvalidRelay { field: "root_certificates", reason: e.to_string() })
}
