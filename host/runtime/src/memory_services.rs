//! An in-memory implementation of [`HostServices`] for tests and the SDK
//! harness: a small, honest commerce model (one price per variant, stock as a
//! counter, orders, customers, consent, touchpoints, an outbox of mail), kept
//! per tenant so isolation holds here as it does in the real core.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::TenantId;
use crate::services::{CallContext, HostServices, ServiceResult};
use crate::types::*;

/// How long a cart's stock holds last, in milliseconds.
const CART_TTL_MS: i64 = 30 * 60 * 1000;

#[derive(Default)]
struct TenantData {
    products: BTreeMap<String, Product>,
    collections: Vec<Collection>,
    carts: HashMap<String, Cart>,
    orders: Vec<Order>,
    customers: BTreeMap<String, Customer>,
    touchpoints: Vec<(String, Touchpoint)>,
    mail: Vec<(String, MailMessage)>,
    next_id: u64,
}

impl TenantData {
    fn issue(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:06}", self.next_id)
    }

    fn variant(&self, variant_id: &str) -> Option<(&Product, &Variant)> {
        self.products.values().find_map(|p| p.variants.iter().find(|v| v.id == variant_id).map(|v| (p, v)))
    }

    fn variant_mut(&mut self, variant_id: &str) -> Option<&mut Variant> {
        self.products.values_mut().find_map(|p| p.variants.iter_mut().find(|v| v.id == variant_id))
    }
}

/// In-memory commerce services. See the module docs.
#[derive(Default)]
pub struct InMemoryServices {
    tenants: Mutex<HashMap<TenantId, TenantData>>,
}

impl std::fmt::Debug for InMemoryServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryServices").finish_non_exhaustive()
    }
}

fn money(amount_minor: i64, currency: &str) -> Money {
    Money { amount_minor, currency: currency.to_string() }
}

