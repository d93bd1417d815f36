//! The plugin runtime's commerce imports, served by the commerce core.
//!
//! [`CoreServices`] implements [`HostServices`] over one [`Core`]: it turns
//! the contract's (WIT) types into the core's and back, and the core's errors
//! into [`HostError`]s a plugin can act on.
//!
//! Fencing: the tenant always comes from `cx.tenant` and the channel from
//! `cx.installation`; no argument a plugin passes names either. The core keys
//! every record under its tenant, so an id issued to another tenant is simply
//! not found here.
//!
//! The core is synchronous and may wait on the disk (redb fsyncs each
//! commit), so every call runs on tokio's blocking pool.
//!
//! Where the contract and the core differ:
//! - a contract address has a `region`, the core's has none: it is kept as
//!   part of the city ("Napoli, NA");
//! - a contract `social-handle` names no network: the calling plugin's id is
//!   used as the network (an Instagram plugin's handles are Instagram's);
//! - touchpoints without a customer are accepted but not stored, because the
//!   core's journal is kept per customer;
//! - mail is recorded in an outbox in the key-value store for the host's
//!   transport ([`CoreServices::mail_outbox`]); nothing is sent yet, so the
//!   queue is bounded per tenant ([`MailLimits`]) and counts against the
//!   tenant's storage quota.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use omnistore_core::{self as domain, ChannelId, Core, CoreError, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, HostServices, ServiceResult, TenantUsage, entry_cost};
use omnistore_storage::{KeyRange, KvStore, StorageError, Txn, keyspace};
use serde::{Deserialize, Serialize};

use wit::HostError;

use crate::async_core::off_executor;

/// Milliseconds since the Unix epoch. Injected so that tests can move time
/// (cart expiry, retry backoff) without sleeping.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock (the runtime's one reading of the system clock).
pub fn system_clock() -> Clock {
    Arc::new(omnistore_runtime::system_now_ms)
}

/// How long a cart holds its stock after its last change, unless configured.
pub const DEFAULT_CART_TTL: Duration = Duration::from_secs(30 * 60);
/// Largest page of products a plugin gets; the contract promises this cap.
const MAX_PAGE: u32 = 500;
/// Longest cursor accepted back from a plugin (cursors are product ids).
const MAX_CURSOR_LEN: usize = 256;
/// The contract caps touchpoint detail at 1 KiB.
const MAX_TOUCHPOINT_DETAIL: usize = 1024;

const MAX_RECIPIENTS: usize = 50;
const MAX_MAIL_HEADERS: usize = 32;
const MAX_HEADER_LINE: usize = 998;
const MAX_MAIL_BODY_BYTES: usize = 2 << 20;
/// Headers the host's transport sets itself (sender, DKIM, MIME structure);
/// a plugin setting them could spoof the merchant or break the signature.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "return-path",
    "received",
    "dkim-signature",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// A message a plugin handed to the host's mail transport, waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    /// The id returned to the plugin; unique within the tenant, in queue order.
    pub id: String,
    pub tenant: String,
    /// The installation (channel) that sent it.
    pub channel: String,
    pub plugin: String,
    /// Normalised (lower-cased) addresses.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub headers: Vec<(String, String)>,
    pub queued_ms: i64,
}

/// Bounds of a tenant's mail queue while it waits for the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// Messages one tenant may have waiting.
    pub max_queued: u64,
    /// The tenant's storage quota, shared with its plugins' data; must be
    /// the runtime's `Limits::tenant_storage_quota_bytes`.
    pub tenant_quota_bytes: u64,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits { max_queued: 1000, tenant_quota_bytes: omnistore_runtime::DEFAULT_TENANT_STORAGE_QUOTA_BYTES }
    }
}

/// The commerce imports over the commerce core. Cheap to clone.
#[derive(Clone)]
pub struct CoreServices {
    core: Core,
    clock: Clock,
    cart_ttl_ms: i64,
    mail: MailLimits,
}

impl std::fmt::Debug for CoreServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreServices").field("core", &self.core).field("cart_ttl_ms", &self.cart_ttl_ms).finish()
    }
}

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

fn is_not_found(err: &CoreError, what: &str) -> bool {
    matches!(err, CoreError::NotFound { kind, .. } if *kind == what)
}

impl CoreServices {
    pub fn new(core: Core) -> Self {
        CoreServices {
            core,
            clock: system_clock(),
            cart_ttl_ms: duration_ms(DEFAULT_CART_TTL),
            mail: MailLimits::default(),
        }
    }

    /// Other bounds for the mail queue.
    pub fn with_mail_limits(mut self, limits: MailLimits) -> Self {
        self.mail = limits;
        self
    }

