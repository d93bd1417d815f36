//! Templates compiled into the binary and the frame every page shares.
//!
//! minijinja escapes every value in `.html` templates; undefined values are
//! errors (a misspelt field or translation key fails the render, and the
//! tests render every page in both languages).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};

use super::UiError;
use super::i18n::Locale;
use super::session::Session;
use crate::admin::AdminError;

macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),+]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "base.html",
    "macros.html",
    "sign_in.html",
    "agency.html",
    "agency_tenant.html",
    "dashboard.html",
    "customers.html",
    "customer.html",
    "channels.html",
    "channel.html",
    "channel_catalogue.html",
    "channel_install.html",
    "orders.html",
    "order.html",
    "products.html",
    "product.html",
    "inventory.html",
    "promotions.html",
    "promotion.html",
    "segments.html",
    "campaigns.html",
    "campaign_new.html",
    "campaign.html",
    "shop.html",
    "inventory_ledger.html",
);

/// The compiled templates.
pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub(crate) fn new() -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|e| anyhow::anyhow!("admin template {name}: {e}"))?;
        }
        Ok(Templates { env })
    }

    fn render(&self, name: &str, context: &Value) -> Result<String, AdminError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|e| AdminError::internal(format!("rendering the admin page {name}: {e:#}")))
    }
}

/// What frames a page: language, who is signed in, the form token, where
/// the language switch comes back to.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub locale: Locale,
    /// The section of the navigation to mark as current.
    pub nav: &'static str,
    /// The path (and query) of this page.
    pub here: String,
    pub csrf: String,
    /// Who is signed in, as shown.
    pub signed_in: Option<String>,
    /// Whether the shop's navigation is shown (a tenant user's session).
    pub shop: bool,
}

impl Chrome {
    pub(crate) fn new(locale: Locale, session: Option<&Session>, nav: &'static str, here: impl Into<String>) -> Chrome {
        use super::session::Who;
        let signed_in = session.map(|s| match &s.who {
            Who::Operator => locale.t("operator").to_owned(),
            Who::User { tenant, email } => format!("{email} · {tenant}"),
        });
        Chrome {
            locale,
            nav,
            here: here.into(),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            shop: session.is_some_and(|s| s.tenant().is_some()),
            signed_in,
        }
    }
}

/// Render `name` with `data` in `chrome`'s frame, answering `status`.
pub(crate) fn page(
    state: &super::UiState,
    status: StatusCode,
    name: &str,
    chrome: &Chrome,
    data: Value,
) -> Result<Response, UiError> {
    let other = chrome.locale.other();
    let switch = format!("/admin/language?to={}&back={}", other.code(), super::forms::url_encode(&chrome.here));
    let context = json!({
        "t": chrome.locale.strings(),
        "lang": chrome.locale.code(),
        "switch_href": switch,
        "switch_label": other.t("language_name"),
        "switch_lang": other.code(),
        "nav": chrome.nav,
        "csrf": chrome.csrf,
        "signed_in": chrome.signed_in,
        "shop": chrome.shop,
        "page": data,
    });
    let html = state.templates.render(name, &context)?;
    Ok((status, Html(html)).into_response())
}

/// Text made safe to put in HTML by hand (the templates escape by themselves).
pub(crate) fn escape(text: &str) -> String {
    // The one HTML escape of the product, the same as Liquid's `escape`.
    omnistore_liquid::escape_html(text)
}
