//! How one import runs: the caller's scope taken from the call context, the
//! work on the blocking pool (or in place, for a read of a local store), and
//! the core's errors mapped to the contract's.

use std::panic::{AssertUnwindSafe, catch_unwind};

use omnistore_core::{self as domain, ChannelId, Core, CoreError};
use omnistore_runtime::types::HostError;
use omnistore_runtime::{CallContext, ServiceResult};
use omnistore_storage::{ReadPath, StorageError};

use super::CoreServices;
use crate::async_core::off_executor;

/// Who is calling, resolved from the call context before any work.
pub(crate) struct Scope {
    pub(crate) tenant: domain::TenantId,
    pub(crate) channel: ChannelId,
    pub(crate) plugin: String,
    pub(crate) now: i64,
}

/// Why a call failed inside the blocking closure: either a core error still
/// to be mapped, or an answer the adapter decided on itself.
pub(crate) enum Fail {
    Core(CoreError),
    Host(HostError),
}

impl From<CoreError> for Fail {
    fn from(e: CoreError) -> Self {
        Fail::Core(e)
    }
}

impl From<HostError> for Fail {
    fn from(e: HostError) -> Self {
        Fail::Host(e)
    }
}

impl From<StorageError> for Fail {
    fn from(e: StorageError) -> Self {
        Fail::Core(CoreError::Storage(e))
    }
}

pub(crate) type Outcome<T> = Result<T, Fail>;

/// Map a core error to the contract's error.
///
/// `NotFound` of the caller's own tenant or channel is `unavailable`, not
/// `not-found`: it means the host has not (or no longer) registered this
/// installation with the core, which the plugin cannot fix by changing an id.
/// Storage failures are `unavailable` with a generic message; the details
/// (paths, connection strings) stay in the host's log.
pub fn host_error(err: &CoreError) -> HostError {
    match err {
        CoreError::NotFound { kind: "tenant" | "channel", .. } => HostError::Unavailable(format!(
            "this installation is not registered with the commerce core ({err}); the operator must install it"
        )),
        CoreError::NotFound { .. } => HostError::NotFound(err.to_string()),
        CoreError::Invalid(_) => HostError::Invalid(err.to_string()),
        CoreError::Conflict(_) | CoreError::InsufficientStock { .. } => HostError::Conflict(err.to_string()),
        CoreError::Storage(_) => {
            HostError::Unavailable("the store is temporarily unavailable; nothing was changed, try again later".into())
        }
    }
}

pub(super) fn is_not_found(err: &CoreError, what: &str) -> bool {
    matches!(err, CoreError::NotFound { kind, .. } if *kind == what)
}

impl CoreServices {
    /// Run one import on the blocking pool with the caller's scope.
    pub(crate) async fn call<T, F>(&self, cx: &CallContext, op: &'static str, f: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &Scope) -> Outcome<T> + Send + 'static,
    {
        let scope = self.scope(cx);
        let core = self.core.clone();
        let joined = off_executor(move || {
            let out = f(&core, &scope);
            (out, scope)
        })
        .await
        .map_err(|e| e.to_string());
        finish(cx, op, joined)
    }

    /// Run an import that only reads: in place where the store's reads
    /// never wait ([`ReadPath::Local`]), else on the blocking pool as
    /// [`CoreServices::call`] does.
    pub(crate) async fn read<T, F>(&self, cx: &CallContext, op: &'static str, f: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &Scope) -> Outcome<T> + Send + 'static,
    {
        if self.core.store().read_path() != ReadPath::Local {
            return self.call(cx, op, f).await;
        }
        let scope = self.scope(cx);
        let ran = catch_unwind(AssertUnwindSafe(|| f(&self.core, &scope)));
        finish(cx, op, ran.map(|out| (out, scope)).map_err(|_| "the read panicked".to_string()))
    }

    pub(crate) fn scope(&self, cx: &CallContext) -> Scope {
        Scope {
            tenant: cx.tenant.clone(),
            channel: ChannelId::new(cx.installation.clone()),
            plugin: cx.plugin.clone(),
            now: (self.clock)(),
        }
    }
}

/// The import's answer: a host fault (`ran` failed: a panic, a commit that
/// never answered) or the core's error, logged and mapped to the contract's.
pub(crate) fn finish<T>(
    cx: &CallContext,
    op: &'static str,
    ran: Result<(Outcome<T>, Scope), String>,
) -> ServiceResult<T> {
    let (out, scope) = match ran {
        Ok(pair) => pair,
        Err(e) => {
            tracing::error!(tenant = %cx.tenant, channel = %cx.installation, op, error = %e, "commerce import failed in the host");
            return Err(HostError::Unavailable("the host failed while serving this call; try again later".into()));
        }
    };
    out.map_err(|fail| match fail {
        Fail::Host(e) => e,
        Fail::Core(e) => {
            if matches!(e, CoreError::Storage(_)) {
                tracing::error!(tenant = %scope.tenant, channel = %scope.channel, plugin = %scope.plugin, op, error = %e, "commerce import failed in storage");
            } else {
                tracing::debug!(tenant = %scope.tenant, channel = %scope.channel, op, error = %e, "commerce import refused");
            }
            host_error(&e)
        }
    })
}
