//! `omnistore plugin build` and `omnistore plugin run`: the plugin author's loop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use omnistore_build::{BuildRequest, BuiltPlugin, Toolchain};
use omnistore_runtime::{Runtime, RuntimeConfig, TenantId};
use omnistore_server::deployment::HttpSettings;
use omnistore_server::{AppState, Mounted, Registry};
use omnistore_services::dev::DevShop;
use omnistore_services::installer::InstallationBuilder;

/// The tenant `plugin run` serves the plugin for.
const DEV_TENANT: &str = "dev";

/// The cargo workspace root that `dir` belongs to (itself for a standalone crate).
fn workspace_root(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.exists() {
        bail!(
            "{} has no Cargo.toml; is it a plugin directory? create one with `omnistore plugin new NAME`",
            dir.display()
        );
    }
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["locate-project", "--workspace", "--message-format", "plain", "--manifest-path"])
        .arg(&manifest)
        .output()
        .context("running `cargo locate-project`; is cargo installed?")?;
    if !out.status.success() {
        bail!("cargo could not read {}: {}", manifest.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(root.parent().map(Path::to_path_buf).unwrap_or(root))
}

/// Build the plugin in `dir` and return the package written.
pub fn build_plugin(dir: &Path) -> anyhow::Result<BuiltPlugin> {
    let dir = dir.canonicalize().with_context(|| format!("finding the plugin directory {}", dir.display()))?;
    let root = workspace_root(&dir)?;
    let mut progress = |line: &str| eprintln!("  {line}");
    let toolchain = Toolchain::detect(&mut progress).context("finding a compiler for wasm32 plugins")?;
    let request = BuildRequest {
        manifest_path: dir.join("Cargo.toml"),
        packages: vec![],
        target_dir: root.join("target").join("wasm"),
        out_dir: root.join("target").join("plugins"),
    };
    let mut built = omnistore_build::build(&toolchain, &request, &mut progress)
        .with_context(|| format!("building the plugin in {}", dir.display()))?;
    match built.len() {
        1 => Ok(built.remove(0)),
        n => bail!("{} holds {n} plugins; point `plugin build` at one plugin's directory", dir.display()),
    }
}

/// The newest modification time of the plugin's sources.
fn sources_changed_at(dir: &Path) -> SystemTime {
    fn walk(path: &Path, newest: &mut SystemTime) {
        let Ok(meta) = std::fs::metadata(path) else { return };
        if let Ok(m) = meta.modified() {
            *newest = (*newest).max(m);
        }
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(path)
        {
            for e in entries.flatten() {
                walk(&e.path(), newest);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    for p in ["src", "plugin.toml", "Cargo.toml"] {
        walk(&dir.join(p), &mut newest);
    }
    newest
}

/// Build, serve on the real core over an in-memory store with the demo
/// catalog, and reload on change.
pub async fn run_plugin(dir: &Path, listen: &str) -> anyhow::Result<()> {
    let dir = dir.canonicalize().with_context(|| format!("finding the plugin directory {}", dir.display()))?;
    let build_dir = dir.clone();
    let built = tokio::task::spawn_blocking(move || build_plugin(&build_dir)).await??;
    let tenant = TenantId::new(DEV_TENANT).context("dev tenant id")?;
    let shop = {
        let tenant = tenant.clone();
        tokio::task::spawn_blocking(move || DevShop::empty(&tenant)?.with_demo_catalog())
            .await?
            .context("seeding the development shop")?
    };
    let runtime = Runtime::new(
        RuntimeConfig { allow_private_network: true, ..RuntimeConfig::default() },
        shop.core.store().clone(),
        shop.services.clone(),
    )
    .context("starting the plugin runtime")?;
    let package = built.wasm.parent().map(Path::to_path_buf).context("package directory")?;
    let plugin = runtime.load_dir(&package).await.context("loading the built plugin")?;
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant.clone(), &[]);
    let installation = {
        let (shop, manifest) = (shop.clone(), plugin.manifest.clone());
        tokio::task::spawn_blocking(move || shop.install(InstallationBuilder::new(&manifest)))
            .await?
            .context("installing the plugin in the development shop")?
    };
    let installation_id = installation.id.clone();
    registry.mount(Mounted { mount: "/".into(), installation, plugin });

    let watch_registry = registry.clone();
    let watch_runtime = runtime.clone();
    tokio::spawn(async move {
        let mut seen = sources_changed_at(&dir);
        loop {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let now = sources_changed_at(&dir);
            if now <= seen {
                continue;
            }
            seen = now;
            eprintln!("change detected, rebuilding {}", dir.display());
            let build_dir = dir.clone();
            let result = match tokio::task::spawn_blocking(move || build_plugin(&build_dir)).await {
                Ok(r) => r,
                Err(e) => Err(anyhow::anyhow!("build task failed: {e}")),
            };
            let reloaded = match result {
                Ok(built) => {
                    let package = built.wasm.parent().map(Path::to_path_buf).unwrap_or_default();
                    watch_runtime.load_dir(&package).await.map_err(anyhow::Error::from)
                }
                Err(e) => Err(e),
            };
            match reloaded {
                Ok(plugin) => {
                    let version = plugin.manifest.version.clone();
                    watch_registry.replace_plugin(&tenant, &installation_id, plugin);
                    eprintln!("reloaded {installation_id} {version}");
                }
                Err(e) => eprintln!("reload failed, still serving the previous build: {e:#}"),
            }
        }
    });
    // A development server: pages under /t/dev/ on this machine's own names.
    let path_routing = HttpSettings::development().path_routing();
    let router = omnistore_server::router(
        AppState::new(runtime, registry.clone())
            .with_path_routing(path_routing)
            .with_scheme(HttpSettings::development().scheme),
    );
    crate::serve_router(&registry, router, listen, true).await
}
