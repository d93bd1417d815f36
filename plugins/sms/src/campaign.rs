//! Campaign texts: the message the core rendered for one customer, sent at
//! most once per (campaign, customer), only while the customer has SMS
//! consent (read again here: a STOP may have come in since the campaign was
//! expanded), never during quiet hours (21:00–08:00 in the shop's time zone,
//! the setting `time_zone`), when the event asks to be delivered again at
//! 08:00.

use omnistore_sdk::{CampaignMessage, HostError, IdentityKind, PluginError, clock, customers, settings};
use omnistore_sms::{QuietHours, campaign_footer};

use crate::config::is_e164;
use crate::records;
use crate::send::{Job, Prepared, may_still_send, may_text, send_job};
use crate::texts;
use omnistore_sdk::url::percent_encode;

/// The name of campaign texts in records and logs.
pub const CAMPAIGN: &str = "campaign";

pub fn deliver(m: &CampaignMessage) -> Result<(), PluginError> {
    let key = records::campaign_key(&m.campaign_id, &m.customer_id);
    if may_still_send(&key)? {
        let wait = quiet_hours()?.wait_secs(clock::now());
        if wait > 0 {
            omnistore_sdk::info!("a campaign text waits for the end of quiet hours", campaign = m.campaign_id);
            return Err(PluginError::RetryLater(u32::try_from(wait).unwrap_or(u32::MAX)));
        }
    }
    let job = Job {
        key,
        record_id: &m.campaign_id,
        text: CAMPAIGN,
        label: &m.campaign_id,
        callback_query: format!(
            "campaign={}&customer={}",
            percent_encode(&m.campaign_id),
            percent_encode(&m.customer_id)
        ),
    };
    send_job(&job, Some(&m.customer_id), || {
        let customer = match customers::get(&m.customer_id) {
            Ok(c) => c,
            Err(HostError::NotFound(_)) => return Ok(Err("the customer is not known to this channel".into())),
            Err(e) => return Err(e.into()),
        };
        if !may_text(&customer) {
            return Ok(Err("the customer has no SMS consent".into()));
        }
        let phone = customer.identities.iter().find(|i| i.kind == IdentityKind::Phone && is_e164(&i.value));
        let Some(phone) = phone.map(|i| i.value.clone()) else {
            return Ok(Err("the customer has no phone number in international form".into()));
        };
        let text = m.text.trim();
        if text.is_empty() {
            return Ok(Err("the campaign has no text for SMS".into()));
        }
        // The same footer, read the same way, as the host's campaign preview counts.
        let language = texts::language();
        let source = settings::get(&campaign_footer::setting_key(language)).unwrap_or_default();
        let footer = campaign_footer::render(language, &source, &settings::shop().name)
            .map_err(|e| PluginError::internal(e.to_string()))?;
        let body = campaign_footer::with_footer(text, footer.as_deref());
        Ok(Ok(Prepared { phone, customer, body }))
    })
}

fn quiet_hours() -> Result<QuietHours, PluginError> {
    let zone = settings::get("time_zone").map(|z| z.trim().to_string()).filter(|z| !z.is_empty());
    QuietHours::evenings_and_nights(zone.as_deref().unwrap_or("Europe/Rome"))
        .map_err(|e| PluginError::internal(format!("the setting `time_zone` cannot be used: {e}")))
}
