//! The host side of every import of contract 0.1.0. Commerce calls and
//! storage run through the same host code as 0.2.0's (`imports_storefront.rs`,
//! `imports_v0_2_0.rs`), converted at this boundary (`compat_v0_1_0.rs`);
//! `http`, `log` and `clock` are implemented here for both versions.
//!
//! Each import: a tracing span with plugin, tenant and installation; the
//! capability check (the only grant decision is in [`crate::capabilities`]);
//! then the work, with the tenant taken from the instance's own state.

use omnistore_manifest::Capability;
use tracing::Instrument;

use crate::bindings::v0_1_0::omnistore::plugin as wit;
use crate::bindings::v0_1_0::omnistore::plugin::types as v1;
use crate::bindings::v0_2_0::omnistore::plugin as v2;
use crate::calls::{CallKind, CallOutcome, LimitKind, Started, outbound_target};
use crate::compat_v0_1_0::Convert;
use crate::plugin_storage::{Quotas, Scope};
use crate::state::PluginState;
use crate::types::*;

/// What an import with a `host-error` returns: a trap (host failure) or the
/// plugin-visible result.
pub(crate) type R<T> = wasmtime::Result<Result<T, HostError>>;
/// The same for a 0.1.0 import.
type R1<T> = wasmtime::Result<Result<T, v1::HostError>>;

/// Run a commerce service call after the capability check, inside a span;
/// evaluates to the call's [`crate::ServiceResult`].
macro_rules! service {
    ($state:ident, $cap:expr, $name:literal, |$svc:ident, $cx:ident| $call:expr) => {{
        match $state.check($cap) {
            Err(denied) => Err($crate::types::HostError::Denied(denied.0)),
            Ok(()) => {
                let span = $crate::imports::import_span($state, $name);
                let shared = $state.shared.clone();
                let $cx = $state.cx.clone();
                let started = $state.call_started();
                let call = async move {
                    let $svc = &shared.services;
                    $call.await
                };
                let result = tracing::Instrument::instrument(call, span).await;
                // The mail queue counts against the tenant's storage quota.
                if let Err($crate::types::HostError::QuotaExceeded(_)) = &result {
                    $state.record_quota_refusal(started, $name);
                }
                result
            }
        }
    }};
}
pub(crate) use service;

pub(crate) fn import_span(state: &PluginState, name: &'static str) -> tracing::Span {
    tracing::debug_span!(
        "import",
        import = name,
        plugin = %state.cx.plugin,
        tenant = %state.cx.tenant,
        installation = %state.cx.installation,
    )
}

impl wit::types::Host for PluginState {}

impl wit::catalog::Host for PluginState {
    async fn get_product(&mut self, id: String) -> R1<Option<v1::Product>> {
        Ok(service!(self, Capability::Catalog, "catalog.get-product", |s, cx| s.get_product(&cx, &id)).convert())
    }

    async fn get_product_by_handle(&mut self, handle: String) -> R1<Option<v1::Product>> {
        Ok(service!(self, Capability::Catalog, "catalog.get-product-by-handle", |s, cx| s
            .get_product_by_handle(&cx, &handle))
        .convert())
    }

    async fn find_sku(&mut self, sku: String) -> R1<Option<(v1::Product, v1::Variant)>> {
        Ok(service!(self, Capability::Catalog, "catalog.find-sku", |s, cx| s.find_sku(&cx, &sku)).convert())
    }

    async fn list_products(&mut self, cursor: Option<String>, limit: u32) -> R1<v1::ProductPage> {
        Ok(service!(self, Capability::Catalog, "catalog.list-products", |s, cx| s.list_products(&cx, cursor, limit))
            .convert())
    }

    async fn list_collection_products(
        &mut self,
        collection_id: String,
        cursor: Option<String>,
        limit: u32,
    ) -> R1<v1::ProductPage> {
        Ok(service!(self, Capability::Catalog, "catalog.list-collection-products", |s, cx| s.list_collection_products(
            &cx,
            &collection_id,
            cursor,
            limit
        ))
        .convert())
    }

    async fn list_collections(&mut self) -> R1<Vec<v1::Collection>> {
        Ok(service!(self, Capability::Catalog, "catalog.list-collections", |s, cx| s.list_collections(&cx)).convert())
    }
}

