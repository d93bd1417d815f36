//! Allocates memory.
//!
//! - `GET /` — allocates 1 MiB blocks, touching every page, until memory
//!   runs out. The host must stop it at the instance's memory cap and keep
//!   serving others.
//! - `GET /within-initial-memory` — allocates and fills 2 MiB, frees it,
//!   and answers `<pages before> <pages after>`: the pages of linear memory
//!   before and after. The SDK's allocator uses the memory a plugin starts
//!   with before it grows any.

use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin};

struct Alloc;

impl Plugin for Alloc {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        if req.path == "/within-initial-memory" {
            let before = memory_pages();
            let block = std::hint::black_box(vec![0xA5u8; 2 << 20]);
            drop(block);
            return Ok(Response::text(format!("{before} {}", memory_pages())));
        }
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        loop {
            // Non-zero fill so the pages are really written, not lazily zeroed.
            blocks.push(std::hint::black_box(vec![0xA5; 1 << 20]));
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn memory_pages() -> usize {
    core::arch::wasm32::memory_size(0)
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_pages() -> usize {
    0
}

export_plugin!(Alloc);