fn not_found(what: &str, id: &str) -> HostError {
    HostError::NotFound(format!("{what} `{id}` does not exist"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn page_of(products: Vec<Product>, cursor: Option<String>, limit: u32) -> ServiceResult<ProductPage> {
    let limit = limit.clamp(1, 500) as usize;
    let start = match cursor {
        None => 0,
        Some(c) => {
            c.parse::<usize>().map_err(|_| HostError::Invalid(format!("cursor `{c}` is not one the host issued")))?
        }
    };
    let next = (start + limit < products.len()).then(|| (start + limit).to_string());
    Ok(ProductPage { products: products.into_iter().skip(start).take(limit).collect(), next })
}

impl InMemoryServices {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, tenant: &TenantId, f: impl FnOnce(&mut TenantData) -> T) -> T {
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        f(tenants.entry(tenant.clone()).or_default())
    }

    /// Add or replace a product of a tenant.
    pub fn put_product(&self, tenant: &TenantId, product: Product) {
        self.with(tenant, |t| {
            t.products.insert(product.id.clone(), product);
        })
    }

    /// Add a collection to a tenant.
    pub fn put_collection(&self, tenant: &TenantId, collection: Collection) {
        self.with(tenant, |t| t.collections.push(collection))
    }

    /// A few sample products (Italian pastries, EUR) so a plugin under
    /// development has a catalog to show.
    pub fn add_sample_catalog(&self, tenant: &TenantId) {
        let items = [
            ("cannolo-siciliano", "Cannolo siciliano", 350, "cannoli"),
            ("cannolo-pistacchio", "Cannolo al pistacchio", 400, "cannoli"),
            ("sfogliatella-riccia", "Sfogliatella riccia", 280, "sfogliatelle"),
            ("torta-caprese", "Torta caprese", 2400, "torte"),
            ("cantucci", "Cantucci alle mandorle", 900, "biscotti"),
        ];
        for (i, (handle, title, price, collection)) in items.into_iter().enumerate() {
            let n = i + 1;
            self.put_product(
                tenant,
                Product {
                    id: format!("prod_{n:03}"),
                    handle: handle.into(),
                    title: title.into(),
                    description: format!("{title}, made this morning."),
                    brand: Some("Pasticceria Dolce Vita".into()),
                    tags: vec![collection.into()],
                    collections: vec![format!("col_{collection}")],
                    images: vec![],
                    variants: vec![Variant {
                        id: format!("var_{n:03}"),
                        sku: format!("DV-{n:03}"),
                        title: "Standard".into(),
                        options: vec![],
                        gtin: None,
                        weight_grams: Some(120),
                        price: money(price, "EUR"),
                        compare_at: None,
                        available: 20,
                        backorderable: false,
                    }],
                    updated_at: 0,
                },
            );
        }
        for c in ["cannoli", "sfogliatelle", "torte", "biscotti"] {
            self.put_collection(
                tenant,
                Collection { id: format!("col_{c}"), handle: c.into(), title: c.into(), description: String::new() },
            );
        }
    }

    /// Orders of a tenant, oldest first.
    pub fn orders(&self, tenant: &TenantId) -> Vec<Order> {
        self.with(tenant, |t| t.orders.clone())
    }

    /// Mail handed over by plugins of a tenant, with the sending installation.
    pub fn sent_mail(&self, tenant: &TenantId) -> Vec<(String, MailMessage)> {
        self.with(tenant, |t| t.mail.clone())
    }

    /// Touchpoints recorded for a tenant, with the recording installation.
    pub fn touchpoints(&self, tenant: &TenantId) -> Vec<(String, Touchpoint)> {
        self.with(tenant, |t| t.touchpoints.clone())
    }

    fn reprice(cart: &mut Cart, data: &TenantData) {
        let currency = cart.total.currency.clone();
        let mut subtotal = 0i64;
        for line in &mut cart.lines {
            if let Some((_, v)) = data.variant(&line.variant_id) {
                line.unit_price = v.price.clone();
            }
            let total = line.unit_price.amount_minor.saturating_mul(i64::from(line.quantity));
            line.discount = money(0, &currency);
            line.total = money(total, &currency);
            subtotal = subtotal.saturating_add(total);
        }
        cart.subtotal = money(subtotal, &currency);
        cart.discount = money(0, &currency);
        cart.total = money(subtotal, &currency);
    }
}

#[async_trait]
impl HostServices for InMemoryServices {
    async fn get_product(&self, cx: &CallContext, id: &str) -> ServiceResult<Option<Product>> {
        Ok(self.with(&cx.tenant, |t| t.products.get(id).cloned()))
    }

    async fn get_product_by_handle(&self, cx: &CallContext, handle: &str) -> ServiceResult<Option<Product>> {
        Ok(self.with(&cx.tenant, |t| t.products.values().find(|p| p.handle == handle).cloned()))
    }

    async fn find_sku(&self, cx: &CallContext, sku: &str) -> ServiceResult<Option<(Product, Variant)>> {
        Ok(self.with(&cx.tenant, |t| {
            t.products.values().find_map(|p| p.variants.iter().find(|v| v.sku == sku).map(|v| (p.clone(), v.clone())))
        }))
    }

    async fn list_products(&self, cx: &CallContext, cursor: Option<String>, limit: u32) -> ServiceResult<ProductPage> {
        let all = self.with(&cx.tenant, |t| t.products.values().cloned().collect());
        page_of(all, cursor, limit)
    }

    async fn list_collection_products(
        &self,
        cx: &CallContext,
        collection_id: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<ProductPage> {
        let all = self.with(&cx.tenant, |t| {
            t.products.values().filter(|p| p.collections.iter().any(|c| c == collection_id)).cloned().collect()
        });
        page_of(all, cursor, limit)
    }

    async fn list_collections(&self, cx: &CallContext) -> ServiceResult<Vec<Collection>> {
        Ok(self.with(&cx.tenant, |t| t.collections.clone()))
    }

    async fn create_cart(&self, cx: &CallContext, customer_id: Option<String>) -> ServiceResult<Cart> {
        self.with(&cx.tenant, |t| {
            if let Some(c) = &customer_id
                && !t.customers.contains_key(c)
            {
                return Err(not_found("customer", c));
            }
            let currency =
                t.products.values().flat_map(|p| p.variants.first()).next().map(|v| v.price.currency.clone());
            let currency = currency.unwrap_or_else(|| "EUR".to_string());
            let cart = Cart {
                id: t.issue("cart"),
                customer_id,
                lines: vec![],
                codes: vec![],
                promotions: vec![],
                subtotal: money(0, &currency),
                discount: money(0, &currency),
                total: money(0, &currency),
                expires_at: now_ms() + CART_TTL_MS,
            };
            t.carts.insert(cart.id.clone(), cart.clone());
            Ok(cart)
        })
    }

    async fn get_cart(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<Cart> {
        self.with(&cx.tenant, |t| t.carts.get(cart_id).cloned().ok_or_else(|| not_found("cart", cart_id)))
    }

    async fn set_cart_quantity(
        &self,
        cx: &CallContext,
        cart_id: &str,
        variant_id: &str,
        quantity: u32,
    ) -> ServiceResult<Cart> {
        self.with(&cx.tenant, |t| {
            let (product, variant) = t.variant(variant_id).ok_or_else(|| not_found("variant", variant_id))?;
            if !variant.backorderable && i64::from(quantity) > variant.available {
                return Err(HostError::Conflict(format!(
                    "only {} of {} available",
                    variant.available.max(0),
                    variant.sku
                )));
            }
            let line = CartLine {
                variant_id: variant.id.clone(),
                sku: variant.sku.clone(),
                title: format!("{} – {}", product.title, variant.title),
                quantity,
                unit_price: variant.price.clone(),
                discount: money(0, &variant.price.currency),
                total: variant.price.clone(),
            };
            let mut cart = t.carts.get(cart_id).cloned().ok_or_else(|| not_found("cart", cart_id))?;
            cart.lines.retain(|l| l.variant_id != variant_id);
            if quantity > 0 {
                cart.lines.push(line);
            }
            Self::reprice(&mut cart, t);
            t.carts.insert(cart.id.clone(), cart.clone());
            Ok(cart)
        })
    }

    async fn apply_code(&self, _cx: &CallContext, _cart_id: &str, code: &str) -> ServiceResult<Cart> {
        // This model has no promotions, so no code ever applies.
        Err(HostError::Invalid(format!("discount code `{code}` does not exist")))
    }

    async fn remove_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<Cart> {
        self.with(&cx.tenant, |t| {
            let cart = t.carts.get_mut(cart_id).ok_or_else(|| not_found("cart", cart_id))?;
            cart.codes.retain(|c| c != code);
            Ok(cart.clone())
        })
    }

    async fn set_cart_customer(&self, cx: &CallContext, cart_id: &str, customer_id: &str) -> ServiceResult<Cart> {
        self.with(&cx.tenant, |t| {
            if !t.customers.contains_key(customer_id) {
                return Err(not_found("customer", customer_id));
            }
            let cart = t.carts.get_mut(cart_id).ok_or_else(|| not_found("cart", cart_id))?;
            cart.customer_id = Some(customer_id.to_string());
            Ok(cart.clone())
        })
    }

    async fn checkout(&self, cx: &CallContext, cart_id: &str, fulfillment: Fulfillment) -> ServiceResult<Order> {
        self.with(&cx.tenant, |t| {
            let mut cart = t.carts.get(cart_id).cloned().ok_or_else(|| not_found("cart", cart_id))?;
            if cart.lines.is_empty() {
                return Err(HostError::Invalid("the cart is empty".into()));
            }
            // Check every line before taking any stock, so a request is all or nothing.
            for line in &cart.lines {
                let (_, v) = t.variant(&line.variant_id).ok_or_else(|| not_found("variant", &line.variant_id))?;
                if !v.backorderable && i64::from(line.quantity) > v.available {
                    return Err(HostError::Conflict(format!("only {} of {} available", v.available.max(0), v.sku)));
                }
            }
            for line in &cart.lines {
                if let Some(v) = t.variant_mut(&line.variant_id) {
                    v.available -= i64::from(line.quantity);
                }
            }
            Self::reprice(&mut cart, t);
            let order = Order {
                id: t.issue("order"),
                number: (1000 + t.orders.len() + 1).to_string(),
                channel: cx.installation.clone(),
                external_id: None,
                customer_id: cart.customer_id.clone(),
                lines: cart
                    .lines
                    .iter()
                    .map(|l| OrderLine {
                        variant_id: l.variant_id.clone(),
                        sku: l.sku.clone(),
                        title: l.title.clone(),
                        quantity: l.quantity,
                        unit_price: l.unit_price.clone(),
                        discount: l.discount.clone(),
                        total: l.total.clone(),
                    })
                    .collect(),
                subtotal: cart.subtotal.clone(),
                discount: cart.discount.clone(),
                total: cart.total.clone(),
                status: OrderStatus::Placed,
                fulfillment,
                placed_at: now_ms(),
            };
            t.carts.remove(cart_id);
            t.orders.push(order.clone());
            Ok(order)
        })
    }

    async fn ingest_order(&self, cx: &CallContext, incoming: IncomingOrder) -> ServiceResult<Order> {
        self.with(&cx.tenant, |t| {
            if let Some(existing) = t
                .orders
                .iter()
                .find(|o| o.channel == cx.installation && o.external_id.as_deref() == Some(&incoming.external_id))
            {
                return Ok(existing.clone());
            }
            if incoming.lines.is_empty() {
                return Err(HostError::Invalid("an order needs at least one line".into()));
            }
            let mut lines = Vec::new();
            for l in &incoming.lines {
                let (p, v) = t
                    .products
                    .values()
                    .find_map(|p| p.variants.iter().find(|v| v.sku == l.sku).map(|v| (p, v)))
                    .ok_or_else(|| not_found("sku", &l.sku))?;
                if l.quantity == 0 {
                    return Err(HostError::Invalid(format!("line {} has quantity 0", l.sku)));
                }
                if !v.backorderable && i64::from(l.quantity) > v.available {
                    return Err(HostError::Conflict(format!("only {} of {} available", v.available.max(0), v.sku)));
                }
                let total = l.unit_price.amount_minor.saturating_mul(i64::from(l.quantity));
                lines.push(OrderLine {
                    variant_id: v.id.clone(),
                    sku: v.sku.clone(),
                    title: format!("{} – {}", p.title, v.title),
                    quantity: l.quantity,
                    unit_price: l.unit_price.clone(),
                    discount: money(0, &l.unit_price.currency),
                    total: money(total, &l.unit_price.currency),
                });
            }
            for l in &lines {
                if let Some(v) = t.variant_mut(&l.variant_id) {
                    v.available -= i64::from(l.quantity);
                }
            }
            let customer_id = match incoming.customer {
                Some(identity) => Some(identify(t, identity, incoming.customer_name.clone()).id),
                None => None,
            };
            let order = Order {
                id: t.issue("order"),
                number: (1000 + t.orders.len() + 1).to_string(),
                channel: cx.installation.clone(),
                external_id: Some(incoming.external_id),
                customer_id,
                subtotal: incoming.total.clone(),
                discount: money(0, &incoming.total.currency),
                total: incoming.total,
                lines,
                status: OrderStatus::Placed,
                fulfillment: incoming.fulfillment,
                placed_at: now_ms(),
            };
            t.orders.push(order.clone());
            Ok(order)
        })
    }

    async fn get_order(&self, cx: &CallContext, order_id: &str) -> ServiceResult<Order> {
        self.with(&cx.tenant, |t| {
            t.orders.iter().find(|o| o.id == order_id).cloned().ok_or_else(|| not_found("order", order_id))
        })
    }

    async fn find_order_by_external_id(&self, cx: &CallContext, external_id: &str) -> ServiceResult<Option<Order>> {
        Ok(self.with(&cx.tenant, |t| {
            t.orders
                .iter()
                .find(|o| o.channel == cx.installation && o.external_id.as_deref() == Some(external_id))
                .cloned()
        }))
    }

    async fn identify_customer(
        &self,
        cx: &CallContext,
        identity: Identity,
        name: Option<String>,
    ) -> ServiceResult<Customer> {
        if identity.value.trim().is_empty() {
            return Err(HostError::Invalid("the identity value is empty".into()));
        }
        Ok(self.with(&cx.tenant, |t| identify(t, identity, name)))
    }

    async fn get_customer(&self, cx: &CallContext, customer_id: &str) -> ServiceResult<Customer> {
        self.with(&cx.tenant, |t| {
            t.customers.get(customer_id).cloned().ok_or_else(|| not_found("customer", customer_id))
        })
    }

    async fn set_consent(
        &self,
        cx: &CallContext,
        customer_id: &str,
        purpose: ConsentPurpose,
        granted: bool,
    ) -> ServiceResult<Customer> {
        self.with(&cx.tenant, |t| {
            let c = t.customers.get_mut(customer_id).ok_or_else(|| not_found("customer", customer_id))?;
            c.consents.retain(|k| k.purpose != purpose);
            c.consents.push(Consent { purpose, granted, updated_at: now_ms() });
            Ok(c.clone())
        })
    }

    async fn record_touchpoint(&self, cx: &CallContext, touchpoint: Touchpoint) -> ServiceResult<()> {
        if touchpoint.detail.as_ref().is_some_and(|d| d.len() > 1024) {
            return Err(HostError::Invalid("touchpoint detail exceeds 1 KiB".into()));
        }
        self.with(&cx.tenant, |t| t.touchpoints.push((cx.installation.clone(), touchpoint)));
        Ok(())
    }

    async fn send_mail(&self, cx: &CallContext, message: MailMessage) -> ServiceResult<String> {
        if message.to.is_empty() || message.to.iter().any(|a| !a.contains('@')) {
            return Err(HostError::Invalid("every recipient must be an e-mail address".into()));
        }
        Ok(self.with(&cx.tenant, |t| {
            let id = t.issue("mail");
            t.mail.push((cx.installation.clone(), message));
            id
        }))
    }
}

fn identify(t: &mut TenantData, identity: Identity, name: Option<String>) -> Customer {
    let value = identity.value.trim().to_lowercase();
    if let Some(c) =
        t.customers.values().find(|c| c.identities.iter().any(|i| i.kind == identity.kind && i.value == value))
    {
        return c.clone();
    }
    let customer = Customer {
        id: t.issue("cust"),
        name,
        identities: vec![Identity { kind: identity.kind, value }],
        consents: vec![],
    };
    t.customers.insert(customer.id.clone(), customer.clone());
    customer
}
