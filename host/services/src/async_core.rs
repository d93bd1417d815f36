//! The one way async code reaches the synchronous core and store.
//!
//! The core and the storage API are synchronous, and the PostgreSQL client
//! drives a runtime of its own that panics when called on a tokio worker
//! thread. So no async function calls them directly: it goes through
//! [`AsyncCore::run`] (or [`off_executor`] for the store), which runs the work
//! on the blocking pool. A test boots the whole host on every backend,
//! PostgreSQL included, to keep it so.

use omnistore_core::{Core, CoreError, CoreResult};
use omnistore_storage::StorageError;

/// Run synchronous work (the core, the store, the file system) on the
/// blocking pool. A panic or cancellation of the task is a host fault.
pub async fn off_executor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| StorageError::backend("blocking-pool", e))
}

/// The core, for async callers. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AsyncCore {
    core: Core,
}

impl AsyncCore {
    pub fn new(core: Core) -> Self {
        AsyncCore { core }
    }

    /// The synchronous core, for code that already runs on a blocking thread.
    pub fn blocking(&self) -> &Core {
        &self.core
    }

    /// Run one or more core calls off the executor.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Core) -> CoreResult<T> + Send + 'static,
    ) -> CoreResult<T> {
        let core = self.core.clone();
        off_executor(move || work(&core)).await.unwrap_or_else(|e| Err(CoreError::Storage(e)))
    }
}
