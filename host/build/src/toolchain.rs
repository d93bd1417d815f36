//! Finding a compiler that can build `wasm32-unknown-unknown` code.
//!
//! Two routes, tried in this order:
//! 1. **rustup**: the active `rustc` has the `wasm32-unknown-unknown` target
//!    installed (`rustup target add wasm32-unknown-unknown`). Nothing else is
//!    needed; the normal route on a developer laptop.
//! 2. **Debian**: where the target cannot be installed (no internet for
//!    rustup), Debian ships a matching compiler and the standard library's
//!    source (`rustc-web`, `rust-web-src`, `lld-NN`, …). Those packages are
//!    fetched with `apt-get download` and unpacked with `dpkg -x` into a
//!    private cache (never installed: `rustc-web` would replace
//!    `/usr/bin/rustc`), and std is compiled for wasm32 with `-Zbuild-std`.
//!    The cache is `$OMNISTORE_TOOLCHAIN_DIR`, else
//!    `$XDG_CACHE_HOME/omnistore/wasm-toolchain`, else
//!    `~/.cache/omnistore/wasm-toolchain`; it is set up once and reused.
//!
//! `OMNISTORE_TOOLCHAIN=rustup` or `=debian` forces one route.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BuildError;

/// The Rust target every plugin is built for: no libc and no WASI, so a
/// module's only imports are the host's own WIT interfaces.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// The package whose dependencies name the rest of the Debian route.
const DEBIAN_ROOT_PACKAGE: &str = "rustc-web";

/// Written into a tree once it has been verified, to say who vouched for it.
/// A setup unpacks into a staging dir and renames it into place whole, so an
/// interrupted setup never leaves a half-made `root` behind.
const MARKER: &str = ".omnistore-toolchain";

/// Which route a [`Toolchain`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// rustup's prebuilt `wasm32-unknown-unknown` standard library.
    Rustup,
    /// Debian's `rustc-web` unpacked in a private cache; std built from source.
    Debian,
}

/// A compiler that can build plugins, and how to drive cargo with it.
#[derive(Debug, Clone)]
pub struct Toolchain {
    route: Route,
    /// `rustc -V` of the compiler that will be used.
    rustc_version: String,
    /// The unpacked Debian tree (Debian route only).
    root: Option<PathBuf>,
    /// Environment for cargo, beyond what the caller's process has.
    env: Vec<(OsString, OsString)>,
    /// Paths that must not appear in artifacts, in `--remap-path-prefix` order.
    remaps: Vec<(PathBuf, &'static str)>,
}

impl fmt::Display for Toolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.route, &self.root) {
            (Route::Debian, Some(root)) => {
                write!(f, "Debian route: {} unpacked in {}, std built from source", self.rustc_version, root.display())
            }
            _ => write!(f, "rustup route: {} with the {TARGET} target installed", self.rustc_version),
        }
    }
}

impl Toolchain {
    /// Find a toolchain: the rustup target when it is installed, else the
    /// Debian route, set up in the cache on first use. Says through
    /// `progress` which route it took and what it is doing.
    pub fn detect(progress: &mut dyn FnMut(&str)) -> Result<Toolchain, BuildError> {
        let forced = std::env::var("OMNISTORE_TOOLCHAIN").ok().filter(|v| !v.is_empty());
        match forced.as_deref() {
            Some("rustup") => {
                let tc = Toolchain::rustup()?.ok_or_else(|| BuildError::NoToolchain {
                    detail: format!("OMNISTORE_TOOLCHAIN=rustup, but the active rustc has no {TARGET} target"),
                })?;
                progress(&format!("using the {tc}"));
                return Ok(tc);
            }
            Some("debian") => {
                let tc = Toolchain::debian(&default_cache_dir()?, progress)?;
                progress(&format!("using the {tc}"));
                return Ok(tc);
            }
            Some(other) => {
                return Err(BuildError::NoToolchain {
                    detail: format!("OMNISTORE_TOOLCHAIN={other} is not `rustup` or `debian`"),
                });
            }
            None => {}
        }
        if let Some(tc) = Toolchain::rustup()? {
            progress(&format!("using the {tc}"));
            return Ok(tc);
        }
        progress(&format!(
            "the active rustc has no {TARGET} target (`rustup target add {TARGET}` installs it where rustup can download); trying the Debian route"
        ));
        let tc = Toolchain::debian(&default_cache_dir()?, progress)?;
        progress(&format!("using the {tc}"));
        Ok(tc)
    }

