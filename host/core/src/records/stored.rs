//! The stored shapes of products, variants, orders and customers, at the
//! current format version ([`super::CURRENT`]).
//!
//! These, not the domain types, are what is on disk: a domain field may be
//! renamed or retyped freely as long as the conversions below still map it
//! to the same stored field. Changing a stored field is a new format version
//! (see [`super::upgrades`]). Small leaf values (money, ids, images,
//! addresses, allocations, consent records, identities) are stored as
//! their own types; they get a stored twin here the day one of them has to
//! change shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Image, Product, ProductStatus, Variant};
use crate::customers::{ConsentRecord, Customer, Identity};
use crate::ids::{CampaignRef, CartId, ChannelId, CollectionId, CustomerId, OrderId, ProductId, VariantId};
use crate::inventory::Allocation;
use crate::money::Money;
use crate::orders::{Fulfilment, Order, OrderLine, OrderStatus, PaymentMethod, StatusChange};
use crate::pricing::AppliedPromotion;
use crate::records::stored_records;

stored_records!(Product => StoredProduct, Variant => StoredVariant, Order => StoredOrder, Customer => StoredCustomer);

/// A product, as stored under `prd/<id>`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredProduct {
    id: ProductId,
    handle: String,
    title: String,
    description: String,
    brand: Option<String>,
    tags: Vec<String>,
    collections: Vec<CollectionId>,
    images: Vec<Image>,
    status: ProductStatus,
    created_ms: i64,
    updated_ms: i64,
}

impl From<&Product> for StoredProduct {
    fn from(p: &Product) -> Self {
        StoredProduct {
            id: p.id.clone(),
            handle: p.handle.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            brand: p.brand.clone(),
            tags: p.tags.clone(),
            collections: p.collections.clone(),
            images: p.images.clone(),
            status: p.status,
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
        }
    }
}

impl From<StoredProduct> for Product {
    fn from(s: StoredProduct) -> Self {
        Product {
            id: s.id,
            handle: s.handle,
            title: s.title,
            description: s.description,
            brand: s.brand,
            tags: s.tags,
            collections: s.collections,
            images: s.images,
            status: s.status,
            created_ms: s.created_ms,
            updated_ms: s.updated_ms,
        }
    }
}

/// A variant, as stored under `var/<id>`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredVariant {
    id: VariantId,
    product_id: ProductId,
    sku: String,
    title: String,
    options: BTreeMap<String, String>,
    gtin: Option<String>,
    weight_grams: Option<i64>,
    price: Money,
    compare_at: Option<Money>,
    backorderable: bool,
    created_ms: i64,
    updated_ms: i64,
}

impl From<&Variant> for StoredVariant {
    fn from(v: &Variant) -> Self {
        StoredVariant {
            id: v.id.clone(),
            product_id: v.product_id.clone(),
            sku: v.sku.clone(),
            title: v.title.clone(),
            options: v.options.clone(),
            gtin: v.gtin.clone(),
            weight_grams: v.weight_grams,
            price: v.price.clone(),
            compare_at: v.compare_at.clone(),
            backorderable: v.backorderable,
            created_ms: v.created_ms,
            updated_ms: v.updated_ms,
        }
    }
}

impl From<StoredVariant> for Variant {
    fn from(s: StoredVariant) -> Self {
        Variant {
            id: s.id,
            product_id: s.product_id,
            sku: s.sku,
            title: s.title,
            options: s.options,
            gtin: s.gtin,
            weight_grams: s.weight_grams,
            price: s.price,
            compare_at: s.compare_at,
            backorderable: s.backorderable,
            created_ms: s.created_ms,
            updated_ms: s.updated_ms,
        }
    }
}

/// An order, as stored under `ord/<id>`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredOrder {
    id: OrderId,
    number: u64,
    channel_id: Option<ChannelId>,
    external_id: Option<String>,
    cart_id: Option<CartId>,
    customer_id: Option<CustomerId>,
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment: Option<PaymentMethod>,
    currency: String,
    lines: Vec<StoredOrderLine>,
    subtotal: Money,
    discount_total: Money,
    total: Money,
    promotions: Vec<AppliedPromotion>,
    codes: Vec<String>,
    fulfilment: Fulfilment,
    status: OrderStatus,
    history: Vec<StatusChange>,
    refunded: Money,
    tracking: Option<String>,
    attributed_campaign: Option<CampaignRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_touch_campaign: Option<CampaignRef>,
    note: Option<String>,
    placed_ms: i64,
    updated_ms: i64,
}

