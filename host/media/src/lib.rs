//! Product images: what the host accepts, how it keeps them and the resized
//! variants it serves. No HTTP here: the server maps requests and errors.
//!
//! - **Acceptance** ([`inspect`]): the format is sniffed from the bytes (the
//!   client's `Content-Type` must agree), the dimensions are read from the
//!   header and checked against [`MediaLimits`] *before* any pixel is decoded
//!   (a 50-byte PNG may claim 100,000 × 100,000 pixels), then the image is
//!   decoded once under the same limits to prove it is whole.
//! - **Storage** ([`MediaStore`]): content-addressed by SHA-256, per tenant:
//!   `<root>/<tenant>/<first two hex>/<sha256>.<ext>`. The same bytes are kept
//!   once per tenant, and a tenant's directory holds only what it uploaded.
//! - **Variants**: a width asked for is rounded up to one of [`WIDTHS`] and
//!   never exceeds the original (no upscaling: the original is served then).
//!   A variant is made once, written beside the original (`<sha256>-w<N>.<ext>`)
//!   and read from disk afterwards; concurrent first requests for the same
//!   variant wait for one maker.

mod inspect;
mod store;

pub use inspect::{Inspected, MediaLimits, inspect};
pub use omnistore_types::ImageFormat;
pub use store::{ImageKey, MediaStore, Pruned, Served, Stored, WIDTHS, demo_tile, variant_width};

/// Why an image was refused or could not be served.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the image is {size} bytes; at most {limit} bytes are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("the body is not an image in a format the host reads (JPEG, PNG, WebP or GIF)")]
    NotAnImage,
    #[error("{0} images are not accepted; send JPEG, PNG, WebP or GIF")]
    Unsupported(String),
    #[error("the body is a {actual} image but was sent as {declared}; send the right Content-Type")]
    Mismatch { declared: ImageFormat, actual: ImageFormat },
    #[error(
        "the image is {width}×{height} pixels; at most {max_width}×{max_height} and {max_pixels} pixels in all are accepted"
    )]
    Dimensions { width: u32, height: u32, max_width: u32, max_height: u32, max_pixels: u64 },
    #[error("the {format} image cannot be decoded: {detail}")]
    Corrupt { format: ImageFormat, detail: String },
    #[error("width {0} is not served; ask for a width from 1 to 4096")]
    BadWidth(u32),
    #[error("encoding a {format} variant failed: {detail}")]
    Encode { format: ImageFormat, detail: String },
    #[error("media storage: {0}")]
    Io(#[from] std::io::Error),
}
