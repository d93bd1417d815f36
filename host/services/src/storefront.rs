//! The imports contract 0.2.0 added for storefronts, on the core: search and
//! sorted collection pages, locations and pickup for a cart, files, placing
//! an order with a contact, and the shop. [`CoreServices`]'s `HostServices`
//! implementation (in `commerce.rs`) calls these.

use omnistore_core::{self as domain, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use wit::HostError;

use crate::commerce::{CoreServices, Outcome, Scope, core_fulfilment, wit_order, wit_product};
use crate::files::{FileStore, FileVersion, FilesError};

fn core_sort(sort: wit::ProductSort) -> domain::ProductSort {
    match sort {
        wit::ProductSort::Manual => domain::ProductSort::Manual,
        wit::ProductSort::TitleAscending => domain::ProductSort::TitleAscending,
        wit::ProductSort::TitleDescending => domain::ProductSort::TitleDescending,
        wit::ProductSort::PriceAscending => domain::ProductSort::PriceAscending,
        wit::ProductSort::PriceDescending => domain::ProductSort::PriceDescending,
        wit::ProductSort::CreatedAscending => domain::ProductSort::CreatedAscending,
        wit::ProductSort::CreatedDescending => domain::ProductSort::CreatedDescending,
    }
}

fn core_payment(p: wit::PaymentMethod) -> domain::PaymentMethod {
    match p {
        wit::PaymentMethod::PayAtPickup => domain::PaymentMethod::PayAtPickup,
        wit::PaymentMethod::Manual => domain::PaymentMethod::Manual,
    }
}

/// A location for a plugin. The core keeps the address as one line of text.
fn wit_location(l: &domain::Location) -> wit::Location {
    wit::Location {
        id: l.id.to_string(),
        name: l.name.clone(),
        address: wit::Address {
            name: l.name.clone(),
            line1: l.address.clone().unwrap_or_default(),
            line2: None,
            city: String::new(),
            region: None,
            postal_code: String::new(),
            country: String::new(),
            phone: None,
        },
        pickup: l.pickup_enabled && l.active,
    }
}

fn views_to_products(
    core: &domain::Core,
    s: &Scope,
    views: &[domain::ChannelProductView],
) -> Outcome<Vec<wit::Product>> {
    Ok(views.iter().map(|v| wit_product(core, &s.tenant, &s.channel, v, s.now)).collect::<Result<Vec<_>, _>>()?)
}

/// A files failure as the contract's error.
fn files_error(e: FilesError) -> HostError {
    match e {
        FilesError::InvalidPath { .. } => HostError::Invalid(e.to_string()),
        FilesError::TooLarge { .. } | FilesError::QuotaExceeded { .. } => HostError::QuotaExceeded(e.to_string()),
        FilesError::Storage(_) => {
            tracing::error!(error = %e, "files could not be read");
            HostError::Unavailable("the files are temporarily unavailable; try again later".into())
        }
    }
}

impl CoreServices {
    pub(crate) async fn search(
        &self,
        cx: &CallContext,
        query: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> ServiceResult<wit::ProductPage> {
        let query = query.to_owned();
        self.read(cx, "catalog.search", move |core, s| {
            let page =
                core.search_channel_products(&s.tenant, &s.channel, &query, cursor.as_deref(), limit as usize, s.now)?;
            Ok(wit::ProductPage { products: views_to_products(core, s, &page.products)?, next: page.next })
        })
        .await
    }

    pub(crate) async fn browse(
        &self,
        cx: &CallContext,
        collection_id: &str,
        sort: wit::ProductSort,
        offset: u32,
        limit: u32,
    ) -> ServiceResult<wit::CountedPage> {
        let collection = domain::CollectionId::new(collection_id);
        self.read(cx, "catalog.browse-collection", move |core, s| {
            let page = core.browse_collection(
                &s.tenant,
                &s.channel,
                &collection,
                core_sort(sort),
                domain::Window { offset: offset as usize, limit: limit as usize },
                s.now,
            )?;
            Ok(wit::CountedPage {
                products: views_to_products(core, s, &page.products)?,
                total: u32::try_from(page.total).unwrap_or(u32::MAX),
            })
        })
        .await
    }

    pub(crate) async fn locations(&self, cx: &CallContext) -> ServiceResult<Vec<wit::Location>> {
        self.read(cx, "locations.list", |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(core.list_locations(&s.tenant)?.iter().map(wit_location).collect())
        })
        .await
    }

    pub(crate) async fn pickup_locations(&self, cx: &CallContext, cart_id: &str) -> ServiceResult<Vec<wit::Location>> {
        let cart = domain::CartId::new(cart_id);
        self.call(cx, "locations.for-cart", move |core, s| {
            core.cart_for_channel(&s.tenant, &s.channel, &cart)?;
            Ok(core.pickup_locations_for_cart(&s.tenant, &s.channel, &cart, s.now)?.iter().map(wit_location).collect())
        })
        .await
    }

    pub(crate) async fn file(&self, cx: &CallContext, path: &str) -> ServiceResult<Option<Vec<u8>>> {
        let path = path.to_owned();
        let version = if cx.preview { FileVersion::Draft } else { FileVersion::Live };
        let files = FileStore::new(self.core().store().clone());
        self.read(cx, "files.get", move |_, s| {
            files.get(&s.tenant, s.channel.as_str(), version, &path).map_err(|e| files_error(e).into())
        })
        .await
    }

    pub(crate) async fn file_paths(&self, cx: &CallContext, prefix: &str) -> ServiceResult<Vec<String>> {
        let prefix = prefix.to_owned();
        let version = if cx.preview { FileVersion::Draft } else { FileVersion::Live };
        let files = FileStore::new(self.core().store().clone());
        self.read(cx, "files.list", move |_, s| {
            files.list(&s.tenant, s.channel.as_str(), version, &prefix).map_err(|e| files_error(e).into())
        })
        .await
    }

    pub(crate) async fn place(
        &self,
        cx: &CallContext,
        cart_id: &str,
        request: wit::CheckoutRequest,
    ) -> ServiceResult<wit::Order> {
        let cart = domain::CartId::new(cart_id);
        self.call(cx, "carts.place-order", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.cart_for_channel(&s.tenant, &s.channel, &cart)?;
            let place = domain::PlaceOrder {
                contact: domain::Contact {
                    email: request.contact.email,
                    phone: request.contact.phone,
                    name: request.contact.name,
                },
                email_marketing: request.email_marketing,
                sms_marketing: request.sms_marketing,
                fulfilment: core_fulfilment(&request.fulfillment),
                payment: core_payment(request.payment),
                visitor_id: request.visitor_id,
                note: request.note,
            };
            let order = core.place_order(&s.tenant, &s.channel, &cart, place, s.now)?;
            if let Some(customer) = &order.customer_id {
                core.grant_customer_reach(&s.tenant, &s.channel, customer, Reach::Identified, s.now)?;
            }
            Ok(wit_order(&order))
        })
        .await
    }

    pub(crate) async fn shop_of(&self, cx: &CallContext) -> ServiceResult<wit::Shop> {
        self.read(cx, "settings.shop", |core, s| {
            let tenant = core.get_tenant(&s.tenant)?;
            Ok(wit::Shop {
                languages: tenant.languages(),
                name: tenant.name,
                currency: tenant.currency,
                contact_email: tenant.contact_email,
                contact_phone: tenant.contact_phone,
            })
        })
        .await
    }
}
