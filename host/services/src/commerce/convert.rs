//! Conversions between the contract's (WIT) types and the core's domain types.
//! Where their shapes differ (an address's region, a social handle's network), the
//! choice is made here; `commerce.rs` lists it.

use omnistore_core::{self as domain, ChannelId, Core, CoreError};
use omnistore_runtime::types as wit;

// ---- conversions: core → contract -------------------------------------------------

pub(crate) fn wit_money(m: &domain::Money) -> wit::Money {
    wit::Money { amount_minor: m.amount_minor, currency: m.currency.clone() }
}

pub(super) fn core_money(m: &wit::Money) -> domain::Money {
    // Not validated here: the core checks currency and sign where it matters.
    domain::Money { amount_minor: m.amount_minor, currency: m.currency.clone() }
}

pub(super) fn zero(currency: &str) -> wit::Money {
    wit::Money { amount_minor: 0, currency: currency.to_owned() }
}

pub(super) fn u32_of(n: i64) -> u32 {
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

/// A return as the contract carries it, with `order` as it is after it.
pub(crate) fn wit_return(r: &domain::Return, order: &domain::Order) -> wit::OrderReturn {
    wit::OrderReturn {
        id: r.id.to_string(),
        order: wit_order(order),
        location_id: r.location_id.to_string(),
        lines: r
            .lines
            .iter()
            .map(|l| wit::ReturnedLine {
                variant_id: l.variant_id.to_string(),
                sku: l.sku.clone(),
                title: order.lines.iter().find(|o| o.line_no == l.line_no).map(|o| o.title.clone()).unwrap_or_default(),
                quantity: u32_of(l.quantity),
                refund: wit_money(&l.refund),
                restocked: l.disposition == domain::Disposition::Restock,
            })
            .collect(),
        refund: wit_money(&r.refund_total),
        received_at: r.created_ms,
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

/// A campaign's message as its channel receives it. The contract's record has
/// no channel or medium: the core addressed the event to the one installation
/// that delivers it. An SMS has an empty subject.
pub(crate) fn wit_campaign_message(m: &domain::CampaignMessageEvent) -> wit::CampaignMessage {
    wit::CampaignMessage {
        campaign_id: m.campaign_id.to_string(),
        customer_id: m.customer_id.to_string(),
        subject: m.subject.clone(),
        text: m.text.clone(),
        html: m.html.clone(),
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
pub(super) fn core_identity(i: &wit::Identity, plugin: &str) -> domain::Identity {
    let kind = match i.kind {
        wit::IdentityKind::Email => domain::IdentityKind::Email,
        wit::IdentityKind::Phone => domain::IdentityKind::Phone,
        wit::IdentityKind::SocialHandle => domain::IdentityKind::Social { network: plugin.to_owned() },
    };
    domain::Identity { kind, value: i.value.clone() }
}

pub(super) fn core_visit_source(v: &wit::VisitSource) -> domain::VisitSource {
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
