//! The satisfaction survey by text, when the merchant switches it on
//! (setting `satisfaction_survey`): after a pickup or ship-to-store order is
//! completed, one text asks for a score from 0 to 10; the customer's reply
//! with a number within seven days is recorded for that order in the core
//! (`orders.record-satisfaction`) and thanked.
//!
//! What waits for a reply is kept under `survey/{customer}` (the order and
//! when it was asked), not under the phone number: no number is kept, and
//! the reply's number leads to the customer through `customers.identify`.

use omnistore_sdk::{
    Fulfillment, HostError, Identity, IdentityKind, Order, OrderStatus, PluginError, clock, customers, orders,
    settings, storage,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::texts;

/// How long a survey waits for its reply.
pub const ANSWER_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, Serialize, Deserialize)]
struct Waiting {
    order_id: String,
    asked_at: i64,
}

/// Whether the order is one the survey asks about: collected at a shop.
pub fn asks_about(order: &Order) -> bool {
    order.status == OrderStatus::Completed
        && matches!(order.fulfillment, Fulfillment::Pickup(_) | Fulfillment::ShipToStore(_))
}

/// Whether the merchant switched the survey on.
pub fn enabled() -> Result<bool, PluginError> {
    match settings::get("satisfaction_survey").unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "" | "off" => Ok(false),
        "on" => Ok(true),
        _ => Err(PluginError::internal("the setting `satisfaction_survey` must be `on` or `off`")),
    }
}

/// Remember that the customer was asked about `order`.
pub fn asked(order: &Order) -> Result<(), PluginError> {
    let Some(customer) = &order.customer_id else { return Ok(()) };
    let waiting = Waiting { order_id: order.id.clone(), asked_at: clock::now() };
    let bytes = serde_json::to_vec(&waiting).map_err(|e| PluginError::internal(e.to_string()))?;
    storage::set(&format!("survey/{customer}"), &bytes)?;
    Ok(())
}

/// A score from a reply: the whole text is a number from 0 to 10.
pub fn score_of(body: &str) -> Option<u8> {
    let text = body.trim();
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|s| *s <= 10)
}

/// The reply to a text from `from` that may answer a survey: `None` when it
/// is not a score or nobody asked this number (the text is the merchant's
/// to read), else the thanks to send back.
pub fn answer(from: &str, body: &str) -> Result<Option<String>, PluginError> {
    let Some(score) = score_of(body) else { return Ok(None) };
    let identity = Identity { kind: IdentityKind::Phone, value: from.to_string() };
    let customer = match customers::identify(&identity, None) {
        Ok(c) => c,
        Err(HostError::Invalid(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let key = format!("survey/{}", customer.id);
    let Some(bytes) = storage::get(&key)? else { return Ok(None) };
    let Ok(waiting) = serde_json::from_slice::<Waiting>(&bytes) else {
        storage::delete(&key)?;
        return Ok(None);
    };
    if clock::now() - waiting.asked_at > ANSWER_WINDOW_MS {
        storage::delete(&key)?;
        return Ok(None);
    }
    match orders::record_satisfaction(&waiting.order_id, score) {
        Ok(()) => {}
        Err(HostError::NotFound(_) | HostError::Invalid(_)) => {
            storage::delete(&key)?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    // A second number within the window replaces the first: the key stays.
    omnistore_sdk::info!("a satisfaction score was recorded", score = score.to_string());
    texts::text("survey_thanks", &json!({ "shop": { "name": settings::shop().name }, "score": score }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_number_from_0_to_10_is_a_score() {
        for (text, want) in [("0", Some(0)), ("10", Some(10)), ("  9\n", Some(9))] {
            assert_eq!(score_of(text), want, "{text:?}");
        }
        for bad in ["", "11", "9/10", "nove", "STOP", "-3", "10!", "1 0"] {
            assert_eq!(score_of(bad), None, "{bad:?}");
        }
    }
}
