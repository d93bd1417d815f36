//! Conversions between contract 0.1.0's generated types and the host's
//! (0.2.0's), so plugins built against 0.1.0 keep being served by the same
//! host code.
//!
//! Downward (host → 0.1.0 plugin) the fields 0.2.0 added are dropped; upward
//! (0.1.0 plugin → host) they take their "not given" value (`none`). Every
//! other field is carried over one by one: a record that gains a field in a
//! later contract fails to compile here until its conversion says what to do.

use crate::bindings::v0_1_0::omnistore::plugin::{mail::Message as MessageV1, types as v1};
use crate::types as v2;

/// Convert a value of one contract version into the other's type.
pub(crate) trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! same {
    ($($t:ty),*) => {$(
        impl Convert<$t> for $t {
            fn convert(self) -> $t {
                self
            }
        }
    )*};
}
same!((), String, bool, u8, u16, u32, i64, u64);

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<C>, B: Convert<D>, C, D> Convert<(C, D)> for (A, B) {
    fn convert(self) -> (C, D) {
        (self.0.convert(), self.1.convert())
    }
}

impl<A: Convert<C>, B: Convert<D>, C, D> Convert<Result<C, D>> for Result<A, B> {
    fn convert(self) -> Result<C, D> {
        self.map(Convert::convert).map_err(Convert::convert)
    }
}

/// A record with the same fields in both versions: converted both ways.
macro_rules! record_both {
    ($($name:ident { $($field:ident),* })*) => {$(
        impl Convert<v2::$name> for v1::$name {
            fn convert(self) -> v2::$name {
                v2::$name { $($field: self.$field.convert()),* }
            }
        }
        impl Convert<v1::$name> for v2::$name {
            fn convert(self) -> v1::$name {
                v1::$name { $($field: self.$field.convert()),* }
            }
        }
    )*};
}

/// A record 0.2.0 extended (or one holding such a record): down by
/// dropping the new fields; up, where needed, is written out below.
macro_rules! record_down {
    ($($name:ident { $($field:ident),* })*) => {$(
        impl Convert<v1::$name> for v2::$name {
            fn convert(self) -> v1::$name {
                v1::$name { $($field: self.$field.convert()),* }
            }
        }
    )*};
}

/// An enum or variant with the same cases in both versions.
macro_rules! cases_both {
    ($($name:ident { $($case:ident $(($payload:ident))?),* })*) => {$(
        impl Convert<v2::$name> for v1::$name {
            fn convert(self) -> v2::$name {
                match self { $(v1::$name::$case $(($payload))? => v2::$name::$case $(($payload.convert()))?),* }
            }
        }
        impl Convert<v1::$name> for v2::$name {
            fn convert(self) -> v1::$name {
                match self { $(v2::$name::$case $(($payload))? => v1::$name::$case $(($payload.convert()))?),* }
            }
        }
    )*};
}

record_both! {
    Money { amount_minor, currency }
    Image { url, alt }
    VariantOption { name, value }
    Collection { id, handle, title, description }
    ProductPage { products, next }
    Address { name, line1, line2, city, region, postal_code, country, phone }
    OrderLine { variant_id, sku, title, quantity, unit_price, discount, total }
    IncomingOrderLine { sku, quantity, unit_price }
    IncomingOrder { external_id, customer, customer_name, lines, fulfillment, total }
    Identity { kind, value }
    Consent { purpose, granted, updated_at }
    Customer { id, name, identities, consents }
    UpstreamError { status, message }
    Request { method, path, query, headers, body }
    Response { status, headers, body, continuation }
    BodyPage { data, continuation }
    StockChange { product_id, variant_id, sku, available }
    CampaignMessage { campaign_id, customer_id, subject, text, html }
    Event { id, kind, occurred_at, attempt, payload }
    SettingSpec { key, label, secret, required, default_value }
    PluginInfo { id, name, version, events, settings }
}

record_down! {
    Cart { id, customer_id, lines, codes, promotions, subtotal, discount, total, expires_at }
    Variant { id, sku, title, options, gtin, weight_grams, price, compare_at, available, backorderable }
    Product { id, handle, title, description, brand, tags, collections, images, variants, updated_at }
    CartLine { variant_id, sku, title, quantity, unit_price, discount, total }
    Order {
        id, number, channel, external_id, customer_id, lines, subtotal, discount, total, status, fulfillment, placed_at
    }
    Touchpoint { kind, customer_id, product_id, variant_id, campaign_id, detail }
}

