//! `omnistore`: run the host, and create, build and run plugins.

mod dev;
mod scaffold;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use omnistore_runtime::{InMemoryServices, Runtime, RuntimeConfig};
use omnistore_server::deployment::Deployment;
use omnistore_server::{AppState, Registry};

#[derive(Parser)]
#[command(name = "omnistore", version, about = "One commerce core, every channel")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host with the tenants and installations of a deployment file.
    Serve {
        /// The deployment file.
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
        /// Listen address; overrides the file's `listen`.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create, build and run plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Create a new plugin crate from the template.
    New {
        /// Plugin id and directory name: a-z, 0-9 and '-'.
        name: String,
        /// Parent directory of the new plugin.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Path of the omnistore SDK crate (found automatically inside an omnistore checkout).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Compile a plugin to a component and check it against its plugin.toml.
    Build {
        /// The plugin's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Build a plugin and serve it on a local in-memory store, rebuilding and
    /// reloading it whenever its sources change.
    Run {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, listen } => {
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            rt.block_on(serve(&config, listen))
        }
        Command::Plugin(PluginCommand::New { name, dir, sdk }) => {
            let created = scaffold::new_plugin(&name, &dir, sdk.as_deref())?;
            println!("created {}", created.display());
            println!("next: omnistore plugin build {0} && omnistore plugin run {0}", created.display());
            Ok(())
        }
        Command::Plugin(PluginCommand::Build { dir }) => {
            let built = dev::build_plugin(&dir)?;
            println!("built {} {} -> {}", built.id, built.version, built.wasm.display());
            Ok(())
        }
        Command::Plugin(PluginCommand::Run { dir, listen }) => {
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            rt.block_on(dev::run_plugin(&dir, &listen))
        }
    }
}

async fn serve(config: &Path, listen: Option<String>) -> anyhow::Result<()> {
    let deployment = Deployment::load(config)
        .with_context(|| format!("loading the deployment file {} (see `omnistore serve --help`)", config.display()))?;
    std::fs::create_dir_all(&deployment.data_dir)
        .with_context(|| format!("creating the data directory {}", deployment.data_dir.display()))?;
    let store_path = deployment.data_dir.join("omnistore.redb");
    let kv = omnistore_storage::RedbStore::open(&store_path)
        .with_context(|| format!("opening the store {}", store_path.display()))?;
    let runtime = Runtime::new(
        RuntimeConfig {
            cache_dir: Some(deployment.data_dir.join("component-cache")),
            allow_private_network: deployment.allow_private_network,
            ..RuntimeConfig::default()
        },
        Arc::new(kv),
        Arc::new(InMemoryServices::new()),
    )
    .context("starting the plugin runtime")?;
    let registry = Arc::new(Registry::new());
    omnistore_server::install_deployment(&runtime, &registry, &deployment).await?;
    let listen = listen.unwrap_or(deployment.listen.clone());
    serve_router(AppState::new(runtime, registry), &listen).await
}

/// Listen and serve until Ctrl-C.
pub(crate) async fn serve_router(state: AppState, listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}; is another server using that address? pass --listen"))?;
    let addr = listener.local_addr().context("reading the listen address")?;
    for m in state.registry.installations() {
        println!(
            "serving {} ({} {}) at http://{addr}/t/{}{}",
            m.installation.id,
            m.plugin.manifest.id,
            m.plugin.manifest.version,
            m.installation.tenant,
            if m.mount == "/" { "/".to_string() } else { format!("{}/", m.mount) }
        );
    }
    println!("listening on http://{addr} — press Ctrl-C to stop");
    axum::serve(listener, omnistore_server::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            println!("stopping");
        })
        .await
        .context("serving HTTP")
}