impl wit::carts::Host for PluginState {
    async fn create(&mut self, customer_id: Option<String>) -> R1<v1::Cart> {
        Ok(service!(self, Capability::Carts, "carts.create", |s, cx| s.create_cart(&cx, customer_id)).convert())
    }

    async fn get(&mut self, cart_id: String) -> R1<v1::Cart> {
        Ok(service!(self, Capability::Carts, "carts.get", |s, cx| s.get_cart(&cx, &cart_id)).convert())
    }

    async fn set_quantity(&mut self, cart_id: String, variant_id: String, quantity: u32) -> R1<v1::Cart> {
        Ok(service!(self, Capability::Carts, "carts.set-quantity", |s, cx| s.set_cart_quantity(
            &cx,
            &cart_id,
            &variant_id,
            quantity
        ))
        .convert())
    }

    async fn apply_code(&mut self, cart_id: String, code: String) -> R1<v1::Cart> {
        Ok(service!(self, Capability::Carts, "carts.apply-code", |s, cx| s.apply_code(&cx, &cart_id, &code)).convert())
    }

    async fn remove_code(&mut self, cart_id: String, code: String) -> R1<v1::Cart> {
        Ok(service!(self, Capability::Carts, "carts.remove-code", |s, cx| s.remove_code(&cx, &cart_id, &code))
            .convert())
    }

    async fn set_customer(&mut self, cart_id: String, customer_id: String) -> R1<v1::Cart> {
        Ok(service!(self, Capability::Carts, "carts.set-customer", |s, cx| s.set_cart_customer(
            &cx,
            &cart_id,
            &customer_id
        ))
        .convert())
    }

    async fn checkout(&mut self, cart_id: String, fulfillment: v1::Fulfillment) -> R1<v1::Order> {
        let fulfillment: Fulfillment = fulfillment.convert();
        Ok(service!(self, Capability::Carts, "carts.checkout", |s, cx| s.checkout(&cx, &cart_id, fulfillment))
            .convert())
    }
}

impl wit::orders::Host for PluginState {
    async fn ingest(&mut self, order: v1::IncomingOrder) -> R1<v1::Order> {
        let order: IncomingOrder = order.convert();
        Ok(service!(self, Capability::Orders, "orders.ingest", |s, cx| s.ingest_order(&cx, order)).convert())
    }

    async fn get(&mut self, order_id: String) -> R1<v1::Order> {
        Ok(service!(self, Capability::Orders, "orders.get", |s, cx| s.get_order(&cx, &order_id)).convert())
    }

    async fn find_by_external_id(&mut self, external_id: String) -> R1<Option<v1::Order>> {
        Ok(service!(self, Capability::Orders, "orders.find-by-external-id", |s, cx| s
            .find_order_by_external_id(&cx, &external_id))
        .convert())
    }
}

impl wit::customers::Host for PluginState {
    async fn identify(&mut self, identity: v1::Identity, name: Option<String>) -> R1<v1::Customer> {
        let identity: Identity = identity.convert();
        Ok(service!(self, Capability::Customers, "customers.identify", |s, cx| s
            .identify_customer(&cx, identity, name))
        .convert())
    }

    async fn get(&mut self, customer_id: String) -> R1<v1::Customer> {
        Ok(service!(self, Capability::Customers, "customers.get", |s, cx| s.get_customer(&cx, &customer_id)).convert())
    }

    async fn set_consent(
        &mut self,
        customer_id: String,
        purpose: v1::ConsentPurpose,
        granted: bool,
    ) -> R1<v1::Customer> {
        let purpose: ConsentPurpose = purpose.convert();
        Ok(service!(self, Capability::Customers, "customers.set-consent", |s, cx| s.set_consent(
            &cx,
            &customer_id,
            purpose,
            granted
        ))
        .convert())
    }
}

impl wit::touchpoints::Host for PluginState {
    async fn record(&mut self, touchpoint: v1::Touchpoint) -> R1<()> {
        let touchpoint: Touchpoint = touchpoint.convert();
        Ok(service!(self, Capability::Touchpoints, "touchpoints.record", |s, cx| s.record_touchpoint(&cx, touchpoint))
            .map_err(Convert::convert))
    }
}

