//! What the benchmarks share about built plugins: where they are, and a copy
//! whose manifest says something else (warm instances on, or off).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The folder `cargo xtask build-plugins` put `package` in.
pub fn built(package: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins").join(package)
}

/// A copy of the built `package` in `into` whose manifest is `edit` of the
/// built one. An edit that changes nothing is an error: the measurement it
/// was for would compare the plugin with itself.
pub fn with_manifest(package: &str, into: &Path, edit: impl Fn(&str) -> String) -> anyhow::Result<PathBuf> {
    let from = built(package);
    let manifest =
        std::fs::read_to_string(from.join("plugin.toml")).with_context(|| format!("reading {package}'s manifest"))?;
    let edited = edit(&manifest);
    if edited == manifest {
        bail!("{package}'s manifest did not change: the benchmark would compare the plugin with itself");
    }
    std::fs::create_dir_all(into)?;
    std::fs::write(into.join("plugin.toml"), edited)?;
    std::fs::copy(from.join("plugin.wasm"), into.join("plugin.wasm")).with_context(|| format!("copying {package}"))?;
    Ok(into.to_path_buf())
}
