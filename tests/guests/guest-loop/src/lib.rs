//! Spins forever in handle-request. The host must end the call at its
//! deadline (epoch interruption) and keep serving others.

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin};

struct Loop;

impl Plugin for Loop {
    fn handle_request(_req: Request) -> Result<Response, PluginError> {
        let mut n: u64 = 0;
        loop {
            // black_box keeps the optimizer from proving the loop useless.
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export_plugin!(Loop);