impl wit::mail::Host for PluginState {
    async fn send(&mut self, message: wit::mail::Message) -> R1<String> {
        let message: MailMessage = message.convert();
        Ok(service!(self, Capability::Mail, "mail.send", |s, cx| s.send_mail(&cx, message)).convert())
    }
}

impl PluginState {
    /// Run a storage operation on a blocking thread: the store is synchronous
    /// and may touch the disk.
    pub(crate) async fn storage<T: Send + 'static>(
        &mut self,
        name: &'static str,
        op: impl FnOnce(&Scope, &dyn omnistore_storage::KvStore) -> Result<T, HostError> + Send + 'static,
    ) -> R<T> {
        if let Err(denied) = self.check(Capability::Storage) {
            return Ok(Err(HostError::Denied(denied.0)));
        }
        let span = import_span(self, name);
        let scope = Scope::new(&self.cx.tenant, &self.cx.installation);
        let shared = self.shared.clone();
        let started = self.call_started();
        let joined = tokio::task::spawn_blocking(move || op(&scope, &*shared.kv)).instrument(span).await;
        match joined {
            Ok(result) => {
                if let Err(HostError::QuotaExceeded(_)) = &result {
                    self.record_quota_refusal(started, name);
                }
                Ok(result)
            }
            Err(err) => Err(wasmtime::Error::msg(format!("storage task failed: {err}"))),
        }
    }

    /// Record an import refused at a storage quota (the plugin is told and
    /// may carry on, but the merchant should see it).
    pub(crate) fn record_quota_refusal(&mut self, started: Started, import: &'static str) {
        let outcome = CallOutcome::Limit(LimitKind::StorageQuota);
        self.record_inside(started, CallKind::Import, || import.to_owned(), outcome, None);
    }

    /// The quotas every storage write is held to.
    pub(crate) fn storage_quotas(&self) -> Quotas {
        Quotas {
            installation: self.limits.storage_quota_bytes,
            tenant: self.limits.tenant_storage_quota_bytes,
            value: self.limits.storage_value_bytes,
        }
    }
}

