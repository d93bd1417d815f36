//! The plugin build behind `omnistore plugin build [DIR]` and
//! `cargo xtask build-plugins`.
//!
//! ```no_run
//! use omnistore_build::{BuildRequest, Toolchain, build, find_plugin_crates};
//! # fn main() -> Result<(), omnistore_build::BuildError> {
//! let mut progress = |msg: &str| eprintln!("{msg}");
//! let toolchain = Toolchain::detect(&mut progress)?; // says which route it took
//! let crates = find_plugin_crates(&["plugins".as_ref(), "examples".as_ref()])?;
//! let request = BuildRequest {
//!     manifest_path: "Cargo.toml".into(),
//!     packages: crates.into_iter().map(|c| c.package).collect(),
//!     target_dir: "target/wasm".into(),
//!     out_dir: "target/plugins".into(),
//! };
//! for plugin in build(&toolchain, &request, &mut progress)? {
//!     println!("{} {} -> {} ({} bytes)", plugin.id, plugin.version, plugin.wasm.display(), plugin.size);
//! }
//! # Ok(()) }
//! ```
//!
//! A build is: one `cargo build --release --target wasm32-unknown-unknown`
//! for all requested packages (so the standard library and shared
//! dependencies compile once), cargo's progress streamed to stderr; then per
//! plugin: the core module is encoded into a component (`wit-component`,
//! validated), its imports are checked against its `plugin.toml`
//! ([`Manifest::check_component`]), and `<out>/<id>/plugin.wasm` and a copy of
//! `plugin.toml` are written.

mod discover;
mod toolchain;

pub use discover::{PluginCrate, find_plugin_crates};
pub use toolchain::{INITIAL_MEMORY_BYTES, Route, TARGET, Toolchain, default_cache_dir};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use omnistore_manifest::{Manifest, ManifestError};
use serde::Deserialize;

/// What went wrong, in words that say what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "no toolchain for {TARGET}: {detail}. Install it with `rustup target add {TARGET}`; where rustup cannot download (as on the omnistore build machines), the build uses Debian's `rustc-web` packages through `apt-get download`, which needs a Debian-based system with bookworm-security or newer"
    )]
    NoToolchain { detail: String },
    #[error("setting up the Debian toolchain failed at `{step}`: {detail}\nto fix: {hint}")]
    Apt { step: String, detail: String, hint: String },
    #[error(
        "the toolchain in {} does not work: {detail}; delete that directory and build again to set it up anew",
        root.display()
    )]
    ToolchainBroken { root: PathBuf, detail: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("`cargo metadata` for {} failed: {detail}", manifest.display())]
    Metadata { manifest: PathBuf, detail: String },
    #[error("there is no package `{name}` in the workspace of {}; plugin packages there: {}", manifest.display(), if available.is_empty() { "none".to_string() } else { available.join(", ") })]
    UnknownPackage { name: String, manifest: PathBuf, available: Vec<String> },
    #[error("no plugin to build: {} has no package with a plugin.toml next to its Cargo.toml", manifest.display())]
    NothingToBuild { manifest: PathBuf },
    #[error("package `{package}` has no plugin.toml at {}; every plugin crate needs one next to its Cargo.toml", path.display())]
    MissingPluginToml { package: String, path: PathBuf },
    #[error("package `{package}` does not build a cdylib; add `[lib] crate-type = [\"cdylib\"]` to its Cargo.toml")]
    NotCdylib { package: String },
    #[error("{}: {source}", path.display())]
    Manifest { path: PathBuf, source: Box<ManifestError> },
    #[error("packages `{first}` and `{second}` both have plugin id `{id}`; ids must be unique")]
    DuplicateId { id: String, first: String, second: String },
    #[error("cargo build for {TARGET} failed ({status}); the compiler's messages are above")]
    Cargo { status: String },
    #[error("cargo built `{package}` but reported no .wasm file for it")]
    MissingArtifact { package: String },
    #[error(
        "`{package}` could not be turned into a component: {detail}\nis `omnistore_sdk::export_plugin!` called in its lib.rs, and does it use the omnistore-sdk of this workspace?"
    )]
    Componentize { package: String, detail: String },
    #[error("`{package}` ({}): {source}", manifest.display())]
    Check { package: String, manifest: PathBuf, source: Box<ManifestError> },
}

