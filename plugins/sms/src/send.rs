//! The order texts: placed, ready for pickup, shipped. Each is sent at most
//! once per order, only to a phone number of the order's customer, and only
//! when that customer has SMS consent.

use omnistore_sdk::{
    ConsentPurpose, Customer, Event, EventPayload, Fulfillment, HostError, IdentityKind, Order, OrderStatus,
    PluginError, clock, customers, locations, settings, storage,
};
use omnistore_sms::count_segments;

use crate::config::{Account, is_e164};
use crate::records::{self, CLAIM_MS, Record, State};
use crate::texts;
use crate::twilio::{self, Message, Outcome};
use omnistore_sdk::url::percent_encode;

/// The texts an order gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    OrderPlaced,
    ReadyForPickup,
    Shipped,
    /// The satisfaction question after a pickup (`survey.rs`).
    Survey,
}

impl Text {
    /// The name in settings (`template.<name>.<language>`), records and callbacks.
    pub fn name(self) -> &'static str {
        match self {
            Text::OrderPlaced => "order_placed",
            Text::ReadyForPickup => "ready_for_pickup",
            Text::Shipped => "shipped",
            Text::Survey => "survey",
        }
    }

    pub fn from_name(name: &str) -> Option<Text> {
        [Text::OrderPlaced, Text::ReadyForPickup, Text::Shipped, Text::Survey].into_iter().find(|t| t.name() == name)
    }
}