    /// The rustup route, when the active `rustc` (`$RUSTC`, else `rustc`)
    /// has the wasm32 standard library installed; `None` when it has not.
    pub fn rustup() -> Result<Option<Toolchain>, BuildError> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let sysroot = match run_capture(Command::new(&rustc).args(["--print", "sysroot"])) {
            Ok(out) => PathBuf::from(out.trim()),
            Err(_) => return Ok(None),
        };
        if !sysroot.join("lib/rustlib").join(TARGET).join("lib").is_dir() {
            return Ok(None);
        }
        let rustc_version = run_capture(Command::new(&rustc).arg("-V")).unwrap_or_default().trim().to_string();
        let mut remaps = Vec::new();
        if let Some(home) = cargo_home() {
            remaps.push((home, "/cargo"));
        }
        Ok(Some(Toolchain { route: Route::Rustup, rustc_version, root: None, env: Vec::new(), remaps }))
    }

    /// The Debian route with its tree in `cache_dir/root`: reused when a
    /// verified one is there, otherwise fetched and unpacked.
    pub fn debian(cache_dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<Toolchain, BuildError> {
        let root = cache_dir.join("root");
        if root.is_dir() {
            match DebianTree::open(&root) {
                Ok(tree) => {
                    // A tree unpacked by hand with the same steps is as good
                    // as ours once it verifies; mark it so it is recognized.
                    if !root.join(MARKER).is_file() {
                        let _ = std::fs::write(root.join(MARKER), "verified by omnistore-build\n");
                    }
                    return Ok(tree.toolchain());
                }
                Err(e) => {
                    progress(&format!("the toolchain in {} is broken ({e}); setting it up again", root.display()))
                }
            }
        }
        setup_debian(cache_dir, progress)?;
        Ok(DebianTree::open(&root)?.toolchain())
    }

    pub fn route(&self) -> Route {
        self.route
    }

    /// `rustc -V` of the compiler in use.
    pub fn rustc_version(&self) -> &str {
        &self.rustc_version
    }

    /// The unpacked Debian tree, on the Debian route.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// A `cargo build` command for the wasm32 target with this toolchain's
    /// environment and flags. `source_dir` (the workspace being built) is
    /// remapped too, so artifacts carry no machine paths.
    pub(crate) fn cargo_build(&self, source_dir: &Path) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--release", "--target", TARGET]);
        if self.route == Route::Debian {
            cmd.arg("-Zbuild-std=std,panic_abort");
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        // A plugin is one program: optimising it whole (the SDK, the Liquid
        // engine, serde and the allocator inlined into the plugin's code)
        // makes it faster in wasm, where every call costs more than natively.
        cmd.env("CARGO_PROFILE_RELEASE_LTO", "fat").env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
        // The encoded form keeps paths with spaces intact. It replaces any
        // RUSTFLAGS of the caller, whose target-specific flags would not fit
        // wasm32 anyway. The workspace goes first: with nested paths the last
        // matching prefix wins, and the cache or cargo home may lie inside it.
        let mut flags = vec![remap_flag(source_dir, "/src")];
        flags.extend(self.remaps.iter().map(|(p, to)| remap_flag(p, to)));
        // A plugin starts with room for a page's heap, so a call seldom grows
        // its memory: with guard pages, every growth changes page protections
        // (see the runtime's `MemoryChecks`).
        flags.push(format!("-Clink-arg=--initial-memory={INITIAL_MEMORY_BYTES}"));
        cmd.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
        cmd.env_remove("RUSTFLAGS");
        cmd
    }
}

/// A plugin's linear memory at instantiation: its stack, data and heap.
/// Pages a call never touches cost nothing.
pub const INITIAL_MEMORY_BYTES: u64 = 8 << 20;

