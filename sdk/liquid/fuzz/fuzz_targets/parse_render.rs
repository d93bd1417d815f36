//! Any bytes as a template (and as its own partial): parsing and rendering must not panic.
//!
//! Run with `cargo fuzz run parse_render` from `sdk/liquid`.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use omnistore_liquid::{ParseOptions, RenderOptions, Template, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let partials: HashMap<String, String> = [("p".to_string(), src.to_string())].into();
    let globals: Value = serde_json::json!({
        "x": 1,
        "xs": [3, "a", null, 2.5, [1, 2], {"k": "v"}],
        "h": {"a": 1, "b": [1, 2]},
    })
    .into();
    let options = RenderOptions {
        max_loop_iterations: 10_000,
        max_output_bytes: 1 << 16,
        max_work_bytes: 1 << 20,
        now: Some(1_700_000_000),
        ..RenderOptions::default()
    }
    .with_partials(&partials);
    if let Ok(template) = Template::parse(src, &ParseOptions::default()) {
        let _ = template.render(&globals, &options);
    }
});
