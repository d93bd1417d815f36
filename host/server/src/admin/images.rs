//! Product images: uploaded as the raw body, checked and stored by
//! `omnistore-media`, attached to the product by the core.
//!
//! The image's URL is host-relative, `/media/{image id}/{sha256}.{ext}`,
//! answered on the tenant's own host names (and under `/t/{tenant}` where
//! path routing is on) with `?width=N` variants; see `crate::media`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use omnistore_core::{Image, ImageId, NewImageMedia, ProductId};
use omnistore_media::{ImageFormat, MediaError, MediaStore};
use serde::Deserialize;

use super::extract::{P, Q, RawBody, Scope};
use super::wire;
use super::{Access, AdminError, AdminState, Routes, blocking, doc, param};

/// The Content-Types an upload may have.
pub(crate) const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/gif"];

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Catalog")
        .post(
            "/tenants/{tenant}/products/{product}/images",
            upload,
            doc(
                "uploadProductImage",
                "Upload an image (the raw bytes, Content-Type image/jpeg, png, webp or gif) and add it to the \
                 product's images; reorder or remove images with updateProduct",
            )
            .raw_body(IMAGE_TYPES)
            .query(const { &[param("alt", "string", "the image's text alternative")] })
            .created::<wire::Image>(),
        )
        .delete(
            "/tenants/{tenant}/products/{product}/images/{image}",
            remove,
            doc("deleteProductImage", "Take an uploaded image off the product").no_content(),
        )
        .post(
            "/tenants/{tenant}/images/prune",
            prune,
            doc(
                "pruneImages",
                "Remove the kept images no product shows any more (taken off, or their product deleted), with their \
                 resized copies; images uploaded within the grace period stay",
            )
            .query(
                const {
                    &[param(
                        "grace_s",
                        "integer",
                        "keep images written less than this many seconds ago (default 3600: an upload whose product is being saved)",
                    )]
                },
            )
            .ok::<wire::ImagesPruned>(),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PruneQuery {
    grace_s: Option<u64>,
}

/// How long a new file is kept before a prune may take it, by default.
const PRUNE_GRACE_S: u64 = 3600;

async fn prune(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PruneQuery>,
) -> Result<Json<wire::ImagesPruned>, AdminError> {
    let media = media(&state)?;
    let grace = std::time::Duration::from_secs(q.grace_s.unwrap_or(PRUNE_GRACE_S));
    let written_before = std::time::SystemTime::now().checked_sub(grace).unwrap_or(std::time::UNIX_EPOCH);
    let core = state.core().clone();
    let pruned = blocking(move || {
        // In use is read first: an image attached after this read was
        // uploaded within the grace period, so its file stays.
        let in_use = core.images_in_use(&tenant)?;
        let pruned = media.prune(&tenant, &in_use, written_before).map_err(media_error)?;
        tracing::info!(%tenant, removed = pruned.removed, kept = pruned.kept, "unused images pruned");
        Ok(pruned)
    })
    .await?;
    Ok(Json(wire::ImagesPruned { removed: pruned.removed, kept: pruned.kept }))
}

/// Whether a request is an image upload (its body limit is the media limit).
pub(crate) fn is_upload(segments: &[&str]) -> bool {
    matches!(segments, [.., "tenants", _, "products", _, "images"])
}

#[derive(Debug, Deserialize)]
struct ProductPath {
    product: ProductId,
}

#[derive(Debug, Deserialize)]
struct ImagePath {
    product: ProductId,
    image: ImageId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    alt: Option<String>,
}

pub(crate) fn media_error(err: MediaError) -> AdminError {
    match err {
        MediaError::TooLarge { limit, .. } => AdminError::too_large(limit),
        e @ (MediaError::NotAnImage | MediaError::Unsupported(_) | MediaError::Mismatch { .. }) => {
            AdminError::unsupported_media_type(e.to_string())
        }
        e @ (MediaError::Dimensions { .. } | MediaError::Corrupt { .. } | MediaError::BadWidth(_)) => {
            AdminError::invalid(e.to_string())
        }
        e @ (MediaError::Encode { .. } | MediaError::Io(_)) => AdminError::internal(e.to_string()),
    }
}

fn media(state: &AdminState) -> Result<Arc<MediaStore>, AdminError> {
    state.media.clone().ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            "this host keeps no images (no media directory)",
        )
    })
}

/// An image as it arrived.
#[derive(Debug)]
pub(crate) struct Upload<'a> {
    pub(crate) bytes: &'a [u8],
    /// What the client said it is.
    pub(crate) declared: Option<ImageFormat>,
    pub(crate) alt: Option<String>,
}

/// Store the upload for `tenant` and attach them to `product`, off the executor.
/// The product is checked first, and a file this upload wrote is removed
/// again if the core refuses, so a refused upload leaves nothing behind.
/// The demo seed goes through here too.
pub(crate) fn store_and_attach(
    core: &omnistore_core::Core,
    media: &MediaStore,
    tenant: &omnistore_core::TenantId,
    product: &ProductId,
    upload: Upload<'_>,
    now_ms: i64,
) -> Result<Image, AdminError> {
    core.get_product(tenant, product)?;
    let stored = media.put(tenant, upload.bytes, upload.declared).map_err(media_error)?;
    let new = NewImageMedia {
        sha256: stored.image.sha256.clone(),
        content_type: stored.image.format,
        width: stored.image.width,
        height: stored.image.height,
        alt: upload.alt,
    };
    match core.attach_image(tenant, product, new, now_ms) {
        Ok((_, image)) => Ok(image),
        Err(e) => {
            if stored.created
                && let Err(cleanup) = media.remove(tenant, &stored.key)
            {
                tracing::warn!(%tenant, error = %cleanup, "removing the image of a refused upload failed");
            }
            Err(e.into())
        }
    }
}

async fn upload(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
    Q(q): Q<UploadQuery>,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<(StatusCode, Json<wire::Image>), AdminError> {
    let media = media(&state)?;
    let declared =
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(ImageFormat::from_mime).ok_or_else(|| {
            AdminError::unsupported_media_type(
                "send the image itself as the body, with Content-Type image/jpeg, image/png, image/webp or image/gif",
            )
        })?;
    let (core, now) = (state.core().clone(), state.now());
    let image = blocking(move || {
        let upload = Upload { bytes: &bytes, declared: Some(declared), alt: q.alt };
        store_and_attach(&core, &media, &tenant, &path.product, upload, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(image.into())))
}

async fn remove(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ImagePath>,
) -> Result<StatusCode, AdminError> {
    // The file stays: another product of the tenant may show the same bytes,
    // and its URL is immutable in every cache that has it.
    state.call(move |core, now| core.detach_image(&tenant, &path.product, &path.image, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}
