//! What the plugin keeps per text, in its storage under `msg/{order}/{text}`
//! (and `cmp/{campaign}/{customer}` for a campaign's):
//! whether it was sent, skipped or refused, Twilio's message id and the
//! latest delivery status. It is the claim that keeps a redelivered event
//! from sending twice, and what delivery reports update.
//!
//! No phone number or message body is kept: the customer id is enough to
//! act on a late opt-out, and what is not kept needs no erasing.

use serde::{Deserialize, Serialize};

/// Where one text stands in this plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A call is sending it now (or crashed while sending: see [`CLAIM_MS`]).
    Sending,
    /// Twilio could not take it (429, 5xx, unreachable); the event is retried.
    Retry,
    /// Twilio took it; `status` follows its delivery reports.
    Accepted,
    /// Not sent, on purpose: `reason` says why (no consent, no phone…).
    Skipped,
    /// Twilio refused it for good (a 4xx such as 21610 or an invalid number).
    Refused,
    /// The request went out but its answer never came: never sent again,
    /// since sending twice is worse than one lost notice.
    Unknown,
}

impl State {
    /// Whether a delivery of the event may (still) send the text.
    pub fn may_send(self) -> bool {
        self == State::Retry
    }
}

/// One text of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub order_id: String,
    /// `order_placed`, `ready_for_pickup` or `shipped`.
    pub text: String,
    pub state: State,
    /// Twilio's message status: `queued`, `sent`, `delivered`, `undelivered`, `failed`…
    #[serde(default)]
    pub status: Option<String>,
    /// Twilio's message id (`SM…`).
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Why it was skipped, refused or retried.
    #[serde(default)]
    pub reason: Option<String>,
    /// Twilio's error code, when it gave one.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// Parts the text was sent in and their encoding (`GSM-7`, `UCS-2`).
    #[serde(default)]
    pub segments: Option<usize>,
    #[serde(default)]
    pub encoding: Option<String>,
    /// Sends tried (a retried one counts each time).
    #[serde(default)]
    pub attempts: u32,
    pub updated_at: i64,
}

/// How long a claim holds before a redelivery may take it as a crashed send.
pub const CLAIM_MS: i64 = 10 * 60 * 1000;

/// The storage key of one text of one order.
pub fn key(order_id: &str, text: &str) -> String {
    format!("msg/{order_id}/{text}")
}

/// The storage key of one campaign's text to one customer. Its record's
/// `order_id` holds the campaign and `text` is `campaign`.
pub fn campaign_key(campaign_id: &str, customer_id: &str) -> String {
    format!("cmp/{campaign_id}/{customer_id}")
}

impl Record {
    pub fn new(order_id: &str, text: &str, state: State, now: i64) -> Record {
        Record {
            order_id: order_id.to_string(),
            text: text.to_string(),
            state,
            status: None,
            sid: None,
            customer_id: None,
            reason: None,
            error_code: None,
            segments: None,
            encoding: None,
            attempts: 0,
            updated_at: now,
        }
    }

    /// Take a delivery report: the status moves only forward, so a late
    /// `sent` does not hide an earlier `delivered`.
    pub fn report(&mut self, status: &str, error_code: Option<i64>, now: i64) {
        if rank(status) >= self.status.as_deref().map_or(0, rank) {
            self.status = Some(status.to_string());
            if error_code.is_some() {
                self.error_code = error_code;
            }
            self.updated_at = now;
        }
    }
}

/// Order of Twilio's message statuses along a message's life; an unknown
/// one ranks first, so it never replaces a known one.
pub fn rank(status: &str) -> u8 {
    match status {
        "accepted" | "scheduled" | "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "undelivered" | "failed" | "canceled" => 4,
        "read" => 5,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_reports_never_move_back() {
        let mut r = Record::new("ord-1", "order_placed", State::Accepted, 1);
        r.report("queued", None, 2);
        r.report("delivered", None, 3);
        r.report("sent", None, 4);
        assert_eq!((r.status.as_deref(), r.updated_at), (Some("delivered"), 3));
        r.report("surprising", None, 5);
        assert_eq!(r.status.as_deref(), Some("delivered"));
        let mut r = Record::new("ord-1", "shipped", State::Accepted, 1);
        r.report("sent", None, 2);
        r.report("undelivered", Some(30005), 3);
        assert_eq!((r.status.as_deref(), r.error_code), (Some("undelivered"), Some(30005)));
    }

    #[test]
    fn only_a_retried_text_may_be_sent_again() {
        let may: Vec<State> =
            [State::Sending, State::Retry, State::Accepted, State::Skipped, State::Refused, State::Unknown]
                .into_iter()
                .filter(|s| s.may_send())
                .collect();
        assert_eq!(may, [State::Retry]);
        let json = serde_json::to_string(&Record::new("o", "shipped", State::Unknown, 0)).unwrap();
        assert!(json.contains(r#""state":"unknown""#), "{json}");
    }
}
