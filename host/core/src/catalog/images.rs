//! Images of products: the ones the host keeps (uploaded bytes, named by
//! their SHA-256) beside plain URLs, their validation and their order.

use omnistore_types::ImageFormat;
use serde::{Deserialize, Serialize};

use super::{Image, Product, emit_product_changed, load_product};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ImageId, ProductId, TenantId};
use crate::store::Core;
use crate::validate;

/// Most images one product may have.
pub const MAX_IMAGES: usize = 100;

/// What the host knows of an image it keeps. The bytes are the host's
/// (outside the core); the core keeps what a page needs to show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMedia {
    /// Issued by the core, unique in the tenant: one image on one product.
    pub id: ImageId,
    /// Lowercase hex SHA-256 of the original bytes.
    pub sha256: String,
    pub content_type: ImageFormat,
    pub width: u32,
    pub height: u32,
}

impl ImageMedia {
    /// The image's path on the shop's host names. Immutable: other bytes
    /// have another hash and so another URL.
    pub fn url(&self) -> String {
        format!("/media/{}/{}.{}", self.id, self.sha256, self.content_type.extension())
    }
}

/// An image the host has just stored, to attach to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImageMedia {
    pub sha256: String,
    pub content_type: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub alt: Option<String>,
}

fn check_media(tenant: &TenantId, media: &ImageMedia) -> CoreResult<()> {
    let hex =
        media.sha256.len() == 64 && media.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex {
        return Err(CoreError::invalid("an image's sha256 must be 64 lowercase hex digits"));
    }
    if !media.id.issued_in(tenant) {
        return Err(CoreError::invalid(format!(
            "image id `{}` was not issued for this shop; upload the image to get one",
            media.id
        )));
    }
    if media.width == 0 || media.height == 0 || media.width > 65_535 || media.height > 65_535 {
        return Err(CoreError::invalid("an image's width and height must be from 1 to 65535"));
    }
    Ok(())
}

/// Validate a product's images; the URL of a kept image is rewritten from
/// its media, so a client sending images back in another order (or with a
/// stale URL) cannot point one at another file.
pub(super) fn check_images(tenant: &TenantId, images: &[Image]) -> CoreResult<Vec<Image>> {
    if images.len() > MAX_IMAGES {
        return Err(CoreError::invalid(format!("a product has at most {MAX_IMAGES} images")));
    }
    let mut ids = std::collections::BTreeSet::new();
    images
        .iter()
        .map(|i| {
            let alt = validate::opt_text("image alt", i.alt.as_deref(), 500)?;
            let url = match &i.media {
                Some(media) => {
                    check_media(tenant, media)?;
                    if !ids.insert(media.id.clone()) {
                        return Err(CoreError::invalid(format!("image `{}` is listed twice", media.id)));
                    }
                    media.url()
                }
                None => validate::text("image url", &i.url, 2048)?,
            };
            Ok(Image { url, alt, media: i.media.clone() })
        })
        .collect()
}

impl Core {
    /// Add an image the host has stored to the end of a product's images;
    /// returns the product and the new image (with its id and URL).
    pub fn attach_image(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        new: NewImageMedia,
        now_ms: i64,
    ) -> CoreResult<(Product, Image)> {
        let alt = validate::opt_text("image alt", new.alt.as_deref(), 500)?;
        self.write(tenant, now_ms, |tx| {
            let mut p = load_product(tx, product)?;
            if p.images.len() >= MAX_IMAGES {
                return Err(CoreError::invalid(format!(
                    "the product has {MAX_IMAGES} images already; delete one first"
                )));
            }
            let media = ImageMedia {
                id: ImageId::new(tx.new_id(ImageId::PREFIX)?),
                sha256: new.sha256.clone(),
                content_type: new.content_type,
                width: new.width,
                height: new.height,
            };
            check_media(&tx.tenant, &media)?;
            let image = Image { url: media.url(), alt: alt.clone(), media: Some(media) };
            p.images.push(image.clone());
            p.updated_ms = now_ms;
            tx.put(&["prd", p.id.as_str()], &p)?;
            emit_product_changed(tx, &p)?;
            Ok((p, image))
        })
    }

    /// The SHA-256 of every kept image some product of the tenant shows:
    /// the files the host must keep (see `omnistore_media::MediaStore::prune`).
    pub fn images_in_use(&self, tenant: &TenantId) -> CoreResult<std::collections::BTreeSet<String>> {
        self.read(tenant, |tx| {
            Ok(tx
                .scan::<Product>(&["prd"])?
                .into_iter()
                .flat_map(|(_, p)| p.images.into_iter().filter_map(|i| i.media.map(|m| m.sha256)))
                .collect())
        })
    }

    /// Take a kept image off a product; returns the product and the image.
    pub fn detach_image(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        image: &ImageId,
        now_ms: i64,
    ) -> CoreResult<(Product, Image)> {
        self.write(tenant, now_ms, |tx| {
            let mut p = load_product(tx, product)?;
            let at = p
                .images
                .iter()
                .position(|i| i.media.as_ref().is_some_and(|m| m.id == *image))
                .ok_or_else(|| CoreError::not_found("image", image.as_str()))?;
            let removed = p.images.remove(at);
            p.updated_ms = now_ms;
            tx.put(&["prd", p.id.as_str()], &p)?;
            emit_product_changed(tx, &p)?;
            Ok((p, removed))
        })
    }
}
