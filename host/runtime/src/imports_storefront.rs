//! The commerce imports of contract 0.2.0: catalog (with search and sorted
//! collection pages), locations, files, carts (with place-order), orders,
//! customers, touchpoints and mail, plus the shop and random bytes of
//! `settings`. Everything commerce goes through [`crate::HostServices`];
//! 0.1.0's imports convert onto the same services (`imports.rs`).

use omnistore_manifest::Capability;

use crate::bindings::v0_2_0::omnistore::plugin as wit;
use crate::imports::{R, import_span, service};
use crate::state::PluginState;
use crate::types::*;

/// The most `settings.random-bytes` hands out in one call.
pub const MAX_RANDOM_BYTES: u32 = 1024;

impl wit::types::Host for PluginState {}

impl wit::catalog::Host for PluginState {
    async fn get_product(&mut self, id: String) -> R<Option<Product>> {
        Ok(service!(self, Capability::Catalog, "catalog.get-product", |s, cx| s.get_product(&cx, &id)))
    }

    async fn get_product_by_handle(&mut self, handle: String) -> R<Option<Product>> {
        Ok(service!(self, Capability::Catalog, "catalog.get-product-by-handle", |s, cx| s
            .get_product_by_handle(&cx, &handle)))
    }

    async fn find_sku(&mut self, sku: String) -> R<Option<(Product, Variant)>> {
        Ok(service!(self, Capability::Catalog, "catalog.find-sku", |s, cx| s.find_sku(&cx, &sku)))
    }

    async fn list_products(&mut self, cursor: Option<String>, limit: u32) -> R<ProductPage> {
        Ok(service!(self, Capability::Catalog, "catalog.list-products", |s, cx| s.list_products(&cx, cursor, limit)))
    }

    async fn list_collection_products(
        &mut self,
        collection_id: String,
        cursor: Option<String>,
        limit: u32,
    ) -> R<ProductPage> {
        Ok(service!(self, Capability::Catalog, "catalog.list-collection-products", |s, cx| s.list_collection_products(
            &cx,
            &collection_id,
            cursor,
            limit
        )))
    }

    async fn list_collections(&mut self) -> R<Vec<Collection>> {
        Ok(service!(self, Capability::Catalog, "catalog.list-collections", |s, cx| s.list_collections(&cx)))
    }

    async fn search(&mut self, query: String, cursor: Option<String>, limit: u32) -> R<ProductPage> {
        Ok(service!(self, Capability::Catalog, "catalog.search", |s, cx| s.search_products(&cx, &query, cursor, limit)))
    }

    async fn browse_collection(
        &mut self,
        collection_id: String,
        sort: ProductSort,
        offset: u32,
        limit: u32,
    ) -> R<CountedPage> {
        Ok(service!(self, Capability::Catalog, "catalog.browse-collection", |s, cx| s.browse_collection(
            &cx,
            &collection_id,
            sort,
            offset,
            limit
        )))
    }
}

impl wit::locations::Host for PluginState {
    async fn list(&mut self) -> R<Vec<Location>> {
        Ok(service!(self, Capability::Locations, "locations.list", |s, cx| s.list_locations(&cx)))
    }

    async fn for_cart(&mut self, cart_id: String) -> R<Vec<Location>> {
        Ok(service!(self, Capability::Locations, "locations.for-cart", |s, cx| s
            .pickup_locations_for_cart(&cx, &cart_id)))
    }
}

impl wit::files::Host for PluginState {
    async fn get(&mut self, path: String) -> R<Option<Vec<u8>>> {
        Ok(service!(self, Capability::Files, "files.get", |s, cx| s.get_file(&cx, &path)))
    }

    async fn list(&mut self, prefix: String) -> R<Vec<String>> {
        Ok(service!(self, Capability::Files, "files.list", |s, cx| s.list_files(&cx, &prefix)))
    }
}

impl wit::carts::Host for PluginState {
    async fn create(&mut self, customer_id: Option<String>) -> R<Cart> {
        Ok(service!(self, Capability::Carts, "carts.create", |s, cx| s.create_cart(&cx, customer_id)))
    }

    async fn get(&mut self, cart_id: String) -> R<Cart> {
        Ok(service!(self, Capability::Carts, "carts.get", |s, cx| s.get_cart(&cx, &cart_id)))
    }

    async fn set_quantity(&mut self, cart_id: String, variant_id: String, quantity: u32) -> R<Cart> {
        Ok(service!(self, Capability::Carts, "carts.set-quantity", |s, cx| s.set_cart_quantity(
            &cx,
            &cart_id,
            &variant_id,
            quantity
        )))
    }

    async fn apply_code(&mut self, cart_id: String, code: String) -> R<Cart> {
        Ok(service!(self, Capability::Carts, "carts.apply-code", |s, cx| s.apply_code(&cx, &cart_id, &code)))
    }

    async fn remove_code(&mut self, cart_id: String, code: String) -> R<Cart> {
        Ok(service!(self, Capability::Carts, "carts.remove-code", |s, cx| s.remove_code(&cx, &cart_id, &code)))
    }

