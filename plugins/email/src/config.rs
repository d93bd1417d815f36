//! The merchant's settings, read once per event. A setting that keeps the
//! plugin from sending is an error naming the setting and what to put in it.

use omnistore_sdk::{PluginError, settings};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `it` or `en`.
    pub language: &'static str,
    /// Absolute, without a trailing slash.
    pub shop_url: String,
    pub reply_to: Option<String>,
    /// Where this installation answers, absolute, without a trailing slash:
    /// the unsubscribe links point there.
    pub public_url: String,
    /// The address of the `mailto:` unsubscribe, when there is one.
    pub unsubscribe_mailbox: Option<String>,
    /// Whether a completed pickup order gets the satisfaction survey.
    pub survey: bool,
}

impl Config {
    pub fn read() -> Result<Config, PluginError> {
        config_from(&|key| settings::get(key))
    }
}

/// [`Config::read`] over any source of settings, so the rules are tested natively.
pub fn config_from(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, PluginError> {
    let value = |key: &str| get(key).map(|v| v.trim().to_string()).unwrap_or_default();
    // Italian is the default the manifest promises; an unknown value too,
    // rather than no mail at all.
    let language = if value("language").to_ascii_lowercase().starts_with("en") { "en" } else { "it" };
    let shop_url = value("shop_url").trim_end_matches('/').to_string();
    let absolute = ["https://", "http://"].iter().any(|s| shop_url.len() > s.len() && shop_url.starts_with(s));
    if !absolute {
        return Err(PluginError::internal(
            "the setting `shop_url` must be your shop's address starting with https:// (such as https://dolcevita.example): the e-mails' links need it",
        ));
    }
    let address = |key: &str| -> Result<Option<String>, PluginError> {
        let v = Some(value(key)).filter(|v| !v.is_empty());
        match v {
            Some(a) if !a.contains('@') || a.contains(['\r', '\n', ',', ' ', '<', '>', '?']) => {
                Err(PluginError::internal(format!("the setting `{key}` must be one e-mail address, or empty")))
            }
            v => Ok(v),
        }
    };
    let reply_to = address("reply_to")?;
    let unsubscribe_mailbox = address("unsubscribe_mailbox")?.or_else(|| reply_to.clone());
    let public_url = match value("public_url").trim_end_matches('/') {
        "" => format!("{shop_url}/email"),
        url if ["https://", "http://"].iter().any(|s| url.len() > s.len() && url.starts_with(s)) => url.to_string(),
        _ => {
            return Err(PluginError::internal(
                "the setting `public_url` must be the address this channel answers at, starting with https:// (such as https://dolcevita.example/email), or empty",
            ));
        }
    };
    let survey = match value("satisfaction_survey").to_ascii_lowercase().as_str() {
        "" | "off" => false,
        "on" => true,
        _ => return Err(PluginError::internal("the setting `satisfaction_survey` must be `on` or `off`")),
    };
    Ok(Config { language, shop_url, reply_to, public_url, unsubscribe_mailbox, survey })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, PluginError> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        config_from(&move |k| map.get(k).cloned())
    }

    #[test]
    fn italian_by_default_and_the_url_without_its_slash() {
        let c = config(&[("shop_url", "https://dv.example/ ")]).unwrap();
        assert_eq!((c.language, c.shop_url.as_str(), c.reply_to), ("it", "https://dv.example", None));
        assert_eq!((c.public_url.as_str(), c.unsubscribe_mailbox), ("https://dv.example/email", None));
        assert!(!c.survey, "the survey is off unless switched on");
        assert!(config(&[("shop_url", "https://dv.example"), ("satisfaction_survey", "ON")]).unwrap().survey);
        let c =
            config(&[("shop_url", "https://dv.example"), ("language", "EN"), ("reply_to", "a@dv.example")]).unwrap();
        assert_eq!((c.language, c.reply_to.as_deref()), ("en", Some("a@dv.example")));
        assert_eq!(c.unsubscribe_mailbox.as_deref(), Some("a@dv.example"), "replies' address by default");
        let c = config(&[
            ("shop_url", "https://dv.example"),
            ("public_url", "https://mail.dv.example/e/"),
            ("unsubscribe_mailbox", "stop@dv.example"),
        ])
        .unwrap();
        assert_eq!(c.public_url, "https://mail.dv.example/e");
        assert_eq!(c.unsubscribe_mailbox.as_deref(), Some("stop@dv.example"));
    }

    #[test]
    fn a_relative_url_or_a_bad_reply_to_names_the_setting() {
        let why = |pairs: &[(&str, &str)]| match config(pairs) {
            Err(PluginError::Internal(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(why(&[]).contains("`shop_url`"));
        assert!(why(&[("shop_url", "dv.example")]).contains("`shop_url`"));
        assert!(why(&[("shop_url", "https://")]).contains("`shop_url`"));
        assert!(why(&[("shop_url", "https://dv.example"), ("reply_to", "a@b\r\nBcc: x@y")]).contains("`reply_to`"));
        assert!(
            why(&[("shop_url", "https://dv.example"), ("unsubscribe_mailbox", "a@b>, <x")])
                .contains("`unsubscribe_mailbox`")
        );
        assert!(why(&[("shop_url", "https://dv.example"), ("public_url", "/email")]).contains("`public_url`"));
        assert!(
            why(&[("shop_url", "https://dv.example"), ("satisfaction_survey", "yes")])
                .contains("`satisfaction_survey`")
        );
    }
}
