//! The tenants and installations a deployment file lists, made real in the
//! core on start: a tenant the core does not know is created, and an
//! installation is installed through the one installer when no channel of
//! its tenant is mounted where it asks to be. Later changes to a channel go
//! through the admin API; the file seeds, it does not overrule the merchant.
//! Its `[catalog]` is offered to the merchants here too.

use anyhow::Context;
use omnistore_core::{Channel, CoreError, TenantId};

use crate::admin::InstallRequest;
use crate::async_core::AsyncCore;
use crate::deployment::{Deployment, TenantSpec};
use crate::host::Host;
use crate::normalize_mount;
use omnistore_runtime::system_now_ms as now_ms;

/// A channel installed because the deployment file asked for it.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub tenant: TenantId,
    pub installation: String,
    pub channel: Channel,
}

impl Host {
    /// Create the deployment's tenants, set how their mail is sent, and
    /// install their installations that are not there yet. Returns what was
    /// installed now.
    pub async fn provision(&self, deployment: &Deployment) -> anyhow::Result<Vec<Provisioned>> {
        // What merchants may install themselves; a bad package there is
        // warned about and left out, never a reason not to start.
        self.offer_catalogue(&deployment.catalog.packages).await;
        let mut installed = Vec::new();
        for spec in &deployment.tenants {
            let tenant = TenantId::new(spec.id.clone()).context("tenant ids are validated on load")?;
            self.registry.add_tenant(tenant.clone(), &spec.domains);
            self.ensure_tenant(&tenant, spec).await?;
            if let Some(mail) = &spec.mail {
                let settings = mail
                    .resolve(|var| std::env::var(var).ok())
                    .with_context(|| format!("the mail settings of tenant `{tenant}`"))?;
                self.mail
                    .configure(&tenant, settings)
                    .with_context(|| format!("the mail settings of tenant `{tenant}`"))?;
                tracing::info!(%tenant, from = %mail.from, relay = %mail.relay, "mail is sent through the tenant's relay");
            }
            installed.extend(self.install_missing(&tenant, spec).await?);
        }
        Ok(installed)
    }

    async fn ensure_tenant(&self, tenant: &TenantId, spec: &TenantSpec) -> anyhow::Result<()> {
        let (t, name, currency) = (tenant.clone(), spec.name.clone(), spec.currency.clone());
        let created = AsyncCore::new(self.core.clone())
            .run(move |core| match core.get_tenant(&t) {
                Ok(_) => Ok(false),
                Err(CoreError::NotFound { .. }) => {
                    core.create_tenant(&t, name.as_deref().unwrap_or(t.as_str()), &currency, now_ms()).map(|_| true)
                }
                Err(e) => Err(e),
            })
            .await
            .with_context(|| format!("creating tenant `{tenant}` of the deployment file"))?;
        if created {
            tracing::info!(%tenant, "tenant created from the deployment file");
        }
        Ok(())
    }

    async fn install_missing(&self, tenant: &TenantId, spec: &TenantSpec) -> anyhow::Result<Vec<Provisioned>> {
        let t = tenant.clone();
        let channels = AsyncCore::new(self.core.clone()).run(move |core| core.list_channels(&t)).await?;
        let mut mounts = Vec::with_capacity(channels.len());
        for c in &channels {
            mounts.push(self.installer.mount_of(tenant, &c.id).await);
        }
        let mut installed = Vec::new();
        for i in &spec.installations {
            let mount = normalize_mount(&i.mount);
            if mounts.contains(&mount) {
                continue;
            }
            let context = || format!("installing `{}` ({}) for tenant `{tenant}`", i.id, i.package.display());
            let request = InstallRequest {
                package: Some(i.package.clone()),
                name: None,
                mount: Some(mount.clone()),
                settings: i
                    .settings
                    .iter()
                    .filter(|(k, _)| !i.secrets.contains(*k))
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
                withhold: i.withhold.clone(),
                enabled: true,
                by_operator: true,
                ..InstallRequest::default()
            };
            let channel = self
                .install(tenant, request)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))
                .with_context(context)?;
            for name in &i.secrets {
                let value = i.settings.get(name).with_context(|| {
                    format!("installation `{}` names `{name}` a secret but gives it no value in settings", i.id)
                })?;
                self.installer.set_secret(tenant, &channel.id, name, value, now_ms()).await.with_context(context)?;
            }
            tracing::info!(%tenant, installation = %i.id, channel = %channel.id, %mount, "installed from the deployment file");
            mounts.push(mount);
            installed.push(Provisioned { tenant: tenant.clone(), installation: i.id.clone(), channel });
        }
        Ok(installed)
    }
}