/// What to build, and where.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// `Cargo.toml` of a workspace, or of a single plugin crate.
    pub manifest_path: PathBuf,
    /// Package names to build. Empty: the plugin at `manifest_path` when that
    /// is a plugin crate, otherwise every workspace member with a plugin.toml.
    pub packages: Vec<String>,
    /// Cargo's target dir for the wasm build. Keep it apart from the native
    /// one: the flags differ, and sharing would rebuild both every time.
    pub target_dir: PathBuf,
    /// Components go to `<out_dir>/<plugin id>/plugin.wasm`, beside a copy
    /// of the plugin's `plugin.toml`.
    pub out_dir: PathBuf,
}

/// One plugin that was built and checked.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    /// The plugin id from plugin.toml.
    pub id: String,
    pub version: semver::Version,
    /// The cargo package it was built from.
    pub package: String,
    /// `<out>/<id>/plugin.wasm`, the component.
    pub wasm: PathBuf,
    /// `<out>/<id>/plugin.toml`, a copy of the manifest.
    pub manifest: PathBuf,
    /// Size of the component in bytes.
    pub size: u64,
    /// The contract version the component was built against.
    pub contract: semver::Version,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    workspace_root: PathBuf,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    id: String,
    manifest_path: PathBuf,
    targets: Vec<MetaTarget>,
}

#[derive(Deserialize)]
struct MetaTarget {
    crate_types: Vec<String>,
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    package_id: String,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

/// A plugin package about to be built.
struct Planned {
    package: String,
    package_id: String,
    dir: PathBuf,
    manifest: Manifest,
}

/// Build the requested plugins with `toolchain`: see the crate docs for the
/// steps. Cargo's own progress goes straight to stderr; the build's steps are
/// reported through `progress`.
pub fn build(
    toolchain: &Toolchain,
    request: &BuildRequest,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<BuiltPlugin>, BuildError> {
    let metadata = cargo_metadata(&request.manifest_path)?;
    let planned = plan(&metadata, request)?;

    let mut cmd = toolchain.cargo_build(&metadata.workspace_root);
    cmd.arg("--manifest-path")
        .arg(&request.manifest_path)
        .arg("--target-dir")
        .arg(&request.target_dir)
        .arg("--message-format=json-render-diagnostics");
    for p in &planned {
        cmd.args(["-p", &p.package]);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let names: Vec<&str> = planned.iter().map(|p| p.package.as_str()).collect();
    progress(&format!("compiling {} for {TARGET}", names.join(", ")));
    let mut child = cmd.spawn().map_err(|source| BuildError::Io { path: "cargo".into(), source })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut artifacts: BTreeMap<String, PathBuf> = BTreeMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|source| BuildError::Io { path: "cargo".into(), source })?;
        // Lines that are not cargo's JSON (a build script's print) are not ours to judge.
        let Ok(msg) = serde_json::from_str::<CargoMessage>(&line) else { continue };
        if msg.reason == "compiler-artifact"
            && let Some(wasm) = msg.filenames.iter().find(|f| f.extension().is_some_and(|e| e == "wasm"))
        {
            artifacts.insert(msg.package_id, wasm.clone());
        }
    }
    let status = child.wait().map_err(|source| BuildError::Io { path: "cargo".into(), source })?;
    if !status.success() {
        return Err(BuildError::Cargo { status: status.to_string() });
    }

    let mut built = Vec::new();
    for p in planned {
        let core =
            artifacts.get(&p.package_id).ok_or_else(|| BuildError::MissingArtifact { package: p.package.clone() })?;
        built.push(package_one(&p, core, &request.out_dir, progress)?);
    }
    Ok(built)
}

/// Encode, check and write one plugin.
fn package_one(
    p: &Planned,
    core: &Path,
    out_dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<BuiltPlugin, BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    let module = std::fs::read(core).map_err(io(core))?;
    let component =
        componentize(&module).map_err(|detail| BuildError::Componentize { package: p.package.clone(), detail })?;
    let manifest_src = p.dir.join("plugin.toml");
    let contract = p.manifest.check_component(&component).map_err(|source| BuildError::Check {
        package: p.package.clone(),
        manifest: manifest_src.clone(),
        source: Box::new(source),
    })?;
    let dir = out_dir.join(&p.manifest.id);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let wasm = dir.join("plugin.wasm");
    let manifest = dir.join("plugin.toml");
    // Write-then-rename, so a host watching the directory for hot reload
    // never loads half a file.
    write_atomic(&manifest, &std::fs::read(&manifest_src).map_err(io(&manifest_src))?)?;
    write_atomic(&wasm, &component)?;
    progress(&format!(
        "{} {}: {} ({} KiB, contract {contract})",
        p.manifest.id,
        p.manifest.version,
        wasm.display(),
        component.len().div_ceil(1024)
    ));
    Ok(BuiltPlugin {
        id: p.manifest.id.clone(),
        version: p.manifest.version.clone(),
        package: p.package.clone(),
        wasm,
        manifest,
        size: component.len() as u64,
        contract,
    })
}

/// Turn a core module built with wit-bindgen into a validated component.
/// wit-bindgen embeds the world in a custom section, so no WIT is needed here.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|mut e| e.encode())
        .map_err(|e| format!("{e:#}"))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|source| BuildError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| BuildError::Io { path: path.to_path_buf(), source })
}

