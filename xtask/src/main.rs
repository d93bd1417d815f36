//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask demo`: build the plugins and run the demo store.
//! - `cargo xtask test`: build the plugins, make sure PostgreSQL is there, run every test.
//! - `cargo xtask build-plugins`: build every plugin, example and test guest to a component.
//! - `cargo xtask bench`: measure the runtime (release build) and print a table.
//! - `cargo xtask judges`: install the independent checkers the tests run (browser, HTML checker, …).
//! - `cargo xtask liquid-conformance FILE`: run a golden-liquid style suite against the Liquid engine.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, bail};
use omnistore_build::{BuildRequest, Toolchain, find_plugin_crates};

mod judges;
mod liquid;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build-plugins") => build_plugins().map(|_| ()),
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("liquid-conformance") => liquid::conformance(&args[1..]),
        Some("judges") => judges::install().map(|dir| eprintln!("    judges ready in {}", dir.display())),
        _ => {
            eprintln!("usage: cargo xtask <demo | test | build-plugins | bench | judges | liquid-conformance FILE>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(mut cmd: Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

/// Build every plugin crate under plugins/, examples/ and tests/guests/ in one cargo invocation.
fn build_plugins() -> anyhow::Result<Vec<omnistore_build::BuiltPlugin>> {
    let root = root();
    step("building plugins");
    let mut progress = |line: &str| eprintln!("    {line}");
    let toolchain = Toolchain::detect(&mut progress).context("finding a compiler for wasm32 plugins")?;
    let dirs = [root.join("plugins"), root.join("examples"), root.join("tests").join("guests")];
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).filter(|d| d.exists()).collect();
    let crates = find_plugin_crates(&dirs)?;
    let request = BuildRequest {
        manifest_path: root.join("Cargo.toml"),
        packages: crates.iter().map(|c| c.package.clone()).collect(),
        target_dir: root.join("target").join("wasm"),
        out_dir: root.join("target").join("plugins"),
    };
    let built = omnistore_build::build(&toolchain, &request, &mut progress)?;
    eprintln!("    {} plugins built into target/plugins", built.len());
    Ok(built)
}

/// A PostgreSQL server for the tests: `DATABASE_URL`, the local server on
/// 127.0.0.1:5432, or a throwaway cluster when the server binaries are installed.
fn ensure_postgres() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        eprintln!("    using DATABASE_URL");
        return Ok(url);
    }
    let local = "postgres://postgres@127.0.0.1:5432/postgres".to_string();
    if TcpStream::connect_timeout(&"127.0.0.1:5432".parse()?, Duration::from_secs(2)).is_ok() {
        eprintln!("    using the PostgreSQL server on 127.0.0.1:5432");
        return Ok(local);
    }
    let initdb = which("initdb").or_else(|| {
        std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin/initdb"))
            .find(|p| p.exists())
    });
    let Some(initdb) = initdb else {
        bail!(
            "the tests need PostgreSQL: set DATABASE_URL, start a server on 127.0.0.1:5432, or install the server (e.g. `apt-get install postgresql`) so a throwaway cluster can be started"
        );
    };
    let bin = initdb.parent().context("initdb's directory")?.to_path_buf();
    let dir = root().join("target").join("pg-cluster");
    let _ = std::fs::remove_dir_all(&dir);
    step("starting a throwaway PostgreSQL cluster on 127.0.0.1:54329");
    let mut init = Command::new(&initdb);
    init.args(["-A", "trust", "-U", "postgres", "-D"]).arg(dir.join("data"));
    run(init)?;
    let mut start = Command::new(bin.join("pg_ctl"));
    start
        .args(["-w", "-D"])
        .arg(dir.join("data"))
        .args(["-o", "-p 54329 -k /tmp -c listen_addresses=127.0.0.1", "-l"])
        .arg(dir.join("log"))
        .arg("start");
    run(start)?;
    Ok("postgres://postgres@127.0.0.1:54329/postgres".into())
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.exists())
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    build_plugins()?;
    step("checking for PostgreSQL");
    let url = ensure_postgres()?;
    step("checking for the test judges (browser, HTML checker, accessibility, structured data)");
    let judges = judges::install()?;
    step("running the test suite");
    let mut cmd = cargo();
    // Every test binary runs even after one fails: a run this long should
    // report every failure at once.
    cmd.args(["test", "--workspace", "--no-fail-fast"]);
    cmd.args(["--features", "omnistore-storage/sled,omnistore-core/sled,omnistore-e2e/sled"]);
    for guest in guest_packages()? {
        cmd.args(["--exclude", &guest]);
    }
    cmd.args(extra).env("DATABASE_URL", url).env("OMNISTORE_JUDGES", judges);
    run(cmd)
}

/// Guest crates compile only to inert stubs natively; their tests are the
/// host's. A plugin crate with a `tests/` folder stays in: its tests drive
/// the built plugin through the SDK's harness (and its unit tests are plain
/// Rust).
fn guest_packages() -> anyhow::Result<Vec<String>> {
    let root = root();
    let dirs = [root.join("plugins"), root.join("examples"), root.join("tests").join("guests")];
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).filter(|d| d.exists()).collect();
    Ok(find_plugin_crates(&dirs)?.into_iter().filter(|c| !c.dir.join("tests").is_dir()).map(|c| c.package).collect())
}

fn demo(extra: &[String]) -> anyhow::Result<()> {
    build_plugins()?;
    step("starting the demo store (Ctrl-C to stop)");
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "-p", "omnistore-cli", "--", "demo", "--config", "examples/demo/omnistore.toml"]);
    cmd.args(extra);
    run(cmd)
}

fn bench(extra: &[String]) -> anyhow::Result<()> {
    build_plugins()?;
    let url = ensure_postgres()?;
    judges::debian(&[("wrk", "wrk")]).context("installing the load generator")?;
    for bin in ["bench", "bench-orders", "bench-storefront", "bench-feed"] {
        step(&format!("running {bin} (release build)"));
        let mut cmd = cargo();
        cmd.args(["run", "--release", "-p", "omnistore-e2e", "--bin", bin, "--"]);
        cmd.args(extra).env("DATABASE_URL", &url);
        run(cmd)?;
    }
    Ok(())
}
