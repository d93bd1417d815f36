use std::fmt;

use serde::{Deserialize, Serialize};

/// The image formats the host accepts for product images: what browsers show
/// everywhere. Stored and sent as the MIME type (`image/jpeg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImageFormat {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "image/gif")]
    Gif,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 4] = [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp, ImageFormat::Gif];

    /// The MIME type, as in a `Content-Type` header.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Gif => "image/gif",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
        }
    }

    /// The format of a MIME type (parameters and case ignored; `image/jpg`
    /// is a common misspelling and accepted).
    pub fn from_mime(mime: &str) -> Option<ImageFormat> {
        let essence = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "image/jpeg" | "image/jpg" => Some(ImageFormat::Jpeg),
            "image/png" => Some(ImageFormat::Png),
            "image/webp" => Some(ImageFormat::Webp),
            "image/gif" => Some(ImageFormat::Gif),
            _ => None,
        }
    }

    /// The format of a file extension as [`extension`](Self::extension) writes it.
    pub fn from_extension(ext: &str) -> Option<ImageFormat> {
        ImageFormat::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_and_extension_round_trip() {
        for f in ImageFormat::ALL {
            assert_eq!(ImageFormat::from_mime(f.mime()), Some(f));
            assert_eq!(ImageFormat::from_extension(f.extension()), Some(f));
            assert_eq!(serde_json::to_value(f).unwrap(), f.mime());
        }
        assert_eq!(ImageFormat::from_mime("Image/JPG; charset=binary"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_mime("image/svg+xml"), None);
        assert_eq!(ImageFormat::from_extension("../png"), None);
    }
}
