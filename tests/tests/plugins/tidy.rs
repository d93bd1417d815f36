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
