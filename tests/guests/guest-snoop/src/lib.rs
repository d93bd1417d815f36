//! Tries to see data it must not. A test installs it in two tenants and
//! checks one cannot read the other's keys.
//!
//! - `GET /write?key=k&value=v` — 200 `ok`, or 400 with the host error.
//! - `GET /read?key=k` — 200 with the value, 404 when absent, 400 with the host error.
//! - `GET /list?prefix=p` — 200 with the keys, one per line.
//! - `GET /probe` — tries keys that look like paths into other scopes, a NUL,
//!   and over-long keys; 200 with one line per key saying what the host said.
//! - `GET /leave-residue` — fills 512 KiB of its heap with a pattern and
//!   returns without freeing it, as a call holding a shopper's data would.
//! - `GET /find-residue` — grows its memory to 4 MiB and scans all of it for
//!   that pattern; 200 with the number of places it was found. A fresh
//!   instance in a reused slot must find none.

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
            "/leave-residue" => {
                let buffer: Vec<u8> = (0..RESIDUE_BYTES).map(residue_byte).collect();
                std::mem::forget(buffer);
                Response::text("left")
            }
            "/find-residue" => Response::text(find_residue().to_string()),
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

const RESIDUE_BYTES: usize = 512 << 10;
/// How long a run must be to count as the pattern: longer than its period, so
/// no table the compiler might make of it can match.
const RESIDUE_RUN: usize = 1024;

/// The pattern is computed, never stored as data, so finding it in memory
/// means a previous call's heap survived.
fn residue_byte(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ 0x5a) as u8
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // reading raw linear memory is what this guest is for
fn find_residue() -> usize {
    const PAGE: usize = 65536;
    let want_pages = (4 << 20) / PAGE;
    let have = core::arch::wasm32::memory_size(0);
    if have < want_pages {
        core::arch::wasm32::memory_grow(0, want_pages - have);
    }
    let end = core::arch::wasm32::memory_size(0) * PAGE;
    let mut found = 0;
    let mut address = PAGE; // the first page holds the stack's end and no heap
    while address + RESIDUE_RUN <= end {
        let matches = (0..RESIDUE_RUN).all(|k| {
            // SAFETY: the address is inside linear memory, which is plain bytes;
            // reading memory the allocator has not handed out is the point.
            let byte = unsafe { core::ptr::read_volatile((address + k) as *const u8) };
            byte == residue_byte(k)
        });
        if matches {
            found += 1;
            address += RESIDUE_RUN;
        } else {
            address += 1;
        }
    }
    found
}

#[cfg(not(target_arch = "wasm32"))]
fn find_residue() -> usize {
    0
}

export_plugin!(Snoop);
