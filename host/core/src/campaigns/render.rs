//! A campaign's messages rendered for one customer: Liquid over the
//! customer's data, under limits, then every link to the shop tagged with the
//! campaign so a click comes back as a campaign touchpoint.

use omnistore_liquid::{ParseOptions, RenderOptions, Template};
use serde_json::json;

use super::{Campaign, EmailMessage, Medium};
use crate::customers::{Customer, IdentityKind};
use crate::error::{CoreError, CoreResult};
use crate::tenants::Tenant;

/// Longest template source, in bytes: subject and SMS text, and a body.
pub const MAX_SHORT_TEMPLATE: usize = 4 * 1024;
pub const MAX_BODY_TEMPLATE: usize = 256 * 1024;
/// Longest rendered SMS, in characters: Twilio refuses more than 1,600.
pub const MAX_SMS_CHARS: usize = 1600;
/// Longest rendered subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 250;

/// One message as the customer will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The e-mail's subject; empty for SMS.
    pub subject: String,
    pub text: String,
    /// The e-mail's HTML body, when the campaign has one.
    pub html: Option<String>,
}

/// A campaign's templates, parsed once for many customers.
pub(crate) struct Templates {
    email: Option<(Template, Template, Option<Template>)>,
    sms: Option<Template>,
}

fn parse_options() -> ParseOptions {
    // A filter nobody defined is a mistake the merchant must see when saving,
    // not an empty gap in every message.
    let mut options = ParseOptions::default();
    options.strict_filters = true;
    options.max_template_bytes = MAX_BODY_TEMPLATE;
    options
}

fn render_options() -> RenderOptions<'static> {
    RenderOptions {
        max_output_bytes: 512 * 1024,
        max_work_bytes: 4 << 20,
        max_loop_iterations: 10_000,
        ..RenderOptions::default()
    }
}

fn parse(field: &str, source: &str, max: usize) -> CoreResult<Template> {
    if source.len() > max {
        return Err(CoreError::invalid(format!("{field} must be at most {max} bytes")));
    }
    Template::parse(source, &parse_options()).map_err(|e| CoreError::invalid(format!("{field}: {e}")))
}

impl Templates {
    /// Parse every template of the campaign; a syntax error names the field.
    pub(crate) fn parse(email: Option<&EmailMessage>, sms: Option<&str>) -> CoreResult<Templates> {
        let email = match email {
            Some(e) => Some((
                parse("e-mail subject", &e.subject, MAX_SHORT_TEMPLATE)?,
                parse("e-mail text", &e.text, MAX_BODY_TEMPLATE)?,
                e.html.as_deref().map(|h| parse("e-mail HTML", h, MAX_BODY_TEMPLATE)).transpose()?,
            )),
            None => None,
        };
        let sms = sms.map(|t| parse("SMS text", t, MAX_SHORT_TEMPLATE)).transpose()?;
        Ok(Templates { email, sms })
    }

    /// The message of `medium` for one customer; an error names the field
    /// and says what went wrong.
    pub(crate) fn render(
        &self,
        medium: Medium,
        campaign: &Campaign,
        tenant: &Tenant,
        customer: &Customer,
    ) -> CoreResult<Rendered> {
        let data = data(campaign, tenant, customer);
        let run = |field: &str, t: &Template| {
            t.render_json(&data, &render_options()).map_err(|e| CoreError::invalid(format!("{field}: {e}")))
        };
        let links = |text: String, html: bool| match &campaign.shop_url {
            Some(shop) => tag_links(&text, shop, campaign.id.as_str(), medium, html),
            None => text,
        };
        match medium {
            Medium::Email => {
                let (subject, text, html) =
                    self.email.as_ref().ok_or_else(|| CoreError::invalid("the campaign has no e-mail message"))?;
                let subject = run("e-mail subject", subject)?.split_whitespace().collect::<Vec<_>>().join(" ");
                if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
                    return Err(CoreError::invalid(format!(
                        "e-mail subject must render to 1-{MAX_SUBJECT_CHARS} characters, got {}",
                        subject.chars().count()
                    )));
                }
                let text = links(run("e-mail text", text)?, false);
                let html = html.as_ref().map(|h| run("e-mail HTML", h)).transpose()?.map(|h| links(h, true));
                Ok(Rendered { subject, text, html })
            }
            Medium::Sms => {
                let sms = self.sms.as_ref().ok_or_else(|| CoreError::invalid("the campaign has no SMS message"))?;
                let text = links(run("SMS text", sms)?.trim().to_owned(), false);
                let chars = text.chars().count();
                if chars == 0 || chars > MAX_SMS_CHARS {
                    return Err(CoreError::invalid(format!(
                        "SMS text must render to 1-{MAX_SMS_CHARS} characters, got {chars}"
                    )));
                }
                Ok(Rendered { subject: String::new(), text, html: None })
            }
        }
    }
}

