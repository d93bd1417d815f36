//! Renders what it is given: `POST /` with `{"template": "...", "data": {...}}`
//! answers the rendered text, and the `x-render-ns` header says how long the
//! parse and render took inside the instance. The benchmark runs the same
//! template natively to compare. Bad input is a 400 saying which step failed.

use omnistore_sdk::templates::{ParseOptions, RenderOptions, Template};
use omnistore_sdk::{Plugin, PluginError, Request, Response, clock, export_plugin};

struct Render;

impl Plugin for Render {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Ok(render(&req.body).unwrap_or_else(|message| Response::text(message).with_status(400)))
    }
}

fn render(body: &[u8]) -> Result<Response, String> {
    let input: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("body: {e}"))?;
    let source = input["template"].as_str().ok_or("template: missing")?;
    let started = clock::monotonic_ns();
    let template = Template::parse(source, &ParseOptions::default()).map_err(|e| format!("parse: {e}"))?;
    let text = template.render_json(&input["data"], &RenderOptions::default()).map_err(|e| format!("render: {e}"))?;
    let took = clock::monotonic_ns().saturating_sub(started);
    Ok(Response::html(text).with_header("x-render-ns", &took.to_string()))
}

export_plugin!(Render);
