//! The map is true: every repository path that ARCHITECTURE.md, the README
//! and the contract's README name exists.

use std::path::Path;

const TOP_LEVEL: &[&str] = &["wit/", "host/", "sdk/", "plugins/", "examples/", "tests/", "xtask/"];

/// Backticked spans that name a path in the repository: they start with a
/// top-level folder and hold no placeholder (`<id>`, `{tenant}`, `…`, `*`).
fn named_paths(doc: &str) -> Vec<String> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| TOP_LEVEL.iter().any(|top| span.starts_with(top)))
        .filter(|span| !span.contains(['<', '{', '*', ' ']) && !span.contains('…'))
        .map(|span| span.trim_end_matches('/').to_owned())
        .collect()
}

#[test]
fn every_path_the_docs_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut missing = Vec::new();
    for doc in ["ARCHITECTURE.md", "README.md", "wit/README.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let paths = named_paths(&text);
        assert!(!paths.is_empty() || doc != "ARCHITECTURE.md", "no paths found in {doc}");
        for path in paths {
            if !root.join(&path).exists() {
                missing.push(format!("{doc}: `{path}`"));
            }
        }
    }
    assert!(missing.is_empty(), "the docs name paths that do not exist:\n{}", missing.join("\n"));
}

#[test]
fn the_path_finder_sees_what_it_should() {
    let found = named_paths("see `host/core` and `tests/guests/` but not `<data>/packages/<id>` or `admin/`");
    assert_eq!(found, ["host/core", "tests/guests"]);
}

/// File names (`host.rs`, `admin/`, `records/stored.rs`) the map names inside
/// a crate's section (`### \`host/server\` …`): each must be a file or
/// folder somewhere under that crate.
fn section_files(doc: &str) -> Vec<(String, String)> {
    let mut base: Option<String> = None;
    let mut found = Vec::new();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            base = named_paths(heading).into_iter().next();
            continue;
        }
        if line.starts_with("## ") {
            base = None;
        }
        let Some(base) = &base else { continue };
        for span in line.split('`').skip(1).step_by(2) {
            // `.toml` names a format here (`plugin.toml`), not a file of the crate.
            let is_file = span.ends_with(".rs") || span.ends_with(".md");
            let plain = !span.contains(['<', '{', '*', ' ', ':', '(']) && !span.contains('…');
            let relative = !TOP_LEVEL.iter().any(|top| span.starts_with(top));
            if is_file && plain && relative {
                found.push((base.clone(), span.to_owned()));
            }
        }
    }
    found
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            files_under(&path, out);
        }
        out.push(path);
    }
}

