//! The `catalog` interface: products and collections as the calling channel
//! sees them, paged by product id.

use omnistore_core::{self as domain, Core};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use wit::HostError;

use super::CoreServices;
use super::call::{Outcome, Scope, is_not_found};
use super::convert::{wit_collection, wit_product};

/// Largest page of products a plugin gets; the contract promises this cap.
const MAX_PAGE: u32 = 500;
/// Longest cursor accepted back from a plugin (cursors are product ids).
const MAX_CURSOR_LEN: usize = 256;

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

pub(super) async fn get_product(
    services: &CoreServices,
    cx: &CallContext,
    id: &str,
) -> ServiceResult<Option<wit::Product>> {
    let id = domain::ProductId::new(id);
    services.read(cx, "catalog.get-product", move |core, s| visible_product(core, s, &id)).await
}

pub(super) async fn get_product_by_handle(
    services: &CoreServices,
    cx: &CallContext,
    handle: &str,
) -> ServiceResult<Option<wit::Product>> {
    let handle = handle.to_owned();
    services
        .read(cx, "catalog.get-product-by-handle", move |core, s| {
            match core.channel_product_by_handle(&s.tenant, &s.channel, &handle, s.now) {
                Ok(view) => Ok(Some(wit_product(core, &s.tenant, &s.channel, &view, s.now)?)),
                Err(e) if is_not_found(&e, "product") => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
}

pub(super) async fn find_sku(
    services: &CoreServices,
    cx: &CallContext,
    sku: &str,
) -> ServiceResult<Option<(wit::Product, wit::Variant)>> {
    let sku = sku.to_owned();
    services
        .read(cx, "catalog.find-sku", move |core, s| {
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

pub(super) async fn list_products(
    services: &CoreServices,
    cx: &CallContext,
    cursor: Option<String>,
    limit: u32,
) -> ServiceResult<wit::ProductPage> {
    let limit = page_size(limit);
    services
        .read(cx, "catalog.list-products", move |core, s| {
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

pub(super) async fn list_collection_products(
    services: &CoreServices,
    cx: &CallContext,
    collection_id: &str,
    cursor: Option<String>,
    limit: u32,
) -> ServiceResult<wit::ProductPage> {
    let collection = domain::CollectionId::new(collection_id);
    let limit = page_size(limit);
    services
        .read(cx, "catalog.list-collection-products", move |core, s| {
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

pub(super) async fn list_collections(services: &CoreServices, cx: &CallContext) -> ServiceResult<Vec<wit::Collection>> {
    services
        .read(cx, "catalog.list-collections", |core, s| {
            // Read the channel so that an unregistered installation is refused
            // like on every other import.
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(core.list_collections(&s.tenant)?.iter().map(wit_collection).collect())
        })
        .await
}