fn remap_flag(from: &Path, to: &str) -> String {
    format!("--remap-path-prefix={}={to}", from.display())
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| home_dir().map(|h| h.join(".cargo")))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// Where the Debian route keeps its tree: `$OMNISTORE_TOOLCHAIN_DIR`, else
/// `$XDG_CACHE_HOME/omnistore/wasm-toolchain`, else
/// `~/.cache/omnistore/wasm-toolchain`. Never inside a repository, so a
/// `git clean` does not throw away a download.
pub fn default_cache_dir() -> Result<PathBuf, BuildError> {
    if let Some(dir) = std::env::var_os("OMNISTORE_TOOLCHAIN_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("omnistore/wasm-toolchain"));
    }
    home_dir().map(|h| h.join(".cache/omnistore/wasm-toolchain")).ok_or_else(|| BuildError::NoToolchain {
        detail: "neither OMNISTORE_TOOLCHAIN_DIR, XDG_CACHE_HOME nor HOME is set, so there is no place for the toolchain cache".into(),
    })
}

/// A verified, unpacked Debian tree.
struct DebianTree {
    root: PathBuf,
    rustc: PathBuf,
    wasm_ld: PathBuf,
    lib_path: OsString,
    version: String,
}

impl DebianTree {
    /// Check that the tree at `root` has a compiler that runs, a linker and
    /// the library source.
    fn open(root: &Path) -> Result<DebianTree, BuildError> {
        let broken = |detail: String| BuildError::ToolchainBroken { root: root.to_path_buf(), detail };
        let rustc = root.join("usr/bin/rustc");
        if !rustc.is_file() {
            return Err(broken("usr/bin/rustc is missing".into()));
        }
        // libLLVM and librustc_driver live in the multiarch lib dir; finding
        // it by content keeps this independent of the machine's architecture.
        let lib_dirs: Vec<PathBuf> = ["usr/lib", "lib"]
            .iter()
            .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().contains("-linux-")))
            .collect();
        if lib_dirs.is_empty() {
            return Err(broken("no usr/lib/<arch>-linux-* directory with libLLVM".into()));
        }
        let mut paths: Vec<PathBuf> = lib_dirs;
        if let Some(existing) = std::env::var_os("LD_LIBRARY_PATH") {
            paths.extend(std::env::split_paths(&existing));
        }
        let lib_path = std::env::join_paths(paths).map_err(|e| broken(e.to_string()))?;
        let wasm_ld = std::fs::read_dir(root.join("usr/lib"))
            .map_err(|e| broken(format!("usr/lib: {e}")))?
            .flatten()
            .map(|e| e.path().join("bin/wasm-ld"))
            .find(|p| p.is_file())
            .ok_or_else(|| broken("no usr/lib/llvm-*/bin/wasm-ld (package lld-NN)".into()))?;
        if !root.join("usr/lib/rustlib/src/rust/library/std/Cargo.toml").is_file() {
            return Err(broken("usr/lib/rustlib/src/rust/library is missing (package rust-web-src)".into()));
        }
        let version = run_capture(Command::new(&rustc).arg("-V").env("LD_LIBRARY_PATH", &lib_path))
            .map_err(|e| broken(format!("rustc -V failed: {e}")))?
            .trim()
            .to_string();
        run_capture(Command::new(&wasm_ld).arg("--version").env("LD_LIBRARY_PATH", &lib_path))
            .map_err(|e| broken(format!("wasm-ld --version failed: {e}")))?;
        Ok(DebianTree { root: root.to_path_buf(), rustc, wasm_ld, lib_path, version })
    }

    fn toolchain(self) -> Toolchain {
        let env = vec![
            ("RUSTC".into(), self.rustc.into_os_string()),
            // Lets the stable cargo use -Zbuild-std; nothing else is unstable.
            ("RUSTC_BOOTSTRAP".into(), "1".into()),
            ("LD_LIBRARY_PATH".into(), self.lib_path),
            ("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER".into(), self.wasm_ld.into_os_string()),
        ];
        let mut remaps = Vec::new();
        if let Some(home) = cargo_home() {
            remaps.push((home, "/cargo"));
        }
        remaps.push((self.root.clone(), "/toolchain"));
        Toolchain { route: Route::Debian, rustc_version: self.version, root: Some(self.root), env, remaps }
    }
}