#[test]
fn every_file_the_map_names_in_a_crate_exists_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let named = section_files(&text);
    assert!(named.len() > 30, "the crate sections name their files, found {}", named.len());
    let mut missing = Vec::new();
    for (base, file) in named {
        let mut files = Vec::new();
        files_under(&root.join(&base), &mut files);
        let suffix = format!("/{file}");
        if !files.iter().any(|f| f.to_string_lossy().ends_with(&suffix)) {
            missing.push(format!("`{file}` in the section of `{base}`"));
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md names files that do not exist:\n{}", missing.join("\n"));
}

#[test]
fn the_section_file_finder_sees_what_it_should() {
    let doc =
        "### `host/server` (`x`)\n`host.rs` and `admin/wire.rs`, not `<data>/x.rs` or `a.rs:3`\n## Decisions\n`y.rs`";
    let found = section_files(doc);
    assert_eq!(
        found,
        [("host/server".to_owned(), "host.rs".to_owned()), ("host/server".into(), "admin/wire.rs".into())]
    );
}

/// **Architecture invariant:** the admin API's JSON is the server's own
/// (`host/server/src/admin/wire/`): no handler reads or answers a core type
/// directly, so renaming a domain field cannot move the public API.
#[test]
fn admin_handlers_speak_only_wire_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let admin = root.join("host/server/src/admin");
    let mut checked = 0;
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&admin).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let core_names = core_imports(&text);
        for body in json_type_arguments(&text) {
            checked += 1;
            let named_core = core_names
                .iter()
                // `wire::Channel` is the wire type, whatever the core calls its own.
                .any(|name| {
                    body.replace("wire::", "wire_")
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|word| word == name)
                });
            if body.contains("omnistore_core::") || named_core {
                offenders.push(format!("{}: Json<{body}>", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(checked > 60, "the handlers' JSON types were found, {checked} of them");
    assert!(offenders.is_empty(), "admin handlers use core types as JSON; add a wire type:\n{}", offenders.join("\n"));
}

/// The names a file imports from the core (`use omnistore_core::{A, B};`).
fn core_imports(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for statement in text.split(';') {
        let statement = statement.trim();
        if let Some(rest) = statement.strip_prefix("use omnistore_core::") {
            let list = rest.trim_start_matches('{').trim_end_matches('}');
            names.extend(list.split(',').map(|n| n.trim().rsplit(' ').next().unwrap_or("").to_owned()));
        }
    }
    names.retain(|n| !n.is_empty() && n != "self");
    names
}

/// The type arguments of `Json<…>`, `JsonBody<…>` and `OptJsonBody<…>`.
fn json_type_arguments(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let opens = ["Json<", "JsonBody<"].into_iter().flat_map(|open| text.match_indices(open));
    for (start, open) in opens {
        let mut depth = 1;
        let rest = &text[start + open.len()..];
        let end = rest.char_indices().find_map(|(i, c)| {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        if let Some(end) = end {
            found.push(rest[..end].to_owned());
        }
    }
    found
}

#[test]
fn the_json_type_finder_sees_what_it_should() {
    let text = "use omnistore_core::{Product, ProductId as Id};\nfn a() -> Json<Page<wire::Product>> {}\nfn b(JsonBody(x): JsonBody<Product>) {}";
    assert_eq!(core_imports(text), ["Product", "Id"]);
    assert_eq!(json_type_arguments(text), ["Page<wire::Product>", "Product"]);
}

/// The names a `Cargo.toml` depends on, in any dependency table.
fn dependency_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line.trim_matches(|c| c == '[' || c == ']').ends_with("dependencies");
            continue;
        }
        if in_deps && let Some((key, _)) = line.split_once('=') {
            names.push(key.trim().split('.').next().unwrap_or_default().to_owned());
        }
    }
    names
}

#[test]
fn the_layers_depend_only_downwards() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // The core (and what it stands on) knows nothing of wasm or HTTP; the
    // runtime serves no HTTP itself.
    let wasm_or_http = ["wasmtime", "wit-bindgen", "wit-component", "axum", "hyper", "reqwest", "tower", "tower-http"];
    let rules: [(&str, &[&str]); 4] = [
        ("host/core", &wasm_or_http),
        ("host/storage", &wasm_or_http),
        ("host/types", &wasm_or_http),
        ("host/runtime", &["axum", "tower-http", "omnistore-core", "omnistore-server"]),
    ];
    let mut broken = Vec::new();
    for (krate, forbidden) in rules {
        let manifest = std::fs::read_to_string(root.join(krate).join("Cargo.toml")).unwrap();
        for name in dependency_names(&manifest) {
            if forbidden.contains(&name.as_str()) {
                broken.push(format!("{krate} depends on {name}"));
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_dependency_finder_sees_what_it_should() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\naxum.workspace = true\nserde = { version = \"1\" }\n[dev-dependencies]\ntempfile = \"3\"\n[lints]\nworkspace = true\n";
    assert_eq!(dependency_names(manifest), ["axum", "serde", "tempfile"]);
}

/// FNV-1a: a fixed digest that needs no dependency and never changes.
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x100_0000_01b3);
    }
    hash
}

#[test]
fn a_released_contract_folder_is_never_edited() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = root.join("wit/v0.1.0");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for f in &files {
        hash = fnv1a(f.file_name().unwrap().to_str().unwrap().as_bytes(), hash);
        hash = fnv1a(&std::fs::read(f).unwrap(), hash);
    }
    // Released 0.1.0: a change belongs in a new version folder beside it.
    assert_eq!(format!("{hash:016x}"), RELEASED_V0_1_0, "wit/v0.1.0 was edited");
}

const RELEASED_V0_1_0: &str = "766a9a5201ac2b37";
