//! The demo's campaign: a few regular customers of the pastry shop with their
//! e-mail addresses, phone numbers and different consents, a saved segment of
//! them and a draft campaign by e-mail and SMS, so a newcomer can send one and
//! see who got what — and who was skipped for want of consent.

use serde::{Deserialize, Serialize};

use crate::campaigns::{Campaign, EmailMessage, NewCampaign, SmsMessage};
use crate::customers::{ConsentPurpose, Identity, NewCustomer};
use crate::error::CoreResult;
use crate::ids::{CampaignId, ChannelId, CustomerId, SegmentId, TenantId};
use crate::segments::{NewSegment, Segment, SegmentRule};
use crate::store::Core;

/// The tag the demo's regulars carry and its segment selects.
pub const DEMO_CUSTOMER_TAG: &str = "amici";
pub const DEMO_SEGMENT_NAME: &str = "Amici della pasticceria";
pub const DEMO_CAMPAIGN_NAME: &str = "La settimana dei cannoli";

/// A regular: name, e-mail, phone, and whether they agreed to marketing
/// e-mail and to marketing texts.
struct Regular {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    email_consent: bool,
    sms_consent: bool,
}

/// Every combination of consents once, so the campaign's results show a
/// message on each channel and a skip for want of consent on each.
const REGULARS: &[Regular] = &[
    Regular {
        name: "Marco Rossi",
        email: "marco.rossi@example.com",
        phone: "+393331234501",
        email_consent: true,
        sms_consent: true,
    },
    Regular {
        name: "Sofia Bianchi",
        email: "sofia.bianchi@example.com",
        phone: "+393331234502",
        email_consent: true,
        sms_consent: false,
    },
    Regular {
        name: "Luca Esposito",
        email: "luca.esposito@example.com",
        phone: "+393331234503",
        email_consent: false,
        sms_consent: true,
    },
    Regular {
        name: "Anna Romano",
        email: "anna.romano@example.com",
        phone: "+393331234504",
        email_consent: false,
        sms_consent: false,
    },
];

/// One of the demo's customers as seeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCustomer {
    pub id: CustomerId,
    pub email: String,
    pub phone: String,
    pub email_consent: bool,
    pub sms_consent: bool,
}

/// What [`seed_demo_campaign`] found or created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCampaign {
    pub customers: Vec<DemoCustomer>,
    pub segment: SegmentId,
    pub campaign: CampaignId,
    /// True when the campaign was saved now (false: found from an earlier start).
    pub created: bool,
}

/// Seed the demo's regulars, their segment and a draft campaign sent through
/// the given e-mail and SMS channels with links to `shop_url`. Idempotent:
/// a customer found by e-mail address is left as the merchant has it (so a
/// restart adds no consent history), and the segment and campaign are found
/// by name — a campaign already sent stays sent.
pub fn seed_demo_campaign(
    core: &Core,
    tenant: &TenantId,
    email_channel: &ChannelId,
    sms_channel: &ChannelId,
    shop_url: &str,
    now_ms: i64,
) -> CoreResult<DemoCampaign> {
    let mut customers = Vec::new();
    for r in REGULARS {
        let email = Identity::email(r.email)?;
        let id = match core.find_customer(tenant, &email)? {
            Some(c) => c.id,
            None => {
                let new = NewCustomer { name: Some(r.name.into()), identities: vec![email, Identity::phone(r.phone)?] };
                let c = core.create_customer(tenant, new, now_ms)?;
                for (purpose, granted) in
                    [(ConsentPurpose::EmailMarketing, r.email_consent), (ConsentPurpose::SmsMarketing, r.sms_consent)]
                {
                    // Only decisions made: "never asked" is how a customer without one looks.
                    if granted {
                        core.set_consent(tenant, &c.id, purpose, true, None, "demo: shop counter sign-up", now_ms)?;
                    }
                }
                core.set_customer_tags(tenant, &c.id, &[DEMO_CUSTOMER_TAG.to_string()], now_ms)?;
                c.id
            }
        };
        customers.push(DemoCustomer {
            id,
            email: r.email.into(),
            phone: r.phone.into(),
            email_consent: r.email_consent,
            sms_consent: r.sms_consent,
        });
    }

    let segment = match all_pages(|after| core.list_segments(tenant, after, 100), |s: &Segment| &s.id)?
        .into_iter()
        .find(|s| s.name == DEMO_SEGMENT_NAME)
    {
        Some(s) => s.id,
        None => {
            let rule = SegmentRule::Tagged { tag: DEMO_CUSTOMER_TAG.into() };
            core.create_segment(tenant, NewSegment { name: DEMO_SEGMENT_NAME.into(), rule }, now_ms)?.id
        }
    };

    let existing = all_pages(|after| core.list_campaigns(tenant, after, 100), |c: &Campaign| &c.id)?
        .into_iter()
        .find(|c| c.name == DEMO_CAMPAIGN_NAME);
    let (campaign, created) = match existing {
        Some(c) => (c.id, false),
        None => {
            let shop = shop_url.trim_end_matches('/');
            let new = NewCampaign {
                name: DEMO_CAMPAIGN_NAME.into(),
                segment_id: segment.clone(),
                email: Some(EmailMessage {
                    channel_id: email_channel.clone(),
                    subject: "{{ customer.first_name }}, è la settimana dei cannoli".into(),
                    text: format!(
                        "Ciao {{{{ customer.first_name }}}},\n\n\
                         questa settimana i cannoli di {{{{ shop.name }}}} sono scontati del 20%: \
                         ricotta di pecora, pistacchio di Bronte, cialde fritte al momento.\n\n\
                         Scegli i tuoi: {shop}/collections/cannoli\n"
                    ),
                    html: Some(format!(
                        "<p>Ciao {{{{ customer.first_name }}}},</p>\
                         <p>questa settimana i cannoli di {{{{ shop.name }}}} sono scontati del 20%: \
                         ricotta di pecora, pistacchio di Bronte, cialde fritte al momento.</p>\
                         <p><a href=\"{shop}/collections/cannoli\">Scegli i tuoi cannoli</a></p>"
                    )),
                }),
                sms: Some(SmsMessage {
                    channel_id: sms_channel.clone(),
                    text: format!(
                        "{{{{ shop.name }}}}: {{{{ customer.first_name }}}}, cannoli -20% questa settimana! \
                         {shop}/collections/cannoli"
                    ),
                }),
                shop_url: Some(shop.to_owned()),
                send_at_ms: None,
            };
            (core.create_campaign(tenant, new, now_ms)?.id, true)
        }
    };
    Ok(DemoCampaign { customers, segment, campaign, created })
}

/// Every item of a paged list.
fn all_pages<T, I: Clone>(
    mut page: impl FnMut(Option<&I>) -> CoreResult<Vec<T>>,
    id: impl Fn(&T) -> &I,
) -> CoreResult<Vec<T>> {
    let mut all: Vec<T> = Vec::new();
    loop {
        let after = all.last().map(|t| id(t).clone());
        let items = page(after.as_ref())?;
        if items.is_empty() {
            return Ok(all);
        }
        all.extend(items);
    }
}
