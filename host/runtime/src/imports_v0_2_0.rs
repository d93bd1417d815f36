//! Storage and settings of contract 0.2.0: the whole storage interface
//! (0.1.0's storage converts onto it), with compare-and-set and increment,
//! and settings with the cookie key, the shop and random bytes (those two are
//! in `imports_storefront.rs`). `http`, `log` and `clock` are linked straight
//! to the 0.1.0 implementation (see `bindings.rs`).

use omnistore_manifest::Capability;
use tracing::Instrument;

use crate::bindings::v0_1_0::omnistore::plugin as v1;
use crate::bindings::v0_2_0::omnistore::plugin as wit;
use crate::imports::{R, import_span};
use crate::plugin_storage::cookie_key;
use crate::state::PluginState;
use crate::types::Shop;

impl wit::storage::Host for PluginState {
    async fn get(&mut self, key: String) -> R<Option<Vec<u8>>> {
        self.storage("storage.get", move |scope, kv| scope.get(kv, &key)).await
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> R<()> {
        let quotas = self.storage_quotas();
        self.storage("storage.set", move |scope, kv| scope.set(kv, &key, &value, quotas)).await
    }

    async fn delete(&mut self, key: String) -> R<()> {
        self.storage("storage.delete", move |scope, kv| scope.delete(kv, &key)).await
    }

    async fn list_keys(&mut self, prefix: String, start_after: Option<String>, limit: u32) -> R<Vec<String>> {
        self.storage("storage.list-keys", move |scope, kv| scope.list_keys(kv, &prefix, start_after.as_deref(), limit))
            .await
    }

    async fn compare_and_set(&mut self, key: String, expected: Option<Vec<u8>>, new: Option<Vec<u8>>) -> R<bool> {
        let quotas = self.storage_quotas();
        self.storage("storage.compare-and-set", move |scope, kv| {
            scope.compare_and_set(kv, &key, expected.as_deref(), new.as_deref(), quotas)
        })
        .await
    }

    async fn increment(&mut self, key: String, delta: i64) -> R<i64> {
        let quotas = self.storage_quotas();
        self.storage("storage.increment", move |scope, kv| scope.increment(kv, &key, delta, quotas)).await
    }
}

impl wit::settings::Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        v1::settings::Host::get(self, key).await
    }

    async fn list(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        v1::settings::Host::list(self).await
    }

    async fn cookie_key(&mut self) -> wasmtime::Result<Vec<u8>> {
        // No error channel: like the other settings, a refusal traps, and so
        // does a store failure (the host's fault, reported as a trap).
        self.check_or_trap(Capability::Settings)?;
        // The key never changes for an installation, and an instance serves
        // one installation: a warm instance reads it from the store once.
        if let Some(key) = &self.cookie_key {
            return Ok(key.clone());
        }
        let span = import_span(self, "settings.cookie-key");
        let (shared, tenant, installation) =
            (self.shared.clone(), self.cx.tenant.clone(), self.cx.installation.clone());
        let joined =
            tokio::task::spawn_blocking(move || cookie_key(&*shared.kv, &tenant, &installation)).instrument(span).await;
        match joined {
            Ok(Ok(key)) => {
                self.cookie_key = Some(key.clone());
                Ok(key)
            }
            Ok(Err(err)) => {
                tracing::error!(error = %err, blame = "host", "the installation's cookie key could not be read or kept");
                Err(wasmtime::Error::msg(format!("the cookie key is unavailable: {err}")))
            }
            Err(err) => Err(wasmtime::Error::msg(format!("cookie key task failed: {err}"))),
        }
    }

    async fn shop(&mut self) -> wasmtime::Result<Shop> {
        self.shop_info().await
    }

    async fn random_bytes(&mut self, n: u32) -> wasmtime::Result<Vec<u8>> {
        self.draw_random_bytes(n)
    }
}
