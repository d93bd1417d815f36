//! Fails in handle-request by trapping. `?kind=` picks how:
//! `panic` (default), `unreachable`, `oob` (an out-of-bounds index),
//! `div` (integer division by zero). The host must fail only that call.

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin};

struct Trap;

impl Plugin for Trap {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let kind = req.query_param("kind").unwrap_or_else(|| "panic".into());
        let zero = std::hint::black_box(0usize);
        match kind.as_str() {
            "unreachable" => unreachable(),
            "oob" => {
                let v = std::hint::black_box(vec![1u8; 4]);
                Ok(Response::text(v[zero + 10].to_string()))
            }
            "div" => Ok(Response::text((1 / zero).to_string())),
            _ => panic!("guest-trap: deliberate panic"),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn unreachable() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn unreachable() -> ! {
    std::process::abort()
}

export_plugin!(Trap);
