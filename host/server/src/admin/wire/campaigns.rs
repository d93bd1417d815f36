//! Campaigns: a message per channel to a segment, their progress, previews
//! and results.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Money, wire_enum};

wire_enum! {
    /// The channel a campaign message goes through.
    Medium <=> Medium { Email, Sms }
}

wire_enum! {
    /// `draft`: saved; `scheduled`: starts at `send_at_ms`; `sending`:
    /// recipients fixed, batches going out; `sent`: every recipient handled.
    CampaignStatus <=> CampaignStatus { Draft, Scheduled, Sending, Sent }
}

wire_enum! {
    /// Why a recipient got no message on a channel: no marketing consent for
    /// it; no e-mail address or phone number; already sent (two entries
    /// became one person); profile erased since the list was made; the
    /// message did not render for them.
    SkipReason <=> SkipReason { NoConsent, NoIdentity, AlreadySent, CustomerGone, RenderFailed }
}

/// The e-mail of a campaign, in Liquid (`customer`, `shop`, `campaign`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub(crate) struct EmailMessage {
    /// The e-mail installation that sends it.
    pub channel_id: String,
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    pub html: Option<String>,
}

/// The text message of a campaign, in Liquid.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub(crate) struct SmsMessage {
    /// The SMS installation that sends it.
    pub channel_id: String,
    pub text: String,
}

impl From<domain::EmailMessage> for EmailMessage {
    fn from(e: domain::EmailMessage) -> EmailMessage {
        EmailMessage { channel_id: e.channel_id.to_string(), subject: e.subject, text: e.text, html: e.html }
    }
}

impl From<EmailMessage> for domain::EmailMessage {
    fn from(e: EmailMessage) -> domain::EmailMessage {
        domain::EmailMessage { channel_id: e.channel_id.into(), subject: e.subject, text: e.text, html: e.html }
    }
}

impl From<domain::SmsMessage> for SmsMessage {
    fn from(s: domain::SmsMessage) -> SmsMessage {
        SmsMessage { channel_id: s.channel_id.to_string(), text: s.text }
    }
}

