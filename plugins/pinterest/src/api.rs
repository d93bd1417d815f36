//! Calls to Pinterest's API v5 with the merchant's OAuth token: a 401 renews
//! the token once through `POST /v5/oauth/token` and repeats the call; a
//! renewal Pinterest refuses marks the channel as needing re-authorisation,
//! and until the merchant changes the tokens no further call is made (no
//! retry storm against an account that cannot succeed). 429 and 5xx are
//! "later", other 4xx are Pinterest's verdict on what was sent. After a 429
//! no call at all is made until the wait Pinterest asked for is over: any
//! call meanwhile (another event's flush, a Pin) fails at once with the time
//! still to wait.

use base64::Engine as _;
use omnistore_sdk::http::{self, IncomingResponse, RequestBuilder};
use omnistore_sdk::url::form_encode;
use omnistore_sdk::{PluginError, UpstreamError, clock, storage};
use serde::Deserialize;
use serde_json::Value;

use crate::config::{self, Config, Tokens};
use crate::state;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 429: try again after this many seconds.
    RateLimited(u32),
    /// 5xx or no answer: try again later. `maybe_done`: the request may
    /// have reached Pinterest (a timeout, a 5xx), so a non-idempotent call
    /// must not be repeated blindly.
    Unavailable { status: u16, message: String, maybe_done: bool },
    /// Another 4xx: Pinterest refused what was sent; repeating it will not help.
    Refused { status: u16, code: Option<i64>, message: String },
    /// The tokens are refused and cannot be renewed; the merchant must reconnect.
    Reauthorize(String),
}

/// Seconds to wait after a 5xx or a connection failure.
const UNAVAILABLE_RETRY_S: u32 = 30;
const RATE_LIMIT_DEFAULT_S: u32 = 60;
const REJECTED_KEY: &str = "auth/rejected";
/// Until when (ms since the epoch) Pinterest asked us not to call.
const QUIET_UNTIL_KEY: &str = "api/quiet_until";