impl wit::storage::Host for PluginState {
    async fn get(&mut self, key: String) -> R1<Option<Vec<u8>>> {
        Ok(v2::storage::Host::get(self, key).await?.convert())
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> R1<()> {
        Ok(v2::storage::Host::set(self, key, value).await?.map_err(Convert::convert))
    }

    async fn delete(&mut self, key: String) -> R1<()> {
        Ok(v2::storage::Host::delete(self, key).await?.map_err(Convert::convert))
    }

    async fn list_keys(&mut self, prefix: String, start_after: Option<String>, limit: u32) -> R1<Vec<String>> {
        Ok(v2::storage::Host::list_keys(self, prefix, start_after, limit).await?.convert())
    }
}

impl wit::http::Host for PluginState {
    async fn send(&mut self, request: OutgoingRequest) -> wasmtime::Result<Result<IncomingResponse, HttpError>> {
        if let Err(denied) = self.check(Capability::Http) {
            return Ok(Err(HttpError::Denied(denied.0)));
        }
        let span = import_span(self, "http.send");
        let requested = request.timeout_ms.map(|ms| std::time::Duration::from_millis(ms.into()));
        let timeout = requested.unwrap_or(self.limits.http_timeout).min(self.limits.http_timeout).min(self.remaining());
        let (method, url) = (request.method.clone(), request.url.clone());
        let started = self.call_started();
        let result = self
            .shared
            .http
            .send(&self.grants, request, timeout, self.limits.http_response_bytes)
            .instrument(span.clone())
            .await;
        if let Err(err) = &result {
            span.in_scope(|| tracing::info!(%url, error = ?err, blame = "guest", "outbound request refused or failed"));
        }
        let status = result.as_ref().ok().map(|r| r.status);
        let outcome = CallOutcome::of_outbound(&result);
        self.record_inside(started, CallKind::Outbound, || outbound_target(&method, &url), outcome, status);
        Ok(result)
    }
}

impl wit::settings::Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        self.check_or_trap(Capability::Settings)?;
        Ok(self.settings.get(&key).cloned())
    }

    async fn list(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        self.check_or_trap(Capability::Settings)?;
        Ok(self
            .settings
            .iter()
            .filter(|(k, _)| !self.secrets.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

impl wit::log::Host for PluginState {
    async fn log(&mut self, level: Level, message: String, fields: Vec<(String, String)>) -> wasmtime::Result<()> {
        self.check_or_trap(Capability::Log)?;
        let size = message.len() as u64 + fields.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum::<u64>();
        if self.log_bytes + size > self.limits.log_bytes {
            self.log_dropped += 1;
            return Ok(());
        }
        self.log_bytes += size;
        let message = escape_log_text(&message);
        let fields = render_fields(&fields);
        let (plugin, tenant, installation) = (&self.cx.plugin, self.cx.tenant.as_str(), &self.cx.installation);
        match level {
            Level::Trace => tracing::trace!(target: "plugin", plugin, tenant, installation, fields, "{message}"),
            Level::Debug => tracing::debug!(target: "plugin", plugin, tenant, installation, fields, "{message}"),
            Level::Info => tracing::info!(target: "plugin", plugin, tenant, installation, fields, "{message}"),
            Level::Warn => tracing::warn!(target: "plugin", plugin, tenant, installation, fields, "{message}"),
            Level::Error => tracing::error!(target: "plugin", plugin, tenant, installation, fields, "{message}"),
        }
        Ok(())
    }
}

/// Make plugin text safe for a line-oriented log: control characters
/// (newlines, ESC and the rest of C0/C1, DEL) and the invisible format
/// characters that reorder or hide text are written as escapes, and so is the
/// backslash, so an escape in the output always came from the host.
fn escape_log_text(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_format(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional overrides, zero-width characters, line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// `key="value"` pairs: the value is quoted (its quotes escaped) so a value
/// cannot pose as further fields, and a key that is not a plain word is quoted too.
fn render_fields(fields: &[(String, String)]) -> String {
    let quote = |text: &str| format!("\"{}\"", escape_log_text(text).replace('"', "\\\""));
    fields
        .iter()
        .map(|(k, v)| {
            let plain = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            let key = if plain { k.clone() } else { quote(k) };
            format!("{key}={}", quote(v))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl wit::clock::Host for PluginState {
    async fn now(&mut self) -> wasmtime::Result<i64> {
        self.check_or_trap(Capability::Clock)?;
        Ok(crate::config::WallClock::now_ms(self.wall_clock.as_ref()))
    }

    async fn monotonic_ns(&mut self) -> wasmtime::Result<u64> {
        self.check_or_trap(Capability::Clock)?;
        Ok(self.started.elapsed().as_nanos() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_cannot_forge_lines_or_terminal_escapes() {
        let forged = "ok\n2026-01-01T00:00:00Z  INFO omnistore: admin logged in\r\x1b[2J\x1b]0;title\x07\u{202e}gnp.exe\u{7f}\u{85}";
        let escaped = escape_log_text(forged);
        assert!(!escaped.chars().any(|c| c.is_control() || is_invisible_format(c)), "{escaped:?}");
        assert_eq!(
            escaped,
            "ok\\n2026-01-01T00:00:00Z  INFO omnistore: admin logged in\\r\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{202e}gnp.exe\\u{7f}\\u{85}"
        );
        // A literal backslash-n typed by the plugin stays distinguishable from an escaped newline.
        assert_eq!(escape_log_text("a\\nb"), "a\\\\nb");
        assert_eq!(escape_log_text("Caffè ☕ plain"), "Caffè ☕ plain");
    }

    #[test]
    fn log_fields_cannot_pose_as_other_fields() {
        let fields = vec![
            ("sku".to_string(), "DV-001 tenant=other".to_string()),
            ("x\ntenant".to_string(), "a\"b\x1b".to_string()),
            ("".to_string(), "v".to_string()),
        ];
        assert_eq!(render_fields(&fields), "sku=\"DV-001 tenant=other\" \"x\\ntenant\"=\"a\\\"b\\u{1b}\" \"\"=\"v\"");
    }
}
