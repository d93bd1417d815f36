//! The admin API end to end, through the router (`Router::oneshot`), over the
//! in-memory store and, for tenant isolation, over redb as well.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use omnistore_core::{
    Channel, Core, DiscountValue, Fulfilment, Identity, IngestLine, IngestOrder, LocationKind, Money, NewChannel,
    NewCollection, NewCustomer, NewLocation, NewProduct, NewPromotion, NewVariant, ProductStatus, PromotionConditions,
    PromotionScope, RetryPolicy, TenantId,
};
use omnistore_server::admin::{
    Access, AdminError, AdminState, CatalogueEntry, ChannelInstaller, InstallRequest, PackageSource, RouteDoc,
    admin_router, route_docs,
};
use omnistore_server::secrets::SecretKeys;
use omnistore_storage::{KeyRange, KvStore, MemoryStore, RedbStore};
use serde_json::{Value, json};
use tower::ServiceExt;

const OPERATOR: &str = "operator-secret-for-tests-0123456789";
const START_MS: i64 = 1_760_000_000_000;

#[path = "admin/calls.rs"]
mod calls;
#[path = "admin/campaigns.rs"]
mod campaigns;
#[path = "admin/described.rs"]
mod described;
#[path = "admin/idempotency_lease.rs"]
mod idempotency_lease;
#[path = "admin/idempotency_secrets.rs"]
mod idempotency_secrets;
#[path = "admin/paging.rs"]
mod paging;
#[path = "admin/ui.rs"]
mod ui;
#[path = "admin/ui_agency.rs"]
mod ui_agency;
#[path = "admin/ui_install.rs"]
mod ui_install;

// ---------------------------------------------------------------- harness

/// An install body uploading the fake installer's package `name`.
fn fake_upload(name: &str) -> Value {
    json!({ "upload": { "manifest": name, "component": "" } })
}

/// Installs "packages" by name, without a runtime: enough to drive the route.
struct FakeInstaller {
    core: Core,
    /// The package `slow` waits for this lock, so a test can hold a request
    /// in flight.
    gate: Arc<tokio::sync::Mutex<()>>,
}

#[async_trait]
impl ChannelInstaller for FakeInstaller {
    async fn install(&self, tenant: &TenantId, request: InstallRequest, now_ms: i64) -> Result<Channel, AdminError> {
        // The fake's "manifest" is just the plugin's name.
        let plugin = match request.source()? {
            PackageSource::ServerPath(path) => path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| AdminError::invalid("package path has no name"))?
                .to_owned(),
            PackageSource::Upload { manifest, .. } => manifest,
            PackageSource::Catalogue(id) => {
                let Some(entry) = self.catalogue().into_iter().find(|e| e.manifest.id == id) else {
                    return Err(AdminError::not_found(format!("the fake offers no `{id}`")));
                };
                return install_offered(&self.core, tenant, &entry.manifest, request, now_ms);
            }
        };
        if plugin == "slow" {
            drop(self.gate.lock().await);
        }
        if plugin == "missing" {
            return Err(AdminError::not_found("no package at that path"));
        }
        let new = NewChannel {
            plugin_id: plugin.clone(),
            version: "1.0.0".into(),
            name: request.name.unwrap_or(plugin),
            settings: request.settings,
            capabilities: vec!["catalog".into(), "orders".into()],
            subscriptions: vec!["order.*".into()],
            enabled: request.enabled,
            safety_buffer: request.safety_buffer,
        };
        Ok(self.core.install_channel(tenant, new, now_ms)?)
    }

    fn catalogue(&self) -> Vec<CatalogueEntry> {
        vec![CatalogueEntry { manifest: omnistore_runtime::Manifest::parse(HELLO_MANIFEST).unwrap() }]
    }

    fn recent_calls(&self, _tenant: &TenantId, _channel: &omnistore_core::ChannelId) -> omnistore_runtime::CallReport {
        calls::sample_report()
    }
}

/// The package the fake installers offer in their catalogue, which no seeded
/// shop has: a setting with a default, a required one, a secret, an origin.
const HELLO_MANIFEST: &str = r#"
[plugin]
id = "hello"
name = "Hello channel"
version = "1.0.0"
publisher = "Tests"
description = "Says hello on the shop's pages."
contract = "^0.2"

[capabilities]
imports = ["catalog", "storage", "settings", "http"]
http = ["https://api.hello.example"]
events = ["order.placed"]

[[settings]]
key = "greeting"
label = "Greeting"
default = "Ciao"

[[settings]]
key = "shop_name"
label = "Shop name"
required = true

[[settings]]
key = "api_key"
label = "API key"
secret = true
"#;

/// Install a catalogue package as the real installer records it: what the
/// manifest requests less what is withheld, its events, the settings given.
fn install_offered(
    core: &Core,
    tenant: &TenantId,
    manifest: &omnistore_runtime::Manifest,
    request: InstallRequest,
    now_ms: i64,
) -> Result<Channel, AdminError> {
    for name in &request.withhold {
        if !manifest.imports.iter().any(|c| c.name() == name) {
            return Err(AdminError::invalid(format!("`{name}` is not requested")));
        }
    }
    let new = NewChannel {
        plugin_id: manifest.id.clone(),
        version: manifest.version.to_string(),
        name: request.name.unwrap_or_else(|| manifest.name.clone()),
        settings: request.settings,
        capabilities: manifest
            .imports
            .iter()
            .map(|c| c.name().to_owned())
            .filter(|name| !request.withhold.contains(name))
            .collect(),
        subscriptions: manifest.events.iter().map(|k| k.as_str().to_owned()).collect(),
        enabled: request.enabled,
        safety_buffer: request.safety_buffer,
    };
    Ok(core.install_channel(tenant, new, now_ms)?)
}

struct Api {
    router: Router,
    store: Arc<dyn KvStore>,
    core: Core,
    clock: Arc<AtomicI64>,
    gate: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug)]
struct Resp {
    status: StatusCode,
    body: Value,
    text: String,
    headers: HeaderMap,
}

impl Resp {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    fn over(store: Arc<dyn KvStore>) -> Api {
        // One attempt and the delivery is dead: the tests need dead letters.
        let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
        let core = Core::new(store.clone()).with_retry_policy(policy);
        let clock = Arc::new(AtomicI64::new(START_MS));
        let c = clock.clone();
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let state = AdminState::new(core.clone(), OPERATOR)
            .unwrap()
            .with_clock(move || c.load(Ordering::SeqCst))
            .with_installer(Arc::new(FakeInstaller { core: core.clone(), gate: gate.clone() }))
            .with_secrets(Arc::new(SecretKeys::random().unwrap()));
        Api { router: Router::new().nest("/api/v1", admin_router(state)), store, core, clock, gate }
    }

    fn memory() -> Api {
        Api::over(Arc::new(MemoryStore::new()))
    }

    fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    async fn send(&self, request: Request<Body>) -> Resp {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Resp { status, body, text, headers }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(format!("/api/v1{path}"));
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, Some(token), Some(&body), None).await
    }

    /// Every key and value in the store, in order.
    fn dump(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut txn = self.store.begin().unwrap();
        txn.scan(&KeyRange::all(), usize::MAX).unwrap()
    }
}

fn eur(amount_minor: i64) -> Money {
    Money { amount_minor, currency: "EUR".into() }
}

fn variant(sku: &str, title: &str, price: i64) -> NewVariant {
    NewVariant {
        sku: sku.into(),
        title: title.into(),
        options: BTreeMap::new(),
        gtin: None,
        weight_grams: None,
        price: eur(price),
        compare_at: None,
        backorderable: false,
    }
}

fn ingest(external_id: &str, sku: &str, quantity: i64, email: &str, fulfilment: Fulfilment) -> IngestOrder {
    IngestOrder {
        external_id: external_id.into(),
        lines: vec![IngestLine { sku: sku.into(), quantity, unit_price: None }],
        customer: None,
        customer_name: None,
        email: Some(email.into()),
        fulfilment,
        codes: vec![],
        note: None,
    }
}