fn cargo_metadata(manifest: &Path) -> Result<Metadata, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--manifest-path"])
        .arg(manifest)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| BuildError::Metadata { manifest: manifest.to_path_buf(), detail: e.to_string() })?;
    if !out.status.success() {
        return Err(BuildError::Metadata {
            manifest: manifest.to_path_buf(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| BuildError::Metadata { manifest: manifest.to_path_buf(), detail: e.to_string() })
}

/// Pick the packages to build and read their manifests, before compiling
/// anything, so a bad plugin.toml fails in a second rather than after a build.
fn plan(metadata: &Metadata, request: &BuildRequest) -> Result<Vec<Planned>, BuildError> {
    let members: Vec<&MetaPackage> =
        metadata.packages.iter().filter(|p| metadata.workspace_members.contains(&p.id)).collect();
    let dir_of = |p: &MetaPackage| p.manifest_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let is_plugin = |p: &MetaPackage| dir_of(p).join("plugin.toml").is_file();
    let requested = std::fs::canonicalize(&request.manifest_path).unwrap_or_else(|_| request.manifest_path.clone());

    let chosen: Vec<&MetaPackage> = if request.packages.is_empty() {
        match members.iter().find(|p| p.manifest_path == requested && is_plugin(p)) {
            Some(p) => vec![*p],
            None => members.iter().copied().filter(|p| is_plugin(p)).collect(),
        }
    } else {
        request
            .packages
            .iter()
            .map(|name| {
                members.iter().copied().find(|p| p.name == *name).ok_or_else(|| BuildError::UnknownPackage {
                    name: name.clone(),
                    manifest: request.manifest_path.clone(),
                    available: members.iter().filter(|p| is_plugin(p)).map(|p| p.name.clone()).collect(),
                })
            })
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(BuildError::NothingToBuild { manifest: request.manifest_path.clone() });
    }

    let mut planned: Vec<Planned> = Vec::new();
    for p in chosen {
        let dir = dir_of(p);
        let path = dir.join("plugin.toml");
        if !path.is_file() {
            return Err(BuildError::MissingPluginToml { package: p.name.clone(), path });
        }
        if !p.targets.iter().any(|t| t.crate_types.iter().any(|c| c == "cdylib")) {
            return Err(BuildError::NotCdylib { package: p.name.clone() });
        }
        let manifest = Manifest::load(&path)
            .map_err(|source| BuildError::Manifest { path: path.clone(), source: Box::new(source) })?;
        if let Some(other) = planned.iter().find(|o| o.manifest.id == manifest.id) {
            return Err(BuildError::DuplicateId {
                id: manifest.id.clone(),
                first: other.package.clone(),
                second: p.name.clone(),
            });
        }
        planned.push(Planned { package: p.name.clone(), package_id: p.id.clone(), dir, manifest });
    }
    Ok(planned)
}