/// One dependency clause of a Debian `Depends` field: alternatives separated
/// by `|`, each a package name with an optional version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DepAlt {
    pub name: String,
    /// The version of an exact `(= V)` constraint.
    pub exact: Option<String>,
}

/// Parse a `Depends` field: `a (>= 1), b (= 2) | c, d:any`.
pub(crate) fn parse_depends(field: &str) -> Vec<Vec<DepAlt>> {
    field
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|clause| {
            clause
                .split('|')
                .map(|alt| {
                    let alt = alt.trim();
                    let (name, constraint) = match alt.split_once('(') {
                        Some((n, c)) => (n.trim(), Some(c.trim_end_matches(')').trim())),
                        None => (alt, None),
                    };
                    // Drop an architecture qualifier such as `:any`.
                    let name = name.split(':').next().unwrap_or(name).split_whitespace().next().unwrap_or("");
                    let exact = constraint
                        .and_then(|c| c.strip_prefix('='))
                        .filter(|v| !v.starts_with('='))
                        .map(|v| v.trim().to_string());
                    DepAlt { name: name.to_string(), exact }
                })
                .collect()
        })
        .collect()
}

/// Packages of the compiler itself, whose versions must match each other.
fn is_toolchain_package(name: &str) -> bool {
    name.starts_with("libstd-rust-web") || name.starts_with("rust-web") || name.starts_with("libllvm")
}

/// Dependencies of `rustc-web` that serve native linking, which the wasm
/// build does not do through it (cargo's own `cc` links host proc-macros).
const SKIPPED_DEPENDENCIES: &[&str] = &["gcc", "libc-dev", "libc6-dev", "binutils"];

fn setup_debian(cache_dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<(), BuildError> {
    let root = cache_dir.join("root");
    for tool in ["apt-get", "dpkg-deb", "dpkg-query"] {
        if run_capture(Command::new(tool).arg("--version")).is_err() {
            return Err(BuildError::NoToolchain {
                detail: format!(
                    "the Debian route needs `{tool}`, which is not available on this machine; install the target with `rustup target add {TARGET}` instead"
                ),
            });
        }
    }
    progress(&format!(
        "setting up Debian's {DEBIAN_ROOT_PACKAGE} in {} (once; later builds reuse it)",
        cache_dir.display()
    ));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    let staging = cache_dir.join(format!(".staging-{}", std::process::id()));
    let debs = staging.join("debs");
    let tree = staging.join("root");
    std::fs::create_dir_all(&debs).map_err(io(&debs))?;
    std::fs::create_dir_all(&tree).map_err(io(&tree))?;
    let result = fetch_and_unpack(&debs, &tree, progress);
    let result = result.and_then(|()| {
        DebianTree::open(&tree)?;
        std::fs::write(tree.join(MARKER), "verified by omnistore-build\n").map_err(io(&tree))?;
        if root.exists() {
            // A tree without a valid marker, or a broken one: replace it.
            std::fs::remove_dir_all(&root).map_err(io(&root))?;
        }
        match std::fs::rename(&tree, &root) {
            Ok(()) => Ok(()),
            // Another build finished setting up first; its tree is as good.
            Err(_) if root.join(MARKER).is_file() => Ok(()),
            Err(source) => Err(BuildError::Io { path: root.clone(), source }),
        }
    });
    let _ = std::fs::remove_dir_all(&staging);
    result?;
    progress(&format!("Debian toolchain ready in {}", root.display()));
    Ok(())
}

/// Download `rustc-web` and, following `Depends`, the rest of the compiler
/// with matching versions, plus `lld-NN` for `libllvmNN` and `rust-web-src`
/// at `rustc-web`'s version; then unpack them all into `tree`.
/// Non-toolchain dependencies are fetched only when the machine lacks them.
fn fetch_and_unpack(debs: &Path, tree: &Path, progress: &mut dyn FnMut(&str)) -> Result<(), BuildError> {
    let mut apt = Apt { dir: debs.to_path_buf(), updated: false };
    let mut fetched: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut queue: Vec<(String, Option<String>)> = vec![(DEBIAN_ROOT_PACKAGE.to_string(), None)];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some((name, version)) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let deb = apt.download(&name, version.as_deref(), progress)?;
        let fields = deb_fields(&deb)?;
        let version = fields.get("Version").cloned().unwrap_or_default();
        // Companions that no Depends names but the build needs, pinned to
        // the version of the package they belong with.
        if name == DEBIAN_ROOT_PACKAGE {
            queue.push(("rust-web-src".into(), Some(version.clone())));
        }
        if let Some(major) =
            name.strip_prefix("libllvm").filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()))
        {
            queue.push((format!("lld-{major}"), Some(version.clone())));
        }
        for clause in parse_depends(fields.get("Depends").map(String::as_str).unwrap_or("")) {
            let Some(first) = clause.first() else { continue };
            if clause.iter().any(|a| SKIPPED_DEPENDENCIES.contains(&a.name.as_str())) {
                continue;
            }
            if let Some(alt) = clause.iter().find(|a| is_toolchain_package(&a.name)) {
                queue.push((alt.name.clone(), alt.exact.clone()));
            } else if !clause.iter().any(|a| is_installed(&a.name)) {
                // A runtime library of LLVM that this machine lacks: unpack
                // it beside the compiler; LD_LIBRARY_PATH covers both lib dirs.
                queue.push((first.name.clone(), first.exact.clone()));
            }
        }
        fetched.insert(name, deb);
    }
    if !fetched.keys().any(|n| n.starts_with("lld-")) {
        return Err(BuildError::Apt {
            step: format!("reading the dependencies of {DEBIAN_ROOT_PACKAGE}"),
            detail: "no libllvmNN among them, so the matching lld-NN (wasm-ld) is unknown".into(),
            hint: format!("the Debian packages changed shape; install the target with `rustup target add {TARGET}`"),
        });
    }
    for (name, deb) in &fetched {
        progress(&format!("unpacking {name}"));
        let mut cmd = Command::new("dpkg-deb");
        cmd.arg("-x").arg(deb).arg(tree);
        run_capture(&mut cmd).map_err(|detail| BuildError::Apt {
            step: format!("dpkg-deb -x {}", deb.display()),
            detail,
            hint: "check free disk space in the toolchain cache".into(),
        })?;
    }
    Ok(())
}