fn address() -> omnistore_core::Address {
    omnistore_core::Address {
        name: "Giulia Rossi".into(),
        line1: "Via Roma 1".into(),
        line2: None,
        city: "Palermo".into(),
        postal_code: "90100".into(),
        country: "IT".into(),
        phone: None,
    }
}

/// One tenant with something of every kind, to aim requests at.
#[derive(Debug, Clone)]
struct World {
    tenant: String,
    token: String,
    /// A second token, for the revoke route.
    token_id: String,
    collection: String,
    product: String,
    /// Without stock or orders, so it can be deleted.
    product2: String,
    variant: String,
    warehouse: String,
    shop: String,
    promotion: String,
    channel: String,
    customer: String,
    customer2: String,
    /// Pickup at the shop, placed.
    order_pickup: String,
    /// Shipping, placed.
    order_ship: String,
    /// Shipping, shipped.
    order_shipped: String,
    dead_delivery: String,
    dead_mail: String,
    /// The e-mail and SMS channels campaigns go through.
    mail_channel: String,
    sms_channel: String,
    segment: String,
    /// A draft of both channels to the segment.
    campaign: String,
    /// Appears in this tenant's names, so a leak shows up in any response.
    marker: String,
}

impl World {
    /// Every id of this tenant (none is shared with another tenant: ids carry
    /// a tag derived from the tenant).
    fn ids(&self) -> Vec<&str> {
        vec![
            &self.collection,
            &self.product,
            &self.product2,
            &self.variant,
            &self.warehouse,
            &self.shop,
            &self.promotion,
            &self.channel,
            &self.customer,
            &self.customer2,
            &self.order_pickup,
            &self.order_ship,
            &self.order_shipped,
            &self.dead_delivery,
            &self.token_id,
            &self.mail_channel,
            &self.sms_channel,
            &self.segment,
            &self.campaign,
        ]
    }
}

async fn seed(api: &Api, tenant: &str, marker: &str) -> World {
    let created = api
        .call(
            "POST",
            "/tenants",
            Some(OPERATOR),
            Some(&json!({ "id": tenant, "name": format!("Shop {marker}"), "currency": "EUR" })),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = created.body["token"]["secret"].as_str().unwrap().to_owned();
    let second = api.post(&format!("/tenants/{tenant}/tokens"), &token, json!({ "label": "second" })).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let token_id = second.body["id"].as_str().unwrap().to_owned();

    let core = &api.core;
    let now = api.now();
    let t = TenantId::new(tenant).unwrap();
    let col = core
        .create_collection(
            &t,
            NewCollection { handle: "cannoli".into(), title: format!("Cannoli {marker}"), description: String::new() },
            now,
        )
        .unwrap();
    let product = core
        .create_product(
            &t,
            NewProduct {
                handle: "cannolo".into(),
                title: format!("Cannolo {marker}"),
                description: String::new(),
                brand: None,
                tags: vec![],
                collections: vec![col.id.clone()],
                images: vec![],
                status: ProductStatus::Active,
                variants: vec![variant("CAN-S", "Piccolo", 250), variant("CAN-L", "Grande", 400)],
            },
            now,
        )
        .unwrap();
    let v = product.variants[0].id.clone();
    let product2 = core
        .create_product(
            &t,
            NewProduct {
                handle: "plain".into(),
                title: format!("Plain {marker}"),
                description: String::new(),
                brand: None,
                tags: vec![],
                collections: vec![],
                images: vec![],
                status: ProductStatus::Draft,
                variants: vec![variant("PLN-1", "Plain", 100)],
            },
            now,
        )
        .unwrap();
    let wh = core
        .create_location(
            &t,
            NewLocation {
                name: "Laboratorio".into(),
                kind: LocationKind::Warehouse,
                pickup_enabled: false,
                address: None,
            },
            now,
        )
        .unwrap();
    let shop = core
        .create_location(
            &t,
            NewLocation { name: "Negozio".into(), kind: LocationKind::Shop, pickup_enabled: true, address: None },
            now,
        )
        .unwrap();
    for variant in &product.variants {
        core.receive_stock(&t, &variant.id, &wh.id, 20, None, now).unwrap();
        core.receive_stock(&t, &variant.id, &shop.id, 10, None, now).unwrap();
    }
    let promo = core
        .create_promotion(
            &t,
            NewPromotion {
                name: format!("20% off cannoli {marker}"),
                scope: PromotionScope::Line,
                value: DiscountValue::Percent { bps: 2000 },
                conditions: PromotionConditions { collections: vec![col.id.clone()], ..PromotionConditions::default() },
                code: None,
                usage_limit: None,
            },
            now,
        )
        .unwrap();
    let channel = core
        .install_channel(
            &t,
            NewChannel {
                plugin_id: "instagram".into(),
                version: "1.0.0".into(),
                name: format!("Instagram {marker}"),
                settings: BTreeMap::new(),
                capabilities: vec!["catalog".into(), "orders".into()],
                subscriptions: vec!["order.*".into()],
                enabled: true,
                safety_buffer: 0,
            },
            now,
        )
        .unwrap();
    core.set_channel_secret(&t, &channel.id, "api_key", &format!("secret-{marker}"), now).unwrap();
    core.publish_product(&t, &product.product.id, &channel.id, now).unwrap();
    let email = format!("giulia.{tenant}@example.com");
    let customer = core
        .create_customer(
            &t,
            NewCustomer { name: Some(format!("Giulia {marker}")), identities: vec![Identity::email(&email).unwrap()] },
            now,
        )
        .unwrap();
    let customer2 = core
        .create_customer(&t, NewCustomer { name: Some(format!("Other {marker}")), identities: vec![] }, now)
        .unwrap();
    let pickup = Fulfilment::Pickup { location_id: shop.id.clone() };
    let ship = Fulfilment::Ship { address: address() };
    let order_pickup =
        core.ingest_order(&t, &channel.id, ingest("ig-1", "CAN-S", 2, &email, pickup), now).unwrap().order;
    let order_ship =
        core.ingest_order(&t, &channel.id, ingest("ig-2", "CAN-S", 1, &email, ship.clone()), now).unwrap().order;
    let order_shipped =
        core.ingest_order(&t, &channel.id, ingest("ig-3", "CAN-L", 2, &email, ship), now).unwrap().order;
    core.mark_shipped(&t, &order_shipped.id, Some("TRACK-1"), now).unwrap();
    // One delivery, failed once, is dead under the one-attempt policy.
    core.fan_out(&t, now, 0).unwrap();
    let due = core.claim_due(&t, now, 1, 60_000).unwrap();
    let dead = due[0].delivery.id.clone();
    core.mark_failed(&t, &dead, "boom", None, now).unwrap();
    assert_eq!(core.dead_letters(&t, 0).unwrap().len(), 1);
    // One message the relay refused, kept as a dead letter.
    let dead_mail = dead_mail(core, tenant, &channel.id, marker).await;
    let (mail_channel, sms_channel, segment, campaign) = campaign_world(core, &t, marker, now);

    World {
        tenant: tenant.into(),
        token,
        token_id,
        collection: col.id.to_string(),
        product: product.product.id.to_string(),
        product2: product2.product.id.to_string(),
        variant: v.to_string(),
        warehouse: wh.id.to_string(),
        shop: shop.id.to_string(),
        promotion: promo.id.to_string(),
        channel: channel.id.to_string(),
        customer: customer.id.to_string(),
        customer2: customer2.id.to_string(),
        order_pickup: order_pickup.id.to_string(),
        order_ship: order_ship.id.to_string(),
        order_shipped: order_shipped.id.to_string(),
        dead_delivery: dead.to_string(),
        dead_mail,
        mail_channel,
        sms_channel,
        segment,
        campaign,
        marker: marker.into(),
    }
}

/// The e-mail and SMS channels (taking campaign messages), a segment of
/// every customer with an order and a draft campaign to it.
fn campaign_world(core: &Core, t: &TenantId, marker: &str, now: i64) -> (String, String, String, String) {
    let channel = |plugin: &str, capabilities: &[&str]| {
        core.install_channel(
            t,
            NewChannel {
                plugin_id: plugin.into(),
                version: "1.0.0".into(),
                name: format!("{plugin} {marker}"),
                settings: BTreeMap::new(),
                capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
                subscriptions: vec!["campaign.message".into()],
                enabled: true,
                safety_buffer: 0,
            },
            now,
        )
        .unwrap()
        .id
    };
    let mail = channel("email", &["mail", "customers"]);
    let sms = channel("sms", &["customers"]);
    let rule = omnistore_core::SegmentRule::OrderCount { at_least: Some(1), at_most: None };
    let segment =
        core.create_segment(t, omnistore_core::NewSegment { name: format!("Buyers {marker}"), rule }, now).unwrap();
    let campaign = core
        .create_campaign(
            t,
            omnistore_core::NewCampaign {
                name: format!("Black Friday {marker}"),
                segment_id: segment.id.clone(),
                email: Some(omnistore_core::EmailMessage {
                    channel_id: mail.clone(),
                    subject: "{{ customer.first_name }}, 20% off".into(),
                    text: "See https://shop.example/cannoli".into(),
                    html: None,
                }),
                sms: Some(omnistore_core::SmsMessage { channel_id: sms.clone(), text: "20% off cannoli".into() }),
                shop_url: Some("https://shop.example".into()),
                send_at_ms: None,
            },
            now,
        )
        .unwrap();
    (mail.to_string(), sms.to_string(), segment.id.to_string(), campaign.id.to_string())
}

/// A message the channel queued that the relay refused for good.
async fn dead_mail(core: &Core, tenant: &str, channel: &omnistore_core::ChannelId, marker: &str) -> String {
    use omnistore_runtime::HostServices;
    let services = omnistore_server::commerce::CoreServices::new(core.clone());
    let cx = omnistore_runtime::CallContext {
        tenant: omnistore_runtime::TenantId::new(tenant).unwrap(),
        installation: channel.to_string(),
        plugin: "email".into(),
        preview: false,
    };
    let message = omnistore_runtime::types::MailMessage {
        to: vec!["nobody@example.com".into()],
        subject: format!("Order {marker}"),
        text: "Ready".into(),
        html: None,
        headers: vec![],
    };
    let id = services.send_mail(&cx, message).await.unwrap();
    let t = TenantId::new(tenant).unwrap();
    let dead = omnistore_server::commerce::DeliveryOutcome::Dead { error: "550 5.1.1 no such user".into() };
    assert!(services.record_delivery(&t, &id, dead).await.unwrap());
    id
}

// ---------------------------------------------------- one request per route

/// A concrete request for a route, aimed at `w`'s records, with a body that
/// would succeed if `w`'s tenant sent it. Every route needs a case here: the
/// match is the table of the isolation test, and a new route without a case
/// fails it.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn order_for<'w>(op: &str, w: &'w World) -> &'w str {
    match op {
        "shipOrder" => &w.order_ship,
        "completeOrder" | "createReturn" | "listReturns" => &w.order_shipped,
        _ => &w.order_pickup,
    }
}

