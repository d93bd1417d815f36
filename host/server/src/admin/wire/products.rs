//! Products, their images and per-channel publications.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NewVariant, Variant, ids, strings, wire_enum};
use crate::admin::extract::double_option;

wire_enum! {
    /// Whether a product is shown: `draft`, `active` or `archived`.
    ProductStatus <=> ProductStatus { Draft, Active, Archived }
}

wire_enum! {
    SyncStatus <=> SyncStatus { Pending, Synced, Failed }
}

/// A picture of a product: any URL, or an image the host keeps (`media`
/// set; the URL is then the host's `/media/…` path).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Image {
    pub url: String,
    pub alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<ImageMedia>,
}

impl From<domain::Image> for Image {
    fn from(i: domain::Image) -> Image {
        Image { url: i.url, alt: i.alt, media: i.media.map(ImageMedia::from) }
    }
}

impl From<Image> for domain::Image {
    fn from(i: Image) -> domain::Image {
        domain::Image { url: i.url, alt: i.alt, media: i.media.map(Into::into) }
    }
}

/// What pruning the unused images did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ImagesPruned {
    /// Images no product showed, removed with their resized copies.
    pub removed: u64,
    /// Images kept: shown by a product, or uploaded within the grace period.
    pub kept: u64,
}

/// The type of an image the host keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) enum ImageFormat {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "image/gif")]
    Gif,
}

impl From<omnistore_media::ImageFormat> for ImageFormat {
    fn from(f: omnistore_media::ImageFormat) -> ImageFormat {
        match f {
            omnistore_media::ImageFormat::Jpeg => ImageFormat::Jpeg,
            omnistore_media::ImageFormat::Png => ImageFormat::Png,
            omnistore_media::ImageFormat::Webp => ImageFormat::Webp,
            omnistore_media::ImageFormat::Gif => ImageFormat::Gif,
        }
    }
}

impl From<ImageFormat> for omnistore_media::ImageFormat {
    fn from(f: ImageFormat) -> omnistore_media::ImageFormat {
        match f {
            ImageFormat::Jpeg => omnistore_media::ImageFormat::Jpeg,
            ImageFormat::Png => omnistore_media::ImageFormat::Png,
            ImageFormat::Webp => omnistore_media::ImageFormat::Webp,
            ImageFormat::Gif => omnistore_media::ImageFormat::Gif,
        }
    }
}

/// What the host knows of an image it keeps (given back unchanged to keep
/// or reorder it in a product update).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ImageMedia {
    /// Issued by the host when the image was uploaded.
    #[schemars(with = "String")]
    pub id: domain::ImageId,
    /// Lowercase hex SHA-256 of the original bytes.
    pub sha256: String,
    pub content_type: ImageFormat,
    pub width: u32,
    pub height: u32,
}

impl From<domain::ImageMedia> for ImageMedia {
    fn from(m: domain::ImageMedia) -> ImageMedia {
        ImageMedia { id: m.id, sha256: m.sha256, content_type: m.content_type.into(), width: m.width, height: m.height }
    }
}

impl From<ImageMedia> for domain::ImageMedia {
    fn from(m: ImageMedia) -> domain::ImageMedia {
        domain::ImageMedia {
            id: m.id,
            sha256: m.sha256,
            content_type: m.content_type.into(),
            width: m.width,
            height: m.height,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Product {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub brand: Option<String>,
    pub tags: Vec<String>,
    /// Ids of the collections the product is in.
    pub collections: Vec<String>,
    pub images: Vec<Image>,
    pub status: ProductStatus,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Product> for Product {
    fn from(p: domain::Product) -> Product {
        Product {
            id: p.id.to_string(),
            handle: p.handle,
            title: p.title,
            description: p.description,
            brand: p.brand,
            tags: p.tags,
            collections: strings(p.collections),
            images: p.images.into_iter().map(Image::from).collect(),
            status: p.status.into(),
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
        }
    }
}

/// A product with its variants.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ProductDetail {
    pub product: Product,
    pub variants: Vec<Variant>,
}

impl From<domain::ProductDetail> for ProductDetail {
    fn from(d: domain::ProductDetail) -> ProductDetail {
        ProductDetail { product: d.product.into(), variants: d.variants.into_iter().map(Variant::from).collect() }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewProduct {
    pub handle: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub brand: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub collections: Vec<String>,
    #[serde(default)]
    pub images: Vec<Image>,
    pub status: ProductStatus,
    pub variants: Vec<NewVariant>,
}

impl From<NewProduct> for domain::NewProduct {
    fn from(p: NewProduct) -> domain::NewProduct {
        domain::NewProduct {
            handle: p.handle,
            title: p.title,
            description: p.description,
            brand: p.brand,
            tags: p.tags,
            collections: ids(p.collections),
            images: p.images.into_iter().map(domain::Image::from).collect(),
            status: p.status.into(),
            variants: p.variants.into_iter().map(domain::NewVariant::from).collect(),
        }
    }
}

/// A product change: absent fields stay, `null` clears `brand`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductPatch {
    pub handle: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub brand: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub collections: Option<Vec<String>>,
    pub images: Option<Vec<Image>>,
    pub status: Option<ProductStatus>,
}

impl From<ProductPatch> for domain::ProductPatch {
    fn from(b: ProductPatch) -> domain::ProductPatch {
        domain::ProductPatch {
            handle: b.handle,
            title: b.title,
            description: b.description,
            brand: b.brand,
            tags: b.tags,
            collections: b.collections.map(ids),
            images: b.images.map(|images| images.into_iter().map(domain::Image::from).collect()),
            status: b.status.map(Into::into),
        }
    }
}

/// Where a published product stands on the channel's side.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SyncState {
    pub status: SyncStatus,
    pub external_id: Option<String>,
    pub error: Option<String>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Publication {
    pub product_id: String,
    pub channel_id: String,
    pub published_ms: i64,
    pub sync: Option<SyncState>,
}

impl From<domain::Publication> for Publication {
    fn from(p: domain::Publication) -> Publication {
        Publication {
            product_id: p.product_id.to_string(),
            channel_id: p.channel_id.to_string(),
            published_ms: p.published_ms,
            sync: p.sync.map(|s| SyncState {
                status: s.status.into(),
                external_id: s.external_id,
                error: s.error,
                at_ms: s.at_ms,
            }),
        }
    }
}
