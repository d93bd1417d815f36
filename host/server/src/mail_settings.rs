//! A tenant's `[tenants.mail]` table in the deployment file: who its mail is
//! from and which relay takes it. The password and the DKIM key are never in
//! the file itself: the password comes from an environment variable the file
//! names, the key from a PEM file beside it.
//!
//! ```toml
//! [tenants.mail]
//! from = "ordini@dolcevita.example"
//! from_name = "Pasticceria Dolce Vita"
//! relay = "smtp.example.net"
//! port = 587                          # default: 587, or 465 for implicit-tls, 25 for none
//! security = "starttls"               # starttls | starttls-optional | implicit-tls | none
//! username = "ordini@dolcevita.example"
//! password_env = "DOLCE_VITA_SMTP_PASSWORD"
//! dkim_selector = "omnistore"         # with dkim_key_file: sign for the from address's domain
//! dkim_key_file = "keys/dolce-vita.pem"
//! ca_file = "keys/relay-ca.pem"       # a private CA trusted besides the system's
//! timeout_secs = 30
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use omnistore_mail::{Credentials, DkimKey, RelayConfig, RetryPolicy, Security, Sender};
use omnistore_services::mail_delivery::TenantMail;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailSecurity {
    Starttls,
    StarttlsOptional,
    ImplicitTls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSpec {
    pub from: String,
    #[serde(default)]
    pub from_name: Option<String>,
    pub relay: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "default_security")]
    pub security: MailSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub dkim_selector: Option<String>,
    #[serde(default)]
    pub dkim_key_file: Option<PathBuf>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_security() -> MailSecurity {
    MailSecurity::Starttls
}

fn default_timeout_secs() -> u64 {
    30
}

impl MailSpec {
    /// Make the file's relative paths relative to the file.
    pub fn rebase(&mut self, base: &Path) {
        for path in [&mut self.dkim_key_file, &mut self.ca_file].into_iter().flatten() {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }

    /// The settings the mail worker takes, reading the password from the
    /// environment and the key files; every problem names the tenant's setting.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<TenantMail> {
        let security = match self.security {
            MailSecurity::Starttls => Security::StartTlsRequired,
            MailSecurity::StarttlsOptional => Security::StartTlsOptional,
            MailSecurity::ImplicitTls => Security::ImplicitTls,
            MailSecurity::None => Security::None,
        };
        let port = self.port.unwrap_or(match security {
            Security::ImplicitTls => 465,
            Security::None => 25,
            _ => 587,
        });
        if self.timeout_secs == 0 {
            bail!("mail.timeout_secs must be greater than 0");
        }
        let mut relay = RelayConfig::new(self.relay.clone(), port, security);
        relay.timeout = Duration::from_secs(self.timeout_secs);
        relay.credentials = match (&self.username, &self.password_env) {
            (None, None) => None,
            (Some(user), Some(var)) => {
                let password = env(var).with_context(|| {
                    format!("mail.password_env names `{var}`, which is not set: export the relay's password in it")
                })?;
                Some(Credentials { user: user.clone(), password })
            }
            (Some(_), None) => {
                bail!("mail.username is set without mail.password_env (the variable holding the password)")
            }
            (None, Some(_)) => bail!("mail.password_env is set without mail.username"),
        };
        if let Some(file) = &self.ca_file {
            let pem =
                std::fs::read_to_string(file).with_context(|| format!("reading mail.ca_file {}", file.display()))?;
            relay.root_certificates.push(pem);
        }
        let domain = self.from.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        let dkim = match (&self.dkim_selector, &self.dkim_key_file) {
            (None, None) => None,
            (Some(selector), Some(file)) => {
                let pem = std::fs::read_to_string(file)
                    .with_context(|| format!("reading mail.dkim_key_file {}", file.display()))?;
                Some(DkimKey::new(&domain, selector, &pem).context("mail.dkim_key_file")?)
            }
            _ => bail!("mail.dkim_selector and mail.dkim_key_file go together"),
        };
        let sender = Sender { address: self.from.clone(), display_name: self.from_name.clone(), dkim };
        sender.validate().context("mail.from")?;
        Ok(TenantMail { sender, relay, retry: RetryPolicy::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> MailSpec {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn defaults_follow_the_security_and_secrets_come_from_the_environment() {
        let s = spec(
            "from = \"ordini@dolce.example\"\nrelay = \"smtp.example.net\"\nusername = \"u\"\npassword_env = \"PW\"\n",
        );
        let mail = s.resolve(|v| (v == "PW").then(|| "secret".to_string())).unwrap();
        assert_eq!((mail.relay.port, mail.relay.security), (587, Security::StartTlsRequired));
        assert_eq!(mail.relay.credentials.as_ref().map(|c| c.password.as_str()), Some("secret"));
        let err = s.resolve(|_| None).unwrap_err();
        assert!(format!("{err:#}").contains("`PW`, which is not set"), "{err:#}");
        let tls = spec("from = \"a@b.example\"\nrelay = \"r\"\nsecurity = \"implicit-tls\"\n");
        assert_eq!(tls.resolve(|_| None).unwrap().relay.port, 465);
    }

    #[test]
    fn half_set_pairs_and_bad_senders_are_refused_with_the_setting() {
        let half = spec("from = \"a@b.example\"\nrelay = \"r\"\nusername = \"u\"\n");
        assert!(format!("{:#}", half.resolve(|_| None).unwrap_err()).contains("password_env"));
        let dkim = spec("from = \"a@b.example\"\nrelay = \"r\"\ndkim_selector = \"s\"\n");
        assert!(format!("{:#}", dkim.resolve(|_| None).unwrap_err()).contains("go together"));
        let sender = spec("from = \"not an address\"\nrelay = \"r\"\n");
        assert!(format!("{:#}", sender.resolve(|_| None).unwrap_err()).contains("mail.from"));
        assert!(toml::from_str::<MailSpec>("from = \"a@b\"\nrelay = \"r\"\nsecurity = \"ssl\"\n").is_err());
    }
}