fn case(doc: &RouteDoc, tenant: &str, w: &World) -> Case {
    let op = doc.operation_id;
    let mut path = doc
        .path
        .replace("{tenant}", tenant)
        .replace("{product}", if op == "deleteProduct" { &w.product2 } else { &w.product })
        .replace("{variant}", &w.variant)
        .replace("{collection}", &w.collection)
        .replace("{location}", &w.shop)
        .replace("{promotion}", &w.promotion)
        .replace("{order}", order_for(op, w))
        .replace("{customer}", &w.customer)
        .replace("{channel}", &w.channel)
        .replace("{delivery}", &w.dead_delivery)
        .replace("{mail}", &w.dead_mail)
        .replace("{token}", &w.token_id)
        .replace("{segment}", &w.segment)
        .replace("{campaign}", &w.campaign)
        .replace("{name}", "api_key");
    assert!(!path.contains('{'), "no value for a parameter of {}", doc.path);
    let query: Vec<String> = doc
        .query
        .iter()
        .filter(|q| q.required)
        .map(|q| match q.name {
            "variant_id" => format!("variant_id={}", w.variant),
            "location_id" => format!("location_id={}", w.warehouse),
            "confirm" => format!("confirm={tenant}"),
            "customer" => format!("customer={}", w.customer),
            other => panic!("no value for required query parameter {other} of {op}"),
        })
        .collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let price = json!({ "amount_minor": 300, "currency": "EUR" });
    let body = match op {
        "openapi"
        | "listTenants"
        | "getTenant"
        | "listTokens"
        | "revokeToken"
        | "listProducts"
        | "getProduct"
        | "deleteProduct"
        | "listVariants"
        | "listPublications"
        | "publishProduct"
        | "unpublishProduct"
        | "getVariant"
        | "listCollections"
        | "getCollection"
        | "listLocations"
        | "getLocation"
        | "stockLevels"
        | "availability"
        | "stockMovements"
        | "listPromotions"
        | "getPromotion"
        | "listOrders"
        | "getOrder"
        | "readyForPickup"
        | "completeOrder"
        | "listReturns"
        | "listCustomers"
        | "getCustomer"
        | "getConsent"
        | "customerTimeline"
        | "listChannels"
        | "listCatalog"
        | "getChannel"
        | "getChannelSync"
        | "getChannelCalls"
        | "publishAllProducts"
        | "getSatisfaction"
        | "getShop"
        | "uninstallChannel"
        | "enableChannel"
        | "disableChannel"
        | "deleteChannelSecret"
        | "listEvents"
        | "listDeadLetters"
        | "replayDeadLetter"
        | "listQueuedMail"
        | "listDeadMail"
        | "replayDeadMail"
        | "exportCustomer"
        | "eraseCustomer"
        | "listErasures"
        | "exportTenant"
        | "listSegments"
        | "getSegment"
        | "countSegment"
        | "listCampaigns"
        | "getCampaign"
        | "previewCampaign"
        | "sendCampaign"
        | "campaignResults"
        | "storageVersions"
        | "migrateTenant"
        | "deleteTenant" => None,
        "createTenant" => Some(json!({ "id": "iso-new", "name": "New", "currency": "EUR" })),
        "createToken" => Some(json!({ "label": "iso" })),
        "createUser" => Some(json!({ "email": "iso@example.com", "password": "iso-password-1" })),
        "createProduct" => Some(json!({
            "handle": "iso-product", "title": "Iso", "status": "active", "collections": [w.collection],
            "variants": [{ "sku": "ISO-1", "title": "One", "price": price }]
        })),
        "updateProduct" => Some(json!({ "title": "Changed", "collections": [w.collection] })),
        "addVariant" => Some(json!({ "sku": "ISO-2", "title": "Two", "price": price })),
        "updateVariant" => Some(json!({ "title": "Changed", "price": price })),
        "createCollection" => Some(json!({ "handle": "iso-collection", "title": "Iso" })),
        "createLocation" => Some(json!({ "name": "Iso", "kind": "shop", "pickup_enabled": true })),
        "updateLocation" => Some(json!({ "name": "Changed", "pickup_enabled": false })),
        "receiveStock" => Some(json!({ "variant_id": w.variant, "location_id": w.warehouse, "quantity": 5 })),
        "adjustStock" => Some(json!({ "variant_id": w.variant, "location_id": w.warehouse, "delta": -1 })),
        "countStock" => Some(json!({ "variant_id": w.variant, "location_id": w.warehouse, "on_hand": 3 })),
        "transferStock" => Some(json!({
            "variant_id": w.variant, "from_location_id": w.warehouse, "to_location_id": w.shop, "quantity": 1
        })),
        "createPromotion" => Some(json!({
            "name": "Iso", "scope": "line", "value": { "type": "percent", "bps": 1000 },
            "conditions": { "products": [w.product] }
        })),
        "updatePromotion" => Some(json!({ "active": false })),
        "updateShop" => Some(json!({ "time_zone": "Europe/Rome", "contact_phone": null })),
        "shipOrder" => Some(json!({ "tracking": "ISO" })),
        "cancelOrder" => Some(json!({ "reason": "iso" })),
        "refundOrder" => Some(json!({ "amount_minor": 1 })),
        "createReturn" => Some(json!({
            "location_id": w.shop, "lines": [{ "line_no": 1, "quantity": 1, "disposition": "restock" }]
        })),
        "createCustomer" => {
            Some(json!({ "name": "Iso", "identities": [{ "kind": { "type": "email" }, "value": "iso@example.com" }] }))
        }
        "addIdentity" => Some(json!({ "kind": { "type": "phone" }, "value": "+39 333 1234567" })),
        "setConsent" => Some(json!({ "purpose": "email_marketing", "granted": true })),
        "mergeCustomers" => Some(json!({ "absorbed_id": w.customer2 })),
        "installChannel" => Some(fake_upload("pinterest")),
        "updateChannel" => Some(json!({ "name": "Changed", "safety_buffer": 1 })),
        "putChannelSettings" => Some(json!({ "handle": "changed" })),
        "putChannelGrants" => Some(json!({ "capabilities": ["catalog"] })),
        "putChannelSecret" => Some(json!({ "value": "changed" })),
        "setCustomerTags" => Some(json!({ "tags": ["vip"] })),
        "createSegment" => Some(json!({
            "name": "Iso", "rule": { "type": "any", "rules": [
                { "type": "tagged", "tag": "vip" },
                { "type": "picked_up_at", "location_id": w.shop },
            ] }
        })),
        "previewSegment" => Some(json!({ "rule": { "type": "bought_product", "product_id": w.product } })),
        "createCampaign" => Some(json!({
            "name": "Iso", "segment_id": w.segment,
            "email": { "channel_id": w.mail_channel, "subject": "Hi {{ customer.name }}", "text": "Hello" },
            "sms": { "channel_id": w.sms_channel, "text": "Hello" }
        })),
        other => panic!("the isolation table has no case for route `{other}`; add one"),
    };
    Case { method: doc.method.clone(), path, body }
}

