//! Finding plugin crates: directories with both a `Cargo.toml` and a
//! `plugin.toml`.

use std::path::{Path, PathBuf};

use omnistore_manifest::Manifest;

use crate::BuildError;

/// A plugin crate found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginCrate {
    /// The directory holding `Cargo.toml` and `plugin.toml`.
    pub dir: PathBuf,
    /// The cargo package name (what `cargo build -p` takes).
    pub package: String,
    /// The plugin id from `plugin.toml`.
    pub id: String,
}

/// Nesting below a root that is searched; plugin crates sit one or two levels
/// down (`plugins/web-storefront`, `tests/guests/guest-loop`).
const MAX_DEPTH: usize = 4;

/// Every plugin crate at or below each of `roots`, sorted by directory.
/// `target` directories and hidden ones are skipped, and a plugin crate's own
/// subdirectories are not searched. Roots that do not exist are skipped, so
/// callers can pass the usual places without checking them.
pub fn find_plugin_crates(roots: &[&Path]) -> Result<Vec<PluginCrate>, BuildError> {
    let mut found = Vec::new();
    for root in roots {
        if root.is_dir() {
            walk(root, 0, &mut found)?;
        }
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    found.dedup_by(|a, b| a.dir == b.dir);
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PluginCrate>) -> Result<(), BuildError> {
    let cargo_toml = dir.join("Cargo.toml");
    let plugin_toml = dir.join("plugin.toml");
    if cargo_toml.is_file() && plugin_toml.is_file() {
        let manifest = Manifest::load(&plugin_toml)
            .map_err(|source| BuildError::Manifest { path: plugin_toml, source: Box::new(source) })?;
        found.push(PluginCrate { dir: dir.to_path_buf(), package: package_name(&cargo_toml)?, id: manifest.id });
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| BuildError::Io { path: dir.to_path_buf(), source })?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&entry.path(), depth + 1, found)?;
        }
    }
    Ok(())
}

fn package_name(cargo_toml: &Path) -> Result<String, BuildError> {
    let io = |source| BuildError::Io { path: cargo_toml.to_path_buf(), source };
    let text = std::fs::read_to_string(cargo_toml).map_err(io)?;
    let value: toml::Table =
        toml::from_str(&text).map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())))?;
    value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .ok_or_else(|| io(std::io::Error::new(std::io::ErrorKind::InvalidData, "no [package] name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(dir: &Path, package: &str, id: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("Cargo.toml"), format!("[package]\nname = \"{package}\"\nversion = \"0.1.0\"\n"))
            .unwrap();
        std::fs::write(
            dir.join("plugin.toml"),
            format!(
                "[plugin]\nid = \"{id}\"\nname = \"N\"\nversion = \"0.1.0\"\npublisher = \"P\"\ncontract = \"^0.1\"\n"
            ),
        )
        .unwrap();
    }

    #[test]
    fn finds_crates_with_both_files_and_skips_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        plugin(&root.join("plugins/b-shop"), "b-shop", "b");
        plugin(&root.join("guests/guest-loop"), "guest-loop", "loop");
        // Inside a plugin crate, in target/ and in hidden dirs: not searched.
        plugin(&root.join("plugins/b-shop/nested"), "nested", "nested");
        plugin(&root.join("plugins/target/x"), "x", "x");
        plugin(&root.join("plugins/.hidden"), "h", "h");
        // Only a Cargo.toml: not a plugin.
        std::fs::create_dir_all(root.join("plugins/lib-only")).unwrap();
        std::fs::write(root.join("plugins/lib-only/Cargo.toml"), "[package]\nname = \"l\"\n").unwrap();

        let found = find_plugin_crates(&[&root.join("plugins"), &root.join("guests"), &root.join("missing")]).unwrap();
        let summary: Vec<(&str, &str)> = found.iter().map(|c| (c.package.as_str(), c.id.as_str())).collect();
        assert_eq!(summary, [("guest-loop", "loop"), ("b-shop", "b")]);
    }
}