struct Apt {
    dir: PathBuf,
    updated: bool,
}

impl Apt {
    /// `apt-get download name[=version]` into the staging dir; the deb's path.
    fn download(
        &mut self,
        name: &str,
        version: Option<&str>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<PathBuf, BuildError> {
        let spec = match version {
            Some(v) => format!("{name}={v}"),
            None => name.to_string(),
        };
        progress(&format!("apt-get download {spec}"));
        let attempt =
            |dir: &Path| run_capture(Command::new("apt-get").args(["download", "-q", &spec]).current_dir(dir));
        let result = match attempt(&self.dir) {
            Ok(_) => Ok(()),
            Err(first) if !self.updated && is_root() => {
                // A fresh machine has empty package lists; root may refresh them.
                self.updated = true;
                progress("apt-get download failed; running `apt-get update` once and retrying");
                let _ = run_capture(Command::new("apt-get").args(["update", "-q"]));
                attempt(&self.dir).map(drop).map_err(|second| format!("{first}\nafter apt-get update: {second}"))
            }
            Err(e) => Err(e),
        };
        if let Err(detail) = result {
            let hint = if is_root() {
                "check that the machine reaches Debian's package archive and that a bookworm-security (or newer) source is configured".to_string()
            } else {
                format!(
                    "run `sudo apt-get update` and build again; or install the target with `rustup target add {TARGET}`"
                )
            };
            return Err(BuildError::Apt { step: format!("apt-get download {spec}"), detail, hint });
        }
        // apt names the file name_version_arch.deb, escaping ':' in the version.
        let prefix = format!("{name}_");
        let found = std::fs::read_dir(&self.dir)
            .map_err(|source| BuildError::Io { path: self.dir.clone(), source })?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|f| {
                    let f = f.to_string_lossy();
                    f.starts_with(&prefix) && f.ends_with(".deb")
                })
            });
        found.ok_or_else(|| BuildError::Apt {
            step: format!("apt-get download {spec}"),
            detail: "it succeeded but left no .deb file".into(),
            hint: "run the command by hand to see what apt does".into(),
        })
    }
}

