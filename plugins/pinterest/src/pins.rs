//! One Pin per product, on the merchant's board, the first time the channel
//! sees the product. The claim is stored before the call (compare-and-set),
//! so a redelivered event or a concurrent call never pins twice; a call
//! that may have reached Pinterest without an answer is not repeated either
//! (a missing Pin is better than a duplicate one).

use omnistore_sdk::catalog_text::{absolute_url, plain, product_url, shorten, truncate_chars};
use omnistore_sdk::{PluginError, Product, clock, storage};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{self, ApiError, Body};
use crate::config::Config;
use crate::state::{self, Issue};

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 800;
pub const ALT_TEXT_MAX: usize = 500;
pub const LINK_MAX: usize = 2048;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinRecord {
    /// "claimed" (being created), "created", "failed" or "unknown".
    pub state: String,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn key(product_id: &str) -> String {
    format!("pin/{product_id}")
}

pub fn record(product_id: &str) -> Result<Option<PinRecord>, PluginError> {
    storage::get_json(&key(product_id))
}

/// The body of `POST /v5/pins` (the description's `PinCreate`).
pub fn pin_body(cfg: &Config, board_id: &str, product: &Product, image: &str, alt: Option<&str>) -> Value {
    let description = plain(&product.description);
    let alt_text = alt.filter(|a| !a.trim().is_empty()).unwrap_or(&product.title);
    json!({
        "board_id": board_id,
        "link": truncate_chars(&product_url(&cfg.shop_url, &product.handle), LINK_MAX),
        "title": shorten(&product.title, TITLE_MAX),
        "description": shorten(if description.is_empty() { &product.title } else { &description }, DESCRIPTION_MAX),
        "alt_text": shorten(alt_text, ALT_TEXT_MAX),
        "media_source": { "source_type": "image_url", "url": image },
    })
}

/// Pin `product` unless it was pinned (or tried) before.
pub fn pin_once(cfg: &Config, product: &Product) -> Result<(), PluginError> {
    let Some(board_id) = cfg.board_id.as_deref() else { return Ok(()) };
    if record(&product.id)?.is_some() {
        return Ok(());
    }
    let Some((image, alt)) =
        product.images.iter().find_map(|i| absolute_url(&cfg.shop_url, &i.url).map(|u| (u, i.alt.clone())))
    else {
        return state::warn(
            &product.id,
            Issue::new("no_image", "Not pinned: the product has no image, and a Pin needs one."),
        );
    };
    let now = clock::now();
    let claim = serde_json::to_vec(&PinRecord { state: "claimed".into(), at: now, pin_id: None, error: None })
        .map_err(|e| PluginError::Internal(format!("pin claim: {e}")))?;
    if !storage::compare_and_set(&key(&product.id), None, Some(&claim))? {
        return Ok(());
    }
    let body = pin_body(cfg, board_id, product, &image, alt.as_deref());
    let path = format!("/v5/pins{}", api::ad_account_query(cfg));
    let outcome = api::call(cfg, "POST", &path, Body::Json(&body));
    let done = |state: &str, pin_id: Option<String>, error: Option<String>| {
        storage::set_json(&key(&product.id), &PinRecord { state: state.into(), at: now, pin_id, error })
    };
    match outcome {
        Ok(response) => {
            let id =
                serde_json::from_slice::<Value>(&response.body).ok().and_then(|v| v["id"].as_str().map(String::from));
            done("created", id, None)
        }
        Err(ApiError::Refused { status, code, message }) => {
            done("failed", None, Some(message.clone()))?;
            let code = code.map_or_else(|| format!("http_{status}"), |c| c.to_string());
            state::warn(&product.id, Issue::new(code, format!("Pinterest refused to pin the product: {message}")))
        }
        Err(ApiError::Unavailable { maybe_done: true, message, .. }) => {
            // It may exist now: never sent again.
            done("unknown", None, Some(message))
        }
        Err(e) => {
            // Certainly not created (rate limit, no access, no connection): free the claim for the retry.
            storage::compare_and_set(&key(&product.id), Some(&claim), None)?;
            Err(e.into())
        }
    }
}