    /// Use another clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a cart holds stock after its last change; clamped to what
    /// the core allows (1 ms to 24 h).
    pub fn with_cart_ttl(mut self, ttl: Duration) -> Self {
        self.cart_ttl_ms = duration_ms(ttl).clamp(1, domain::carts::MAX_HOLD_MS);
        self
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Mail waiting for the transport, oldest first, after the id `after`.
    pub async fn mail_outbox(
        &self,
        tenant: &domain::TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StorageError> {
        let store = self.core.store().clone();
        let tenant = tenant.clone();
        let after = after.map(str::to_owned);
        off_executor(move || read_mail(&*store, &tenant, after.as_deref(), limit)).await?
    }

    /// Drop a message from the outbox once the transport has taken it.
    /// Returns whether it was there.
    pub async fn remove_mail(&self, tenant: &domain::TenantId, id: &str) -> Result<bool, StorageError> {
        let store = self.core.store().clone();
        let (key, tenant) = (keyspace::mail_queue_key(tenant, id), tenant.clone());
        let max_queued = self.mail.max_queued;
        off_executor(move || {
            omnistore_storage::transact(&*store, |txn| {
                let Some(record) = txn.get(&key)? else { return Ok(false) };
                let queued = queued_mail(txn, &tenant, max_queued)?;
                let _ = TenantUsage::new(&tenant).charge(txn, entry_cost(key.len(), record.len()), 0, u64::MAX)?;
                txn.delete(&key)?;
                txn.put(&keyspace::mail_count_key(&tenant), queued.saturating_sub(1).to_string().as_bytes())?;
                Ok::<_, StorageError>(true)
            })
        })
        .await?
    }

    /// Run one import on the blocking pool with the caller's scope.
    pub(crate) async fn call<T, F>(&self, cx: &CallContext, op: &'static str, f: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &Scope) -> Outcome<T> + Send + 'static,
    {
        let scope = Scope {
            tenant: cx.tenant.clone(),
            channel: ChannelId::new(cx.installation.clone()),
            plugin: cx.plugin.clone(),
            now: (self.clock)(),
        };
        let core = self.core.clone();
        let joined = off_executor(move || {
            let out = f(&core, &scope);
            (out, scope)
        })
        .await;
        let (out, scope) = match joined {
            Ok(pair) => pair,
            Err(e) => {
                tracing::error!(tenant = %cx.tenant, channel = %cx.installation, op, error = %e, "commerce import panicked");
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
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

// ---- conversions: core → contract -------------------------------------------------

pub(crate) fn wit_money(m: &domain::Money) -> wit::Money {
    wit::Money { amount_minor: m.amount_minor, currency: m.currency.clone() }
}

fn core_money(m: &wit::Money) -> domain::Money {
    // Not validated here: the core checks currency and sign where it matters.
    domain::Money { amount_minor: m.amount_minor, currency: m.currency.clone() }
}

fn zero(currency: &str) -> wit::Money {
    wit::Money { amount_minor: 0, currency: currency.to_owned() }
}

fn u32_of(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// A product as a channel sees it. Backorderable variants have no sellable
/// cap in the core's view; the contract still wants the stock figure, so it
/// is read separately.
pub(crate) fn wit_product(
    core: &Core,
    tenant: &domain::TenantId,
    channel: &ChannelId,
    view: &domain::ChannelProductView,
    now: i64,
) -> Result<wit::Product, CoreError> {
    let p = &view.product;
    let mut variants = Vec::with_capacity(view.variants.len());
    let mut updated_at = p.updated_ms;
    for v in &view.variants {
        let available = match v.available {
            Some(a) => a,
            None => core.availability(tenant, &v.variant.id, Some(channel), None, now)?,
        };
        updated_at = updated_at.max(v.variant.updated_ms);
        variants.push(wit_variant(v, available));
    }
    Ok(wit::Product {
        id: p.id.to_string(),
        handle: p.handle.clone(),
        title: p.title.clone(),
        description: p.description.clone(),
        brand: p.brand.clone(),
        tags: p.tags.clone(),
        collections: p.collections.iter().map(ToString::to_string).collect(),
        images: p.images.iter().map(|i| wit::Image { url: i.url.clone(), alt: i.alt.clone() }).collect(),
        variants,
        updated_at,
        created_at: p.created_ms,
    })
}

fn wit_variant(v: &domain::ChannelVariantView, available: i64) -> wit::Variant {
    let var = &v.variant;
    wit::Variant {
        id: var.id.to_string(),
        sku: var.sku.clone(),
        title: var.title.clone(),
        options: var
            .options
            .iter()
            .map(|(name, value)| wit::VariantOption { name: name.clone(), value: value.clone() })
            .collect(),
        gtin: var.gtin.clone(),
        weight_grams: var.weight_grams.and_then(|w| u32::try_from(w).ok()),
        price: wit_money(&v.price),
        compare_at: v.compare_at.as_ref().map(wit_money),
        available: available.max(0),
        backorderable: var.backorderable,
        price_valid_until: v.price_valid_until,
    }
}

pub(crate) fn wit_collection(c: &domain::Collection) -> wit::Collection {
    wit::Collection {
        id: c.id.to_string(),
        handle: c.handle.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
    }
}

pub(crate) fn wit_address(a: &domain::Address) -> wit::Address {
    wit::Address {
        name: a.name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: None,
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
        phone: a.phone.clone(),
    }
}

fn wit_fulfillment(f: &domain::Fulfilment) -> wit::Fulfillment {
    match f {
        domain::Fulfilment::Ship { address } => wit::Fulfillment::Ship(wit_address(address)),
        domain::Fulfilment::Pickup { location_id } => wit::Fulfillment::Pickup(location_id.to_string()),
        domain::Fulfilment::ShipToStore { location_id } => wit::Fulfillment::ShipToStore(location_id.to_string()),
    }
}

fn wit_status(s: domain::OrderStatus) -> wit::OrderStatus {
    match s {
        domain::OrderStatus::Placed => wit::OrderStatus::Placed,
        domain::OrderStatus::ReadyForPickup => wit::OrderStatus::ReadyForPickup,
        domain::OrderStatus::Shipped => wit::OrderStatus::Shipped,
        domain::OrderStatus::Completed => wit::OrderStatus::Completed,
        domain::OrderStatus::Cancelled => wit::OrderStatus::Cancelled,
        domain::OrderStatus::Refunded => wit::OrderStatus::Refunded,
    }
}

/// An order for a plugin. Orders placed in the admin or at the point of
/// sale have no channel; the contract's `channel` is then empty.
pub(crate) fn wit_order(o: &domain::Order) -> wit::Order {
    wit::Order {
        id: o.id.to_string(),
        number: o.number.to_string(),
        channel: o.channel_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        external_id: o.external_id.clone(),
        customer_id: o.customer_id.as_ref().map(ToString::to_string),
        lines: o
            .lines
            .iter()
            .map(|l| wit::OrderLine {
                variant_id: l.variant_id.to_string(),
                sku: l.sku.clone(),
                title: l.title.clone(),
                quantity: u32_of(l.quantity),
                unit_price: wit_money(&l.unit_price),
                discount: wit::Money {
                    amount_minor: l.line_discount.amount_minor.saturating_add(l.order_discount_share.amount_minor),
                    currency: l.total.currency.clone(),
                },
                total: wit_money(&l.total),
            })
            .collect(),
        subtotal: wit_money(&o.subtotal),
        discount: wit_money(&o.discount_total),
        total: wit_money(&o.total),
        status: wit_status(o.status),
        fulfillment: wit_fulfillment(&o.fulfilment),
        placed_at: o.placed_ms,
        payment: o.payment.map(wit_payment),
        email: o.email.clone(),
        phone: o.phone.clone(),
    }
}

pub(crate) fn wit_payment(p: domain::PaymentMethod) -> wit::PaymentMethod {
    match p {
        domain::PaymentMethod::PayAtPickup => wit::PaymentMethod::PayAtPickup,
        domain::PaymentMethod::Manual => wit::PaymentMethod::Manual,
    }
}

fn wit_identity(i: &domain::Identity) -> wit::Identity {
    let kind = match i.kind {
        domain::IdentityKind::Email => wit::IdentityKind::Email,
        domain::IdentityKind::Phone => wit::IdentityKind::Phone,
        domain::IdentityKind::Social { .. } => wit::IdentityKind::SocialHandle,
    };
    wit::Identity { kind, value: i.value.clone() }
}

fn wit_purpose(p: domain::ConsentPurpose) -> wit::ConsentPurpose {
    match p {
        domain::ConsentPurpose::EmailMarketing => wit::ConsentPurpose::EmailMarketing,
        domain::ConsentPurpose::SmsMarketing => wit::ConsentPurpose::SmsMarketing,
    }
}

pub(crate) fn wit_customer(c: &domain::Customer) -> wit::Customer {
    wit::Customer {
        id: c.id.to_string(),
        name: c.name.clone(),
        identities: c.identities.iter().map(wit_identity).collect(),
        consents: c
            .consents
            .iter()
            .map(|r| wit::Consent { purpose: wit_purpose(r.purpose), granted: r.granted, updated_at: r.at_ms })
            .collect(),
    }
}

// ---- conversions: contract → core -------------------------------------------------

pub(crate) fn core_address(a: &wit::Address) -> domain::Address {
    let city = match a.region.as_deref().map(str::trim) {
        Some(region) if !region.is_empty() => format!("{}, {region}", a.city.trim()),
        _ => a.city.clone(),
    };
    domain::Address {
        name: a.name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city,
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
        phone: a.phone.clone(),
    }
}

pub(crate) fn core_fulfilment(f: &wit::Fulfillment) -> domain::Fulfilment {
    match f {
        wit::Fulfillment::Ship(a) => domain::Fulfilment::Ship { address: core_address(a) },
        wit::Fulfillment::Pickup(id) => domain::Fulfilment::Pickup { location_id: id.as_str().into() },
        wit::Fulfillment::ShipToStore(id) => domain::Fulfilment::ShipToStore { location_id: id.as_str().into() },
    }
}

/// A contract identity; a social handle belongs to the network of the
/// calling plugin, since the contract does not name one.
fn core_identity(i: &wit::Identity, plugin: &str) -> domain::Identity {
    let kind = match i.kind {
        wit::IdentityKind::Email => domain::IdentityKind::Email,
        wit::IdentityKind::Phone => domain::IdentityKind::Phone,
        wit::IdentityKind::SocialHandle => domain::IdentityKind::Social { network: plugin.to_owned() },
    };
    domain::Identity { kind, value: i.value.clone() }
}

fn core_visit_source(v: &wit::VisitSource) -> domain::VisitSource {
    // Bounds are checked by the core.
    domain::VisitSource {
        source: v.source.clone(),
        medium: v.medium.clone(),
        campaign: v.campaign.clone(),
        referrer: v.referrer.clone(),
    }
}

pub(crate) fn core_purpose(p: wit::ConsentPurpose) -> domain::ConsentPurpose {
    match p {
        wit::ConsentPurpose::EmailMarketing => domain::ConsentPurpose::EmailMarketing,
        wit::ConsentPurpose::SmsMarketing => domain::ConsentPurpose::SmsMarketing,
    }
}

// ---- catalog helpers ----------------------------------------------------------------

/// The product as this channel sees it, or `None` when it is not shown there.
pub(crate) fn visible_product(core: &Core, s: &Scope, id: &domain::ProductId) -> Outcome<Option<wit::Product>> {
    match core.channel_product(&s.tenant, &s.channel, id, s.now) {
        Ok(view) => Ok(Some(wit_product(core, &s.tenant, &s.channel, &view, s.now)?)),
        Err(e) if is_not_found(&e, "product") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn page_size(limit: u32) -> usize {
    limit.clamp(1, MAX_PAGE) as usize
}

fn parse_cursor(cursor: Option<&str>) -> Outcome<Option<domain::ProductId>> {
    match cursor {
        None => Ok(None),
        Some(c) if c.is_empty() || c.len() > MAX_CURSOR_LEN || c.chars().any(char::is_control) => {
            Err(HostError::Invalid(format!("cursor `{}` is not one the host issued", c.escape_debug())).into())
        }
        Some(c) => Ok(Some(domain::ProductId::new(c))),
    }
}

// ---- cart helpers -----------------------------------------------------------------------

fn open_cart(cart: &domain::Cart) -> Outcome<()> {
    match &cart.status {
        domain::CartStatus::Open => Ok(()),
        domain::CartStatus::CheckedOut { order_id } => Err(HostError::Conflict(format!(
            "cart `{}` was checked out as order `{order_id}`; start a new cart",
            cart.id
        ))
        .into()),
        domain::CartStatus::Merged { into } => {
            Err(HostError::Conflict(format!("cart `{}` was merged into cart `{into}`; use that one", cart.id)).into())
        }
    }
}

/// Price the cart as the calling channel sees it (`None` for an empty cart).
fn quote_of(core: &Core, s: &Scope, cart: &domain::Cart) -> Result<Option<domain::Quote>, CoreError> {
    if cart.lines.is_empty() {
        return Ok(None);
    }
    let request = domain::QuoteRequest {
        lines: cart
            .lines
            .iter()
            .map(|l| domain::QuoteLineRequest { variant_id: l.variant_id.clone(), quantity: l.quantity })
            .collect(),
        channel: Some(s.channel.clone()),
        codes: cart.codes.clone(),
    };
    core.quote(&s.tenant, &request, s.now).map(Some)
}

fn wit_cart(
    core: &Core,
    s: &Scope,
    cart: &domain::Cart,
    quote: Option<&domain::Quote>,
    ttl_ms: i64,
) -> Outcome<wit::Cart> {
    let holds = core.cart_holds(&s.tenant, &cart.id)?;
    let expires_at = holds.iter().map(|h| h.expires_ms).min().unwrap_or_else(|| s.now.saturating_add(ttl_ms));
    let Some(q) = quote else {
        let currency = core.get_tenant(&s.tenant)?.currency;
        return Ok(wit::Cart {
            id: cart.id.to_string(),
            customer_id: cart.customer_id.as_ref().map(ToString::to_string),
            lines: vec![],
            codes: cart.codes.clone(),
            promotions: vec![],
            subtotal: zero(&currency),
            discount: zero(&currency),
            total: zero(&currency),
            expires_at,
        });
    };
    let mut products = std::collections::BTreeMap::new();
    for l in &q.lines {
        if !products.contains_key(&l.product_id) {
            products.insert(l.product_id.clone(), core.get_product(&s.tenant, &l.product_id)?.product);
        }
    }
    Ok(wit::Cart {
        id: cart.id.to_string(),
        customer_id: cart.customer_id.as_ref().map(ToString::to_string),
        lines: q
            .lines
            .iter()
            .map(|l| wit::CartLine {
                variant_id: l.variant_id.to_string(),
                product_id: l.product_id.to_string(),
                product_handle: products.get(&l.product_id).map(|p| p.handle.clone()).unwrap_or_default(),
                image: products
                    .get(&l.product_id)
                    .and_then(|p| p.images.first())
                    .map(|i| wit::Image { url: i.url.clone(), alt: i.alt.clone() }),
                sku: l.sku.clone(),
                title: l.title.clone(),
                quantity: u32_of(l.quantity),
                unit_price: wit_money(&l.unit_price),
                // Order-level discount shares are included so that the lines
                // add up to the cart's total.
                discount: wit::Money {
                    amount_minor: l.line_discount.amount_minor.saturating_add(l.order_discount_share.amount_minor),
                    currency: q.currency.clone(),
                },
                total: wit_money(&l.total),
            })
            .collect(),
        codes: cart.codes.clone(),
        promotions: q.applied_promotions().into_iter().map(|p| p.name).collect(),
        subtotal: wit_money(&q.subtotal),
        discount: wit_money(&q.discount_total),
        total: wit_money(&q.total),
        expires_at,
    })
}

fn priced_cart(core: &Core, s: &Scope, cart: &domain::Cart, ttl_ms: i64) -> Outcome<wit::Cart> {
    open_cart(cart)?;
    let quote = quote_of(core, s, cart)?;
    wit_cart(core, s, cart, quote.as_ref(), ttl_ms)
}

// ---- mail -----------------------------------------------------------------------------------

/// Messages waiting; a queue from before the counter existed is counted
/// (up to `cap`, which is all a check against the cap needs).
fn queued_mail(txn: &mut dyn Txn, tenant: &domain::TenantId, cap: u64) -> Result<u64, StorageError> {
    if let Some(n) =
        txn.get(&keyspace::mail_count_key(tenant))?.and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
    {
        return Ok(n);
    }
    let limit = usize::try_from(cap).unwrap_or(usize::MAX);
    Ok(txn.scan(&KeyRange::prefix(&keyspace::mail_queue_prefix(tenant)), limit)?.len() as u64)
}

fn read_mail(
    store: &dyn KvStore,
    tenant: &domain::TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<QueuedMail>, StorageError> {
    let mut range = KeyRange::prefix(&keyspace::mail_queue_prefix(tenant));
    if let Some(after) = after {
        range.start = std::ops::Bound::Excluded(keyspace::mail_queue_key(tenant, after));
    }
    let limit = if limit == 0 { 100 } else { limit };
    let mut txn = store.begin_read()?;
    txn.scan(&range, limit)?
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).map_err(|e| StorageError::backend("mail-codec", e)))
        .collect()
}

fn header_line_ok(value: &str) -> bool {
    value.len() <= MAX_HEADER_LINE && !value.chars().any(char::is_control)
}

/// Check a message and normalise its recipients. Refuses anything that could
/// inject headers or override what the transport sets.
fn check_mail(m: &wit::MailMessage) -> Outcome<Vec<String>> {
    if m.to.is_empty() || m.to.len() > MAX_RECIPIENTS {
        return Err(HostError::Invalid(format!("a message needs 1 to {MAX_RECIPIENTS} recipients")).into());
    }
    let mut to = Vec::with_capacity(m.to.len());
    for addr in &m.to {
        let id = domain::Identity::email(addr)
            .map_err(|_| HostError::Invalid(format!("recipient `{}` is not an e-mail address", addr.escape_debug())))?;
        to.push(id.value);
    }
    if !header_line_ok(&m.subject) {
        return Err(HostError::Invalid(format!(
            "the subject must be one line of at most {MAX_HEADER_LINE} bytes without control characters"
        ))
        .into());
    }
    if m.headers.len() > MAX_MAIL_HEADERS {
        return Err(HostError::Invalid(format!("a message may carry at most {MAX_MAIL_HEADERS} extra headers")).into());
    }
    for (name, value) in &m.headers {
        let name_ok = !name.is_empty() && name.len() <= 76 && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !name_ok || !header_line_ok(value) {
            return Err(HostError::Invalid(format!(
                "header `{}` is malformed: names are printable ASCII without `:`, values one line",
                name.escape_debug()
            ))
            .into());
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(HostError::Invalid(format!("header `{name}` is set by the host's transport")).into());
        }
    }
    let size = m.text.len() + m.html.as_ref().map_or(0, String::len);
    if size > MAX_MAIL_BODY_BYTES {
        return Err(HostError::QuotaExceeded(format!(
            "the message body is {size} bytes; the limit is {MAX_MAIL_BODY_BYTES}"
        ))
        .into());
    }
    Ok(to)
}

// ---- the imports ------------------------------------------------------------------------

#[async_trait]
impl HostServices for CoreServices {
    async fn get_product(&self, cx: &CallContext, id: &str) -> ServiceResult<Option<wit::Product>> {
        let id = domain::ProductId::new(id);
        self.call(cx, "catalog.get-product", move |core, s| visible_product(core, s, &id)).await
    }

    async fn get_product_by_handle(&self, cx: &CallContext, handle: &str) -> ServiceResult<Option<wit::Product>> {
        let handle = handle.to_owned();
        self.call(cx, "catalog.get-product-by-handle", move |core, s| {
            match core.product_by_handle(&s.tenant, &handle) {
                Ok(detail) => visible_product(core, s, &detail.product.id),
                Err(e) if is_not_found(&e, "product") => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn find_sku(&self, cx: &CallContext, sku: &str) -> ServiceResult<Option<(wit::Product, wit::Variant)>> {
        let sku = sku.to_owned();
        self.call(cx, "catalog.find-sku", move |core, s| {
            let variant = match core.variant_by_sku(&s.tenant, &sku) {
                Ok(v) => v,
                Err(e) if is_not_found(&e, "SKU") || is_not_found(&e, "variant") => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let Some(product) = visible_product(core, s, &variant.product_id)? else {
                return Ok(None);
            };
            let id = variant.id.to_string();
            Ok(product.variants.iter().find(|v| v.id == id).cloned().map(|v| (product, v)))
        })
        .await
    }

    async fn list_products(
        &self,
        cx: &CallContext,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<wit::ProductPage> {
        let limit = page_size(limit);
        self.call(cx, "catalog.list-products", move |core, s| {
            let after = parse_cursor(cursor.as_deref())?;
            // One more than asked tells whether there is a next page.
            let mut views = core.channel_catalog(&s.tenant, &s.channel, after.as_ref(), limit + 1, s.now)?;
            let more = views.len() > limit;
            views.truncate(limit);
            let next = if more { views.last().map(|v| v.product.id.to_string()) } else { None };
            let products = views
                .iter()
                .map(|v| wit_product(core, &s.tenant, &s.channel, v, s.now))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(wit::ProductPage { products, next })
        })
        .await
    }

    async fn list_collection_products(
        &self,
        cx: &CallContext,
        collection_id: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<wit::ProductPage> {
        let collection = domain::CollectionId::new(collection_id);
        let limit = page_size(limit);
        self.call(cx, "catalog.list-collection-products", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.get_collection(&s.tenant, &collection)?;
            let mut after = parse_cursor(cursor.as_deref())?;
            let mut products = Vec::new();
            let mut last_taken = None;
            let mut more = false;
            // The collection index holds every product of the collection;
            // those not shown on this channel are skipped, so keep paging
            // until the page is full and one more visible product is seen
            // (then there is a next page) or the collection ends.
            'scan: loop {
                let query = domain::ProductQuery {
                    after: after.clone(),
                    limit: limit + 1,
                    status: Some(domain::ProductStatus::Active),
                    collection: Some(collection.clone()),
                };
                let page = core.list_products(&s.tenant, &query)?;
                for p in &page {
                    after = Some(p.id.clone());
                    if !core.is_published(&s.tenant, &p.id, &s.channel)? {
                        continue;
                    }
                    if products.len() == limit {
                        more = true;
                        break 'scan;
                    }
                    if let Some(view) = visible_product(core, s, &p.id)? {
                        last_taken = Some(p.id.clone());
                        products.push(view);
                    }
                }
                if page.len() < limit + 1 {
                    break;
                }
            }
            let next = if more { last_taken.map(|id| id.to_string()) } else { None };
            Ok(wit::ProductPage { products, next })
        })
        .await
    }

    async fn list_collections(&self, cx: &CallContext) -> ServiceResult<Vec<wit::Collection>> {
        self.call(cx, "catalog.list-collections", |core, s| {
            // Read the channel so that an unregistered installation is refused
            // like on every other import.
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(core.list_collections(&s.tenant)?.iter().map(wit_collection).collect())
        })
        .await
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
        let ttl = self.cart_ttl_ms;
        self.call(cx, "carts.create", move |core, s| {
            let customer = customer_id.map(domain::CustomerId::new);
            if let Some(c) = &customer {
                core.customer_for_channel(&s.tenant, &s.channel, c, Reach::Handed)?;
            }
            let new = domain::NewCart { channel: Some(s.channel.clone()), customer };
            let cart = core.create_cart(&s.tenant, new, s.now)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
    }

    async fn get_cart(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<wit::Cart> {
        let id = domain::CartId::new(cart_id);
        let ttl = self.cart_ttl_ms;
        self.call(cx, "carts.get", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            let cart = core.cart_for_channel(&s.tenant, &s.channel, &id)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
    }

    async fn set_cart_quantity(
        &self,
        cx: &CallContext,
        cart_id: &str,
        variant_id: &str,
        quantity: u32,
    ) -> ServiceResult<wit::Cart> {
        let cart_id = domain::CartId::new(cart_id);
        let variant_id = domain::VariantId::new(variant_id);
        let ttl = self.cart_ttl_ms;
        self.call(cx, "carts.set-quantity", move |core, s| {
            let before = core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            open_cart(&before)?;
            if quantity > 0 {
                // A channel sells only what it shows.
                let variant = core.get_variant(&s.tenant, &variant_id)?;
                if visible_product(core, s, &variant.product_id)?.is_none() {
                    return Err(HostError::NotFound(format!("variant `{variant_id}` is not sold on this channel")).into());
                }
            }
            let previous = before.lines.iter().find(|l| l.variant_id == variant_id).map_or(0, |l| l.quantity);
            let cart = core.set_cart_line(&s.tenant, &cart_id, &variant_id, i64::from(quantity), s.now)?;
            if !cart.lines.is_empty() {
                match core.hold_cart(&s.tenant, &cart_id, ttl, s.now) {
                    Ok(_) => {}
                    Err(e @ CoreError::InsufficientStock { .. }) => {
                        // The change cannot be held: undo it, so the cart
                        // stays as the shopper last saw it, with its holds.
                        let restored = core.set_cart_line(&s.tenant, &cart_id, &variant_id, previous, s.now)?;
                        if !restored.lines.is_empty()
                            && let Err(again) = core.hold_cart(&s.tenant, &cart_id, ttl, s.now)
                        {
                            tracing::debug!(cart = %cart_id, error = %again, "cart could not be held again after an undo");
                        }
                        return Err(e.into());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            priced_cart(core, s, &cart, ttl)
        })
        .await
    }

    async fn apply_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<wit::Cart> {
        let cart_id = domain::CartId::new(cart_id);
        let code = code.to_owned();
        let ttl = self.cart_ttl_ms;
        self.call(cx, "carts.apply-code", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            let cart = core.apply_code(&s.tenant, &cart_id, &code, s.now)?;
            let quote = quote_of(core, s, &cart)?;
            if let Some(q) = &quote {
                let normalized = domain::pricing::normalize_code(&code)?;
                if q.codes_not_applied.contains(&normalized) {
                    // The contract promises `invalid` for a code that does
                    // not apply; leaving it on the cart would be a surprise.
                    core.remove_code(&s.tenant, &cart_id, &normalized, s.now)?;
                    return Err(HostError::Invalid(format!(
                        "code `{normalized}` does not apply to this cart (its conditions are not met, it expired, \
                         or a better promotion already applies)"
                    ))
                    .into());
                }
            }
            wit_cart(core, s, &cart, quote.as_ref(), ttl)
        })
        .await
    }

    async fn remove_code(&self, cx: &CallContext, cart_id: &str, code: &str) -> ServiceResult<wit::Cart> {
        let cart_id = domain::CartId::new(cart_id);
        let code = code.to_owned();
        let ttl = self.cart_ttl_ms;
        self.call(cx, "carts.remove-code", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            let cart = core.remove_code(&s.tenant, &cart_id, &code, s.now)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
    }

    async fn set_cart_customer(&self, cx: &CallContext, cart_id: &str, customer_id: &str) -> ServiceResult<wit::Cart> {
        let cart_id = domain::CartId::new(cart_id);
        let customer = domain::CustomerId::new(customer_id);
        let ttl = self.cart_ttl_ms;
        self.call(cx, "carts.set-customer", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            core.customer_for_channel(&s.tenant, &s.channel, &customer, Reach::Handed)?;
            // May return the customer's existing cart, into which this one was folded.
            let cart = core.attach_customer(&s.tenant, &cart_id, &customer, s.now)?;
            priced_cart(core, s, &cart, ttl)
        })
        .await
    }

    async fn checkout(
        &self,
        cx: &CallContext,
        cart_id: &str,
        fulfillment: wit::Fulfillment,
    ) -> ServiceResult<wit::Order> {
        let cart_id = domain::CartId::new(cart_id);
        self.call(cx, "carts.checkout", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart_id)?;
            let request = domain::CheckoutRequest {
                channel: Some(s.channel.clone()),
                fulfilment: core_fulfilment(&fulfillment),
                customer: None,
                email: None,
                note: None,
                expected_total_minor: None,
            };
            let order = core.checkout(&s.tenant, &cart_id, request, s.now)?;
            if let Some(customer) = &order.customer_id {
                core.grant_customer_reach(&s.tenant, &s.channel, customer, Reach::Identified, s.now)?;
            }
            Ok(wit_order(&order))
        })
        .await
    }

    async fn ingest_order(&self, cx: &CallContext, order: wit::IncomingOrder) -> ServiceResult<wit::Order> {
        self.call(cx, "orders.ingest", move |core, s| {
            let customer = order.customer.as_ref().map(|i| core_identity(i, &s.plugin));
            let email = order
                .customer
                .as_ref()
                .filter(|i| matches!(i.kind, wit::IdentityKind::Email))
                .map(|i| i.value.clone());
            // The core prices ingested lines from the channel's unit prices;
            // a different channel total (shipping, fees) is kept as a note.
            let lines_sum = order.lines.iter().try_fold(0i64, |acc, l| {
                l.unit_price.amount_minor.checked_mul(i64::from(l.quantity)).and_then(|x| acc.checked_add(x))
            });
            let note = match lines_sum {
                Some(sum) if sum == order.total.amount_minor => None,
                _ => Some(format!(
                    "the channel charged {} {} in total",
                    order.total.amount_minor, order.total.currency
                )),
            };
            let ingest = domain::IngestOrder {
                external_id: order.external_id.clone(),
                lines: order
                    .lines
                    .iter()
                    .map(|l| domain::IngestLine {
                        sku: l.sku.clone(),
                        quantity: i64::from(l.quantity),
                        unit_price: Some(core_money(&l.unit_price)),
                    })
                    .collect(),
                customer,
                customer_name: order.customer_name.clone(),
                email,
                fulfilment: core_fulfilment(&order.fulfillment),
                codes: vec![],
                note,
            };
            let ingested = core.ingest_order(&s.tenant, &s.channel, ingest, s.now)?;
            if let Some(customer) = &ingested.order.customer_id {
                core.grant_customer_reach(&s.tenant, &s.channel, customer, Reach::Identified, s.now)?;
            }
            if !ingested.created {
                tracing::debug!(tenant = %s.tenant, channel = %s.channel, order = %ingested.order.id, "order ingested before; returning the first");
            }
            Ok(wit_order(&ingested.order))
        })
        .await
    }

    async fn get_order(&self, cx: &CallContext, order_id: &str) -> ServiceResult<wit::Order> {
        let id = domain::OrderId::new(order_id);
        self.call(cx, "orders.get", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(wit_order(&core.order_for_channel(&s.tenant, &s.channel, &id)?))
        })
        .await
    }

    async fn find_order_by_external_id(
        &self,
        cx: &CallContext,
        external_id: &str,
    ) -> ServiceResult<Option<wit::Order>> {
        let external_id = external_id.to_owned();
        self.call(cx, "orders.find-by-external-id", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            match core.order_by_external_id(&s.tenant, &s.channel, &external_id) {
                Ok(o) => Ok(Some(wit_order(&o))),
                Err(e) if is_not_found(&e, "order") => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn identify_customer(
        &self,
        cx: &CallContext,
        identity: wit::Identity,
        name: Option<String>,
    ) -> ServiceResult<wit::Customer> {
        self.call(cx, "customers.identify", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            let identity = core_identity(&identity, &s.plugin);
            let customer = core.identify(&s.tenant, &identity, name.as_deref(), s.now)?;
            core.grant_customer_reach(&s.tenant, &s.channel, &customer.id, Reach::Identified, s.now)?;
            Ok(wit_customer(&customer))
        })
        .await
    }

    async fn get_customer(&self, cx: &CallContext, customer_id: &str) -> ServiceResult<wit::Customer> {
        let id = domain::CustomerId::new(customer_id);
        self.call(cx, "customers.get", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(wit_customer(&core.customer_for_channel(&s.tenant, &s.channel, &id, Reach::Handed)?))
        })
        .await
    }

    async fn set_consent(
        &self,
        cx: &CallContext,
        customer_id: &str,
        purpose: wit::ConsentPurpose,
        granted: bool,
    ) -> ServiceResult<wit::Customer> {
        let id = domain::CustomerId::new(customer_id);
        self.call(cx, "customers.set-consent", move |core, s| {
            // Recording an opt-in needs the customer to have identified
            // themselves on this channel; an opt-out only needs reach.
            let needed = if granted { Reach::Identified } else { Reach::Handed };
            core.customer_for_channel(&s.tenant, &s.channel, &id, needed)?;
            let source = format!("plugin {}", s.plugin);
            let c =
                core.set_consent(&s.tenant, &id, core_purpose(purpose), granted, Some(&s.channel), &source, s.now)?;
            Ok(wit_customer(&c))
        })
        .await
    }

    async fn record_touchpoint(&self, cx: &CallContext, touchpoint: wit::Touchpoint) -> ServiceResult<()> {
        if touchpoint.detail.as_ref().is_some_and(|d| d.len() > MAX_TOUCHPOINT_DETAIL) {
            return Err(HostError::Invalid(format!("touchpoint detail exceeds {MAX_TOUCHPOINT_DETAIL} bytes")));
        }
        self.call(cx, "touchpoints.record", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            let source = touchpoint.source.as_ref().map(core_visit_source);
            let Some(customer) = touchpoint.customer_id else {
                let Some(visitor_id) = touchpoint.visitor_id else {
                    tracing::trace!(tenant = %s.tenant, channel = %s.channel, kind = %touchpoint.kind, "anonymous touchpoint without a visitor not stored");
                    return Ok(());
                };
                let kept = core.record_visitor_touchpoint(
                    &s.tenant,
                    domain::VisitorTouchpoint {
                        visitor_id,
                        kind: touchpoint.kind,
                        channel_id: Some(s.channel.clone()),
                        product_id: touchpoint.product_id.map(Into::into),
                        variant_id: touchpoint.variant_id.map(Into::into),
                        campaign: touchpoint.campaign_id.map(Into::into),
                        detail: touchpoint.detail,
                        source,
                        at_ms: s.now,
                    },
                    s.now,
                )?;
                if !kept {
                    tracing::debug!(tenant = %s.tenant, channel = %s.channel, "visitor has too many touchpoints; not stored");
                }
                return Ok(());
            };
            let customer = domain::CustomerId::new(customer);
            core.customer_for_channel(&s.tenant, &s.channel, &customer, Reach::Handed)?;
            let new = domain::NewTouchpoint {
                customer_id: customer,
                kind: touchpoint.kind,
                channel_id: Some(s.channel.clone()),
                product_id: touchpoint.product_id.map(Into::into),
                variant_id: touchpoint.variant_id.map(Into::into),
                campaign: touchpoint.campaign_id.map(Into::into),
                detail: touchpoint.detail,
                at_ms: s.now,
                visitor_id: touchpoint.visitor_id,
                source,
            };
            core.record_touchpoint(&s.tenant, new, s.now)?;
            Ok(())
        })
        .await
    }

    async fn send_mail(&self, cx: &CallContext, message: wit::MailMessage) -> ServiceResult<String> {
        let limits = self.mail;
        self.call(cx, "mail.send", move |core, s| {
            let to = check_mail(&message)?;
            // Only a registered installation of a known tenant may queue mail.
            core.get_channel(&s.tenant, &s.channel)?;
            let store = core.store();
            let seq_key = keyspace::mail_seq_key(&s.tenant);
            let queued = omnistore_storage::transact(&**store, |txn| {
                let waiting = queued_mail(txn, &s.tenant, limits.max_queued)?;
                if waiting >= limits.max_queued {
                    return Ok(Err(HostError::QuotaExceeded(format!(
                        "this shop already has {waiting} messages waiting to be sent, the most it may queue; \
                         try again later"
                    ))));
                }
                let seq = match txn.get(&seq_key)? {
                    Some(bytes) => std::str::from_utf8(&bytes).ok().and_then(|t| t.parse::<u64>().ok()).unwrap_or(0),
                    None => 0,
                } + 1;
                txn.put(&seq_key, seq.to_string().as_bytes())?;
                let id = format!("mail-{seq:010}");
                let record = QueuedMail {
                    id: id.clone(),
                    tenant: s.tenant.to_string(),
                    channel: s.channel.to_string(),
                    plugin: s.plugin.clone(),
                    to: to.clone(),
                    subject: message.subject.clone(),
                    text: message.text.clone(),
                    html: message.html.clone(),
                    headers: message.headers.clone(),
                    queued_ms: s.now,
                };
                let bytes = serde_json::to_vec(&record).map_err(|e| StorageError::backend("mail-codec", e))?;
                let key = keyspace::mail_queue_key(&s.tenant, &id);
                let usage = TenantUsage::new(&s.tenant);
                if let Err(message) =
                    usage.charge(txn, 0, entry_cost(key.len(), bytes.len()), limits.tenant_quota_bytes)?
                {
                    return Ok(Err(HostError::QuotaExceeded(message)));
                }
                txn.put(&key, &bytes)?;
                txn.put(&keyspace::mail_count_key(&s.tenant), (waiting + 1).to_string().as_bytes())?;
                Ok::<_, StorageError>(Ok(id))
            })?;
            let id = queued?;
            tracing::info!(tenant = %s.tenant, channel = %s.channel, mail = %id, recipients = to.len(), "mail queued");
            Ok(id)
        })
        .await
    }
}