/// What a template sees: `customer`, `shop` and `campaign`.
fn data(campaign: &Campaign, tenant: &Tenant, c: &Customer) -> serde_json::Value {
    let name = c.name.clone().unwrap_or_default();
    let first_name = name.split_whitespace().next().unwrap_or_default().to_owned();
    let identity = |kind: IdentityKind| c.identity(&kind).map(|i| i.value.clone());
    json!({
        "customer": {
            "id": c.id,
            "name": name,
            "first_name": first_name,
            "email": identity(IdentityKind::Email),
            "phone": identity(IdentityKind::Phone),
            "tags": c.tags,
        },
        "shop": { "name": tenant.name, "url": campaign.shop_url },
        "campaign": { "id": campaign.id, "name": campaign.name },
    })
}

/// A stand-in customer for checking templates when a campaign is saved.
pub(crate) fn sample_customer() -> Customer {
    Customer {
        id: crate::ids::CustomerId::new("cus-sample"),
        name: Some("Giulia Rossi".into()),
        identities: vec![],
        consents: vec![],
        merged_into: None,
        tags: vec![],
        created_ms: 0,
        updated_ms: 0,
    }
}

/// Append `utm_campaign`, `utm_medium` and `utm_source` to every link that
/// starts with the shop's address (the storefront turns them into a campaign
/// touchpoint). Links elsewhere, and links that already name a campaign, are
/// left alone. In HTML the separator is written `&amp;`.
pub(crate) fn tag_links(text: &str, shop_url: &str, campaign: &str, medium: Medium, html: bool) -> String {
    let shop = shop_url.trim_end_matches('/');
    if shop.is_empty() {
        return text.to_owned();
    }
    let amp = if html { "&amp;" } else { "&" };
    let params = format!("utm_campaign={campaign}{amp}utm_medium={}{amp}utm_source=omnistore", medium.as_str());
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find(shop) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + shop.len()..];
        // `https://shop.example` must not match `https://shop.example.evil`.
        let boundary = tail.chars().next().is_none_or(|c| matches!(c, '/' | '?' | '#') || ends_url(c));
        let len = tail.find(ends_url).unwrap_or(tail.len());
        let mut url = &rest[at..at + shop.len() + len];
        // Sentence punctuation after a link is not part of it.
        while let Some(stripped) = url.strip_suffix(['.', ',', ';', ':', '!', '?', ')'])
            && stripped.len() >= shop.len()
        {
            url = stripped;
        }
        if !boundary || url.contains("utm_campaign=") {
            out.push_str(url);
        } else {
            let (base, fragment) = match url.split_once('#') {
                Some((base, fragment)) => (base, Some(fragment)),
                None => (url, None),
            };
            out.push_str(base);
            if !base.contains('?') {
                out.push('?');
            } else if !(base.ends_with('?') || base.ends_with('&')) {
                out.push_str(amp);
            }
            out.push_str(&params);
            if let Some(fragment) = fragment {
                out.push('#');
                out.push_str(fragment);
            }
        }
        rest = &rest[at + url.len()..];
    }
    out.push_str(rest);
    out
}

fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = "https://dolcevita.example";

    #[test]
    fn links_to_the_shop_carry_the_campaign() {
        let t = tag_links("Vieni: https://dolcevita.example/cannoli. Ciao", SHOP, "cmp-1", Medium::Sms, false);
        assert_eq!(
            t,
            "Vieni: https://dolcevita.example/cannoli?utm_campaign=cmp-1&utm_medium=sms&utm_source=omnistore. Ciao"
        );
        let t = tag_links(
            r#"<a href="https://dolcevita.example/p?x=1#top">x</a> <a href="https://other.example/">y</a>"#,
            SHOP,
            "cmp-1",
            Medium::Email,
            true,
        );
        assert_eq!(
            t,
            r#"<a href="https://dolcevita.example/p?x=1&amp;utm_campaign=cmp-1&amp;utm_medium=email&amp;utm_source=omnistore#top">x</a> <a href="https://other.example/">y</a>"#
        );
        let t = tag_links("https://dolcevita.example", SHOP, "cmp-1", Medium::Email, false);
        assert_eq!(t, "https://dolcevita.example?utm_campaign=cmp-1&utm_medium=email&utm_source=omnistore");
    }

    #[test]
    fn lookalike_hosts_and_tagged_links_are_left_alone() {
        for text in
            ["https://dolcevita.example.evil/x", "https://dolcevita.example/x?utm_campaign=other", "no links at all"]
        {
            assert_eq!(tag_links(text, SHOP, "cmp-1", Medium::Sms, false), text);
        }
    }
}
