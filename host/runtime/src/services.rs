//! The commerce services behind the plugin imports.
//!
//! The runtime knows nothing of the commerce domain. Every commerce import
//! (catalog, locations, files, carts, orders, customers, touchpoints, mail,
//! the shop) goes through
//! [`HostServices`], which the host implements over the commerce core.
//! `omnistore_services::commerce::CoreServices` implements it on the commerce
//! core, for the server, the SDK harness and `omnistore plugin run` alike.
//!
//! Architecture invariant: the tenant and channel always come from the
//! [`CallContext`], which the runtime builds from the instance's own state,
//! never from an argument the plugin passed.

use async_trait::async_trait;

use crate::types::*;

/// Who is calling: fixed by the runtime for the instance's lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub tenant: crate::TenantId,
    /// The installation (channel) id.
    pub installation: String,
    pub plugin: String,
    /// The call serves a merchant's preview: `files` reads the draft files.
    pub preview: bool,
}

/// Result of a host service call.
pub type ServiceResult<T> = Result<T, HostError>;

/// The commerce side of the plugin imports.
#[async_trait]
pub trait HostServices: Send + Sync + 'static {
    // catalog
    async fn get_product(&self, cx: &CallContext, id: &str) -> ServiceResult<Option<Product>>;
    async fn get_product_by_handle(&self, cx: &CallContext, handle: &str) -> ServiceResult<Option<Product>>;
    async fn find_sku(&self, cx: &CallContext, sku: &str) -> ServiceResult<Option<(Product, Variant)>>;
    async fn list_products(&self, cx: &CallContext, cursor: Option<String>, limit: u32) -> ServiceResult<ProductPage>;
    async fn list_collection_products(
        &self,
        cx: &CallContext,
        collection_id: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<ProductPage>;
    async fn list_collections(&self, cx: &CallContext) -> ServiceResult<Vec<Collection>>;
    async fn search_products(
        &self,
        cx: &CallContext,
        query: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<ProductPage>;
    async fn browse_collection(
        &self,
        cx: &CallContext,
        collection_id: &str,
        sort: ProductSort,
        offset: u32,
        limit: u32,
    ) -> ServiceResult<CountedPage>;

    // locations
    async fn list_locations(&self, cx: &CallContext) -> ServiceResult<Vec<Location>>;
    async fn pickup_locations_for_cart(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<Vec<Location>>;

    // files (the draft when `cx.preview`, else the live files)
    async fn get_file(&self, cx: &CallContext, path: &str) -> ServiceResult<Option<Vec<u8>>>;
    async fn list_files(&self, cx: &CallContext, prefix: &str) -> ServiceResult<Vec<String>>;

    // carts
    async fn create_cart(&self, cx: &CallContext, customer_id: Option<String>) -> ServiceResult<Cart>;
    async fn get_cart(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<Cart>;
    async fn set_cart_quantity(
        &self,
        cx: &CallContext,
        cart_id: &str,
        variant_id: &str,
        quantity: u32,
    ) -> ServiceResult<Cart>;
    async fn apply_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<Cart>;
    async fn remove_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<Cart>;
    async fn set_cart_customer(&self, cx: &CallContext, cart_id: &str, customer_id: &str) -> ServiceResult<Cart>;
    async fn checkout(&self, cx: &CallContext, cart_id: &str, fulfillment: Fulfillment) -> ServiceResult<Order>;
    async fn place_order(&self, cx: &CallContext, cart_id: &str, request: CheckoutRequest) -> ServiceResult<Order>;

    // orders
    async fn ingest_order(&self, cx: &CallContext, order: IncomingOrder) -> ServiceResult<Order>;
    async fn get_order(&self, cx: &CallContext, order_id: &str) -> ServiceResult<Order>;
    async fn find_order_by_external_id(&self, cx: &CallContext, external_id: &str) -> ServiceResult<Option<Order>>;
    async fn record_satisfaction(&self, cx: &CallContext, order_id: &str, score: u8) -> ServiceResult<()>;

    // customers
    async fn identify_customer(
        &self,
        cx: &CallContext,
        identity: Identity,
        name: Option<String>,
    ) -> ServiceResult<Customer>;
    async fn get_customer(&self, cx: &CallContext, customer_id: &str) -> ServiceResult<Customer>;
    async fn set_consent(
        &self,
        cx: &CallContext,
        customer_id: &str,
        purpose: ConsentPurpose,
        granted: bool,
    ) -> ServiceResult<Customer>;
    async fn add_identity(&self, cx: &CallContext, customer_id: &str, identity: Identity) -> ServiceResult<Customer>;

    // touchpoints
    async fn record_touchpoint(&self, cx: &CallContext, touchpoint: Touchpoint) -> ServiceResult<()>;

    // mail
    async fn send_mail(&self, cx: &CallContext, message: MailMessage) -> ServiceResult<String>;

    // settings
    /// The shop as its channels present it.
    async fn shop(&self, cx: &CallContext) -> ServiceResult<Shop>;
}
