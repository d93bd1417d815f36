//! Bundles the default theme (`theme/`) into the plugin: every file becomes
//! an entry of `THEME_FILES`, so the wasm carries its whole theme.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/fnv.rs"]
mod fnv;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let theme = root.join("theme");
    println!("cargo:rerun-if-changed=theme");
    let mut files = Vec::new();
    collect(&theme, &theme, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The default theme: (path inside the theme, contents).\npub static THEME_FILES: &[(&str, &str)] = &[\n",
    );
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        writeln!(out, "    ({relative:?}, include_str!({:?})),", absolute.display().to_string())
            .expect("writing to a String");
    }
    out.push_str("];\n");
    // A version of the bundled theme, for asset URLs that may be cached for ever.
    let mut hash = fnv::FNV_START;
    for (relative, absolute) in &files {
        hash = fnv::fnv1a(hash, relative.as_bytes());
        hash = fnv::fnv1a(hash, &std::fs::read(absolute).expect("theme file is readable"));
    }
    writeln!(out, "/// Changes whenever a bundled theme file does.\npub const THEME_VERSION: &str = \"{hash:016x}\";")
        .expect("writing to a String");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("theme_files.rs");
    std::fs::write(dest, out).expect("writing the theme table");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("theme/ is readable").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("inside the theme").to_string_lossy().replace('\\', "/");
            files.push((relative, path));
        }
    }
}
