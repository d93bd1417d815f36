//! A product's images put in order or removed from its page. The first
//! image is the one channels show first (the storefront's main picture, the
//! feeds' `image_link`), so its order matters to the merchant. The form
//! names the image by its address, so an image list changed meanwhile (in
//! another tab, through the API) refuses the move instead of moving another
//! picture.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{ProductId, ProductPatch};

use super::super::session::ShopForm;
use super::super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// What a button asks of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrangement {
    First,
    Up,
    Down,
    Remove,
}

impl Arrangement {
    fn parse(action: &str) -> Option<Arrangement> {
        match action {
            "first" => Some(Arrangement::First),
            "up" => Some(Arrangement::Up),
            "down" => Some(Arrangement::Down),
            "remove" => Some(Arrangement::Remove),
            _ => None,
        }
    }
}

/// `images` with the one at `at` moved or removed as asked.
fn arranged<T>(mut images: Vec<T>, at: usize, how: Arrangement) -> Vec<T> {
    match how {
        Arrangement::First => images[..=at].rotate_right(1),
        Arrangement::Up if at > 0 => images.swap(at, at - 1),
        Arrangement::Down if at + 1 < images.len() => images.swap(at, at + 1),
        Arrangement::Remove => {
            images.remove(at);
        }
        Arrangement::Up | Arrangement::Down => {}
    }
    images
}

pub(crate) async fn arrange_image(
    State(state): State<UiState>,
    Path((product, action)): Path<(String, String)>,
    ShopForm { shop, fields, .. }: ShopForm,
) -> Result<Response, UiError> {
    let how = Arrangement::parse(&action)
        .ok_or_else(|| AdminError::not_found(format!("no image action `{action}`; use first, up, down or remove")))?;
    let url = fields.get("url").cloned().unwrap_or_default();
    let id = ProductId::new(product);
    let (core, tenant, now, pid) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now(), id.clone());
    blocking(move || {
        let images = core.get_product(&tenant, &pid)?.product.images;
        let Some(at) = images.iter().position(|i| i.url == url) else {
            return Err(AdminError::conflict(
                "this image is no longer on the product (it changed meanwhile); reload the page and try again",
            ));
        };
        let patch = ProductPatch { images: Some(arranged(images, at, how)), ..Default::default() };
        core.update_product(&tenant, &pid, patch, now)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/admin/products/{id}?done=images#images-h")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_move_within_bounds_and_are_removed() {
        let four = || vec!['a', 'b', 'c', 'd'];
        assert_eq!(arranged(four(), 2, Arrangement::First), ['c', 'a', 'b', 'd']);
        assert_eq!(arranged(four(), 0, Arrangement::First), ['a', 'b', 'c', 'd']);
        assert_eq!(arranged(four(), 1, Arrangement::Up), ['b', 'a', 'c', 'd']);
        assert_eq!(arranged(four(), 0, Arrangement::Up), ['a', 'b', 'c', 'd']);
        assert_eq!(arranged(four(), 3, Arrangement::Down), ['a', 'b', 'c', 'd']);
        assert_eq!(arranged(four(), 2, Arrangement::Down), ['a', 'b', 'd', 'c']);
        assert_eq!(arranged(four(), 1, Arrangement::Remove), ['a', 'c', 'd']);
        assert_eq!(Arrangement::parse("sideways"), None);
    }
}
