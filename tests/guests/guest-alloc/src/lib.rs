//! Allocates 1 MiB blocks, touching every page, until memory runs out. The
//! host must stop it at the instance's memory cap and keep serving others.

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin};

struct Alloc;

impl Plugin for Alloc {
    fn handle_request(_req: Request) -> Result<Response, PluginError> {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        loop {
            // Non-zero fill so the pages are really written, not lazily zeroed.
            blocks.push(std::hint::black_box(vec![0xA5; 1 << 20]));
        }
    }
}

export_plugin!(Alloc);
