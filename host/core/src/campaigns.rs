//! Campaigns: a message per channel (e-mail, SMS) in Liquid, sent to a
//! segment now or at a scheduled time, exactly once per (campaign, customer,
//! channel), with its progress and results.
//!
//! Life of a campaign: `draft` (saved; `send_at` makes it `scheduled`) →
//! `sending` when started — by the merchant, or by the clock through
//! [`Core::run_campaigns`], which the dispatcher calls every round — which
//! expands the segment once into a stored recipient list → `sent` when the
//! last batch went out.
//!
//! **Exactly once.** Sending walks the recipient list in batches
//! (`send.rs`); each batch is one transaction that writes, for every recipient
//! and channel, either a skip (counted by reason) or one `campaign.message`
//! event with a marker `cmpmsg/{campaign}/{channel}/{customer}` holding its
//! id, and moves the stored cursor past the batch. A crash before the commit
//! leaves none of it, a crash after leaves all of it, so a resumed send
//! starts at the first recipient without a decision; the marker also stops
//! a second message when two entries of the list are one person (merged
//! profiles). Each event's id is derived from (campaign, customer, channel)
//! (`Tx::emit_derived`), and delivery to the plugin keeps it,
//! so a plugin that deduplicates on event ids never sends twice either.

mod render;
mod results;
mod send;

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::customers::{ConsentPurpose, IdentityKind, load_customer};
use crate::error::{CoreError, CoreResult};
use crate::event_kind::EventKind;
use crate::ids::{CampaignId, ChannelId, CustomerId, SegmentId, TenantId};
use crate::segments::{load_segment, members_tx};
use crate::store::{Core, Tx, sortable};
use crate::tenants::Channel;
use crate::validate;

pub use render::{MAX_SMS_CHARS, Rendered};
pub use results::{CampaignResults, ChannelResults};
pub use send::{BATCH, CampaignRound};

/// A channel a campaign speaks through. Each has its marketing consent and
/// the identity a message needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Email,
    Sms,
}

impl Medium {
    pub const ALL: [Medium; 2] = [Medium::Email, Medium::Sms];

    /// `email` or `sms`: the `utm_medium` of its links.
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Email => "email",
            Medium::Sms => "sms",
        }
    }

    pub fn purpose(self) -> ConsentPurpose {
        match self {
            Medium::Email => ConsentPurpose::EmailMarketing,
            Medium::Sms => ConsentPurpose::SmsMarketing,
        }
    }

    pub fn identity(self) -> IdentityKind {
        match self {
            Medium::Email => IdentityKind::Email,
            Medium::Sms => IdentityKind::Phone,
        }
    }
}

/// The e-mail of a campaign: Liquid templates and the installation that sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMessage {
    /// The e-mail channel that delivers it (it must take `campaign.message`).
    pub channel_id: ChannelId,
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML body beside the text.
    pub html: Option<String>,
}

/// The text message of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    /// The SMS channel that delivers it (it must take `campaign.message`).
    pub channel_id: ChannelId,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Saved, waiting for the merchant to send it.
    Draft,
    /// Starts by itself at `send_at_ms`.
    Scheduled,
    /// Recipients fixed; batches going out.
    Sending,
    /// Every recipient was given a message or counted as skipped.
    Sent,
}

/// Why a recipient got no message on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No marketing consent for the channel (never given, or withdrawn).
    NoConsent,
    /// No e-mail address (for e-mail) or phone number (for SMS).
    NoIdentity,
    /// Already sent this message: two entries of the list became one person.
    AlreadySent,
    /// The profile was erased after the list was made.
    CustomerGone,
    /// The message did not render for this customer.
    RenderFailed,
}

impl SkipReason {
    pub const ALL: [SkipReason; 5] = [
        SkipReason::NoConsent,
        SkipReason::NoIdentity,
        SkipReason::AlreadySent,
        SkipReason::CustomerGone,
        SkipReason::RenderFailed,
    ];
}

/// Progress of one channel of a sending campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelProgress {
    /// Messages handed to the channel (one event each).
    pub queued: u64,
    /// Recipients skipped, by reason (reasons with none are left out).
    pub skipped: Vec<(SkipReason, u64)>,
}

impl ChannelProgress {
    pub fn skipped(&self, reason: SkipReason) -> u64 {
        self.skipped.iter().find(|(r, _)| *r == reason).map_or(0, |(_, n)| *n)
    }

    fn skip(&mut self, reason: SkipReason) {
        match self.skipped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => {
                self.skipped.push((reason, 1));
                self.skipped.sort();
            }
        }
    }
}

