//! A shop to develop and test plugins in: the real commerce core over the
//! memory store, with the demo catalog, and the same [`CoreServices`] the
//! server gives plugins. The SDK's harness and `omnistore plugin run` use it,
//! so a plugin is never tested against a second model of the shop.

use std::sync::Arc;

use omnistore_core::{ChannelId, Core, CoreError, CoreResult, NewChannel, SeedReport, TenantId};
use omnistore_runtime::Installation;

use crate::commerce::{Clock, CoreServices, system_clock};
use crate::installer::InstallationBuilder;

/// A tenant on a fresh in-memory core.
#[derive(Clone)]
pub struct DevShop {
    pub core: Core,
    pub services: Arc<CoreServices>,
    pub tenant: TenantId,
    clock: Clock,
}

impl std::fmt::Debug for DevShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevShop").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

impl DevShop {
    /// An empty shop (the tenant exists, with no catalog).
    pub fn empty(tenant: &TenantId) -> CoreResult<DevShop> {
        DevShop::with_clock(tenant, system_clock())
    }

    /// An empty shop whose time is `clock` (tests that control time).
    pub fn with_clock(tenant: &TenantId, clock: Clock) -> CoreResult<DevShop> {
        let core = Core::new(Arc::new(omnistore_storage::MemoryStore::new()));
        core.create_tenant(tenant, "Pasticceria Dolce Vita", "EUR", clock())?;
        let services = Arc::new(CoreServices::new(core.clone()).with_clock(clock.clone()));
        Ok(DevShop { core, services, tenant: tenant.clone(), clock })
    }

    /// The demo pastry shop's catalog, locations, stock and promotions.
    pub fn with_demo_catalog(self) -> CoreResult<DevShop> {
        self.seed_demo()?;
        Ok(self)
    }

    pub fn seed_demo(&self) -> CoreResult<SeedReport> {
        omnistore_core::seed_demo_into(&self.core, &self.tenant, (self.clock)())
    }

    /// Install a plugin as a channel of the shop, with every active product
    /// published to it; the installation the runtime needs to call it.
    pub fn install(&self, plan: InstallationBuilder<'_>) -> CoreResult<Installation> {
        install(&self.core, &self.tenant, plan, (self.clock)())
    }

    /// The channel an installation is, in the core.
    pub fn channel(installation: &Installation) -> ChannelId {
        ChannelId::new(installation.id.clone())
    }
}

/// Create `tenant` in `core` unless it exists.
pub fn ensure_tenant(core: &Core, tenant: &TenantId, now_ms: i64) -> CoreResult<()> {
    match core.get_tenant(tenant) {
        Ok(_) => Ok(()),
        Err(CoreError::NotFound { .. }) => core.create_tenant(tenant, tenant.as_str(), "EUR", now_ms).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// Install a plugin as a channel of `tenant` in `core` (created when
/// missing), with every active product published to it, as the server's
/// installer does; the installation the runtime needs to call it, built by
/// the one installer from `plan`.
pub fn install(core: &Core, tenant: &TenantId, plan: InstallationBuilder<'_>, now_ms: i64) -> CoreResult<Installation> {
    ensure_tenant(core, tenant, now_ms)?;
    let manifest = plan.manifest();
    let channel = core.install_channel(
        tenant,
        NewChannel {
            plugin_id: manifest.id.clone(),
            version: manifest.version.to_string(),
            name: manifest.name.clone(),
            settings: plan.given_settings(),
            capabilities: plan.granted(),
            subscriptions: manifest.events.iter().map(|e| e.as_str().to_owned()).collect(),
            enabled: true,
            safety_buffer: 0,
        },
        now_ms,
    )?;
    core.publish_all_active(tenant, &channel.id, now_ms)?;
    Ok(plan.build(tenant, channel.id.as_str(), []))
}
