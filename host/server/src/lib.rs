//! The HTTP front of omnistore (axum): tenancy resolution and routing of
//! storefront pages, feeds and webhooks to plugin installations.
//!
//! Requests reach a tenant by path (`/t/{tenant}/…`) or by host name (a
//! domain configured for the tenant). Within a tenant, the installation whose
//! mount path is the longest prefix of the request path answers.

pub mod admin;
pub mod async_core;
mod channels;
pub mod commerce;
pub mod deployment;
pub mod dispatcher;
mod error;
pub mod host;
pub mod registry;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::{any, get};
use omnistore_runtime::{Capability, Grants, Installation, Runtime, TenantId};

pub use error::AppError;
pub use registry::{Mounted, Registry, normalize_mount};

use crate::deployment::Deployment;

/// Largest request body routed to a plugin.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub runtime: Runtime,
    pub registry: Arc<Registry>,
    pub max_body_bytes: usize,
}

impl AppState {
    pub fn new(runtime: Runtime, registry: Arc<Registry>) -> Self {
        AppState { runtime, registry, max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }
}

/// The host's router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/t/{tenant}", any(channels::by_path))
        .route("/t/{tenant}/", any(channels::by_path))
        .route("/t/{tenant}/{*rest}", any(channels::by_path))
        .fallback(channels::by_host)
        .with_state(state)
}

/// Load every tenant and installation of a deployment file into the registry.
pub async fn install_deployment(runtime: &Runtime, registry: &Registry, deployment: &Deployment) -> anyhow::Result<()> {
    for t in &deployment.tenants {
        let tenant = TenantId::new(t.id.clone()).context("tenant ids are validated on load")?;
        registry.add_tenant(tenant.clone(), &t.domains);
        for spec in &t.installations {
            let plugin = runtime.load_dir(&spec.package).await.with_context(|| {
                format!(
                    "loading plugin package {} for installation `{}` of tenant `{}`",
                    spec.package.display(),
                    spec.id,
                    t.id
                )
            })?;
            let mut grants = Grants::from_manifest(&plugin.manifest);
            for cap in &spec.withhold {
                if let Some(cap) = Capability::from_name(cap) {
                    grants = grants.without(cap);
                }
            }
            let mut settings = spec.settings.clone();
            for s in &plugin.manifest.settings {
                if let (false, Some(d)) = (settings.contains_key(&s.key), &s.default) {
                    settings.insert(s.key.clone(), d.clone());
                }
            }
            let mut secrets = spec.secrets.clone();
            secrets.extend(plugin.manifest.settings.iter().filter(|s| s.secret).map(|s| s.key.clone()));
            registry.mount(Mounted {
                mount: normalize_mount(&spec.mount),
                installation: Installation { tenant: tenant.clone(), id: spec.id.clone(), grants, settings, secrets },
                plugin,
            });
            tracing::info!(tenant = %t.id, installation = %spec.id, mount = %spec.mount, "installed");
        }
    }
    Ok(())
}
