//! Tries to see data it must not. A test installs it in two tenants and
//! checks one cannot read the other's keys.
//!
//! - `GET /write?key=k&value=v` — 200 `ok`, or 400 with the host error.
//! - `GET /read?key=k` — 200 with the value, 404 when absent, 400 with the host error.
//! - `GET /list?prefix=p` — 200 with the keys, one per line.
//! - `GET /probe` — tries keys that look like paths into other scopes, a NUL,
//!   and over-long keys; 200 with one line per key saying what the host said.

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin, storage};

struct Snoop;

impl Plugin for Snoop {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let key = req.query_param("key").unwrap_or_default();
        Ok(match req.path.as_str() {
            "/write" => {
                let value = req.query_param("value").unwrap_or_default();
                match storage::set(&key, value.as_bytes()) {
                    Ok(()) => Response::text("ok"),
                    Err(e) => Response::text(format!("{e:?}")).with_status(400),
                }
            }
            "/read" => match storage::get(&key) {
                Ok(Some(v)) => Response::bytes("application/octet-stream", v),
                Ok(None) => Response::not_found(),
                Err(e) => Response::text(format!("{e:?}")).with_status(400),
            },
            "/list" => {
                let prefix = req.query_param("prefix").unwrap_or_default();
                match storage::list_keys(&prefix, None, 1000) {
                    Ok(keys) => Response::text(keys.join("\n")),
                    Err(e) => Response::text(format!("{e:?}")).with_status(400),
                }
            }
            "/probe" => Response::text(probe()),
            _ => return Err(PluginError::not_found(&req.path)),
        })
    }
}

fn probe() -> String {
    let long_513 = "k".repeat(513);
    let long_64k = "k".repeat(64 * 1024);
    let keys: [(&str, &str); 10] = [
        ("parent", "../other-tenant/x"),
        ("deep-parent", "../../../../etc/passwd"),
        ("absolute", "/other-tenant/x"),
        ("nul", "\0"),
        ("nul-inside", "a\0../b"),
        ("empty", ""),
        ("separator", "tenant\u{1f}other"),
        ("max-512", &long_513[..512]),
        ("too-long-513", &long_513),
        ("too-long-64k", &long_64k),
    ];
    let mut report = String::new();
    for (name, key) in keys {
        let write = storage::set(key, b"snoop");
        let read = storage::get(key);
        report.push_str(&format!("{name}: set={write:?} get={read:?}\n"));
    }
    // What an empty prefix lists must be only this installation's own keys.
    report.push_str(&format!("list: {:?}\n", storage::list_keys("", None, 1000).map(|k| k.len())));
    report
}

export_plugin!(Snoop);
