//! The judge of what goes over the wire: Twilio's own OpenAPI description
//! of its REST API (`tests/fixtures/twilio_api_v2010.json`, unmodified),
//! read by `openapi-core` through the shared judges' validator, started
//! once per test binary.

use std::path::Path;
use std::sync::OnceLock;

pub use omnistore_judges::{OpenApi, Question};

/// The one validator, started on first use.
pub fn openapi() -> &'static OpenApi {
    static ONE: OnceLock<OpenApi> = OnceLock::new();
    ONE.get_or_init(|| {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/twilio_api_v2010.json");
        OpenApi::start(&spec, "https://api.twilio.com")
    })
}