/// Every route the table drives with a JSON body: an image upload takes raw
/// bytes and needs the host's media store, so it (and taking an uploaded
/// image off) is driven end to end in `admin/media.rs` instead.
/// The routes the JSON tables drive: raw-body routes (images, theme files)
/// and the theme-file actions are tested in `admin/media.rs` and `admin/files.rs`.
fn table_routes() -> Vec<RouteDoc> {
    const TESTED_ELSEWHERE: &[&str] = &[
        "deleteProductImage",
        "pruneImages",
        "listFiles",
        "getFile",
        "deleteFile",
        "publishFiles",
        "discardFiles",
        "previewFiles",
    ];
    route_docs().into_iter().filter(|d| d.raw_body.is_empty() && !TESTED_ELSEWHERE.contains(&d.operation_id)).collect()
}

async fn run(api: &Api, c: &Case, token: &str) -> Resp {
    api.call(c.method.as_str(), &c.path, Some(token), c.body.as_ref(), None).await
}

// ------------------------------------------------------------------ tests

/// Tenant A's token against everything of tenant B, on every route:
/// refused, nothing of B read or changed.
async fn isolation_over(api: Api) {
    let a = seed(&api, "alpha", "ALPHA-ONLY").await;
    let b = seed(&api, "bravo", "BRAVO-ONLY").await;
    let routes: Vec<RouteDoc> = table_routes().into_iter().filter(|d| d.access != Access::Public).collect();
    assert!(routes.len() > 60, "the table should span the whole API, got {}", routes.len());

    // 1. A's token on B's paths: 403 before anything is read; the store is
    //    byte for byte what it was.
    let before = api.dump();
    for doc in &routes {
        let c = case(doc, &b.tenant, &b);
        let r = run(&api, &c, &a.token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{} {} answered {}: {}", c.method, c.path, r.status, r.text);
        assert_eq!(r.code(), "forbidden");
        assert!(!r.text.contains(&b.marker), "{} leaked B's data", c.path);
    }
    assert!(api.dump() == before, "a refused request changed the store");

    // 2. A's token on A's own paths, naming B's records (in the path, query or
    //    body): B's ids do not exist in A, so 404; routes naming no record act
    //    on A alone. Either way nothing of B shows up or changes.
    let a_registry =
        String::from_utf8_lossy(&omnistore_storage::keyspace::registry_key(&TenantId::new(a.tenant.as_str()).unwrap()))
            .into_owned();
    let of_b = |entries: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<(Vec<u8>, Vec<u8>)> {
        entries
            .into_iter()
            .filter(|(k, v)| {
                let k = String::from_utf8_lossy(k);
                k.starts_with("t/bravo/")
                    // The registry and other deployment-wide records, but A's own
                    // registry record, which A changes when it renames its shop.
                    || (k.starts_with("sys/") && k != a_registry)
                    || k.starts_with("admin/tenant-token/bravo/")
                    || k.starts_with("admin/idem/bravo/")
                    || k.starts_with("admin/user/bravo/")
                    || (k.starts_with("admin/token/") && String::from_utf8_lossy(v).contains("\"bravo\""))
            })
            .collect()
    };
    let before = of_b(api.dump());
    let b_ids = b.ids();
    for doc in &routes {
        let c = case(doc, &a.tenant, &b);
        let r = run(&api, &c, &a.token).await;
        let names_b =
            b_ids.iter().any(|id| c.path.contains(id) || c.body.as_ref().is_some_and(|v| v.to_string().contains(id)));
        if doc.access == Access::Operator {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{} {}: {}", c.method, c.path, r.text);
        } else if names_b {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{} {} answered {}: {}", c.method, c.path, r.status, r.text);
            assert_eq!(r.code(), "not_found");
        } else {
            assert!(r.status.is_success(), "{} {} answered {}: {}", c.method, c.path, r.status, r.text);
        }
        assert!(!r.text.contains(&b.marker), "{} {} leaked B's data: {}", c.method, c.path, r.text);
        for id in &b_ids {
            assert!(
                !r.text.contains(id)
                    || c.path.contains(id)
                    || c.body.as_ref().is_some_and(|v| v.to_string().contains(id)),
                "{} {} answered with B's id {id}",
                c.method,
                c.path
            );
        }
    }
    assert!(of_b(api.dump()) == before, "B's data changed");

    // B still works with its own token, and sees its own data.
    let r = api.get("/tenants/bravo/products", &b.token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains(&b.marker) && !r.text.contains(&a.marker));
}

#[tokio::test]
async fn tenant_isolation_over_every_route_memory() {
    isolation_over(Api::memory()).await;
}

#[tokio::test]
async fn tenant_isolation_over_every_route_redb() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("admin.redb")).unwrap();
    isolation_over(Api::over(Arc::new(store))).await;
}

/// The control for the isolation table: the same requests with B's own
/// token succeed, so the refusals above are the guards at work and not
/// requests that would have failed anyway.
#[tokio::test]
async fn every_route_case_succeeds_for_its_own_tenant() {
    for doc in table_routes() {
        // A fresh world per route: some cases consume what others need.
        let api = Api::memory();
        let b = seed(&api, "bravo", "BRAVO-ONLY").await;
        let c = case(&doc, &b.tenant, &b);
        let token = if doc.access == Access::Operator { OPERATOR } else { b.token.as_str() };
        let r = run(&api, &c, token).await;
        assert!(
            r.status.is_success(),
            "{} {} ({}) answered {}: {}",
            c.method,
            c.path,
            doc.operation_id,
            r.status,
            r.text
        );
        assert_eq!(
            r.status.as_u16(),
            doc.status,
            "{} answered another success status than documented",
            doc.operation_id
        );
    }
}