impl From<SmsMessage> for domain::SmsMessage {
    fn from(s: SmsMessage) -> domain::SmsMessage {
        domain::SmsMessage { channel_id: s.channel_id.into(), text: s.text }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewCampaign {
    pub name: String,
    pub segment_id: String,
    pub email: Option<EmailMessage>,
    pub sms: Option<SmsMessage>,
    /// The shop's web address; links that start with it get
    /// `utm_campaign`, `utm_medium` and `utm_source`.
    pub shop_url: Option<String>,
    /// Start by itself at this time; absent: a draft to send.
    pub send_at_ms: Option<i64>,
}

impl From<NewCampaign> for domain::NewCampaign {
    fn from(c: NewCampaign) -> domain::NewCampaign {
        domain::NewCampaign {
            name: c.name,
            segment_id: c.segment_id.into(),
            email: c.email.map(Into::into),
            sms: c.sms.map(Into::into),
            shop_url: c.shop_url,
            send_at_ms: c.send_at_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Skipped {
    pub reason: SkipReason,
    pub count: u64,
}

fn skipped(list: Vec<(domain::SkipReason, u64)>) -> Vec<Skipped> {
    list.into_iter().map(|(reason, count)| Skipped { reason: reason.into(), count }).collect()
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ChannelProgress {
    /// Messages handed to the channel.
    pub queued: u64,
    pub skipped: Vec<Skipped>,
}

impl From<domain::ChannelProgress> for ChannelProgress {
    fn from(p: domain::ChannelProgress) -> ChannelProgress {
        ChannelProgress { queued: p.queued, skipped: skipped(p.skipped) }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CampaignProgress {
    /// Recipients in the list made when sending started.
    pub total: u64,
    /// Recipients handled so far.
    pub done: u64,
    pub email: ChannelProgress,
    pub sms: ChannelProgress,
}

impl From<domain::CampaignProgress> for CampaignProgress {
    fn from(p: domain::CampaignProgress) -> CampaignProgress {
        CampaignProgress { total: p.total, done: p.done, email: p.email.into(), sms: p.sms.into() }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Campaign {
    pub id: String,
    pub name: String,
    pub segment_id: String,
    pub email: Option<EmailMessage>,
    pub sms: Option<SmsMessage>,
    pub shop_url: Option<String>,
    pub status: CampaignStatus,
    pub send_at_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub progress: CampaignProgress,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Campaign> for Campaign {
    fn from(c: domain::Campaign) -> Campaign {
        Campaign {
            id: c.id.to_string(),
            name: c.name,
            segment_id: c.segment_id.to_string(),
            email: c.email.map(Into::into),
            sms: c.sms.map(Into::into),
            shop_url: c.shop_url,
            status: c.status.into(),
            send_at_ms: c.send_at_ms,
            started_ms: c.started_ms,
            finished_ms: c.finished_ms,
            progress: c.progress.into(),
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

/// The e-mail as one customer would get it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct EmailPreview {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Customers of the segment it would reach if sent now (consent and an address).
    pub recipients: u64,
}

/// The text as one customer would get it, and what it costs to send.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SmsPreview {
    pub text: String,
    /// `GSM-7` or `UCS-2`.
    pub encoding: String,
    /// SMS parts the text is sent in.
    pub segments: u64,
    /// Characters as the segment budget counts them.
    pub characters: u64,
    /// Customers of the segment it would reach if sent now (consent and a number).
    pub recipients: u64,
    /// `segments` × `recipients`: what sending now would cost, in SMS parts,
    /// if every customer's text took as many parts as this one.
    pub estimated_segments: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CampaignPreview {
    pub customer_id: String,
    pub email: Option<EmailPreview>,
    pub sms: Option<SmsPreview>,
}

impl CampaignPreview {
    pub(crate) fn new(customer: String, p: domain::CampaignPreview) -> CampaignPreview {
        CampaignPreview {
            customer_id: customer,
            email: p.email.map(|e| EmailPreview {
                subject: e.subject,
                text: e.text,
                html: e.html,
                recipients: p.email_reach,
            }),
            sms: p.sms.map(|s| {
                // The one segment counter, shared with the SMS channel and the CLI.
                let count = omnistore_sms::count_segments(&s.text);
                SmsPreview {
                    encoding: count.encoding.name().to_owned(),
                    segments: count.segments as u64,
                    characters: count.characters as u64,
                    recipients: p.sms_reach,
                    estimated_segments: count.segments as u64 * p.sms_reach,
                    text: s.text,
                }
            }),
        }
    }
}

/// Which customer to preview the messages for.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewQuery {
    pub customer: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ChannelResults {
    pub medium: Medium,
    pub queued: u64,
    pub skipped: Vec<Skipped>,
    /// Messages the channel's plugin accepted for delivery.
    pub delivered: u64,
    /// Messages the plugin failed for good (dead letters).
    pub failed: u64,
    /// Recipients who came to the shop through a link of this message.
    pub clicked: u64,
    /// Orders whose last campaign touch was this message, and their revenue.
    pub orders_last_touch: u64,
    pub revenue_last_touch: Money,
    /// Orders whose first campaign touch (in the window) was this message.
    pub orders_first_touch: u64,
    pub revenue_first_touch: Money,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CampaignResults {
    pub campaign: Campaign,
    pub channels: Vec<ChannelResults>,
}

impl From<domain::CampaignResults> for CampaignResults {
    fn from(r: domain::CampaignResults) -> CampaignResults {
        CampaignResults {
            campaign: r.campaign.into(),
            channels: r
                .channels
                .into_iter()
                .map(|c| ChannelResults {
                    medium: c.medium.into(),
                    queued: c.queued,
                    skipped: skipped(c.skipped),
                    delivered: c.delivered,
                    failed: c.failed,
                    clicked: c.clicked,
                    orders_last_touch: c.orders_last_touch,
                    revenue_last_touch: c.revenue_last_touch.into(),
                    orders_first_touch: c.orders_first_touch,
                    revenue_first_touch: c.revenue_first_touch.into(),
                })
                .collect(),
        }
    }
}
