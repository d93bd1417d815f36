//! The tenant's catalog as this channel sees it: only products published to
//! the channel, prices after automatic promotions, availability after the
//! channel's safety buffer. Needs `"catalog"` in `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::catalog::{
    find_sku, get_product, get_product_by_handle, list_collection_products, list_collections, list_products,
};

use crate::ids::{CollectionId, ProductId};
use crate::{HostError, Product, ProductPage};

/// The product with this id, or `None` when this channel cannot see it:
/// [`get_product`] with a typed id.
///
/// ```no_run
/// # fn f(stock: omnistore_sdk::StockChange) -> Result<(), omnistore_sdk::PluginError> {
/// if let Some(product) = omnistore_sdk::catalog::product(&stock.product_id())? {
///     omnistore_sdk::info!("stock changed", title = product.title);
/// }
/// # Ok(()) }
/// ```
pub fn product(id: &ProductId) -> Result<Option<Product>, HostError> {
    get_product(id.as_str())
}

/// A page of the products of a collection: [`list_collection_products`]
/// with a typed id.
pub fn products_in(collection: &CollectionId, cursor: Option<&str>, limit: u32) -> Result<ProductPage, HostError> {
    list_collection_products(collection.as_str(), cursor, limit)
}

/// Every product, fetched page by page (`page_size` per host call, capped by
/// the host at 500). Stops after the first error, which it yields.
///
/// To stream a feed, prefer one [`list_products`] page per response page
/// (see [`Response::with_continuation`](crate::Response::with_continuation)),
/// so memory stays bounded by a page.
pub fn all_products(page_size: u32) -> impl Iterator<Item = Result<Product, HostError>> {
    let mut cursor: Option<String> = None;
    let mut page = Vec::new().into_iter();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(p) = page.next() {
                return Some(Ok(p));
            }
            if done {
                return None;
            }
            match list_products(cursor.as_deref(), page_size) {
                Ok(next) => {
                    done = next.next.is_none();
                    cursor = next.next;
                    page = next.products.into_iter();
                }
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            }
        }
    })
}
