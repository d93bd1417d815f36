//! Sniffing, limits and the proof that an upload decodes.

use std::io::Cursor;

use image::ImageReader;
use sha2::{Digest, Sha256};

use crate::{ImageFormat, MediaError};

/// What an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// Bytes of the encoded file.
    pub max_bytes: usize,
    pub max_width: u32,
    pub max_height: u32,
    /// Width × height: bounds the memory one decode takes (4 bytes a pixel).
    pub max_pixels: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits { max_bytes: 10 << 20, max_width: 6000, max_height: 6000, max_pixels: 40_000_000 }
    }
}

impl MediaLimits {
    /// The decoder's own limits, so that a header that lies about its size
    /// cannot make it allocate more than an accepted image needs.
    pub(crate) fn decoder(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        // RGBA8 of the largest image, plus room for the decoder's buffers.
        limits.max_alloc = Some(self.max_pixels * 4 + (64 << 20));
        limits
    }
}

/// An accepted image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Lowercase hex SHA-256 of the bytes: the image's name on disk.
    pub sha256: String,
}

pub(crate) fn ours(format: image::ImageFormat) -> Result<ImageFormat, MediaError> {
    match format {
        image::ImageFormat::Jpeg => Ok(ImageFormat::Jpeg),
        image::ImageFormat::Png => Ok(ImageFormat::Png),
        image::ImageFormat::WebP => Ok(ImageFormat::Webp),
        image::ImageFormat::Gif => Ok(ImageFormat::Gif),
        other => Err(MediaError::Unsupported(format!("{other:?}").to_uppercase())),
    }
}

pub(crate) fn theirs(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Gif => image::ImageFormat::Gif,
    }
}

/// The dimensions in the header of an image of a known format, under the
/// decoder limits; nothing is decoded.
pub(crate) fn dimensions(bytes: &[u8], format: ImageFormat, limits: &MediaLimits) -> Result<(u32, u32), MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), theirs(format));
    reader.limits(limits.decoder());
    reader.into_dimensions().map_err(|e| corrupt(format, e))
}

pub(crate) fn corrupt(format: ImageFormat, e: image::ImageError) -> MediaError {
    MediaError::Corrupt { format, detail: e.to_string() }
}

/// Accept or refuse `bytes` as an image, sent as `declared` (`None`: the
/// client did not say). Cheap checks first: size, magic bytes, the header's
/// dimensions; only an image that passes them is decoded.
pub fn inspect(bytes: &[u8], declared: Option<ImageFormat>, limits: &MediaLimits) -> Result<Inspected, MediaError> {
    let _span = tracing::debug_span!("media.inspect", size = bytes.len()).entered();
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    let format = ours(image::guess_format(bytes).map_err(|_| MediaError::NotAnImage)?)?;
    if let Some(declared) = declared
        && declared != format
    {
        return Err(MediaError::Mismatch { declared, actual: format });
    }
    let (width, height) = dimensions(bytes, format, limits)?;
    let too_big = width == 0
        || height == 0
        || width > limits.max_width
        || height > limits.max_height
        || u64::from(width) * u64::from(height) > limits.max_pixels;
    if too_big {
        return Err(MediaError::Dimensions {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
            max_pixels: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), theirs(format));
    reader.limits(limits.decoder());
    let decoded = reader.decode().map_err(|e| corrupt(format, e))?;
    if (decoded.width(), decoded.height()) != (width, height) {
        return Err(MediaError::Corrupt { format, detail: "the header and the pixels disagree on the size".into() });
    }
    Ok(Inspected { format, width, height, sha256: hex::encode(Sha256::digest(bytes)) })
}