fn deb_fields(deb: &Path) -> Result<BTreeMap<String, String>, BuildError> {
    let mut cmd = Command::new("dpkg-deb");
    cmd.arg("-f").arg(deb).args(["Package", "Version", "Depends"]);
    let out = run_capture(&mut cmd).map_err(|detail| BuildError::Apt {
        step: format!("dpkg-deb -f {}", deb.display()),
        detail,
        hint: "the download may be damaged; delete the toolchain cache and build again".into(),
    })?;
    let mut fields = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in out.lines() {
        if line.starts_with([' ', '\t']) {
            // A continuation line of a folded field.
            if let Some(v) = last.as_ref().and_then(|k| fields.get_mut(k)) {
                let v: &mut String = v;
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            fields.insert(k.trim().to_string(), v.trim().to_string());
            last = Some(k.trim().to_string());
        }
    }
    Ok(fields)
}

fn is_installed(package: &str) -> bool {
    run_capture(Command::new("dpkg-query").args(["-W", "-f=${db:Status-Status}", package]))
        .is_ok_and(|s| s.trim() == "installed")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// Run a command to completion; its stdout, or a message with its stderr.
pub(crate) fn run_capture(cmd: &mut Command) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = if stderr.trim().is_empty() { stdout } else { stderr };
        Err(format!("`{program}` failed ({}): {}", out.status, text.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_fields_parse_into_clauses() {
        let d = parse_depends(
            "libc6 (>= 2.34), libstd-rust-web-dev (= 1.96.0+dfsg1-1~deb12u2), gcc, libc-dev | libc6-dev:any, lld-22 (= 1:22.1.8-1~deb12u1)",
        );
        assert_eq!(d.len(), 5);
        assert_eq!(d[0], vec![DepAlt { name: "libc6".into(), exact: None }]);
        assert_eq!(d[1][0].exact.as_deref(), Some("1.96.0+dfsg1-1~deb12u2"));
        assert_eq!(d[3].iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["libc-dev", "libc6-dev"]);
        assert_eq!(d[4][0].exact.as_deref(), Some("1:22.1.8-1~deb12u1"));
        assert!(parse_depends("").is_empty());
    }

    #[test]
    fn toolchain_packages_are_recognized() {
        assert!(is_toolchain_package("libstd-rust-web-1.96"));
        assert!(is_toolchain_package("libllvm22"));
        assert!(is_toolchain_package("rust-web-src"));
        assert!(!is_toolchain_package("libz3-4"));
    }

    #[test]
    fn remap_flags_keep_the_workspace_first() {
        let tc = Toolchain {
            route: Route::Debian,
            rustc_version: "rustc 1.96.0".into(),
            root: Some("/cache/root".into()),
            env: vec![],
            remaps: vec![("/home/u/.cargo".into(), "/cargo"), ("/cache/root".into(), "/toolchain")],
        };
        let cmd = tc.cargo_build(Path::new("/work/repo"));
        let flags = cmd.get_envs().find(|(k, _)| *k == "CARGO_ENCODED_RUSTFLAGS").and_then(|(_, v)| v).unwrap();
        assert_eq!(
            flags.to_string_lossy(),
            "--remap-path-prefix=/work/repo=/src\x1f--remap-path-prefix=/home/u/.cargo=/cargo\x1f--remap-path-prefix=/cache/root=/toolchain\x1f-Clink-arg=--initial-memory=8388608"
        );
        assert!(cmd.get_args().any(|a| a == "-Zbuild-std=std,panic_abort"));
    }

    #[test]
    fn plugins_are_optimised_as_one_program() {
        let tc = Toolchain {
            route: Route::Rustup,
            rustc_version: "rustc 1.96.0".into(),
            root: None,
            env: vec![],
            remaps: vec![],
        };
        let cmd = tc.cargo_build(Path::new("/work/repo"));
        let env = |name: &str| {
            cmd.get_envs().find(|(k, _)| *k == name).and_then(|(_, v)| v).map(|v| v.to_string_lossy().into_owned())
        };
        assert_eq!(env("CARGO_PROFILE_RELEASE_LTO").as_deref(), Some("fat"));
        assert_eq!(env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS").as_deref(), Some("1"));
        assert!(cmd.get_args().any(|a| a == "--release"));
    }
}
