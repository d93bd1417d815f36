//! Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! form-encoded, with HTTP Basic authentication (Account SID and Auth Token),
//! and what its answer means for the message.

use base64::Engine as _;
use omnistore_sdk::PluginError;
use omnistore_sdk::http::{HttpError, IncomingResponse, RequestBuilder};
use omnistore_sdk::url::percent_encode;
use serde::Deserialize;

use crate::config::{Account, Sender};

/// Twilio's error code for a recipient who texted STOP to the sender.
pub const UNSUBSCRIBED: i64 = 21610;
/// How long one API call may take before its outcome is unknown.
const TIMEOUT_MS: u32 = 15_000;
/// Waits when Twilio asks to slow down or fails without saying for how long.
const RATE_LIMITED_WAIT: u32 = 60;
const SERVER_ERROR_WAIT: u32 = 30;
/// The longest wait honoured from a `Retry-After`.
const MAX_WAIT: u32 = 3_600;

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Twilio took the message; `status` is its first status (`queued`, `accepted`…).
    Accepted { sid: Option<String>, status: String },
    /// The recipient had texted STOP to this sender (error 21610).
    Unsubscribed { message: String },
    /// Twilio was busy or failed (429, 5xx) or could not be reached: nothing was sent.
    RetryLater { after_secs: u32, why: String },
    /// Twilio refused the message for good (any other 4xx).
    Refused { status: u16, code: Option<i64>, message: String },
    /// The request went out but no answer came: it may or may not have been sent.
    Unknown { why: String },
}

/// The message, as the Messages API takes it.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub to: &'a str,
    pub body: &'a str,
    pub status_callback: Option<String>,
}

/// The API address of the account's Messages resource.
pub fn messages_url(account: &Account) -> String {
    format!("{}/2010-04-01/Accounts/{}/Messages.json", account.api_base, account.sid)
}

/// The form fields of a message, in the order they are sent.
pub fn fields(account: &Account, message: &Message<'_>) -> Vec<(&'static str, String)> {
    let mut fields = vec![("To", message.to.to_string())];
    match &account.sender {
        Sender::MessagingService(sid) => fields.push(("MessagingServiceSid", sid.clone())),
        Sender::Number(number) => fields.push(("From", number.clone())),
    }
    fields.push(("Body", message.body.to_string()));
    if let Some(url) = &message.status_callback {
        fields.push(("StatusCallback", url.clone()));
    }
    fields
}

/// `application/x-www-form-urlencoded`: every byte but the unreserved ones
/// percent-encoded (so `+` in a phone number survives).
pub fn encode_form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k.as_ref()), percent_encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `Authorization` header value of the account.
pub fn basic_auth(account: &Account) -> String {
    let pair = format!("{}:{}", account.sid, account.token);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// Send the message; an error only for a request the host refused (a
/// missing grant or a malformed API address), which no retry fixes.
pub fn send(account: &Account, message: &Message<'_>) -> Result<Outcome, PluginError> {
    let request = RequestBuilder::post(&messages_url(account))
        .header("authorization", &basic_auth(account))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(encode_form(&fields(account, message)))
        .timeout_ms(TIMEOUT_MS);
    match request.send() {
        Ok(response) => Ok(classify(&response)),
        Err(HttpError::Timeout) => Ok(Outcome::Unknown { why: "Twilio did not answer in time".into() }),
        Err(HttpError::TooLarge(n)) => {
            Ok(Outcome::Unknown { why: format!("Twilio's answer was larger than the host allows ({n} bytes)") })
        }
        Err(HttpError::Connection(why)) => Ok(Outcome::RetryLater {
            after_secs: SERVER_ERROR_WAIT,
            why: format!("Twilio could not be reached: {why}"),
        }),
        Err(HttpError::Denied(why)) => Err(PluginError::internal(format!(
            "the host refused the call to Twilio ({why}): check `api_base_url` and this installation's HTTP grant"
        ))),
        Err(HttpError::InvalidRequest(why)) => Err(PluginError::internal(format!(
            "the call to Twilio is malformed ({why}): check `api_base_url` and `account_sid`"
        ))),
    }
}

#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<i64>,
    message: Option<String>,
}

