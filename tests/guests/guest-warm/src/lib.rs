//! Asks for warm instances (`instances = "warm"`) and shows what its
//! instance remembers, so the host's tests see which calls shared one.
//!
//! - `GET /count` — 200 with the calls this instance served, this one included,
//!   and the `greeting` setting: `3 hello`.
//! - `GET /keep?value=v` — keeps `v` in memory; 200 with what was kept before.
//! - `GET /trap` — counts, then panics.
//! - `GET /spin` — counts, then spins until the host ends the call.
//! - `GET /grow?mib=n` — counts, then grows its memory by n MiB (the host's
//!   memory limit refuses what is over it; the call still answers, 200 `refused`).
//! - `GET /fail` — counts, then returns a plugin error (a normal return).

use std::cell::{Cell, RefCell};

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin, settings};

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
    static KEPT: RefCell<String> = const { RefCell::new(String::new()) };
}

struct Warm;

impl Plugin for Warm {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let calls = CALLS.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        match req.path.as_str() {
            "/count" => Ok(Response::text(format!("{calls} {}", settings::get_or("greeting", "none")))),
            "/keep" => {
                let value = req.query_param("value").unwrap_or_default();
                Ok(Response::text(KEPT.with(|k| k.replace(value))))
            }
            "/trap" => panic!("guest-warm: deliberate panic after {calls} calls"),
            "/spin" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/grow" => {
                let mib: usize = req.query_param("mib").and_then(|m| m.parse().ok()).unwrap_or(1);
                Ok(Response::text(if grow(mib * 16) { "grown" } else { "refused" }))
            }
            "/fail" => Err(PluginError::Internal("guest-warm: a deliberate plugin error".into())),
            _ => Err(PluginError::not_found(&req.path)),
        }
    }
}

/// Grows the linear memory by `pages` 64 KiB pages; false when refused.
#[cfg(target_arch = "wasm32")]
fn grow(pages: usize) -> bool {
    core::arch::wasm32::memory_grow(0, pages) != usize::MAX
}

#[cfg(not(target_arch = "wasm32"))]
fn grow(pages: usize) -> bool {
    pages == 0
}

export_plugin!(Warm);
