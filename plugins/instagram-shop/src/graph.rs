//! Meta's Graph API as the plugin uses it: the Catalog Batch API
//! (`POST /{catalog_id}/items_batch`), its status
//! (`GET /{catalog_id}/check_batch_request_status`), and Graph's error
//! document `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

use omnistore_sdk::http::{self, RequestBuilder};
use omnistore_sdk::url::percent_encode;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Sync;
use crate::state::Problem;

/// Most requests one `items_batch` call takes.
pub const BATCH_LIMIT: usize = 5000;

/// How a call failed, by what the plugin must do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Graph's rate limits (codes 4, 17, 32, 613, 80014): wait, then send again.
    RateLimited(GraphError),
    /// The token is invalid or expired (code 190): the merchant must reconnect.
    Token(GraphError),
    /// Meta refused the call for another reason; retrying does not help.
    Refused(GraphError),
    /// No answer, or one that is not Graph's: try again later.
    Transient(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

impl GraphError {
    pub fn problem(&self) -> Problem {
        let code = match self.error_subcode {
            Some(sub) => format!("{}/{sub}", self.code),
            None => self.code.to_string(),
        };
        Problem { code, message: self.message.clone() }
    }
}

/// What Meta said about some items: `validation_status` entries.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Validation {
    #[serde(default)]
    pub retailer_id: String,
    #[serde(default)]
    pub errors: Vec<Message>,
    #[serde(default)]
    pub warnings: Vec<Message>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub message: String,
    /// Some answers name the offending item here instead.
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub code: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BatchAnswer {
    #[serde(default)]
    pub handles: Vec<String>,
    #[serde(default)]
    pub validation_status: Vec<Validation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub errors: Vec<Message>,
    #[serde(default)]
    pub warnings: Vec<Message>,
    #[serde(default)]
    pub validation_status: Vec<Validation>,
}

/// Graph's error codes of its rate limits.
fn is_rate_limit(code: i64) -> bool {
    matches!(code, 4 | 17 | 32 | 613 | 80014)
}

/// `POST items_batch` with these requests (at most [`BATCH_LIMIT`]).
pub fn items_batch(cfg: &Sync, requests: &[Value]) -> Result<BatchAnswer, Failure> {
    let requests = serde_json::to_string(requests).map_err(|e| Failure::Transient(e.to_string()))?;
    let body = form(&[
        ("access_token", &cfg.access_token),
        ("item_type", "PRODUCT_ITEM"),
        ("allow_upsert", "true"),
        ("requests", &requests),
    ]);
    let req = RequestBuilder::post(&cfg.edge_url("items_batch"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .timeout_ms(20_000);
    answer(req.send())
}

/// `GET check_batch_request_status` of one handle.
pub fn batch_status(cfg: &Sync, handle: &str) -> Result<Vec<Status>, Failure> {
    #[derive(Deserialize)]
    struct Data {
        #[serde(default)]
        data: Vec<Status>,
    }
    let url = format!(
        "{}?{}",
        cfg.edge_url("check_batch_request_status"),
        form(&[("handle", handle), ("access_token", &cfg.access_token)])
    );
    let data: Data = answer(RequestBuilder::get(&url).timeout_ms(10_000).send())?;
    Ok(data.data)
}

fn answer<T: for<'de> Deserialize<'de>>(sent: Result<http::IncomingResponse, http::HttpError>) -> Result<T, Failure> {
    let res = sent.map_err(|e| Failure::Transient(format!("Meta's Graph API did not answer: {e:?}")))?;
    if !res.is_success() {
        #[derive(Deserialize)]
        struct Doc {
            error: GraphError,
        }
        return Err(match serde_json::from_slice::<Doc>(&res.body) {
            Ok(Doc { error }) if error.code == 190 => Failure::Token(error),
            Ok(Doc { error }) if is_rate_limit(error.code) => Failure::RateLimited(error),
            Ok(Doc { error }) if res.status >= 500 => Failure::Transient(error.message),
            Ok(Doc { error }) => Failure::Refused(error),
            Err(_) => Failure::Transient(format!("Meta's Graph API answered {}", res.status)),
        });
    }
    serde_json::from_slice(&res.body)
        .map_err(|e| Failure::Transient(format!("Meta's Graph API answered with an unexpected document: {e}")))
}

/// `application/x-www-form-urlencoded`, as Graph takes parameters.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_form_encoded() {
        assert_eq!(form(&[("a b", "[{\"x\":\"é&\"}]")]), "a%20b=%5B%7B%22x%22%3A%22%C3%A9%26%22%7D%5D");
    }

    #[test]
    fn errors_are_told_apart_by_code() {
        let res =
            |status, body: &str| Ok(http::IncomingResponse { status, headers: vec![], body: body.as_bytes().to_vec() });
        let doc =
            |code| format!(r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"fbtrace_id":"A"}}}}"#);
        for code in [4, 17, 32, 80014] {
            assert!(matches!(answer::<Value>(res(400, &doc(code))), Err(Failure::RateLimited(_))), "{code}");
        }
        assert!(matches!(answer::<Value>(res(400, &doc(190))), Err(Failure::Token(_))));
        let Err(Failure::Refused(e)) = answer::<Value>(res(400, &doc(100))) else { panic!() };
        assert_eq!(e.problem(), Problem { code: "100".into(), message: "m".into() });
        assert!(matches!(answer::<Value>(res(502, "<html>")), Err(Failure::Transient(_))));
    }
}