impl From<ApiError> for PluginError {
    fn from(e: ApiError) -> PluginError {
        match e {
            ApiError::RateLimited(secs) => PluginError::RetryLater(secs),
            ApiError::Unavailable { .. } => PluginError::RetryLater(UNAVAILABLE_RETRY_S),
            ApiError::Refused { status, message, .. } => PluginError::Upstream(UpstreamError {
                status,
                message: format!("Pinterest refused the request: {message}"),
            }),
            ApiError::Reauthorize(message) => PluginError::Unauthorized(message),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// The request body of a call.
pub enum Body<'a> {
    None,
    Json(&'a Value),
}

/// `method` `path` (starting `/v5/`, with its query) on Pinterest's API.
pub fn call(cfg: &Config, method: &str, path: &str, body: Body<'_>) -> Result<IncomingResponse, ApiError> {
    let tokens = config::tokens().map_err(storage_failure)?;
    if storage::get(REJECTED_KEY).map_err(|e| storage_failure(e.into()))?.as_deref()
        == Some(rejected_mark(&tokens).as_bytes())
    {
        return Err(ApiError::Reauthorize(REAUTHORIZE.into()));
    }
    if let Some(secs) = quiet_seconds().map_err(storage_failure)? {
        return Err(ApiError::RateLimited(secs));
    }
    let first = send(cfg, method, path, &body, &tokens.access_token)?;
    let response = if first.status == 401 {
        let renewed = refresh(cfg, &tokens)?;
        let second = send(cfg, method, path, &body, &renewed.access_token)?;
        if second.status == 401 {
            return Err(reauthorize(&renewed, "Pinterest refused the renewed access token"));
        }
        second
    } else {
        first
    };
    let result = classify(response);
    match &result {
        Ok(_) => {
            if state::channel().ok().flatten().is_none_or(|c| c.status != "ok") {
                let _ = state::channel_ok();
            }
        }
        Err(ApiError::RateLimited(secs)) => {
            let until = clock::now().saturating_add(i64::from(*secs) * 1000);
            let _ = storage::set_json(QUIET_UNTIL_KEY, &until);
            let _ = state::set_channel(
                "rate_limited",
                &format!("Pinterest asked us to slow down; changes are sent again in about {secs} s."),
            );
        }
        Err(_) => {}
    }
    result
}

/// Seconds still to wait after Pinterest's last 429, rounded up so that a
/// redelivery never comes a moment too early; `None` when calls may go.
pub fn quiet_seconds() -> Result<Option<u32>, PluginError> {
    let now = clock::now();
    Ok(storage::get_json::<i64>(QUIET_UNTIL_KEY)?
        .filter(|&until| until > now)
        .map(|until| u32::try_from((until - now + 999) / 1000).unwrap_or(u32::MAX).max(1)))
}

fn storage_failure(e: PluginError) -> ApiError {
    ApiError::Unavailable { status: 0, message: format!("storage: {e:?}"), maybe_done: false }
}

const REAUTHORIZE: &str = "Pinterest no longer accepts this channel's access: reconnect your Pinterest account and paste the new access and refresh tokens in the channel's settings.";

fn rejected_mark(tokens: &Tokens) -> String {
    config::fingerprint(&format!("{}\u{0}{}", tokens.access_token, tokens.refresh_token.as_deref().unwrap_or("")))
}

/// Remember that these tokens are dead and tell the merchant.
fn reauthorize(tokens: &Tokens, why: &str) -> ApiError {
    let _ = storage::set(REJECTED_KEY, rejected_mark(tokens).as_bytes());
    let message = format!("{why}. {REAUTHORIZE}");
    let _ = state::set_channel("needs_reauthorization", &message);
    ApiError::Reauthorize(message)
}

fn send(cfg: &Config, method: &str, path: &str, body: &Body<'_>, token: &str) -> Result<IncomingResponse, ApiError> {
    let mut request = RequestBuilder::new(method, &format!("{}{path}", cfg.api))
        .header("authorization", &format!("Bearer {token}"))
        .header("accept", "application/json")
        .timeout_ms(20_000);
    if let Body::Json(value) = body {
        request = request.json(value);
    }
    request.send().map_err(transport)
}

fn transport(e: http::HttpError) -> ApiError {
    let maybe_done = matches!(e, http::HttpError::Timeout);
    ApiError::Unavailable { status: 0, message: format!("{:?}", PluginError::from(e)), maybe_done }
}

/// A 2xx, or why not.
pub fn classify(response: IncomingResponse) -> Result<IncomingResponse, ApiError> {
    match response.status {
        200..=299 => Ok(response),
        429 => Err(ApiError::RateLimited(retry_after(&response))),
        500..=599 => Err(ApiError::Unavailable {
            status: response.status,
            message: error_message(&response).1,
            maybe_done: true,
        }),
        status => {
            let (code, message) = error_message(&response);
            Err(ApiError::Refused { status, code, message })
        }
    }
}

/// Pinterest's `{"code", "message"}`, or the start of the body.
pub fn error_message(response: &IncomingResponse) -> (Option<i64>, String) {
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(ErrorBody { code, message: Some(message) }) => (code, message),
        _ => (None, format!("HTTP {}: {}", response.status, response.text().chars().take(300).collect::<String>())),
    }
}

/// Seconds to wait, from `Retry-After` or Pinterest's `x-ratelimit-reset`
/// (seconds until the window resets), within 1 s to 1 h.
pub fn retry_after(response: &IncomingResponse) -> u32 {
    wait_seconds(response.header("retry-after"), response.header("x-ratelimit-reset"))
}

pub fn wait_seconds(retry_after: Option<&str>, reset: Option<&str>) -> u32 {
    let parse = |v: Option<&str>| v.and_then(|v| v.trim().parse::<f64>().ok()).filter(|s| s.is_finite() && *s >= 0.0);
    let secs = parse(retry_after).or(parse(reset)).map_or(RATE_LIMIT_DEFAULT_S, |s| s.ceil() as u32);
    secs.clamp(1, 3600)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
}

/// Renew the access token with the refresh token (Basic app_id:app_secret,
/// form-encoded as the description's `OauthAccessTokenRequestRefresh`).
fn refresh(cfg: &Config, tokens: &Tokens) -> Result<Tokens, ApiError> {
    let (Some(refresh_token), Some(app_id), Some(app_secret)) = (
        tokens.refresh_token.clone(),
        omnistore_sdk::settings::get("app_id").filter(|v| !v.is_empty()),
        omnistore_sdk::settings::get("app_secret").filter(|v| !v.is_empty()),
    ) else {
        return Err(reauthorize(
            tokens,
            "Pinterest refused the access token, and it cannot be renewed because `refresh_token`, `app_id` or `app_secret` is not set",
        ));
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{app_id}:{app_secret}"));
    let form = format!("grant_type=refresh_token&refresh_token={}", form_encode(&refresh_token));
    let response = RequestBuilder::post(&format!("{}/v5/oauth/token", cfg.api))
        .header("authorization", &format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form)
        .timeout_ms(20_000)
        .send()
        .map_err(transport)?;
    match classify(response) {
        Ok(ok) => {
            let answer: TokenAnswer = serde_json::from_slice(&ok.body).map_err(|e| ApiError::Unavailable {
                status: ok.status,
                message: format!("Pinterest's token answer is not the expected JSON: {e}"),
                maybe_done: false,
            })?;
            config::store_tokens(&answer.access_token, answer.refresh_token.or(Some(refresh_token)))
                .map_err(storage_failure)
        }
        Err(ApiError::Refused { message, .. }) => {
            Err(reauthorize(tokens, &format!("Pinterest refused to renew the access token ({message})")))
        }
        Err(other) => Err(other),
    }
}

/// `?ad_account_id=…` when the merchant set one, for the calls that take it.
pub fn ad_account_query(cfg: &Config) -> String {
    cfg.ad_account_id.as_deref().map(|a| format!("?ad_account_id={}", form_encode(a))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_retry_after_then_the_reset_header() {
        assert_eq!(wait_seconds(Some("7"), Some("30")), 7);
        assert_eq!(wait_seconds(None, Some("2.5")), 3);
        assert_eq!(wait_seconds(None, None), RATE_LIMIT_DEFAULT_S);
        assert_eq!(wait_seconds(Some("0"), None), 1);
        assert_eq!(wait_seconds(Some("999999"), None), 3600);
        assert_eq!(wait_seconds(Some("soon"), Some("4")), 4);
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(form_encode("pinr.a b/c+d"), "pinr.a+b%2Fc%2Bd");
    }
}
