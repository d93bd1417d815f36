//! The tenant's catalog as this channel sees it: only products published to
//! the channel, prices after automatic promotions, availability after the
//! channel's safety buffer. Needs `"catalog"` in `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::catalog::{
    browse_collection as browse_collection_raw, find_sku, get_product, get_product_by_handle, list_collection_products,
    list_collections, list_products, search as search_raw,
};

use crate::ids::{CollectionId, ProductId};
use crate::{CountedPage, HostError, Product, ProductPage, ProductSort};

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

/// Products matching every word of `query` in title, tags, description,
/// brand or a SKU (case- and accent-insensitive), best matches first; pass
/// the page's `next` as `cursor` for the next page. The host answers
/// `invalid` for a cursor it did not produce.
///
/// ```no_run
/// # fn f() -> Result<(), omnistore_sdk::PluginError> {
/// let first = omnistore_sdk::catalog::search("cannolo pistacchio", None, 24)?;
/// if let Some(cursor) = &first.next {
///     let _second = omnistore_sdk::catalog::search("cannolo pistacchio", Some(cursor), 24)?;
/// }
/// # Ok(()) }
/// ```
pub fn search(query: &str, cursor: Option<&str>, limit: u32) -> Result<ProductPage, HostError> {
    search_raw(query, cursor, limit)
}

/// One numbered page of a collection's products in `sort` order: skip
/// `offset`, at most `limit` (the host caps it at 250), with the total
/// count for pagination.
///
/// ```no_run
/// # fn f(collection: omnistore_sdk::CollectionId) -> Result<(), omnistore_sdk::PluginError> {
/// use omnistore_sdk::ProductSort;
/// use omnistore_sdk::catalog::browse_collection;
/// let sort = ProductSort::from_sort_by("price-ascending").unwrap_or(ProductSort::Manual);
/// let page = browse_collection(&collection, sort, 24, 24)?; // the second page of 24
/// let pages = page.total.div_ceil(24);
/// # Ok(()) }
/// ```
pub fn browse_collection(
    collection: &CollectionId,
    sort: ProductSort,
    offset: u32,
    limit: u32,
) -> Result<CountedPage, HostError> {
    browse_collection_raw(collection.as_str(), sort, offset, limit)
}

impl ProductSort {
    /// Every order, in the order a sort menu lists them.
    pub const ALL: [ProductSort; 7] = [
        ProductSort::Manual,
        ProductSort::TitleAscending,
        ProductSort::TitleDescending,
        ProductSort::PriceAscending,
        ProductSort::PriceDescending,
        ProductSort::CreatedAscending,
        ProductSort::CreatedDescending,
    ];

    /// The order a Shopify `sort_by` value names (`title-ascending`,
    /// `price-descending`, …), or `None` for one there is no such order for
    /// (`best-selling`, a typo): fall back to [`ProductSort::Manual`].
    ///
    /// ```
    /// use omnistore_sdk::ProductSort;
    /// assert_eq!(ProductSort::from_sort_by("price-descending"), Some(ProductSort::PriceDescending));
    /// assert_eq!(ProductSort::from_sort_by("best-selling"), None);
    /// for sort in ProductSort::ALL {
    ///     assert_eq!(ProductSort::from_sort_by(sort.sort_by()), Some(sort));
    /// }
    /// ```
    pub fn from_sort_by(value: &str) -> Option<ProductSort> {
        ProductSort::ALL.into_iter().find(|s| s.sort_by() == value)
    }

    /// The Shopify `sort_by` value of this order.
    pub fn sort_by(self) -> &'static str {
        match self {
            ProductSort::Manual => "manual",
            ProductSort::TitleAscending => "title-ascending",
            ProductSort::TitleDescending => "title-descending",
            ProductSort::PriceAscending => "price-ascending",
            ProductSort::PriceDescending => "price-descending",
            ProductSort::CreatedAscending => "created-ascending",
            ProductSort::CreatedDescending => "created-descending",
        }
    }
}
