//! `omnistore tenant …` and `omnistore customer …`: a tenant's data as one
//! unit, and a customer's access and erasure requests, straight on the store.
//!
//! They open the store the host uses (`OMNISTORE_STORE`, else the redb file
//! in the deployment's data directory), so run them with the host stopped
//! when the store is a redb file; on a running host use the operator API
//! (`GET /api/v1/tenants/{tenant}/export`, `DELETE /api/v1/tenants/{tenant}`).

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use omnistore_core::{Core, CustomerId, TenantId};
use omnistore_media::MediaStore;
use omnistore_server::deployment::Deployment;
use omnistore_services::commerce::system_clock;

#[derive(Subcommand)]
pub(crate) enum TenantCommand {
    /// Write every stored entry of a tenant to a file (JSON lines).
    Export {
        tenant: String,
        /// Where to write; `-` for standard output.
        #[arg(long, short, default_value = "-")]
        out: PathBuf,
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
    },
    /// Load a tenant exported from another deployment (it must not exist here).
    Import {
        file: PathBuf,
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
    },
    /// Rewrite stored records in the current format version (every tenant
    /// unless one is named), and say how many were outdated. Safe to run again.
    Migrate {
        tenant: Option<String>,
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
    },
    /// Delete a tenant and everything it stored. Cannot be undone: export first.
    Delete {
        tenant: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum CustomerCommand {
    /// Print everything held about a customer as JSON (an access request).
    Export {
        tenant: String,
        customer: String,
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
    },
    /// Erase a customer: profile, identities, consent log and touchpoints go,
    /// orders stay anonymised. Cannot be undone.
    Erase {
        tenant: String,
        customer: String,
        /// Confirm the erasure.
        #[arg(long)]
        yes: bool,
        #[arg(long, short, default_value = "omnistore.toml")]
        config: PathBuf,
    },
}

fn open_core(config: &Path) -> anyhow::Result<Core> {
    Ok(open(config)?.0)
}

/// The store and the media directory of the deployment in `config`.
fn open(config: &Path) -> anyhow::Result<(Core, MediaStore)> {
    let deployment =
        Deployment::load(config).with_context(|| format!("loading the deployment file {}", config.display()))?;
    let media = MediaStore::new(deployment.data_dir.join("media"));
    let spec = std::env::var("OMNISTORE_STORE")
        .unwrap_or_else(|_| format!("redb:{}", deployment.data_dir.join("omnistore.redb").display()));
    let store = omnistore_storage::open(&spec)
        .with_context(|| "opening the store (is the host still running on it? stop it first)".to_string())?;
    Ok((Core::new(store), media))
}

fn tenant_id(id: &str) -> anyhow::Result<TenantId> {
    TenantId::new(id).with_context(|| format!("`{id}` is not a tenant id"))
}

/// Progress on standard error, one line rewritten in place.
fn progress(what: &'static str) -> impl FnMut(u64) {
    move |n| eprint!("\r{what}: {n} entries")
}

pub(crate) fn tenant(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Export { tenant, out, config } => {
            let (core, media) = open(&config)?;
            let t = tenant_id(&tenant)?;
            let mut writer: Box<dyn Write> = if out.as_os_str() == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                Box::new(std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?)
            };
            let mut writer = std::io::BufWriter::new(&mut writer);
            let report = core
                .export_tenant_with(&t, &mut writer, &media, &mut progress("exported"))
                .with_context(|| format!("exporting tenant {t}"))?;
            writer.flush().context("writing the export")?;
            eprintln!("\rexported tenant {t}: {} entries, {} images", report.entries, report.files);
        }
        TenantCommand::Import { file, config } => {
            let (core, media) = open(&config)?;
            let input = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let t = core
                .import_tenant_with(&mut BufReader::new(input), &media, &mut progress("imported"))
                .with_context(|| format!("importing {}", file.display()))?;
            eprintln!("\rimported tenant {t}; add its host names to the deployment file to serve it");
        }
        TenantCommand::Migrate { tenant, config } => {
            let core = open_core(&config)?;
            let tenants = match tenant {
                Some(t) => vec![tenant_id(&t)?],
                None => core.list_tenants().context("listing tenants")?.into_iter().map(|t| t.id).collect(),
            };
            for t in tenants {
                let before = core.storage_versions(&t).with_context(|| format!("reading tenant {t}"))?;
                let report = core
                    .migrate(&t, &mut |r| eprint!("\r{t}: {} records looked at, {} upgraded", r.scanned, r.upgraded))
                    .with_context(|| format!("migrating tenant {t}"))?;
                eprintln!(
                    "\r{t}: {} of {} records were outdated, {} upgraded to format version {}",
                    before.outdated(),
                    report.scanned,
                    report.upgraded,
                    before.current
                );
            }
        }
        TenantCommand::Delete { tenant, yes, config } => {
            let t = tenant_id(&tenant)?;
            if !yes {
                bail!("deleting tenant {t} cannot be undone; export it first, then run again with --yes");
            }
            let (core, media) = open(&config)?;
            let report =
                core.delete_tenant(&t, &mut progress("deleted")).with_context(|| format!("deleting tenant {t}"))?;
            media.remove_tenant(&t).with_context(|| format!("removing the images of tenant {t}"))?;
            eprintln!("\rdeleted tenant {t}: {} entries and its images", report.entries);
        }
    }
    Ok(())
}

pub(crate) fn customer(command: CustomerCommand) -> anyhow::Result<()> {
    match command {
        CustomerCommand::Export { tenant, customer, config } => {
            let core = open_core(&config)?;
            let (t, c) = (tenant_id(&tenant)?, CustomerId::new(customer));
            let export =
                core.export_customer(&t, &c, system_clock()()).with_context(|| format!("exporting customer {c}"))?;
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
        CustomerCommand::Erase { tenant, customer, yes, config } => {
            let (t, c) = (tenant_id(&tenant)?, CustomerId::new(customer));
            if !yes {
                bail!(
                    "erasing customer {c} cannot be undone; export it first if they asked for a copy, then run again with --yes"
                );
            }
            let core = open_core(&config)?;
            let report =
                core.erase_customer(&t, &c, system_clock()()).with_context(|| format!("erasing customer {c}"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}
