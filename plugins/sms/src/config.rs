//! The merchant's settings of this installation, read and checked once per
//! call. A setting that keeps the plugin from sending is an error that names
//! the setting and what to put in it.

use omnistore_sdk::{PluginError, settings};

/// Where Twilio's API lives unless a test points the plugin elsewhere.
pub const TWILIO_API: &str = "https://api.twilio.com";

/// Who the texts come from: a Messaging Service (which picks the number
/// and applies the merchant's Twilio-side opt-out rules) or one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    MessagingService(String),
    Number(String),
}

/// What sending needs: the account, its token and the sender.
#[derive(Debug, Clone)]
pub struct Account {
    pub sid: String,
    pub token: String,
    pub sender: Sender,
    /// Without a trailing slash.
    pub api_base: String,
    /// The installation's public address, without a trailing slash; `None`
    /// when the merchant set none (no delivery reports then).
    pub callback_base: Option<String>,
}

impl Account {
    /// The account settings, or an error that says which one to fix.
    pub fn read() -> Result<Account, PluginError> {
        account_from(&|key| settings::get(key))
    }
}

/// [`Account::read`] over any source of settings, so the rules are tested natively.
pub fn account_from(get: &dyn Fn(&str) -> Option<String>) -> Result<Account, PluginError> {
    let value = |key: &str| get(key).map(|v| v.trim().to_string()).unwrap_or_default();
    let sid = value("account_sid");
    if !is_sid(&sid, "AC") {
        return Err(PluginError::internal(
            "the setting `account_sid` must be the Twilio Account SID: AC followed by 32 hexadecimal digits, as the Twilio Console shows it",
        ));
    }
    let token = value("auth_token");
    if token.is_empty() {
        return Err(PluginError::internal(
            "the secret `auth_token` is not set: copy the Auth Token from the Twilio Console into this installation's secrets",
        ));
    }
    let service = value("messaging_service_sid");
    let number = value("from_number");
    let sender = if !service.is_empty() {
        if !is_sid(&service, "MG") {
            return Err(PluginError::internal(
                "the setting `messaging_service_sid` must be MG followed by 32 hexadecimal digits; leave it empty to send from `from_number`",
            ));
        }
        Sender::MessagingService(service)
    } else if is_e164(&number) {
        Sender::Number(number)
    } else {
        return Err(PluginError::internal(
            "set `from_number` to your Twilio number in international form (such as +390212345678), or set `messaging_service_sid`",
        ));
    };
    let api_base = match value("api_base_url") {
        v if v.is_empty() => TWILIO_API.to_string(),
        v => v.trim_end_matches('/').to_string(),
    };
    let callback_base = Some(value("callback_base_url").trim_end_matches('/').to_string()).filter(|v| !v.is_empty());
    Ok(Account { sid, token, sender, api_base, callback_base })
}

/// Twilio's resource ids: a two-letter prefix and 32 hexadecimal digits.
pub fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34 && value.starts_with(prefix) && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `+` and 7 to 15 digits, not starting with 0: the form Twilio takes.
pub fn is_e164(value: &str) -> bool {
    value
        .strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

/// The language of the texts: the setting when it is one the plugin has
/// texts for, else the shop's main language, else English (the rule the
/// host's campaign preview shares).
pub use omnistore_sms::campaign_footer::language;

/// The template of one text in the installation's language (`None` when the
/// setting is missing; an empty one means the merchant switched the text off).
pub fn template(name: &str) -> Option<String> {
    let shop = settings::shop();
    let lang = language(settings::get("language").as_deref(), shop.primary_language());
    settings::get(&format!("template.{name}.{lang}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn account(pairs: &[(&str, &str)]) -> Result<Account, PluginError> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        account_from(&move |k| map.get(k).cloned())
    }

    #[test]
    fn the_messaging_service_wins_over_the_number() {
        let a = account(&[
            ("account_sid", SID),
            ("auth_token", "t"),
            ("from_number", "+15005550006"),
            ("messaging_service_sid", "MG0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(a.sender, Sender::MessagingService("MG0123456789abcdef0123456789abcdef".into()));
        assert_eq!(a.api_base, TWILIO_API);
        assert_eq!(a.callback_base, None);
        let a = account(&[
            ("account_sid", SID),
            ("auth_token", "t"),
            ("from_number", " +15005550006 "),
            ("api_base_url", "http://127.0.0.1:9/"),
            ("callback_base_url", "https://shop.example/sms/"),
        ])
        .unwrap();
        assert_eq!(a.sender, Sender::Number("+15005550006".into()));
        assert_eq!(a.api_base, "http://127.0.0.1:9");
        assert_eq!(a.callback_base.as_deref(), Some("https://shop.example/sms"));
    }

    #[test]
    fn missing_or_malformed_settings_name_what_to_fix() {
        let why = |pairs: &[(&str, &str)]| match account(pairs) {
            Err(PluginError::Internal(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(why(&[("auth_token", "t"), ("from_number", "+15005550006")]).contains("`account_sid`"));
        assert!(why(&[("account_sid", "AC123"), ("auth_token", "t")]).contains("`account_sid`"));
        assert!(why(&[("account_sid", SID), ("from_number", "+15005550006")]).contains("`auth_token`"));
        assert!(why(&[("account_sid", SID), ("auth_token", "t")]).contains("`from_number`"));
        assert!(
            why(&[("account_sid", SID), ("auth_token", "t"), ("from_number", "0039333")]).contains("`from_number`")
        );
        assert!(
            why(&[("account_sid", SID), ("auth_token", "t"), ("messaging_service_sid", "MGxyz")])
                .contains("`messaging_service_sid`")
        );
    }

    #[test]
    fn the_language_is_the_setting_else_the_shops_else_english() {
        assert_eq!(language(Some("en"), "it"), "en");
        assert_eq!(language(Some(" IT "), "en"), "it");
        assert_eq!(language(Some(""), "it-IT"), "it");
        assert_eq!(language(Some("de"), "it"), "it");
        assert_eq!(language(None, "fr"), "en");
    }

    #[test]
    fn sids_and_numbers() {
        assert!(is_sid(SID, "AC"));
        assert!(!is_sid(SID, "MG"));
        assert!(!is_sid("AC0123456789abcdef0123456789abcdeg", "AC"));
        assert!(is_e164("+393331234567"));
        assert!(!is_e164("393331234567"));
        assert!(!is_e164("+0393331234567"));
        assert!(!is_e164("+123456"));
    }
}
