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
    let reply_to = Some(value("reply_to")).filter(|v| !v.is_empty());
    if let Some(r) = &reply_to
        && (!r.contains('@') || r.contains(['\r', '\n', ',', ' ']))
    {
        return Err(PluginError::internal("the setting `reply_to` must be one e-mail address, or empty"));
    }
    Ok(Config { language, shop_url, reply_to })
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
        let c =
            config(&[("shop_url", "https://dv.example"), ("language", "EN"), ("reply_to", "a@dv.example")]).unwrap();
        assert_eq!((c.language, c.reply_to.as_deref()), ("en", Some("a@dv.example")));
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
    }
}