#[tokio::test]
async fn idempotency_replays_and_refuses_reuse() {
    let api = Api::memory();
    let a = seed(&api, "alpha", "A").await;
    let b = seed(&api, "bravo", "B").await;
    let body = json!({ "handle": "baba", "title": "Babà", "status": "active", "variants": [] });
    let products = |api: &Api| {
        api.core
            .list_products(&TenantId::new("alpha").unwrap(), &omnistore_core::ProductQuery::default())
            .unwrap()
            .len()
    };
    let count = products(&api);

    let first = api.call("POST", "/tenants/alpha/products", Some(&a.token), Some(&body), Some("key-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = api.call("POST", "/tenants/alpha/products", Some(&a.token), Some(&body), Some("key-1")).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.text, first.text, "a replay returns the stored body");
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(products(&api), count + 1, "the replay created nothing");

    // Same key, another body or another path: 422, nothing runs.
    let mut other = body.clone();
    other["title"] = json!("Babà al rum");
    let r = api.call("POST", "/tenants/alpha/products", Some(&a.token), Some(&other), Some("key-1")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    let r = api
        .call(
            "POST",
            "/tenants/alpha/collections",
            Some(&a.token),
            Some(&json!({"handle": "x", "title": "X"})),
            Some("key-1"),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert_eq!(products(&api), count + 1);

    // Keys are per tenant: B's key-1 is its own.
    let r = api.call("POST", "/tenants/bravo/products", Some(&b.token), Some(&other), Some("key-1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // A stock change applied once however often it is retried.
    let receive = json!({ "variant_id": a.variant, "location_id": a.warehouse, "quantity": 7 });
    let before = api
        .get(&format!("/tenants/alpha/inventory/levels?variant_id={}&location_id={}", a.variant, a.warehouse), &a.token)
        .await;
    let on_hand = before.body["items"][0]["on_hand"].as_i64().unwrap();
    for _ in 0..3 {
        let r = api
            .call("POST", "/tenants/alpha/inventory/receive", Some(&a.token), Some(&receive), Some("receive-7"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["on_hand"].as_i64().unwrap(), on_hand + 7);
    }

    // A refused request changes nothing and leaves its key free for the fix.
    let bad = json!({ "variant_id": "var-nope", "location_id": a.warehouse, "quantity": 1 });
    let r = api.call("POST", "/tenants/alpha/inventory/receive", Some(&a.token), Some(&bad), Some("fixable")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.call("POST", "/tenants/alpha/inventory/receive", Some(&a.token), Some(&receive), Some("fixable")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["on_hand"].as_i64().unwrap(), on_hand + 14);

    // Records expire after a day; then the key is free again.
    api.clock.fetch_add(25 * 3_600_000, Ordering::SeqCst);
    let r = api
        .call(
            "POST",
            "/tenants/alpha/products",
            Some(&a.token),
            Some(&json!({
                "handle": "baba-2", "title": "Babà 2", "status": "draft", "variants": []
            })),
            Some("key-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Malformed keys are refused.
    let long = "k".repeat(256);
    for key in [long.as_str(), "has space"] {
        let r = api
            .call(
                "POST",
                "/tenants/alpha/collections",
                Some(&a.token),
                Some(&json!({"handle": "y", "title": "Y"})),
                Some(key),
            )
            .await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_idempotency_key"));
    }
}

/// While a request runs, its key is taken: a retry gets 409 rather than a
/// second execution; once it has finished, the retry gets its response.
#[tokio::test]
async fn idempotency_key_in_flight_is_not_run_twice() {
    let api = Arc::new(Api::memory());
    let a = seed(&api, "alpha", "A").await;
    let body = fake_upload("slow");
    let held = api.gate.lock().await;
    let first = {
        let (api, body, token) = (api.clone(), body.clone(), a.token.clone());
        tokio::spawn(async move {
            api.call("POST", "/tenants/alpha/channels", Some(&token), Some(&body), Some("slow-1")).await
        })
    };
    // Wait until the first request holds its key.
    while !api.dump().iter().any(|(k, _)| k.starts_with(b"admin/idem/alpha/")) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let second = api.call("POST", "/tenants/alpha/channels", Some(&a.token), Some(&body), Some("slow-1")).await;
    assert_eq!((second.status, second.code()), (StatusCode::CONFLICT, "idempotency_in_progress"));
    drop(held);
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let third = api.call("POST", "/tenants/alpha/channels", Some(&a.token), Some(&body), Some("slow-1")).await;
    assert_eq!((third.status, &third.text), (StatusCode::CREATED, &first.text));
    let channels = api.get("/tenants/alpha/channels", &a.token).await;
    assert_eq!(channels.body["items"].as_array().unwrap().len(), 4, "three seeded, one installed once");
}

#[tokio::test]
async fn issued_tokens_are_stored_hashed_and_replays_do_not_keep_them() {
    let api = Api::memory();
    let body = json!({ "id": "dolce-vita", "name": "Pasticceria Dolce Vita", "currency": "EUR" });
    let first = api.call("POST", "/tenants", Some(OPERATOR), Some(&body), Some("create-dolce")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let secret = first.body["token"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("osk_") && secret.len() == 68);

    // The replay is the same response without the secret.
    let again = api.call("POST", "/tenants", Some(OPERATOR), Some(&body), Some("create-dolce")).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["tenant"], first.body["tenant"]);
    assert_eq!(again.body["token"]["id"], first.body["token"]["id"]);
    assert_eq!(again.body["token"]["secret"], Value::Null);

    let extra = api.post("/tenants/dolce-vita/tokens", &secret, json!({ "label": "pos" })).await;
    let extra_secret = extra.body["secret"].as_str().unwrap().to_owned();

    // Neither secret (nor the operator's) is anywhere in the store.
    for (k, v) in api.dump() {
        let kv = [k, v].concat();
        let text = String::from_utf8_lossy(&kv);
        for s in [secret.as_str(), extra_secret.as_str(), OPERATOR] {
            assert!(!text.contains(s), "a token is stored in plain text");
        }
    }

    // Listing shows ids and labels, never secrets; revoked tokens stop working.
    let listed = api.get("/tenants/dolce-vita/tokens", &secret).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    assert!(!listed.text.contains("osk_"));
    let id = extra.body["id"].as_str().unwrap();
    assert_eq!(api.get("/tenants/dolce-vita/products", &extra_secret).await.status, StatusCode::OK);
    let r = api.call("DELETE", &format!("/tenants/dolce-vita/tokens/{id}"), Some(&secret), None, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api.get("/tenants/dolce-vita/products", &extra_secret).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
}

/// (method, path, authorization, body, expected status, expected code)
type BadRow<'a> = (&'a str, String, Option<String>, String, u16, &'a str);

/// Bad input: a clear 4xx with a stable code, and the store untouched.
#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let api = Api::memory();
    let a = seed(&api, "alpha", "A").await;
    let t = a.token.as_str();
    let huge = format!("{{\"handle\": \"big\", \"title\": \"{}\"}}", "x".repeat(2 << 20));
    let receive = |q: i64| json!({ "variant_id": a.variant, "location_id": a.warehouse, "quantity": q }).to_string();
    let transfer = |q: i64| {
        json!({ "variant_id": a.variant, "from_location_id": a.warehouse, "to_location_id": a.shop, "quantity": q })
            .to_string()
    };
    let ret = |q: i64| {
        json!({ "location_id": a.shop, "lines": [{ "line_no": 1, "quantity": q, "disposition": "restock" }] })
            .to_string()
    };
    let shipped = format!("/tenants/alpha/orders/{}/returns", a.order_shipped);
    let bearer = format!("Bearer {t}");
    let operator = format!("Bearer {OPERATOR}");
    let rows: Vec<BadRow<'_>> = vec![
        ("POST", "/tenants/alpha/products".into(), Some(bearer.clone()), "{\"handle\": ".into(), 400, "malformed_json"),
        ("POST", "/tenants/alpha/products".into(), Some(bearer.clone()), "not json".into(), 400, "malformed_json"),
        ("POST", "/tenants/alpha/products".into(), Some(bearer.clone()), String::new(), 400, "malformed_json"),
        ("POST", "/tenants/alpha/products".into(), Some(bearer.clone()), "{\"handle\": 5}".into(), 400, "invalid_body"),
        (
            "PATCH",
            format!("/tenants/alpha/products/{}", a.product),
            Some(bearer.clone()),
            "{\"titel\": \"typo\"}".into(),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/tenants/alpha/inventory/receive".into(),
            Some(bearer.clone()),
            receive(-3),
            422,
            "validation_failed",
        ),
        ("POST", "/tenants/alpha/inventory/receive".into(), Some(bearer.clone()), receive(0), 422, "validation_failed"),
        (
            "POST",
            "/tenants/alpha/inventory/transfer".into(),
            Some(bearer.clone()),
            transfer(-1),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/tenants/alpha/inventory/transfer".into(),
            Some(bearer.clone()),
            transfer(1000),
            409,
            "insufficient_stock",
        ),
        (
            "POST",
            "/tenants/alpha/inventory/adjust".into(),
            Some(bearer.clone()),
            json!({ "variant_id": a.variant, "location_id": a.warehouse, "delta": -1000 }).to_string(),
            409,
            "insufficient_stock",
        ),
        ("POST", shipped.clone(), Some(bearer.clone()), ret(-1), 422, "validation_failed"),
        (
            "POST",
            "/tenants/alpha/promotions".into(),
            Some(bearer.clone()),
            json!({ "name": "neg", "scope": "line", "value": { "type": "amount_off", "amount_minor": -5 } })
                .to_string(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/tenants/alpha/inventory/receive".into(),
            Some(bearer.clone()),
            json!({ "variant_id": "var-0000-0000000042", "location_id": a.warehouse, "quantity": 1 }).to_string(),
            404,
            "not_found",
        ),
        ("GET", "/tenants/alpha/products/prd-nope".into(), Some(bearer.clone()), String::new(), 404, "not_found"),
        ("POST", "/tenants/alpha/orders/ord-nope/cancel".into(), Some(bearer.clone()), String::new(), 404, "not_found"),
        (
            "PUT",
            format!("/tenants/alpha/products/{}/publications/chn-nope", a.product),
            Some(bearer.clone()),
            String::new(),
            404,
            "not_found",
        ),
        ("GET", "/tenants/nobody/products".into(), Some(operator.clone()), String::new(), 404, "not_found"),
        ("GET", "/tenants/Not_A_Tenant!/products".into(), Some(operator.clone()), String::new(), 404, "not_found"),
        (
            "POST",
            format!("/tenants/alpha/orders/{}/cancel", a.order_shipped),
            Some(bearer.clone()),
            String::new(),
            409,
            "conflict",
        ),
        ("POST", "/tenants/alpha/products".into(), Some(bearer.clone()), huge.clone(), 413, "body_too_large"),
        ("GET", "/tenants/alpha/orders?limit=-1".into(), Some(bearer.clone()), String::new(), 400, "invalid_query"),
        (
            "GET",
            "/tenants/alpha/orders?limit=5000".into(),
            Some(bearer.clone()),
            String::new(),
            422,
            "validation_failed",
        ),
        ("GET", "/tenants/alpha/orders?chanel=x".into(), Some(bearer.clone()), String::new(), 400, "invalid_query"),
        ("GET", "/tenants/alpha/inventory/levels".into(), Some(bearer.clone()), String::new(), 400, "invalid_query"),
        ("POST", "/tenants/alpha/products".into(), None, "{}".into(), 401, "unauthorized"),
        ("POST", "/tenants/alpha/products".into(), Some("Bearer osk_0000".into()), "{}".into(), 401, "unauthorized"),
        ("POST", "/tenants/alpha/products".into(), Some(format!("Basic {t}")), "{}".into(), 401, "unauthorized"),
        (
            "POST",
            "/tenants/alpha/products".into(),
            Some(format!("Bearer {OPERATOR}x")),
            "{}".into(),
            401,
            "unauthorized",
        ),
        ("POST", "/tenants/alpha/products".into(), Some("Bearer ".into()), "{}".into(), 401, "unauthorized"),
        // The body is bounded before the token is looked at: too large is 413 even without one.
        ("POST", "/tenants/alpha/products".into(), None, huge, 413, "body_too_large"),
        (
            "POST",
            "/tenants".into(),
            Some(bearer.clone()),
            json!({ "id": "x", "name": "X", "currency": "EUR" }).to_string(),
            403,
            "forbidden",
        ),
        ("GET", "/tenants".into(), Some(bearer.clone()), String::new(), 403, "forbidden"),
        (
            "POST",
            "/tenants".into(),
            Some(operator.clone()),
            json!({ "id": "Bad Id", "name": "X", "currency": "EUR" }).to_string(),
            422,
            "validation_failed",
        ),
        // One tenant id rule everywhere: an id the runtime could not host
        // plugins for is refused up front, not at the first install.
        (
            "POST",
            "/tenants".into(),
            Some(operator.clone()),
            json!({ "id": "my_shop", "name": "X", "currency": "EUR" }).to_string(),
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/tenants".into(),
            Some(operator.clone()),
            json!({ "id": "alpha", "name": "X", "currency": "EUR" }).to_string(),
            409,
            "conflict",
        ),
        (
            "POST",
            "/tenants".into(),
            Some(operator.clone()),
            json!({ "id": "gamma", "name": "X", "currency": "EURO" }).to_string(),
            422,
            "validation_failed",
        ),
        ("GET", "/tenants/alpha/nothing-here".into(), Some(bearer.clone()), String::new(), 404, "route_not_found"),
        ("DELETE", "/tenants/alpha/orders".into(), Some(bearer.clone()), String::new(), 405, "method_not_allowed"),
        (
            "POST",
            "/tenants/alpha/channels".into(),
            Some(bearer.clone()),
            fake_upload("missing").to_string(),
            404,
            "not_found",
        ),
    ];
    for (method, path, auth, body, status, code) in rows {
        let before = api.dump();
        let mut req = Request::builder().method(method).uri(format!("/api/v1{path}"));
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        // An idempotency key on every mutation: a refusal must not keep it either.
        if method != "GET" {
            req = req.header(
                "idempotency-key",
                format!("bad-{method}-{path}-{}", body.len()).replace(' ', "_").chars().take(200).collect::<String>(),
            );
        }
        let r = api.send(req.body(Body::from(body)).unwrap()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{method} {path}: {}", r.text);
        assert!(!r.body["error"]["message"].as_str().unwrap_or("").is_empty(), "{method} {path}: no message");
        assert!(api.dump() == before, "{method} {path} changed the store");
    }
}

#[tokio::test]
async fn openapi_describes_every_route_and_parses_as_openapi_3() {
    let api = Api::memory();
    let r = api.call("GET", "/openapi.json", None, None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    let spec = r.body;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."), "not OpenAPI 3.x");
    assert!(spec["info"]["title"].is_string() && spec["info"]["version"].is_string());
    let paths = spec["paths"].as_object().unwrap();

    let docs = route_docs();
    let mut served = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for d in &docs {
        let op = &paths.get(d.path).unwrap_or_else(|| panic!("{} is not described", d.path))
            [d.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} is not described", d.method, d.path);
        assert_eq!(op["operationId"], d.operation_id);
        assert!(op["responses"][d.status.to_string()].is_object(), "{} lacks its success response", d.operation_id);
        assert!(ids.insert(d.operation_id), "operationId {} is used twice", d.operation_id);
        // Each path parameter is declared.
        for seg in d.path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            let declared = op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == name && p["in"] == "path");
            assert!(declared, "{} does not declare path parameter {name}", d.operation_id);
        }
        served.insert((d.method.as_str().to_lowercase(), d.path.to_owned()));

        // The router serves what is described: without a token the guard
        // answers (401), not the router's 404/405.
        let path = d.path.replace('{', "x").replace('}', "");
        let r = api.call(d.method.as_str(), &path, None, None, None).await;
        let expected = if d.access == Access::Public { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
        assert_eq!(r.status, expected, "{} {} is not served", d.method, d.path);
    }
    // And nothing is described that is not served.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(served.contains(&(method.clone(), path.clone())), "{method} {path} is described but not served");
        }
    }
    // Every reference resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&spec, &mut all);
    assert!(all.len() > 100);
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(spec.pointer(pointer).is_some(), "unresolved reference {r}");
    }
}

/// The small business's day, through the API: a tenant, its catalog, stock
/// at two locations, a promotion, channels; orders that arrive through the
/// channels (via the core, as a plugin would place them) land in one list,
/// filtered by channel; pickup, return in the shop, cancel.
#[tokio::test]
async fn happy_path_from_tenant_to_return() {
    let api = Api::memory();
    let created = api
        .post("/tenants", OPERATOR, json!({ "id": "dolce-vita", "name": "Pasticceria Dolce Vita", "currency": "EUR" }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = created.body["token"]["secret"].as_str().unwrap().to_owned();
    let t = token.as_str();
    let listed = api.get("/tenants", OPERATOR).await;
    assert_eq!(listed.body["items"][0]["id"], "dolce-vita");
    assert_eq!(api.get("/tenants/dolce-vita", OPERATOR).await.body["currency"], "EUR");

    let cannoli =
        api.post("/tenants/dolce-vita/collections", t, json!({ "handle": "cannoli", "title": "Cannoli" })).await;
    assert_eq!(cannoli.status, StatusCode::CREATED);
    let col = cannoli.body["id"].as_str().unwrap().to_owned();
    let product = api
        .post("/tenants/dolce-vita/products", t, json!({
            "handle": "cannolo-siciliano", "title": "Cannolo siciliano", "status": "active", "collections": [col],
            "variants": [
                { "sku": "CAN-S", "title": "Piccolo", "options": { "Formato": "Piccolo" }, "price": { "amount_minor": 250, "currency": "EUR" } },
                { "sku": "CAN-L", "title": "Grande", "options": { "Formato": "Grande" }, "price": { "amount_minor": 400, "currency": "EUR" } }
            ]
        }))
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let prd = product.body["product"]["id"].as_str().unwrap().to_owned();
    let small = product.body["variants"][0]["id"].as_str().unwrap().to_owned();
    let sfoglia = api
        .post(
            "/tenants/dolce-vita/products",
            t,
            json!({ "handle": "sfogliatella", "title": "Sfogliatella", "status": "draft", "variants": [] }),
        )
        .await;
    let sfoglia_id = sfoglia.body["product"]["id"].as_str().unwrap().to_owned();
    let v = api
        .post(
            &format!("/tenants/dolce-vita/products/{sfoglia_id}/variants"),
            t,
            json!({ "sku": "SFO-1", "title": "Riccia", "price": { "amount_minor": 220, "currency": "EUR" } }),
        )
        .await;
    assert_eq!(v.status, StatusCode::CREATED, "{}", v.text);
    let r = api
        .call(
            "PATCH",
            &format!("/tenants/dolce-vita/products/{sfoglia_id}"),
            Some(t),
            Some(&json!({ "status": "active", "brand": "Dolce Vita" })),
            None,
        )
        .await;
    assert_eq!(r.body["brand"], "Dolce Vita");
    let r = api
        .call(
            "PATCH",
            &format!("/tenants/dolce-vita/products/{sfoglia_id}"),
            Some(t),
            Some(&json!({ "brand": null })),
            None,
        )
        .await;
    assert_eq!(r.body["brand"], Value::Null, "null clears a field");
    assert_eq!(
        api.get("/tenants/dolce-vita/products?status=active", t).await.body["items"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        api.get(&format!("/tenants/dolce-vita/products?collection_id={col}"), t).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let lab = api
        .post(
            "/tenants/dolce-vita/locations",
            t,
            json!({ "name": "Laboratorio", "kind": "warehouse", "pickup_enabled": false }),
        )
        .await;
    let lab = lab.body["id"].as_str().unwrap().to_owned();
    let shop = api
        .post(
            "/tenants/dolce-vita/locations",
            t,
            json!({ "name": "Negozio", "kind": "shop", "pickup_enabled": true, "address": "Via Roma 1" }),
        )
        .await;
    let shop = shop.body["id"].as_str().unwrap().to_owned();
    let r = api
        .post(
            "/tenants/dolce-vita/inventory/receive",
            t,
            json!({ "variant_id": small, "location_id": lab, "quantity": 10 }),
        )
        .await;
    assert_eq!(r.body["on_hand"], 10);
    api.post(
        "/tenants/dolce-vita/inventory/receive",
        t,
        json!({ "variant_id": small, "location_id": shop, "quantity": 5 }),
    )
    .await;
    let moved = api
        .post("/tenants/dolce-vita/inventory/transfer", t, json!({ "variant_id": small, "from_location_id": lab, "to_location_id": shop, "quantity": 2, "note": "morning batch" }))
        .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.text);
    assert_eq!((moved.body["from"]["on_hand"].as_i64(), moved.body["to"]["on_hand"].as_i64()), (Some(8), Some(7)));
    let adj = api
        .post(
            "/tenants/dolce-vita/inventory/adjust",
            t,
            json!({ "variant_id": small, "location_id": lab, "delta": -1, "note": "dropped" }),
        )
        .await;
    assert_eq!(adj.body["on_hand"], 7);
    let levels = api.get(&format!("/tenants/dolce-vita/inventory/levels?variant_id={small}"), t).await;
    assert_eq!(levels.body["items"].as_array().unwrap().len(), 2);
    let moves =
        api.get(&format!("/tenants/dolce-vita/inventory/movements?variant_id={small}&location_id={lab}"), t).await;
    assert_eq!(moves.body["items"].as_array().unwrap().len(), 3);

    let promo = api
        .post(
            "/tenants/dolce-vita/promotions",
            t,
            json!({
                "name": "20% off cannoli", "scope": "line", "value": { "type": "percent", "bps": 2000 },
                "conditions": { "collections": [col] }
            }),
        )
        .await;
    assert_eq!(promo.status, StatusCode::CREATED, "{}", promo.text);
    let code = api
        .post("/tenants/dolce-vita/promotions", t, json!({
            "name": "DOLCE10", "scope": "order", "value": { "type": "percent", "bps": 1000 }, "code": "dolce10", "usage_limit": 100
        }))
        .await;
    assert_eq!(code.body["code"], "DOLCE10");

    let ig = api
        .post(
            "/tenants/dolce-vita/channels",
            t,
            json!({ "upload": { "manifest": "instagram", "component": "" }, "name": "Instagram" }),
        )
        .await;
    assert_eq!(ig.status, StatusCode::CREATED, "{}", ig.text);
    let ig = ig.body["id"].as_str().unwrap().to_owned();
    let web = api.post("/tenants/dolce-vita/channels", t, fake_upload("web-storefront")).await;
    let web = web.body["id"].as_str().unwrap().to_owned();
    for ch in [&ig, &web] {
        let r = api
            .call("PUT", &format!("/tenants/dolce-vita/products/{prd}/publications/{ch}"), Some(t), None, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    assert_eq!(
        api.get(&format!("/tenants/dolce-vita/products/{prd}/publications"), t).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = api
        .call(
            "PUT",
            &format!("/tenants/dolce-vita/channels/{ig}/settings"),
            Some(t),
            Some(&json!({ "shop_handle": "dolcevita" })),
            None,
        )
        .await;
    assert_eq!(r.body["settings"]["shop_handle"], "dolcevita");
    let r = api
        .call(
            "PUT",
            &format!("/tenants/dolce-vita/channels/{ig}/secrets/access_token"),
            Some(t),
            Some(&json!({ "value": "ig-secret" })),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api.get(&format!("/tenants/dolce-vita/channels/{ig}"), t).await;
    assert_eq!(r.body["secret_keys"], json!(["access_token"]));
    assert!(!r.text.contains("ig-secret"), "secret values are never returned");

    // Orders arrive through the channels, as their plugins would place them.
    let tenant = TenantId::new("dolce-vita").unwrap();
    let now = api.now();
    let ig_id = omnistore_core::ChannelId::new(ig.clone());
    let web_id = omnistore_core::ChannelId::new(web.clone());
    let pickup = api
        .core
        .ingest_order(
            &tenant,
            &ig_id,
            ingest(
                "IG-1001",
                "CAN-S",
                2,
                "giulia@example.com",
                Fulfilment::Pickup { location_id: shop.clone().into() },
            ),
            now,
        )
        .unwrap()
        .order;
    assert_eq!(pickup.total.amount_minor, 400, "2 × 2.50 with 20% off");
    let shipped = api
        .core
        .ingest_order(
            &tenant,
            &web_id,
            ingest("WEB-1", "CAN-S", 1, "marco@example.com", Fulfilment::Ship { address: address() }),
            now,
        )
        .unwrap()
        .order;

    let all = api.get("/tenants/dolce-vita/orders", t).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let by_ig = api.get(&format!("/tenants/dolce-vita/orders?channel_id={ig}"), t).await;
    let items = by_ig.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], pickup.id.as_str());
    let placed = api.get("/tenants/dolce-vita/orders?status=placed", t).await;
    assert_eq!(placed.body["items"].as_array().unwrap().len(), 2);
    let avail = api.get(&format!("/tenants/dolce-vita/inventory/availability?variant_id={small}"), t).await;
    assert_eq!(avail.body["available"], 14 - 3);

    // Pickup: ready, collected, then one cannolo comes back in the shop.
    let path = format!("/tenants/dolce-vita/orders/{}", pickup.id);
    assert_eq!(api.post(&format!("{path}/ready-for-pickup"), t, json!({})).await.body["status"], "ready_for_pickup");
    assert_eq!(api.post(&format!("{path}/complete"), t, json!({})).await.body["status"], "completed");
    let shop_before =
        api.get(&format!("/tenants/dolce-vita/inventory/levels?variant_id={small}&location_id={shop}"), t).await;
    let ret = api
        .post(&format!("{path}/returns"), t, json!({ "location_id": shop, "lines": [{ "line_no": 1, "quantity": 1, "disposition": "restock" }], "reason": "too sweet" }))
        .await;
    assert_eq!(ret.status, StatusCode::CREATED, "{}", ret.text);
    assert_eq!(ret.body["refund_total"]["amount_minor"], 200);
    let shop_after =
        api.get(&format!("/tenants/dolce-vita/inventory/levels?variant_id={small}&location_id={shop}"), t).await;
    assert_eq!(
        shop_after.body["items"][0]["on_hand"].as_i64().unwrap(),
        shop_before.body["items"][0]["on_hand"].as_i64().unwrap() + 1
    );
    assert_eq!(api.get(&format!("{path}/returns"), t).await.body["items"].as_array().unwrap().len(), 1);

    // The web order is cancelled: its reservation goes back.
    let before = api.get(&format!("/tenants/dolce-vita/inventory/availability?variant_id={small}"), t).await;
    let cancelled = api
        .post(&format!("/tenants/dolce-vita/orders/{}/cancel", shipped.id), t, json!({ "reason": "customer asked" }))
        .await;
    assert_eq!(cancelled.body["status"], "cancelled");
    let after = api.get(&format!("/tenants/dolce-vita/inventory/availability?variant_id={small}"), t).await;
    assert_eq!(after.body["available"].as_i64().unwrap(), before.body["available"].as_i64().unwrap() + 1);
    let refunded = api.post(&format!("/tenants/dolce-vita/orders/{}/refund", shipped.id), t, json!({})).await;
    assert_eq!(refunded.body["status"], "refunded", "{}", refunded.text);
    assert_eq!(
        api.get("/tenants/dolce-vita/orders?status=refunded", t).await.body["items"].as_array().unwrap().len(),
        1
    );

    // The customer who ordered on Instagram, with consent and a timeline.
    let customers = api.get("/tenants/dolce-vita/customers", t).await;
    let giulia = customers.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c.to_string().contains("giulia@example.com"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = format!("/tenants/dolce-vita/customers/{giulia}");
    let r = api
        .post(
            &format!("{c}/identities"),
            t,
            json!({ "kind": { "type": "social", "network": "instagram" }, "value": "@Giulia.R" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = api
        .post(
            &format!("{c}/consent"),
            t,
            json!({ "purpose": "email_marketing", "granted": true, "channel_id": ig, "source": "checkout checkbox" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    api.post(
        &format!("{c}/consent"),
        t,
        json!({ "purpose": "email_marketing", "granted": false, "source": "unsubscribe link" }),
    )
    .await;
    let consent = api.get(&format!("{c}/consent"), t).await;
    assert_eq!(consent.body["current"][0]["granted"], false);
    assert_eq!(consent.body["history"].as_array().unwrap().len(), 2);
    let timeline = api.get(&format!("{c}/timeline"), t).await;
    assert!(timeline.text.contains("order_placed"), "{}", timeline.text);

    // Events, a dead letter and its replay.
    let events = api.get("/tenants/dolce-vita/events?limit=1000", t).await;
    assert!(events.text.contains("order.placed"));
    api.core.fan_out(&tenant, now, 0).unwrap();
    let due = api.core.claim_due(&tenant, now, 1, 60_000).unwrap();
    api.core.mark_failed(&tenant, &due[0].delivery.id, "instagram is down", None, now).unwrap();
    let dead = api.get("/tenants/dolce-vita/events/dead-letters", t).await;
    assert_eq!(dead.body["items"].as_array().unwrap().len(), 1);
    let id = dead.body["items"][0]["id"].as_str().unwrap();
    let replayed = api.post(&format!("/tenants/dolce-vita/events/dead-letters/{id}/replay"), t, json!({})).await;
    assert_eq!(replayed.body["state"], "pending");
    assert_eq!(api.get("/tenants/dolce-vita/events/dead-letters", t).await.body["items"].as_array().unwrap().len(), 0);

    // Switch Instagram off; grants narrowed.
    assert_eq!(
        api.post(&format!("/tenants/dolce-vita/channels/{ig}/disable"), t, json!({})).await.body["enabled"],
        false
    );
    let r = api
        .call(
            "PUT",
            &format!("/tenants/dolce-vita/channels/{ig}/grants"),
            Some(t),
            Some(&json!({ "capabilities": ["catalog"] })),
            None,
        )
        .await;
    assert_eq!(r.body["capabilities"], json!(["catalog"]));
    assert_eq!(
        api.post(&format!("/tenants/dolce-vita/channels/{ig}/enable"), t, json!({})).await.body["enabled"],
        true
    );
}

#[tokio::test]
async fn install_without_a_runtime_is_not_implemented() {
    let core = Core::new(Arc::new(MemoryStore::new()));
    let router = Router::new().nest("/api/v1", admin_router(AdminState::new(core, OPERATOR).unwrap()));
    let api = Api {
        router,
        store: Arc::new(MemoryStore::new()),
        core: Core::new(Arc::new(MemoryStore::new())),
        clock: Arc::new(AtomicI64::new(START_MS)),
        gate: Arc::new(tokio::sync::Mutex::new(())),
    };
    api.post("/tenants", OPERATOR, json!({ "id": "a", "name": "A", "currency": "EUR" })).await;
    let r = api.post("/tenants/a/channels", OPERATOR, json!({ "package": "/x" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_IMPLEMENTED, "not_implemented"));
    assert!(
        AdminState::new(Core::new(Arc::new(MemoryStore::new())), "short").is_err(),
        "a weak operator token is refused"
    );
}

// The HTTP edge over a real host: package installs, routing by host name,
// streamed responses, sealed secrets, body limits.
#[path = "admin/edge.rs"]
mod edge;