    async fn set_customer(&mut self, cart_id: String, customer_id: String) -> R<Cart> {
        Ok(service!(self, Capability::Carts, "carts.set-customer", |s, cx| s.set_cart_customer(
            &cx,
            &cart_id,
            &customer_id
        )))
    }

    async fn checkout(&mut self, cart_id: String, fulfillment: Fulfillment) -> R<Order> {
        Ok(service!(self, Capability::Carts, "carts.checkout", |s, cx| s.checkout(&cx, &cart_id, fulfillment)))
    }

    async fn place_order(&mut self, cart_id: String, request: CheckoutRequest) -> R<Order> {
        Ok(service!(self, Capability::Carts, "carts.place-order", |s, cx| s.place_order(&cx, &cart_id, request)))
    }
}

impl wit::orders::Host for PluginState {
    async fn ingest(&mut self, order: IncomingOrder) -> R<Order> {
        Ok(service!(self, Capability::Orders, "orders.ingest", |s, cx| s.ingest_order(&cx, order)))
    }

    async fn get(&mut self, order_id: String) -> R<Order> {
        Ok(service!(self, Capability::Orders, "orders.get", |s, cx| s.get_order(&cx, &order_id)))
    }

    async fn find_by_external_id(&mut self, external_id: String) -> R<Option<Order>> {
        Ok(service!(self, Capability::Orders, "orders.find-by-external-id", |s, cx| s
            .find_order_by_external_id(&cx, &external_id)))
    }

    async fn record_satisfaction(&mut self, order_id: String, score: u8) -> R<()> {
        Ok(service!(self, Capability::Orders, "orders.record-satisfaction", |s, cx| s
            .record_satisfaction(&cx, &order_id, score)))
    }
}

impl wit::customers::Host for PluginState {
    async fn add_identity(&mut self, customer_id: String, identity: Identity) -> R<Customer> {
        Ok(service!(self, Capability::Customers, "customers.add-identity", |s, cx| s.add_identity(
            &cx,
            &customer_id,
            identity
        )))
    }

    async fn identify(&mut self, identity: Identity, name: Option<String>) -> R<Customer> {
        Ok(service!(self, Capability::Customers, "customers.identify", |s, cx| s
            .identify_customer(&cx, identity, name)))
    }

    async fn get(&mut self, customer_id: String) -> R<Customer> {
        Ok(service!(self, Capability::Customers, "customers.get", |s, cx| s.get_customer(&cx, &customer_id)))
    }

    async fn set_consent(&mut self, customer_id: String, purpose: ConsentPurpose, granted: bool) -> R<Customer> {
        Ok(service!(self, Capability::Customers, "customers.set-consent", |s, cx| s.set_consent(
            &cx,
            &customer_id,
            purpose,
            granted
        )))
    }
}

impl wit::touchpoints::Host for PluginState {
    async fn record(&mut self, touchpoint: Touchpoint) -> R<()> {
        Ok(service!(self, Capability::Touchpoints, "touchpoints.record", |s, cx| s.record_touchpoint(&cx, touchpoint)))
    }
}

impl wit::mail::Host for PluginState {
    async fn send(&mut self, message: MailMessage) -> R<String> {
        Ok(service!(self, Capability::Mail, "mail.send", |s, cx| s.send_mail(&cx, message)))
    }
}

impl PluginState {
    /// `settings.shop`. No error channel: a refusal traps, and so does a
    /// failure to read the shop (the host's fault).
    pub(crate) async fn shop_info(&mut self) -> wasmtime::Result<Shop> {
        self.check_or_trap(Capability::Settings)?;
        let span = import_span(self, "settings.shop");
        let (shared, cx) = (self.shared.clone(), self.cx.clone());
        let result = tracing::Instrument::instrument(async move { shared.services.shop(&cx).await }, span).await;
        result.map_err(|err| {
            tracing::error!(error = ?err, blame = "host", "the shop could not be read");
            wasmtime::Error::msg(format!("the shop is unavailable: {err:?}"))
        })
    }

    /// `settings.random-bytes`: from the operating system's CSPRNG. Asking
    /// for more than [`MAX_RANDOM_BYTES`] is the plugin's mistake and traps,
    /// as the contract gives this call no error channel.
    pub(crate) fn draw_random_bytes(&mut self, n: u32) -> wasmtime::Result<Vec<u8>> {
        self.check_or_trap(Capability::Settings)?;
        let _span = import_span(self, "settings.random-bytes").entered();
        if n > MAX_RANDOM_BYTES {
            tracing::info!(requested = n, limit = MAX_RANDOM_BYTES, blame = "guest", "too many random bytes asked for");
            return Err(wasmtime::Error::msg(format!(
                "settings.random-bytes: at most {MAX_RANDOM_BYTES} bytes per call, {n} were asked for"
            )));
        }
        let mut bytes = vec![0u8; n as usize];
        getrandom::fill(&mut bytes).map_err(|e| wasmtime::Error::msg(format!("the random source failed: {e}")))?;
        Ok(bytes)
    }
}
