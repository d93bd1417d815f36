//! `omnistore`: run the host, and create, build and run plugins.

mod data;
mod dev;
mod scaffold;
mod stand_ins;
mod theme;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use omnistore_server::Registry;
use omnistore_server::deployment::Deployment;
use omnistore_server::host::{Host, HostOptions};
use omnistore_server::provision::Provisioned;

/// The host allocates with mimalloc: under load, glibc's malloc and free
/// took about a tenth of a storefront page view's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run the demo store (seeded on first start) with the example channel.
    Demo {
        #[arg(long, short, default_value = "examples/demo/omnistore.toml")]
        config: PathBuf,
    },
    /// Create, build and run plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Export, import or delete a tenant's data.
    #[command(subcommand)]
    Tenant(data::TenantCommand),
    /// Answer a customer's request for their data or its erasure (GDPR).
    #[command(subcommand)]
    Customer(data::CustomerCommand),
    /// SMS tools.
    #[command(subcommand)]
    Sms(SmsCommand),
    /// A channel's theme files on a running host.
    #[command(subcommand)]
    Theme(theme::ThemeCommand),
}

#[derive(Subcommand)]
enum SmsCommand {
    /// How a text is sent as SMS: prints JSON
    /// `{"encoding": "GSM-7"|"UCS-2", "segments": N, "characters": N}`.
    Segments {
        /// The message text.
        text: String,
    },
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
        Command::Demo { config } => {
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            rt.block_on(demo(&config))
        }
        Command::Plugin(PluginCommand::New { name, dir, sdk }) => {
            let created = scaffold::new_plugin(&name, &dir, sdk.as_deref())?;
            println!("created {}", created.display());
            println!("next: omnistore plugin build {0} && omnistore plugin run {0}", created.display());
            println!("test: omnistore plugin build {0} && (cd {0} && cargo test)", created.display());
            Ok(())
        }
        Command::Plugin(PluginCommand::Build { dir }) => {
            let built = dev::build_plugin(&dir)?;
            println!("built {} {} -> {}", built.id, built.version, built.wasm.display());
            Ok(())
        }
        Command::Tenant(command) => data::tenant(command),
        Command::Customer(command) => data::customer(command),
        Command::Theme(command) => theme::run(command),
        Command::Sms(SmsCommand::Segments { text }) => {
            println!("{}", serde_json::to_string(&omnistore_sms::count_segments(&text))?);
            Ok(())
        }
        Command::Plugin(PluginCommand::Run { dir, listen }) => {
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            rt.block_on(dev::run_plugin(&dir, &listen))
        }
    }
}