/// One line of a stored order.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredOrderLine {
    line_no: u32,
    variant_id: VariantId,
    product_id: ProductId,
    sku: String,
    title: String,
    quantity: i64,
    unit_price: Money,
    line_discount: Money,
    order_discount_share: Money,
    total: Money,
    promotion: Option<AppliedPromotion>,
    allocations: Vec<Allocation>,
    returned: i64,
}

impl From<&OrderLine> for StoredOrderLine {
    fn from(l: &OrderLine) -> Self {
        StoredOrderLine {
            line_no: l.line_no,
            variant_id: l.variant_id.clone(),
            product_id: l.product_id.clone(),
            sku: l.sku.clone(),
            title: l.title.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price.clone(),
            line_discount: l.line_discount.clone(),
            order_discount_share: l.order_discount_share.clone(),
            total: l.total.clone(),
            promotion: l.promotion.clone(),
            allocations: l.allocations.clone(),
            returned: l.returned,
        }
    }
}

impl From<StoredOrderLine> for OrderLine {
    fn from(s: StoredOrderLine) -> Self {
        OrderLine {
            line_no: s.line_no,
            variant_id: s.variant_id,
            product_id: s.product_id,
            sku: s.sku,
            title: s.title,
            quantity: s.quantity,
            unit_price: s.unit_price,
            line_discount: s.line_discount,
            order_discount_share: s.order_discount_share,
            total: s.total,
            promotion: s.promotion,
            allocations: s.allocations,
            returned: s.returned,
        }
    }
}

impl From<&Order> for StoredOrder {
    fn from(o: &Order) -> Self {
        StoredOrder {
            id: o.id.clone(),
            number: o.number,
            channel_id: o.channel_id.clone(),
            external_id: o.external_id.clone(),
            cart_id: o.cart_id.clone(),
            customer_id: o.customer_id.clone(),
            email: o.email.clone(),
            phone: o.phone.clone(),
            payment: o.payment,
            currency: o.currency.clone(),
            lines: o.lines.iter().map(StoredOrderLine::from).collect(),
            subtotal: o.subtotal.clone(),
            discount_total: o.discount_total.clone(),
            total: o.total.clone(),
            promotions: o.promotions.clone(),
            codes: o.codes.clone(),
            fulfilment: o.fulfilment.clone(),
            status: o.status,
            history: o.history.clone(),
            refunded: o.refunded.clone(),
            tracking: o.tracking.clone(),
            attributed_campaign: o.attributed_campaign.clone(),
            first_touch_campaign: o.first_touch_campaign.clone(),
            note: o.note.clone(),
            placed_ms: o.placed_ms,
            updated_ms: o.updated_ms,
        }
    }
}

impl From<StoredOrder> for Order {
    fn from(s: StoredOrder) -> Self {
        Order {
            id: s.id,
            number: s.number,
            channel_id: s.channel_id,
            external_id: s.external_id,
            cart_id: s.cart_id,
            customer_id: s.customer_id,
            email: s.email,
            phone: s.phone,
            payment: s.payment,
            currency: s.currency,
            lines: s.lines.into_iter().map(OrderLine::from).collect(),
            subtotal: s.subtotal,
            discount_total: s.discount_total,
            total: s.total,
            promotions: s.promotions,
            codes: s.codes,
            fulfilment: s.fulfilment,
            status: s.status,
            history: s.history,
            refunded: s.refunded,
            tracking: s.tracking,
            attributed_campaign: s.attributed_campaign,
            first_touch_campaign: s.first_touch_campaign,
            note: s.note,
            placed_ms: s.placed_ms,
            updated_ms: s.updated_ms,
        }
    }
}

/// A customer profile, as stored under `cus/<id>`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredCustomer {
    id: CustomerId,
    name: Option<String>,
    identities: Vec<Identity>,
    consents: Vec<ConsentRecord>,
    merged_into: Option<CustomerId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    created_ms: i64,
    updated_ms: i64,
}

impl From<&Customer> for StoredCustomer {
    fn from(c: &Customer) -> Self {
        StoredCustomer {
            id: c.id.clone(),
            name: c.name.clone(),
            identities: c.identities.clone(),
            consents: c.consents.clone(),
            merged_into: c.merged_into.clone(),
            tags: c.tags.clone(),
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

impl From<StoredCustomer> for Customer {
    fn from(s: StoredCustomer) -> Self {
        Customer {
            id: s.id,
            name: s.name,
            identities: s.identities,
            consents: s.consents,
            merged_into: s.merged_into,
            tags: s.tags,
            created_ms: s.created_ms,
            updated_ms: s.updated_ms,
        }
    }
}