cases_both! {
    Fulfillment { Ship(a), Pickup(a), ShipToStore(a) }
    OrderStatus { Placed, ReadyForPickup, Shipped, Completed, Cancelled, Refunded }
    IdentityKind { Email, Phone, SocialHandle }
    ConsentPurpose { EmailMarketing, SmsMarketing }
    HostError { Denied(a), NotFound(a), Invalid(a), Conflict(a), QuotaExceeded(a), Unavailable(a) }
    PluginError { BadRequest(a), NotFound(a), Unauthorized(a), RetryLater(a), Upstream(a), Internal(a) }
}

impl Convert<v2::EventPayload> for v1::EventPayload {
    fn convert(self) -> v2::EventPayload {
        use v1::EventPayload as E;
        match self {
            E::OrderPlaced(a) => v2::EventPayload::OrderPlaced(a.convert()),
            E::OrderUpdated(a) => v2::EventPayload::OrderUpdated(a.convert()),
            E::ProductChanged(a) => v2::EventPayload::ProductChanged(a.convert()),
            E::ProductRemoved(a) => v2::EventPayload::ProductRemoved(a),
            E::StockChanged(a) => v2::EventPayload::StockChanged(a.convert()),
            E::ConsentChanged(a) => v2::EventPayload::ConsentChanged(a.convert()),
            E::CampaignMessage(a) => v2::EventPayload::CampaignMessage(a.convert()),
            E::Installed => v2::EventPayload::Installed,
        }
    }
}

impl Convert<v1::EventPayload> for v2::EventPayload {
    fn convert(self) -> v1::EventPayload {
        use v2::EventPayload as E;
        match self {
            E::OrderPlaced(a) => v1::EventPayload::OrderPlaced(a.convert()),
            E::OrderUpdated(a) => v1::EventPayload::OrderUpdated(a.convert()),
            E::ProductChanged(a) => v1::EventPayload::ProductChanged(a.convert()),
            E::ProductRemoved(a) => v1::EventPayload::ProductRemoved(a),
            E::StockChanged(a) => v1::EventPayload::StockChanged(a.convert()),
            E::ConsentChanged(a) => v1::EventPayload::ConsentChanged(a.convert()),
            E::CampaignMessage(a) => v1::EventPayload::CampaignMessage(a.convert()),
            E::Installed => v1::EventPayload::Installed,
            // The manifest check refuses a 0.1.0 plugin that subscribes to
            // `return.received`; were one delivered anyway, the nearest thing
            // 0.1.0 can say is that the order changed.
            E::ReturnReceived(r) => v1::EventPayload::OrderUpdated(r.order.convert()),
        }
    }
}

impl Convert<v2::MailMessage> for MessageV1 {
    fn convert(self) -> v2::MailMessage {
        v2::MailMessage { to: self.to, subject: self.subject, text: self.text, html: self.html, headers: self.headers }
    }
}

impl Convert<v2::Order> for v1::Order {
    fn convert(self) -> v2::Order {
        v2::Order {
            id: self.id,
            number: self.number,
            channel: self.channel,
            external_id: self.external_id,
            customer_id: self.customer_id,
            lines: self.lines.convert(),
            subtotal: self.subtotal.convert(),
            discount: self.discount.convert(),
            total: self.total.convert(),
            status: self.status.convert(),
            fulfillment: self.fulfillment.convert(),
            placed_at: self.placed_at,
            payment: None,
            email: None,
            phone: None,
        }
    }
}

impl Convert<v2::Product> for v1::Product {
    fn convert(self) -> v2::Product {
        v2::Product {
            id: self.id,
            handle: self.handle,
            title: self.title,
            description: self.description,
            brand: self.brand,
            tags: self.tags,
            collections: self.collections,
            images: self.images.convert(),
            variants: self.variants.convert(),
            updated_at: self.updated_at,
            // 0.1.0 has no creation time; the last change is the closest it knows.
            created_at: self.updated_at,
        }
    }
}

impl Convert<v2::Variant> for v1::Variant {
    fn convert(self) -> v2::Variant {
        v2::Variant {
            id: self.id,
            sku: self.sku,
            title: self.title,
            options: self.options.convert(),
            gtin: self.gtin,
            weight_grams: self.weight_grams,
            price: self.price.convert(),
            compare_at: self.compare_at.convert(),
            available: self.available,
            backorderable: self.backorderable,
            price_valid_until: None,
        }
    }
}

impl Convert<v2::Touchpoint> for v1::Touchpoint {
    fn convert(self) -> v2::Touchpoint {
        v2::Touchpoint {
            kind: self.kind,
            visitor_id: None,
            source: None,
            customer_id: self.customer_id,
            product_id: self.product_id,
            variant_id: self.variant_id,
            campaign_id: self.campaign_id,
            detail: self.detail,
        }
    }
}
