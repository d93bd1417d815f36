//! `omnistore plugin new`: a plugin crate from the template.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

const CARGO_TOML: &str = include_str!("../template/Cargo.toml.tmpl");
const PLUGIN_TOML: &str = include_str!("../template/plugin.toml.tmpl");
const LIB_RS: &str = include_str!("../template/src/lib.rs.tmpl");
const README: &str = include_str!("../template/README.md.tmpl");
const TESTS: &str = include_str!("../template/tests/pages.rs.tmpl");

/// Every file of a new plugin crate: its path and template.
const FILES: [(&str, &str); 5] = [
    ("Cargo.toml", CARGO_TOML),
    ("plugin.toml", PLUGIN_TOML),
    ("src/lib.rs", LIB_RS),
    ("tests/pages.rs", TESTS),
    ("README.md", README),
];

/// Is `dir` the SDK crate?
fn is_sdk(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("name = \"omnistore-sdk\""))
}

/// The omnistore checkout containing `start`, if any.
fn checkout_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|a| is_sdk(&a.join("sdk"))).map(Path::to_path_buf)
}

/// Find the SDK: the given path, the checkout around the target directory,
/// the current directory or the running binary, or the checkout the binary
/// was built from (cargo may have put the binary anywhere).
fn find_sdk(target: &Path, given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        let p = p.canonicalize().with_context(|| format!("finding the SDK at {}", p.display()))?;
        if !is_sdk(&p) {
            bail!("{} is not the omnistore-sdk crate", p.display());
        }
        return Ok(p);
    }
    let built_from = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    [Some(target.to_path_buf()), std::env::current_dir().ok(), std::env::current_exe().ok(), built_from]
        .into_iter()
        .flatten()
        .find_map(|start| checkout_root(&start))
        .map(|root| root.join("sdk"))
        .context("could not find the omnistore SDK; pass --sdk PATH (the `sdk` folder of an omnistore checkout)")
}

/// `to` expressed relative to `from` when they share a prefix.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to_c: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_c[common..] {
        out.push(c);
    }
    out
}

fn title_of(name: &str) -> String {
    name.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Create `<parent>/<name>` from the template and return its path.
pub fn new_plugin(name: &str, parent: &Path, sdk: Option<&Path>) -> anyhow::Result<PathBuf> {
    if !omnistore_runtime::manifest::is_valid_id(name) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!("`{name}` is not a valid plugin name: use a-z, 0-9 and '-', starting with a letter");
    }
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let parent = parent.canonicalize().with_context(|| format!("finding {}", parent.display()))?;
    let dir = parent.join(name);
    if dir.exists() {
        bail!("{} already exists; choose another name or remove it", dir.display());
    }
    let sdk = find_sdk(&parent, sdk)?;
    // The new crate is a workspace of its own (a `[workspace]` table), so it
    // builds the same inside an omnistore checkout and anywhere else.
    let fill = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{title}}", &title_of(name))
            .replace("{{publisher}}", "Your name")
            .replace("{{sdk_path}}", &relative(&dir, &sdk).display().to_string())
            .replace("{{workspace}}", "\n[workspace]\n")
    };
    for (file, text) in FILES {
        let path = dir.join(file);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
        std::fs::write(&path, fill(text)).with_context(|| format!("writing {}", path.display()))?;
    }
    // The checkout's lock file, so the new crate builds the SDK and the
    // harness with the dependency versions they are tested with (cargo drops
    // what the crate does not use).
    if let Some(lock) = sdk.parent().map(|checkout| checkout.join("Cargo.lock")).filter(|l| l.is_file()) {
        std::fs::copy(&lock, dir.join("Cargo.lock")).with_context(|| format!("copying {}", lock.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_walk_up_to_the_common_prefix() {
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a/sdk")), PathBuf::from("../../sdk"));
        assert_eq!(title_of("my-first-channel"), "My First Channel");
    }

    #[test]
    fn a_new_plugin_has_every_template_file_filled_in() {
        let parent = std::env::temp_dir().join(format!("omnistore-scaffold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk");
        let dir = new_plugin("my-channel", &parent, Some(&sdk)).unwrap();
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (file, _) in FILES {
            for placeholder in ["{{name}}", "{{title}}", "{{publisher}}", "{{sdk_path}}", "{{workspace}}"] {
                assert!(!read(file).contains(placeholder), "{file} still has {placeholder}");
            }
        }
        let tests = read("tests/pages.rs");
        assert!(tests.contains("Harness::for_plugin(\"my-channel\")"), "{tests}");
        let manifest = read("Cargo.toml");
        let harness = relative(&dir, &sdk.canonicalize().unwrap()).join("harness");
        assert!(
            manifest.contains(&format!("omnistore-sdk-harness = {{ path = \"{}\" }}", harness.display())),
            "{manifest}"
        );
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(read("src/lib.rs").contains(".get(\"/products/:handle\", product)"));
        assert!(read("README.md").contains("cargo test"));
        assert!(dir.join("Cargo.lock").is_file(), "the checkout's lock file is copied");
        assert!(new_plugin("my-channel", &parent, Some(&sdk)).is_err(), "an existing crate is not overwritten");
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
