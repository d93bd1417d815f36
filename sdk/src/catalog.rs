//! The tenant's catalog as this channel sees it: only products published to
//! the channel, prices after automatic promotions, availability after the
//! channel's safety buffer. Needs `"catalog"` in `[capabilities].imports`.

pub use crate::__private::bindings::omnistore::plugin::catalog::{
    find_sku, get_product, get_product_by_handle, list_collection_products, list_collections, list_products,
};

use crate::{HostError, Product};

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
