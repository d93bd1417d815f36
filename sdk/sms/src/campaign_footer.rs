//! The opt-out line an SMS channel adds under every campaign text, and where
//! its settings keep it. The SMS channel appends it when it sends; the host's
//! campaign preview appends the same line, read from the same settings, so the
//! parts and cost shown before sending are those of the texts that go out.
//!
//! Settings of the installation: `language` (`it` or `en`; empty: the shop's
//! primary language) and `template.campaign_footer.<language>`, a Liquid
//! template with `shop.name`; an empty template adds no line.

use omnistore_liquid::{ParseOptions, RenderOptions, Template};

/// The language the channel writes in: the `language` setting when it names
/// one it has texts for, else the shop's primary language, else English.
pub fn language(setting: Option<&str>, shop_primary: &str) -> &'static str {
    let pick = |tag: &str| match tag.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase().as_str() {
        "it" => Some("it"),
        "en" => Some("en"),
        _ => None,
    };
    setting.and_then(pick).or_else(|| pick(shop_primary)).unwrap_or("en")
}

/// The setting that holds the footer in `language`.
pub fn setting_key(language: &str) -> String {
    format!("template.campaign_footer.{language}")
}

/// A footer template that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the template `{setting}` cannot be used: {source}; correct it in the settings")]
pub struct FooterError {
    pub setting: String,
    #[source]
    pub source: omnistore_liquid::Error,
}

/// The footer rendered for the shop `shop_name`; `None` when the merchant
/// emptied it.
pub fn render(language: &str, source: &str, shop_name: &str) -> Result<Option<String>, FooterError> {
    if source.trim().is_empty() {
        return Ok(None);
    }
    let broken = |source| FooterError { setting: setting_key(language), source };
    let template = Template::parse(source, &ParseOptions::default()).map_err(broken)?;
    let vars = serde_json::json!({ "shop": { "name": shop_name } });
    let text = template.render_json(&vars, &RenderOptions::default()).map_err(broken)?;
    Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
}

/// The campaign text as sent: the merchant's text with the footer on a line
/// of its own.
pub fn with_footer(text: &str, footer: Option<&str>) -> String {
    match footer {
        Some(footer) => format!("{}\n{footer}", text.trim()),
        None => text.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_wins_then_the_shop_then_english() {
        assert_eq!(language(Some("it"), "en"), "it");
        assert_eq!(language(Some(""), "it-IT"), "it");
        assert_eq!(language(Some("de"), "fr"), "en");
        assert_eq!(language(None, "EN_gb"), "en");
    }

    #[test]
    fn the_footer_is_rendered_on_its_own_line_and_an_empty_one_adds_nothing() {
        let footer = render("it", "{{ shop.name }}: rispondi STOP ", "Dolce Vita").unwrap();
        assert_eq!(with_footer(" Cannoli -20% ", footer.as_deref()), "Cannoli -20%\nDolce Vita: rispondi STOP");
        assert_eq!(render("it", "  ", "Dolce Vita").unwrap(), None);
        assert_eq!(with_footer("Ciao", None), "Ciao");
    }

    #[test]
    fn a_broken_footer_names_its_setting() {
        let err = render("en", "{% if %}", "Shop").unwrap_err().to_string();
        assert!(err.contains("template.campaign_footer.en"), "{err}");
    }
}