/// The operator token: `OMNISTORE_OPERATOR_TOKEN`, else one generated on first
/// start and kept in the data directory (readable by the owner only).
fn operator_token(data_dir: &Path) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("OMNISTORE_OPERATOR_TOKEN") {
        return Ok(t);
    }
    let path = data_dir.join("operator-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_string());
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("reading randomness: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, &token).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(token)
}

async fn start_host(deployment: &Deployment) -> anyhow::Result<Host> {
    let token = operator_token(&deployment.data_dir)?;
    Host::start(HostOptions {
        data_dir: deployment.data_dir.clone(),
        store: std::env::var("OMNISTORE_STORE").ok(),
        allow_private_network: deployment.allow_private_network,
        operator_token: token,
        http: deployment.http.clone(),
        secrets: None,
        development_origins: deployment.development.origins()?,
    })
    .await
}

/// Create the deployment's tenants and install its installations, saying what was installed.
async fn provision(host: &Host, deployment: &Deployment) -> anyhow::Result<Vec<Provisioned>> {
    let installed = host.provision(deployment).await.context(
        "installing the deployment's channels; a package that is missing is built by `omnistore plugin build DIR` \
         (in this repository: `cargo xtask build-plugins`)",
    )?;
    for p in &installed {
        println!(
            "installed {} ({} {}) for {} as channel {}",
            p.installation, p.channel.plugin_id, p.channel.version, p.tenant, p.channel.id
        );
    }
    Ok(installed)
}

async fn serve(config: &Path, listen: Option<String>) -> anyhow::Result<()> {
    let deployment = Deployment::load(config)
        .with_context(|| format!("loading the deployment file {} (see `omnistore serve --help`)", config.display()))?;
    let host = start_host(&deployment).await?;
    provision(&host, &deployment).await?;
    let listen = listen.unwrap_or(deployment.listen.clone());
    println!(
        "admin API: http://{listen}/api/v1 (operator token in {})",
        deployment.data_dir.join("operator-token").display()
    );
    let router = host.router();
    let result = serve_router(&host.registry, router, &listen, host.http.path_routing).await;
    host.stop().await;
    result
}

/// The demo shop owner's sign-in to the admin in the browser (a demo's, printed on every start).
const DEMO_USER_EMAIL: &str = "titolare@dolcevita.example";
const DEMO_USER_PASSWORD: &str = "dolcevita-demo";

/// The demo store: seeds "Pasticceria Dolce Vita" on first start, installs the
/// deployment's channels (the web storefront and the example channel), prints
/// where to look and the tenant's token.
async fn demo(config: &Path) -> anyhow::Result<()> {
    let deployment = Deployment::load(config).with_context(|| format!("loading {}", config.display()))?;
    // Before the host, so the channels' first calls find them listening.
    let stand_ins = stand_ins::start(&deployment.development.stand_ins, &deployment.data_dir.join("demo-mail"))
        .await
        .context("starting the demo's stand-ins for Twilio, Pinterest, Meta and the mail relay")?;
    let host = start_host(&deployment).await?;
    let now = omnistore_runtime::system_now_ms();
    let tenant = omnistore_core::TenantId::new("dolce-vita")?;
    let core = host.core.clone();
    let seeded = tokio::task::spawn_blocking(move || omnistore_core::seed_demo(&core, now)).await??;
    println!(
        "demo data: {} products ({} created now), {} collections, {} promotions",
        seeded.products_total,
        seeded.products_created,
        seeded.collections.len(),
        seeded.promotions.len()
    );
    let pictured = host.add_demo_images(&tenant).await?;
    if pictured > 0 {
        println!("demo images: {pictured} products pictured");
    }
    for p in provision(&host, &deployment).await? {
        // A channel installed now sells the demo's whole catalog.
        let core = host.core.clone();
        tokio::task::spawn_blocking(move || core.publish_all_active(&p.tenant, &p.channel.id, now)).await??;
    }
    // The demo keeps its tenant token beside the data so it can be shown on every start.
    let token_file = deployment.data_dir.join("dolce-vita-token");
    let token = match std::fs::read_to_string(&token_file) {
        Ok(t) => t.trim().to_string(),
        Err(_) => {
            let (admin, t) = (host.admin.clone(), tenant.clone());
            let issued = tokio::task::spawn_blocking(move || admin.issue_token(&t, "demo"))
                .await?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let secret = issued.secret.clone();
            std::fs::write(&token_file, &secret).with_context(|| format!("writing {}", token_file.display()))?;
            secret
        }
    };
    // The shop's owner signs in to the admin in the browser with these.
    let (admin, t) = (host.admin.clone(), tenant.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        if !admin.user_exists(&t, DEMO_USER_EMAIL)? {
            admin.create_user(&t, DEMO_USER_EMAIL, DEMO_USER_PASSWORD)?;
        }
        Ok(())
    })
    .await?
    .context("creating the demo shop's admin user")?;
    let listen = deployment.listen.clone();
    let port = listen.rsplit(':').next().unwrap_or("8080");
    let campaign = seed_demo_campaign(&host, &tenant, &format!("http://dolce-vita.localhost:{port}"), now).await?;
    println!();
    println!("Pasticceria Dolce Vita is open:");
    println!("  storefront   http://dolce-vita.localhost:{port}/   (or http://{listen}/t/dolce-vita/)");
    println!("  hello        http://dolce-vita.localhost:{port}/hello/");
    println!(
        "  admin        http://{listen}/admin/   (shop dolce-vita, {DEMO_USER_EMAIL}, password {DEMO_USER_PASSWORD})"
    );
    println!("  admin API    http://{listen}/api/v1/tenants/dolce-vita/products");
    println!("  token        {token}");
    println!("  try          curl -H 'Authorization: Bearer {token}' http://{listen}/api/v1/tenants/dolce-vita/orders");
    if let Some(c) = &campaign {
        let at = format!("http://{listen}/api/v1/tenants/dolce-vita/campaigns/{}", c.campaign);
        println!();
        println!(
            "The demo campaign, by e-mail and SMS to {} regulars with different consents (segment {}):",
            c.customers.len(),
            c.segment
        );
        println!("  send         curl -X POST -H 'Authorization: Bearer {token}' {at}/send");
        println!("  results      curl -H 'Authorization: Bearer {token}' {at}/results");
    }
    if !stand_ins.is_empty() {
        println!();
        println!("The channels talk to local stand-ins; what each one received:");
        for s in &stand_ins {
            println!("  {:<12} {}", s.name, s.look_at);
        }
    }
    let router = host.router();
    let result = serve_router(&host.registry, router, &listen, host.http.path_routing).await;
    host.stop().await;
    result
}

/// The demo's regulars, their segment and a draft campaign through the
/// tenant's e-mail and SMS channels, when both are installed (a deployment
/// file without one of them gets no campaign).
async fn seed_demo_campaign(
    host: &Host,
    tenant: &omnistore_core::TenantId,
    shop_url: &str,
    now: i64,
) -> anyhow::Result<Option<omnistore_core::seed::DemoCampaign>> {
    let (core, tenant, shop_url) = (host.core.clone(), tenant.clone(), shop_url.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let channels = core.list_channels(&tenant)?;
        let of = |plugin: &str| channels.iter().find(|c| c.plugin_id == plugin).map(|c| c.id.clone());
        let (Some(email), Some(sms)) = (of("email"), of("sms")) else { return Ok(None) };
        let seeded = omnistore_core::seed::seed_demo_campaign(&core, &tenant, &email, &sms, &shop_url, now)?;
        if seeded.created {
            println!("demo campaign: {} to {} customers, a draft", seeded.campaign, seeded.customers.len());
        }
        Ok(Some(seeded))
    })
    .await?
    .context("seeding the demo's customers, segment and campaign")
}

/// Listen and serve until Ctrl-C.
pub(crate) async fn serve_router(
    registry: &Registry,
    router: axum::Router,
    listen: &str,
    path_routing: bool,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}; is another server using that address? pass --listen"))?;
    let addr = listener.local_addr().context("reading the listen address")?;
    for m in registry.installations().into_iter().filter(|_| path_routing) {
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
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            println!("stopping");
        })
        .await
        .context("serving HTTP")
}
