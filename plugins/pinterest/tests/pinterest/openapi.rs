//! The judge: Pinterest's OpenAPI description of API v5
//! (`tests/fixtures/pinterest_v5_openapi.json`, unmodified) in openapi-core,
//! through the shared judges' validator, started once per test binary.

use std::path::Path;
use std::sync::OnceLock;

pub use omnistore_judges::{OpenApi, Question};

pub fn openapi() -> &'static OpenApi {
    static ONE: OnceLock<OpenApi> = OnceLock::new();
    ONE.get_or_init(|| {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pinterest_v5_openapi.json");
        OpenApi::start(&spec, "https://api.pinterest.com")
    })
}
