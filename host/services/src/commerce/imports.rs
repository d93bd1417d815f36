//! The runtime's `HostServices` trait on [`CoreServices`]: each contract
//! function handed to the module of its interface. The 0.2.0 storefront
//! imports live in `crate::storefront`.

use async_trait::async_trait;
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, HostServices, ServiceResult};

use super::{CoreServices, carts, catalog, customers, orders, outbox, touchpoints};

#[async_trait]
impl HostServices for CoreServices {
    async fn get_product(&self, cx: &CallContext, id: &str) -> ServiceResult<Option<wit::Product>> {
        catalog::get_product(self, cx, id).await
    }

    async fn get_product_by_handle(&self, cx: &CallContext, handle: &str) -> ServiceResult<Option<wit::Product>> {
        catalog::get_product_by_handle(self, cx, handle).await
    }

    async fn find_sku(&self, cx: &CallContext, sku: &str) -> ServiceResult<Option<(wit::Product, wit::Variant)>> {
        catalog::find_sku(self, cx, sku).await
    }

    async fn list_products(
        &self,
        cx: &CallContext,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<wit::ProductPage> {
        catalog::list_products(self, cx, cursor, limit).await
    }

    async fn list_collection_products(
        &self,
        cx: &CallContext,
        collection_id: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<wit::ProductPage> {
        catalog::list_collection_products(self, cx, collection_id, cursor, limit).await
    }

    async fn list_collections(&self, cx: &CallContext) -> ServiceResult<Vec<wit::Collection>> {
        catalog::list_collections(self, cx).await
    }

    async fn search_products(
        &self,
        cx: &CallContext,
        query: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<wit::ProductPage> {
        self.search(cx, query, cursor, limit).await
    }

    async fn browse_collection(
        &self,
        cx: &CallContext,
        collection_id: &str,
        sort: wit::ProductSort,
        offset: u32,
        limit: u32,
    ) -> ServiceResult<wit::CountedPage> {
        self.browse(cx, collection_id, sort, offset, limit).await
    }

    async fn list_locations(&self, cx: &CallContext) -> ServiceResult<Vec<wit::Location>> {
        self.locations(cx).await
    }

    async fn pickup_locations_for_cart(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<Vec<wit::Location>> {
        self.pickup_locations(cx, cart_id).await
    }

    async fn get_file(&self, cx: &CallContext, path: &str) -> ServiceResult<Option<Vec<u8>>> {
        self.file(cx, path).await
    }

    async fn list_files(&self, cx: &CallContext, prefix: &str) -> ServiceResult<Vec<String>> {
        self.file_paths(cx, prefix).await
    }

    async fn place_order(
        &self,
        cx: &CallContext,
        cart_id: &str,
        request: wit::CheckoutRequest,
    ) -> ServiceResult<wit::Order> {
        self.place(cx, cart_id, request).await
    }

    async fn shop(&self, cx: &CallContext) -> ServiceResult<wit::Shop> {
        self.shop_of(cx).await
    }

    async fn create_cart(&self, cx: &CallContext, customer_id: Option<String>) -> ServiceResult<wit::Cart> {
        carts::create_cart(self, cx, customer_id).await
    }

    async fn get_cart(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<wit::Cart> {
        carts::get_cart(self, cx, cart_id).await
    }

    async fn set_cart_quantity(
        &self,
        cx: &CallContext,
        cart_id: &str,
        variant_id: &str,
        quantity: u32,
    ) -> ServiceResult<wit::Cart> {
        carts::set_cart_quantity(self, cx, cart_id, variant_id, quantity).await
    }

    async fn apply_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<wit::Cart> {
        carts::apply_code(self, cx, cart_id, code).await
    }

    async fn remove_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<wit::Cart> {
        carts::remove_code(self, cx, cart_id, code).await
    }

    async fn set_cart_customer(&self, cx: &CallContext, cart_id: &str, customer_id: &str) -> ServiceResult<wit::Cart> {
        carts::set_cart_customer(self, cx, cart_id, customer_id).await
    }

    async fn checkout(
        &self,
        cx: &CallContext,
        cart_id: &str,
        fulfillment: wit::Fulfillment,
    ) -> ServiceResult<wit::Order> {
        carts::checkout(self, cx, cart_id, fulfillment).await
    }

    async fn ingest_order(&self, cx: &CallContext, order: wit::IncomingOrder) -> ServiceResult<wit::Order> {
        orders::ingest_order(self, cx, order).await
    }

    async fn get_order(&self, cx: &CallContext, order_id: &str) -> ServiceResult<wit::Order> {
        orders::get_order(self, cx, order_id).await
    }

    async fn find_order_by_external_id(
        &self,
        cx: &CallContext,
        external_id: &str,
    ) -> ServiceResult<Option<wit::Order>> {
        orders::find_order_by_external_id(self, cx, external_id).await
    }

    async fn record_satisfaction(&self, cx: &CallContext, order_id: &str, score: u8) -> ServiceResult<()> {
        orders::record_satisfaction(self, cx, order_id, score).await
    }

    async fn identify_customer(
        &self,
        cx: &CallContext,
        identity: wit::Identity,
        name: Option<String>,
    ) -> ServiceResult<wit::Customer> {
        customers::identify_customer(self, cx, identity, name).await
    }

    async fn get_customer(&self, cx: &CallContext, customer_id: &str) -> ServiceResult<wit::Customer> {
        customers::get_customer(self, cx, customer_id).await
    }

    async fn set_consent(
        &self,
        cx: &CallContext,
        customer_id: &str,
        purpose: wit::ConsentPurpose,
        granted: bool,
    ) -> ServiceResult<wit::Customer> {
        customers::set_consent(self, cx, customer_id, purpose, granted).await
    }

    async fn add_identity(
        &self,
        cx: &CallContext,
        customer_id: &str,
        identity: wit::Identity,
    ) -> ServiceResult<wit::Customer> {
        customers::add_identity(self, cx, customer_id, identity).await
    }

    async fn record_touchpoint(&self, cx: &CallContext, touchpoint: wit::Touchpoint) -> ServiceResult<()> {
        touchpoints::record_touchpoint(self, cx, touchpoint).await
    }

    async fn send_mail(&self, cx: &CallContext, message: wit::MailMessage) -> ServiceResult<String> {
        outbox::send_mail(self, cx, message).await
    }
}