/// The text an event calls for, if any.
pub fn text_for(event: &Event) -> Option<(&Order, Text)> {
    match &event.payload {
        EventPayload::OrderPlaced(order) => Some((order, Text::OrderPlaced)),
        EventPayload::OrderUpdated(order) => match order.status {
            OrderStatus::ReadyForPickup => Some((order, Text::ReadyForPickup)),
            OrderStatus::Shipped => Some((order, Text::Shipped)),
            _ if crate::survey::asks_about(order) => Some((order, Text::Survey)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the customer may be texted. The contract knows one SMS consent,
/// `sms-marketing` (ticked at checkout, withdrawn by STOP); it has no
/// separate purpose for order texts, so order texts need it too: a customer
/// who never agreed to SMS, or texted STOP, gets none.
pub fn may_text(customer: &Customer) -> bool {
    customer.consents.iter().any(|c| c.purpose == ConsentPurpose::SmsMarketing && c.granted)
}

/// The number to text: one the customer is known by, so that a STOP from it
/// reaches this customer's consent. The order's number when it is one of
/// them, else the customer's first.
pub fn phone_of(order: &Order, customer: &Customer) -> Option<String> {
    let phones: Vec<&str> = customer
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::Phone && is_e164(&i.value))
        .map(|i| i.value.as_str())
        .collect();
    let wanted = order.phone.as_deref();
    phones.iter().find(|p| Some(**p) == wanted).or(phones.first()).map(|p| p.to_string())
}

/// Send the text the event calls for, once.
pub fn handle(event: &Event) -> Result<(), PluginError> {
    if let EventPayload::CampaignMessage(message) = &event.payload {
        return crate::campaign::deliver(message);
    }
    match text_for(event) {
        Some((_, Text::Survey)) if !crate::survey::enabled()? => Ok(()),
        Some((order, text)) => {
            send(order, text)?;
            if text == Text::Survey
                && storage::get(&records::key(&order.id, text.name()))?
                    .is_some_and(|b| decode("", &b).is_ok_and(|r| r.state == State::Accepted))
            {
                crate::survey::asked(order)?;
            }
            Ok(())
        }
        None => Ok(()),
    }
}

fn send(order: &Order, text: Text) -> Result<(), PluginError> {
    let job = Job {
        key: records::key(&order.id, text.name()),
        record_id: &order.id,
        text: text.name(),
        label: &order.number,
        callback_query: format!("order={}&text={}", percent_encode(&order.id), text.name()),
    };
    send_job(&job, order.customer_id.as_deref(), || {
        let (phone, customer) = match recipient(order)? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        let language = texts::language();
        let locations = match order.fulfillment {
            Fulfillment::Pickup(_) | Fulfillment::ShipToStore(_) => locations::all()?,
            Fulfillment::Ship(_) => vec![],
        };
        let vars = texts::order_vars(&settings::shop().name, order, &customer, &locations, language);
        match texts::text(text.name(), &vars)? {
            Some(body) => Ok(Ok(Prepared { phone, customer, body })),
            None => Ok(Err("the merchant switched this text off".into())),
        }
    })
}

/// One text to send at most once: an order's or a campaign's.
pub struct Job<'a> {
    /// Its record's storage key, the claim.
    pub key: String,
    /// The order, or the campaign, the text belongs to.
    pub record_id: &'a str,
    /// The text's name (`order_placed`, `campaign`…).
    pub text: &'a str,
    /// What the log names it by: the order number or the campaign id.
    pub label: &'a str,
    /// The query of the delivery-report address that names this text.
    pub callback_query: String,
}

/// A text ready to go.
pub struct Prepared {
    pub phone: String,
    pub customer: Customer,
    pub body: String,
}

/// Send `job` once: `prepare` finds the number and the body, or the reason
/// there is none (kept as a skip).
pub fn send_job(
    job: &Job<'_>,
    customer_id: Option<&str>,
    prepare: impl FnOnce() -> Result<Result<Prepared, String>, PluginError>,
) -> Result<(), PluginError> {
    let key = job.key.as_str();
    let now = clock::now();
    let current = storage::get(key)?;
    let record: Option<Record> = current.as_deref().map(|b| decode(key, b)).transpose()?;
    if let Some(r) = &record
        && settled(key, current.as_deref(), r, job, now)?
    {
        return Ok(());
    }
    let attempts = record.as_ref().map_or(0, |r| r.attempts);
    let Prepared { phone, customer, body } = match prepare()? {
        Ok(found) => found,
        Err(reason) => return skip(key, current.as_deref(), job, customer_id, &reason, now),
    };
    let account = Account::read()?;
    let count = count_segments(&body);
    let mut claim = Record::new(job.record_id, job.text, State::Sending, now);
    claim.customer_id = Some(customer.id.clone());
    claim.attempts = attempts + 1;
    claim.segments = Some(count.segments);
    claim.encoding = Some(count.encoding.name().to_string());
    if !replace(key, current.as_deref(), &claim)? {
        // Another delivery changed the record meanwhile: look again later.
        return Err(PluginError::RetryLater(5));
    }
    let status_callback = account.callback_base.as_ref().map(|base| format!("{base}/status?{}", job.callback_query));
    let message = Message { to: &phone, body: &body, status_callback };
    let outcome = match twilio::send(&account, &message) {
        Ok(outcome) => outcome,
        Err(e) => {
            finish(key, &claim, |r| {
                r.state = State::Retry;
                r.reason = Some("the call to Twilio was refused by the host".into());
            })?;
            return Err(e);
        }
    };
    conclude(key, &claim, job, &customer, outcome)
}

/// Whether the text under `key` may still be sent: never tried, or waiting
/// for a retry.
pub fn may_still_send(key: &str) -> Result<bool, PluginError> {
    match storage::get(key)? {
        None => Ok(true),
        Some(bytes) => Ok(decode(key, &bytes)?.state.may_send()),
    }
}

/// Whether the text needs no more sending: sent, skipped or refused already
/// (a redelivered event sends nothing), or lost in a crashed send. An error
/// asks for a retry while another delivery is sending it.
fn settled(key: &str, current: Option<&[u8]>, r: &Record, job: &Job<'_>, now: i64) -> Result<bool, PluginError> {
    match r.state {
        state if state.may_send() => Ok(false),
        State::Sending if now - r.updated_at < CLAIM_MS => {
            let left = (CLAIM_MS - (now - r.updated_at)) / 1000;
            Err(PluginError::RetryLater(u32::try_from(left.max(1)).unwrap_or(u32::MAX)))
        }
        State::Sending => {
            let mut r = r.clone();
            r.state = State::Unknown;
            r.reason = Some("a send was interrupted before Twilio's answer was recorded".into());
            r.updated_at = now;
            replace(key, current, &r)?;
            omnistore_sdk::error!("an interrupted text is not sent again", of = job.label, text = job.text);
            Ok(true)
        }
        _ => Ok(true),
    }
}

/// Record what Twilio answered and act on it.
fn conclude(
    key: &str,
    claim: &Record,
    job: &Job<'_>,
    customer: &Customer,
    outcome: Outcome,
) -> Result<(), PluginError> {
    let now = clock::now();
    match outcome {
        Outcome::Accepted { sid, status } => {
            finish(key, claim, |r| {
                r.state = State::Accepted;
                r.sid = sid.clone();
                r.report(&status, None, now);
            })?;
            omnistore_sdk::info!(
                "text sent",
                of = job.label,
                text = job.text,
                segments = claim.segments.unwrap_or(1),
                encoding = claim.encoding.as_deref().unwrap_or(""),
            );
            Ok(())
        }
        Outcome::Unsubscribed { message } => {
            // Withdraw first: if that fails, the event is retried and Twilio
            // answers 21610 again, so the withdrawal is never lost.
            if let Err(e) = customers::set_consent(&customer.id, ConsentPurpose::SmsMarketing, false) {
                finish(key, claim, |r| r.state = State::Retry)?;
                return Err(e.into());
            }
            finish(key, claim, |r| {
                r.state = State::Refused;
                r.error_code = Some(twilio::UNSUBSCRIBED);
                r.reason = Some(format!("the recipient unsubscribed (Twilio 21610: {message}); SMS consent withdrawn"));
            })?;
            omnistore_sdk::warn!("the recipient had texted STOP; SMS consent withdrawn", of = job.label);
            Ok(())
        }
        Outcome::RetryLater { after_secs, why } => {
            finish(key, claim, |r| {
                r.state = State::Retry;
                r.reason = Some(why.clone());
            })?;
            omnistore_sdk::warn!("Twilio cannot take the text now; the event will be retried", why = why);
            Err(PluginError::RetryLater(after_secs))
        }
        Outcome::Refused { status, code, message } => {
            finish(key, claim, |r| {
                r.state = State::Refused;
                r.error_code = code;
                r.reason = Some(format!("Twilio refused the text ({status}): {message}"));
            })?;
            omnistore_sdk::warn!(
                "Twilio refused the text; it is not retried",
                of = job.label,
                status = status,
                code = code.map(|c| c.to_string()).unwrap_or_default(),
                message = message,
            );
            Ok(())
        }
        Outcome::Unknown { why } => {
            finish(key, claim, |r| {
                r.state = State::Unknown;
                r.reason = Some(why.clone());
            })?;
            omnistore_sdk::error!(
                "the text may or may not have been sent; it is not sent again",
                of = job.label,
                why = why
            );
            Ok(())
        }
    }
}

/// The phone and customer to text, or why there is none.
fn recipient(order: &Order) -> Result<Result<(String, Customer), String>, PluginError> {
    let Some(id) = &order.customer_id else {
        return Ok(Err("the order has no customer, so no SMS consent".into()));
    };
    let customer = match customers::get(id) {
        Ok(c) => c,
        // Not reachable by this channel: its consent cannot be checked.
        Err(HostError::NotFound(_)) => return Ok(Err("the customer is not known to this channel".into())),
        Err(e) => return Err(e.into()),
    };
    if !may_text(&customer) {
        return Ok(Err("the customer has no SMS consent".into()));
    }
    match phone_of(order, &customer) {
        Some(phone) => Ok(Ok((phone, customer))),
        None => Ok(Err("the customer has no phone number in international form".into())),
    }
}

fn skip(
    key: &str,
    current: Option<&[u8]>,
    job: &Job<'_>,
    customer_id: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<(), PluginError> {
    let mut r = Record::new(job.record_id, job.text, State::Skipped, now);
    r.customer_id = customer_id.map(str::to_string);
    r.reason = Some(reason.to_string());
    replace(key, current, &r)?;
    omnistore_sdk::info!("text not sent", of = job.label, text = job.text, reason = reason);
    Ok(())
}

/// Write `record` if the stored value is still `expected`.
fn replace(key: &str, expected: Option<&[u8]>, record: &Record) -> Result<bool, PluginError> {
    let bytes = serde_json::to_vec(record)
        .map_err(|e| PluginError::internal(format!("the record `{key}` cannot be serialized: {e}")))?;
    Ok(storage::compare_and_set(key, expected, Some(&bytes))?)
}

/// Change the claimed record; a delivery report that came in meanwhile is kept.
fn finish(key: &str, claim: &Record, change: impl Fn(&mut Record)) -> Result<(), PluginError> {
    let now = clock::now();
    storage::update_json(key, |stored: Option<Record>| {
        let mut r = stored.unwrap_or_else(|| claim.clone());
        change(&mut r);
        r.updated_at = r.updated_at.max(now);
        Some(r)
    })?;
    Ok(())
}

fn decode(key: &str, bytes: &[u8]) -> Result<Record, PluginError> {
    serde_json::from_slice(bytes)
        .map_err(|e| PluginError::internal(format!("the stored record `{key}` is not one this plugin wrote: {e}")))
}

#[cfg(test)]
mod tests {
    use omnistore_sdk::{Consent, Identity, Money};

    use super::*;

    fn customer(phones: &[&str], sms: Option<bool>) -> Customer {
        Customer {
            id: "cus-1".into(),
            name: Some("Giulia Rossi".into()),
            identities: phones.iter().map(|p| Identity { kind: IdentityKind::Phone, value: p.to_string() }).collect(),
            consents: sms
                .map(|granted| Consent { purpose: ConsentPurpose::SmsMarketing, granted, updated_at: 1 })
                .into_iter()
                .collect(),
        }
    }

    fn order(phone: Option<&str>) -> Order {
        Order {
            id: "ord-1".into(),
            number: "1042".into(),
            channel: "chn-web".into(),
            external_id: None,
            customer_id: Some("cus-1".into()),
            lines: vec![],
            subtotal: Money::new(0, "EUR"),
            discount: Money::new(0, "EUR"),
            total: Money::new(0, "EUR"),
            status: OrderStatus::Placed,
            fulfillment: Fulfillment::Pickup("loc-1".into()),
            placed_at: 0,
            payment: None,
            email: None,
            phone: phone.map(str::to_string),
        }
    }

    #[test]
    fn only_granted_sms_consent_allows_a_text() {
        assert!(may_text(&customer(&[], Some(true))));
        assert!(!may_text(&customer(&[], Some(false))));
        assert!(!may_text(&customer(&[], None)), "never asked is no consent");
        let mut email_only = customer(&[], None);
        email_only.consents.push(Consent { purpose: ConsentPurpose::EmailMarketing, granted: true, updated_at: 1 });
        assert!(!may_text(&email_only));
    }

    #[test]
    fn the_text_goes_to_a_number_the_customer_is_known_by() {
        let c = customer(&["+393331111111", "+393332222222"], Some(true));
        assert_eq!(phone_of(&order(Some("+393332222222")), &c).as_deref(), Some("+393332222222"));
        assert_eq!(phone_of(&order(Some("+393339999999")), &c).as_deref(), Some("+393331111111"));
        assert_eq!(phone_of(&order(None), &c).as_deref(), Some("+393331111111"));
        assert_eq!(phone_of(&order(Some("+393332222222")), &customer(&[], Some(true))), None);
    }

    #[test]
    fn text_names_round_trip() {
        for t in [Text::OrderPlaced, Text::ReadyForPickup, Text::Shipped, Text::Survey] {
            assert_eq!(Text::from_name(t.name()), Some(t));
        }
        assert_eq!(Text::from_name("campaign"), None);
    }
}
