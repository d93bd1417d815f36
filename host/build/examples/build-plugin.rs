//! Try the library without the CLI:
//! `cargo run -p omnistore-build --example build-plugin -- [CARGO_TOML] [PACKAGE...]`
//! builds into target/wasm and writes components to target/plugins.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use omnistore_build::{BuildRequest, Toolchain, build};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let manifest_path = PathBuf::from(args.next().unwrap_or_else(|| "Cargo.toml".into()));
    let packages: Vec<String> = args.collect();
    let mut progress = |msg: &str| eprintln!("omnistore: {msg}");
    let started = Instant::now();
    let result = Toolchain::detect(&mut progress).and_then(|toolchain| {
        let request = BuildRequest {
            manifest_path,
            packages,
            target_dir: "target/wasm".into(),
            out_dir: "target/plugins".into(),
        };
        build(&toolchain, &request, &mut progress)
    });
    match result {
        Ok(built) => {
            for p in built {
                println!("{} {} {} bytes {}", p.id, p.version, p.size, p.wasm.display());
            }
            eprintln!("omnistore: done in {:.1?}", started.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
