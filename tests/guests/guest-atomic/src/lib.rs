//! Drives what contract 0.2.0 added, so the tests can check it through a
//! real component.
//!
//! - `GET /cas?key=k&expected=a&new=b` — `compare-and-set`; a parameter left
//!   out is `none` (absent / delete). 200 `true` or `false`, 400 with the host error.
//! - `GET /increment?key=k&delta=n` — 200 with the new value, 400 with the host error.
//! - `GET /read?key=k` — 200 with the value, 404 when absent.
//! - `GET /sign?value=v` — the value signed with the installation's cookie key.

use omnistore_sdk::cookie::installation_key;
use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin, storage};

struct Atomic;

impl Plugin for Atomic {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let key = req.query_param("key").unwrap_or_default();
        Ok(match req.path.as_str() {
            "/cas" => {
                let expected = req.query_param("expected");
                let new = req.query_param("new");
                match storage::compare_and_set(
                    &key,
                    expected.as_deref().map(str::as_bytes),
                    new.as_deref().map(str::as_bytes),
                ) {
                    Ok(swapped) => Response::text(swapped.to_string()),
                    Err(e) => Response::text(format!("{e:?}")).with_status(400),
                }
            }
            "/increment" => {
                let delta = req.query_param("delta").and_then(|d| d.parse().ok()).unwrap_or(1);
                match storage::increment(&key, delta) {
                    Ok(n) => Response::text(n.to_string()),
                    Err(e) => Response::text(format!("{e:?}")).with_status(400),
                }
            }
            "/read" => match storage::get(&key)? {
                Some(v) => Response::bytes("application/octet-stream", v),
                None => Response::not_found(),
            },
            "/sign" => {
                let value = req.query_param("value").unwrap_or_default();
                Response::text(installation_key().sign("probe", &value))
            }
            _ => return Err(PluginError::not_found(&req.path)),
        })
    }
}

export_plugin!(Atomic);
