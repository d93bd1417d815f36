//! End to end: build the example and the hostile test guests of this
//! workspace with the real toolchain, then check every component against its
//! manifest. `cargo xtask test` builds the plugins first, so target/wasm is
//! warm and the build here takes seconds; from nothing it takes a minute or two
//! (and, on the Debian route, a one-time download when the toolchain cache is empty).

use std::path::{Path, PathBuf};
use std::time::Instant;

use omnistore_build::{BuildRequest, Toolchain, build, find_plugin_crates};
use omnistore_manifest::Manifest;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

#[test]
fn example_and_test_guests_build_and_pass_the_manifest_check() {
    let root = workspace_root();
    let mut progress = |msg: &str| eprintln!("[build] {msg}");
    let toolchain = Toolchain::detect(&mut progress).expect("a wasm32 toolchain");
    let crates = find_plugin_crates(&[&root.join("examples"), &root.join("tests/guests")]).unwrap();
    let expected = ["hello-channel", "loop", "alloc", "trap", "big-response", "ungranted", "http-client", "snoop"];
    for id in expected {
        assert!(crates.iter().any(|c| c.id == id), "plugin `{id}` not found among {crates:?}");
    }

    let started = Instant::now();
    let request = BuildRequest {
        manifest_path: root.join("Cargo.toml"),
        packages: crates.iter().map(|c| c.package.clone()).collect(),
        target_dir: root.join("target/wasm"),
        out_dir: root.join("target/plugins"),
    };
    let built = build(&toolchain, &request, &mut progress).expect("the build");
    eprintln!("[build] {} plugins in {:.1?}", built.len(), started.elapsed());

    assert_eq!(built.len(), crates.len());
    for plugin in &built {
        let manifest = Manifest::load(&plugin.manifest).unwrap();
        let bytes = std::fs::read(&plugin.wasm).unwrap();
        assert_eq!(bytes.len() as u64, plugin.size);
        let contract = manifest.check_component(&bytes).unwrap();
        assert_eq!(contract, plugin.contract);
        assert_eq!(manifest.id, plugin.id);
        eprintln!("[build] {:<14} {:>7} bytes  contract {contract}", plugin.id, plugin.size);
        let machine_paths = [root.to_string_lossy().into_owned(), std::env::var("HOME").unwrap_or_default()];
        for path in machine_paths.iter().filter(|p| p.len() > 1) {
            assert!(
                !bytes.windows(path.len()).any(|w| w == path.as_bytes()),
                "{} contains the machine path {path}",
                plugin.id
            );
        }
    }
    let hello = built.iter().find(|p| p.id == "hello-channel").unwrap();
    // It carries the Liquid engine (about 350 KB) like every channel that renders pages
    // or messages; the bound catches debug info or a dependency pulled in by mistake.
    assert!(hello.size < 1024 * 1024, "hello-channel is {} bytes; keep it under 1 MiB", hello.size);
}

/// The Debian route from an empty cache: downloads about 130 MB of packages
/// and unpacks 850 MB, so the set-up a fresh machine goes through is tested
/// even where the shared cache is already warm. Needs Debian's archive.
#[test]
fn debian_route_sets_up_from_an_empty_cache() {
    let cache = tempfile::tempdir().unwrap();
    let mut progress = |msg: &str| eprintln!("[setup] {msg}");
    let started = Instant::now();
    let toolchain = Toolchain::debian(cache.path(), &mut progress).expect("the Debian route");
    eprintln!("[setup] {toolchain} in {:.1?}", started.elapsed());
    assert_eq!(toolchain.route(), omnistore_build::Route::Debian);
    assert!(toolchain.rustc_version().starts_with("rustc "));
    // A second call reuses the tree without downloading.
    let again = Toolchain::debian(cache.path(), &mut |msg: &str| panic!("unexpected setup step: {msg}")).unwrap();
    assert_eq!(again.rustc_version(), toolchain.rustc_version());
}
