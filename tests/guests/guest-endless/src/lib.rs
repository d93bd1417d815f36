//! A streamed response that never ends: every page, `?bytes=N` bytes of
//! `x` (default 1024), continues to the next. `GET /pages` answers how many
//! pages the host has pulled so far (kept in plugin storage), so a test can
//! tell whether the host stopped pulling when its client went away.

use omnistore_sdk::{BodyPage, Plugin, PluginError, Request, Response, export_plugin, storage};

const DEFAULT_BYTES: usize = 1024;
const PULLED_KEY: &str = "pulled";

struct Endless;

fn pulled() -> Result<u64, PluginError> {
    Ok(storage::get_json(PULLED_KEY)?.unwrap_or(0))
}

impl Plugin for Endless {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        if req.path == "/pages" {
            return Ok(Response::text(pulled()?.to_string()));
        }
        let n = match req.query_param("bytes") {
            Some(v) => v.parse().map_err(|_| PluginError::bad_request(format!("bytes={v} is not a number")))?,
            None => DEFAULT_BYTES,
        };
        Ok(Response::bytes("application/octet-stream", vec![b'x'; n]).with_continuation(n.to_string()))
    }

    fn next_page(continuation: String) -> Result<BodyPage, PluginError> {
        let n: usize =
            continuation.parse().map_err(|_| PluginError::bad_request("not a continuation of this plugin"))?;
        storage::set_json(PULLED_KEY, &(pulled()? + 1))?;
        Ok(BodyPage::more(vec![b'x'; n], continuation))
    }
}

export_plugin!(Endless);