/// Where a send stands; stored with the campaign and moved by each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignProgress {
    /// Recipients in the list made at send time.
    pub total: u64,
    /// Recipients handled so far (the cursor into the list).
    pub done: u64,
    pub email: ChannelProgress,
    pub sms: ChannelProgress,
}

impl CampaignProgress {
    pub fn channel(&self, medium: Medium) -> &ChannelProgress {
        match medium {
            Medium::Email => &self.email,
            Medium::Sms => &self.sms,
        }
    }

    fn channel_mut(&mut self, medium: Medium) -> &mut ChannelProgress {
        match medium {
            Medium::Email => &mut self.email,
            Medium::Sms => &mut self.sms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub segment_id: SegmentId,
    pub email: Option<EmailMessage>,
    pub sms: Option<SmsMessage>,
    /// The shop's web address: links starting with it carry the campaign.
    pub shop_url: Option<String>,
    pub status: CampaignStatus,
    /// When a scheduled campaign starts.
    pub send_at_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub progress: CampaignProgress,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Campaign {
    /// The channels the campaign speaks through, e-mail first.
    pub fn media(&self) -> Vec<Medium> {
        Medium::ALL
            .into_iter()
            .filter(|m| match m {
                Medium::Email => self.email.is_some(),
                Medium::Sms => self.sms.is_some(),
            })
            .collect()
    }

    /// The installation that delivers the campaign's messages of `medium`.
    pub fn channel_for(&self, medium: Medium) -> Option<&ChannelId> {
        match medium {
            Medium::Email => self.email.as_ref().map(|e| &e.channel_id),
            Medium::Sms => self.sms.as_ref().map(|s| &s.channel_id),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewCampaign {
    pub name: String,
    pub segment_id: SegmentId,
    pub email: Option<EmailMessage>,
    pub sms: Option<SmsMessage>,
    pub shop_url: Option<String>,
    /// Start by itself at this time; `None`: a draft the merchant sends.
    pub send_at_ms: Option<i64>,
}

/// The payload of a `campaign.message` event in the outbox: one customer's
/// rendered message for one channel, addressed to the installation that
/// delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignMessageEvent {
    pub campaign_id: CampaignId,
    pub customer_id: CustomerId,
    /// The installation that delivers it; fan-out sends it to no other.
    pub channel_id: ChannelId,
    pub medium: Medium,
    /// The e-mail's subject; empty for SMS.
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// A campaign's messages as one customer would get them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignPreview {
    /// The profile rendered for (the surviving one, for a merged-away id).
    pub customer_id: CustomerId,
    pub email: Option<Rendered>,
    pub sms: Option<Rendered>,
    /// Customers of the segment an e-mail (a text) would reach now.
    pub email_reach: u64,
    pub sms_reach: u64,
}

fn check_shop_url(url: Option<&str>) -> CoreResult<Option<String>> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return Ok(None) };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    let ok = url.len() <= 500
        && host.is_some_and(|h| !h.is_empty())
        && !url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>'));
    if !ok {
        return Err(CoreError::invalid(format!(
            "shop address `{url}` must be a web address such as https://dolcevita.example"
        )));
    }
    Ok(Some(url.trim_end_matches('/').to_owned()))
}

/// The installation named for a channel must exist and take campaign messages.
fn check_channel(tx: &mut Tx<'_>, medium: Medium, id: &ChannelId) -> CoreResult<()> {
    let what = match medium {
        Medium::Email => "e-mail",
        Medium::Sms => "SMS",
    };
    let channel =
        tx.get::<Channel>(&["chn", id.as_str()])?.ok_or_else(|| CoreError::not_found("channel", id.as_str()))?;
    if !channel.subscribes_to(EventKind::CampaignMessage) {
        return Err(CoreError::invalid(format!(
            "channel `{}` ({}) does not take campaign messages; choose the {what} channel",
            channel.name, channel.plugin_id
        )));
    }
    // Only a channel granted the host's mail transport can send e-mail, so an
    // e-mail never goes to the SMS channel by mistake.
    if medium == Medium::Email && !channel.capabilities.iter().any(|c| c == "mail") {
        return Err(CoreError::invalid(format!(
            "channel `{}` ({}) cannot send e-mail (it has no mail grant); choose the e-mail channel",
            channel.name, channel.plugin_id
        )));
    }
    Ok(())
}

/// A new campaign checked in full: texts, templates (parsed and tried on a
/// sample customer, so a template error is refused now, not at send time),
/// the segment and the channels.
fn checked(tx: &mut Tx<'_>, new: &NewCampaign) -> CoreResult<Campaign> {
    let name = validate::text("campaign name", &new.name, 200)?;
    if new.email.is_none() && new.sms.is_none() {
        return Err(CoreError::invalid("a campaign needs an e-mail message, an SMS message or both"));
    }
    if new.send_at_ms.is_some_and(|t| t < 0) {
        return Err(CoreError::invalid("send time must not be before 1970"));
    }
    let shop_url = check_shop_url(new.shop_url.as_deref())?;
    let email =
        new.email.as_ref().map(|e| EmailMessage { html: e.html.clone().filter(|h| !h.trim().is_empty()), ..e.clone() });
    let templates = render::Templates::parse(email.as_ref(), new.sms.as_ref().map(|s| s.text.as_str()))?;
    load_segment(tx, &new.segment_id)?;
    if let Some(e) = &email {
        check_channel(tx, Medium::Email, &e.channel_id)?;
    }
    if let Some(s) = &new.sms {
        check_channel(tx, Medium::Sms, &s.channel_id)?;
    }
    let now = tx.now()?;
    let campaign = Campaign {
        id: CampaignId::new("cmp-draft"),
        name,
        segment_id: new.segment_id.clone(),
        email,
        sms: new.sms.clone(),
        shop_url,
        status: if new.send_at_ms.is_some() { CampaignStatus::Scheduled } else { CampaignStatus::Draft },
        send_at_ms: new.send_at_ms,
        started_ms: None,
        finished_ms: None,
        progress: CampaignProgress::default(),
        created_ms: now,
        updated_ms: now,
    };
    let tenant = tx.tenant_record().clone();
    for medium in campaign.media() {
        templates.render(medium, &campaign, &tenant, &render::sample_customer())?;
    }
    Ok(campaign)
}

pub(crate) fn load_campaign(tx: &mut Tx<'_>, id: &CampaignId) -> CoreResult<Campaign> {
    tx.must("campaign", id.as_str())
}

/// Save a campaign and keep the index of campaigns the clock must look at
/// (scheduled or sending) in step with its status.
pub(crate) fn save_campaign(tx: &mut Tx<'_>, c: &Campaign) -> CoreResult<()> {
    tx.put(&["cmp", c.id.as_str()], c)?;
    match c.status {
        CampaignStatus::Scheduled | CampaignStatus::Sending => tx.put(&["cmpactive", c.id.as_str()], &()),
        CampaignStatus::Draft | CampaignStatus::Sent => tx.del(&["cmpactive", c.id.as_str()]),
    }
}

/// Who a campaign goes to if it starts now: its segment evaluated on a
/// read snapshot, so the (possibly long) evaluation holds no write lock and
/// conflicts with no checkout; the list is fixed by [`start_tx`].
pub(crate) fn recipients_now(
    core: &Core,
    tenant: &TenantId,
    id: &CampaignId,
    now_ms: i64,
) -> CoreResult<Vec<CustomerId>> {
    core.read_at(tenant, now_ms, |tx| {
        let c = load_campaign(tx, id)?;
        if !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled) {
            return Ok(Vec::new());
        }
        let segment = load_segment(tx, &c.segment_id)?;
        members_tx(tx, &segment.rule)
    })
}

/// Start sending: store the recipients (`cmprcp/{campaign}/{index}`), so
/// later batches and a resumed send work through the same people whatever
/// changes meanwhile. A campaign that already started is left as it is
/// (false).
pub(crate) fn start_tx(tx: &mut Tx<'_>, id: &CampaignId, members: &[CustomerId]) -> CoreResult<bool> {
    let mut c = load_campaign(tx, id)?;
    if !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled) {
        return Ok(false);
    }
    for (i, customer) in members.iter().enumerate() {
        tx.put(&["cmprcp", c.id.as_str(), &sortable(i as i64)], customer)?;
    }
    let now = tx.now()?;
    c.progress = CampaignProgress { total: members.len() as u64, ..CampaignProgress::default() };
    c.status = if members.is_empty() { CampaignStatus::Sent } else { CampaignStatus::Sending };
    c.started_ms = Some(now);
    c.finished_ms = members.is_empty().then_some(now);
    c.updated_ms = now;
    save_campaign(tx, &c)?;
    Ok(true)
}

/// The recipients from index `from`, at most `limit`, with their indexes.
pub(crate) fn recipients_tx(
    tx: &mut Tx<'_>,
    campaign: &CampaignId,
    from: u64,
    limit: usize,
) -> CoreResult<Vec<(u64, CustomerId)>> {
    let start = sortable(i64::try_from(from).unwrap_or(i64::MAX));
    Ok(tx
        .scan_range::<CustomerId>(&["cmprcp", campaign.as_str()], Bound::Included(&start), Bound::Unbounded, limit)?
        .into_iter()
        .map(|(k, c)| (k.parse().unwrap_or(u64::MAX), c))
        .collect())
}

/// What an erased customer's place in a recipient list becomes: the entry
/// stays (the cursor and the total still add up) and is skipped as gone.
const ERASED_RECIPIENT: &str = "erased";

/// A customer's erasure reaches the campaigns too: their entries in
/// recipient lists and their message markers go. This reads every list of
/// the tenant, which an erasure (rare, and already a scan of the outbox) affords.
pub(crate) fn forget_customer_tx(tx: &mut Tx<'_>, customer: &CustomerId) -> CoreResult<()> {
    for (key, listed) in tx.scan::<CustomerId>(&["cmprcp"])? {
        if &listed == customer {
            let mut parts = vec!["cmprcp"];
            parts.extend(key.split('/'));
            tx.put(&parts, &CustomerId::new(ERASED_RECIPIENT))?;
        }
    }
    let suffix = format!("/{customer}");
    for (key, _) in tx.scan::<crate::ids::EventId>(&["cmpmsg"])? {
        if key.ends_with(&suffix) {
            let mut parts = vec!["cmpmsg"];
            parts.extend(key.split('/'));
            tx.del(&parts)?;
        }
    }
    Ok(())
}

impl Core {
    pub fn create_campaign(&self, tenant: &TenantId, new: NewCampaign, now_ms: i64) -> CoreResult<Campaign> {
        self.write(tenant, now_ms, |tx| {
            let mut campaign = checked(tx, &new)?;
            campaign.id = CampaignId::new(tx.new_id(CampaignId::PREFIX)?);
            save_campaign(tx, &campaign)?;
            Ok(campaign)
        })
    }