/// What Twilio's answer means for the message.
pub fn classify(response: &IncomingResponse) -> Outcome {
    let status = response.status;
    if (200..300).contains(&status) {
        let created: Option<Created> = serde_json::from_slice(&response.body).ok();
        let (sid, first) = created.map(|c| (c.sid, c.status)).unwrap_or((None, None));
        return Outcome::Accepted { sid, status: first.unwrap_or_else(|| "accepted".into()) };
    }
    let error: Option<ApiError> = serde_json::from_slice(&response.body).ok();
    let (code, message) = match error {
        Some(e) => (e.code, e.message.unwrap_or_default()),
        None => (None, response.text().chars().take(300).collect()),
    };
    if code == Some(UNSUBSCRIBED) {
        return Outcome::Unsubscribed { message };
    }
    if status == 429 || status >= 500 {
        let default = if status == 429 { RATE_LIMITED_WAIT } else { SERVER_ERROR_WAIT };
        let after_secs = retry_after(response.header("retry-after")).unwrap_or(default);
        return Outcome::RetryLater { after_secs, why: format!("Twilio answered {status}: {message}") };
    }
    Outcome::Refused { status, code, message }
}

/// Seconds of a `Retry-After` given in seconds, within 1 s and an hour.
fn retry_after(value: Option<&str>) -> Option<u32> {
    value?.trim().parse::<u32>().ok().map(|s| s.clamp(1, MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(sender: Sender) -> Account {
        Account {
            sid: "AC0123456789abcdef0123456789abcdef".into(),
            token: "secret".into(),
            sender,
            api_base: "https://api.twilio.com".into(),
            callback_base: None,
        }
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> IncomingResponse {
        IncomingResponse {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_form_carries_the_sender_the_account_uses() {
        let by_number = account(Sender::Number("+15005550006".into()));
        let m = Message { to: "+393331234567", body: "Ciao & grazie: 5€", status_callback: None };
        assert_eq!(
            encode_form(&fields(&by_number, &m)),
            "To=%2B393331234567&From=%2B15005550006&Body=Ciao%20%26%20grazie%3A%205%E2%82%AC"
        );
        let by_service = account(Sender::MessagingService("MG0123456789abcdef0123456789abcdef".into()));
        let m = Message { status_callback: Some("https://shop.example/sms/status?order=o-1".into()), ..m };
        let names: Vec<&str> = fields(&by_service, &m).iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["To", "MessagingServiceSid", "Body", "StatusCallback"]);
        assert_eq!(
            messages_url(&by_service),
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        );
        assert_eq!(basic_auth(&by_service), "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpzZWNyZXQ=");
    }

    #[test]
    fn answers_are_classified_by_status_and_code() {
        assert_eq!(
            classify(&answer(201, &[], r#"{"sid":"SM1","status":"queued"}"#)),
            Outcome::Accepted { sid: Some("SM1".into()), status: "queued".into() }
        );
        assert!(matches!(
            classify(&answer(400, &[], r#"{"code":21610,"message":"unsubscribed","status":400}"#)),
            Outcome::Unsubscribed { .. }
        ));
        assert_eq!(
            classify(&answer(429, &[("Retry-After", "7")], r#"{"code":20429,"message":"Too Many Requests"}"#)),
            Outcome::RetryLater { after_secs: 7, why: "Twilio answered 429: Too Many Requests".into() }
        );
        assert!(matches!(classify(&answer(429, &[], "")), Outcome::RetryLater { after_secs: 60, .. }));
        assert!(matches!(
            classify(&answer(503, &[("retry-after", "99999")], "down")),
            Outcome::RetryLater { after_secs: 3600, .. }
        ));
        assert_eq!(
            classify(&answer(400, &[], r#"{"code":21211,"message":"Invalid 'To' Phone Number"}"#)),
            Outcome::Refused { status: 400, code: Some(21211), message: "Invalid 'To' Phone Number".into() }
        );
    }
}
