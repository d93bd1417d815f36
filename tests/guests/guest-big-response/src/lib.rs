//! Answers with a body of `?bytes=N` bytes (default 64 MiB) in one page.
//! The host must refuse it at its output cap without buffering it twice.

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin};

const DEFAULT_BYTES: usize = 64 << 20;

struct BigResponse;

impl Plugin for BigResponse {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let n = match req.query_param("bytes") {
            Some(v) => v.parse().map_err(|_| PluginError::bad_request(format!("bytes={v} is not a number")))?,
            None => DEFAULT_BYTES,
        };
        Ok(Response::bytes("application/octet-stream", vec![b'x'; n]))
    }
}

export_plugin!(BigResponse);