    pub fn get_campaign(&self, tenant: &TenantId, id: &CampaignId) -> CoreResult<Campaign> {
        self.read(tenant, |tx| load_campaign(tx, id))
    }

    /// A page of campaigns in id (creation) order.
    pub fn list_campaigns(
        &self,
        tenant: &TenantId,
        after: Option<&CampaignId>,
        limit: usize,
    ) -> CoreResult<Vec<Campaign>> {
        self.page(tenant, "cmp", after.map(CampaignId::as_str), limit)
    }

    /// Send a draft or scheduled campaign now: its recipients are fixed in
    /// this transaction; the batches follow ([`Core::send_campaign_batch`],
    /// or the dispatcher's rounds through [`Core::run_campaigns`]). A
    /// campaign already sending or sent is returned as it is.
    pub fn send_campaign(&self, tenant: &TenantId, id: &CampaignId, now_ms: i64) -> CoreResult<Campaign> {
        let members = recipients_now(self, tenant, id, now_ms)?;
        self.write(tenant, now_ms, |tx| {
            start_tx(tx, id, &members)?;
            load_campaign(tx, id)
        })
    }

    /// One customer's messages, rendered as they would be sent (consent is
    /// not asked: the merchant may preview on anyone), and how many of the
    /// segment's customers each channel would reach if it were sent at
    /// `now_ms` (consent and an address or number, as sending decides).
    pub fn preview_campaign(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        customer: &CustomerId,
        now_ms: i64,
    ) -> CoreResult<CampaignPreview> {
        self.read_at(tenant, now_ms, |tx| {
            let c = load_campaign(tx, id)?;
            let customer = load_customer(tx, customer)?;
            let segment = load_segment(tx, &c.segment_id)?;
            let mut reach = (0, 0);
            for member in members_tx(tx, &segment.rule)? {
                let member = load_customer(tx, &member)?;
                let reaches = |m: Medium| member.has_consent(m.purpose()) && member.identity(&m.identity()).is_some();
                reach.0 += u64::from(c.email.is_some() && reaches(Medium::Email));
                reach.1 += u64::from(c.sms.is_some() && reaches(Medium::Sms));
            }
            let templates = render::Templates::parse(c.email.as_ref(), c.sms.as_ref().map(|s| s.text.as_str()))?;
            let tenant = tx.tenant_record().clone();
            let render = |m: Medium| -> CoreResult<Option<Rendered>> {
                if c.media().contains(&m) { templates.render(m, &c, &tenant, &customer).map(Some) } else { Ok(None) }
            };
            Ok(CampaignPreview {
                email: render(Medium::Email)?,
                sms: render(Medium::Sms)?,
                customer_id: customer.id.clone(),
                email_reach: reach.0,
                sms_reach: reach.1,
            })
        })
    }
}
