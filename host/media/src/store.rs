//! Originals and variants on disk, per tenant, named by content.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use image::imageops::FilterType;
use image::{DynamicImage, ImageReader};
use omnistore_types::TenantId;

use crate::inspect::{corrupt, dimensions, theirs};
use crate::{ImageFormat, Inspected, MediaError, MediaLimits, inspect};

/// The widths variants are made in. Any width up to the last is rounded up
/// to the next of these, so a theme asking for 300 and one asking for 320
/// share a file, and the number of files per image stays bounded.
pub const WIDTHS: [u32; 13] = [80, 160, 320, 480, 640, 800, 1024, 1280, 1600, 2048, 2560, 3200, 4096];

/// The variant width that serves a request for `requested` pixels.
pub fn variant_width(requested: u32) -> Result<u32, MediaError> {
    WIDTHS.iter().copied().find(|w| requested > 0 && *w >= requested).ok_or(MediaError::BadWidth(requested))
}

/// An image of a tenant by content: SHA-256 and format. Parsed from a URL's
/// file name, so it admits only 64 lowercase hex digits and a known extension
/// (nothing that could name another file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageKey {
    sha256: String,
    format: ImageFormat,
}

impl ImageKey {
    pub fn new(sha256: &str, format: ImageFormat) -> Option<ImageKey> {
        let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| ImageKey { sha256: sha256.to_owned(), format })
    }

    /// `<sha256>.<ext>`, as [`file_name`](Self::file_name) writes it.
    pub fn parse(file_name: &str) -> Option<ImageKey> {
        let (sha, ext) = file_name.split_once('.')?;
        ImageKey::new(sha, ImageFormat::from_extension(ext)?)
    }

    pub fn file_name(&self) -> String {
        format!("{}.{}", self.sha256, self.format.extension())
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }
}

/// An upload kept on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub image: Inspected,
    pub key: ImageKey,
    /// Whether this upload wrote the file (false: the tenant had the same
    /// bytes already). Only a created file may be removed when the upload
    /// is abandoned.
    pub created: bool,
}

/// Bytes to answer an image request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    /// A strong entity tag, quoted: the content hash and the variant width.
    pub etag: String,
}

/// What [`MediaStore::prune`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Originals removed, with their variants.
    pub removed: u64,
    /// Originals kept: in use, or too recent.
    pub kept: u64,
}

/// The prefix of image names among a tenant's files.
const FILES_PREFIX: &str = "media/";

/// A tenant's originals as its files, exported and imported with its data;
/// variants are left out, they are made again on demand.
impl omnistore_types::TenantFiles for MediaStore {
    fn list(&self, tenant: &TenantId) -> std::io::Result<Vec<String>> {
        let mut names: Vec<String> =
            self.originals(tenant)?.iter().map(|(key, _)| format!("{FILES_PREFIX}{}", key.file_name())).collect();
        names.sort();
        Ok(names)
    }

    fn read(&self, tenant: &TenantId, name: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.original(tenant, &file_key(name)?))
    }

    fn write(&self, tenant: &TenantId, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let key = file_key(name)?;
        let stored = self
            .put(tenant, bytes, Some(key.format))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{name}: {e}")))?;
        if stored.key != key {
            // Kept under its own hash, which no record names: take it back.
            self.remove(tenant, &stored.key).map_err(std::io::Error::other)?;
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{name} holds another image (its content hashes to {})", stored.key.file_name()),
            ));
        }
        Ok(())
    }

    fn remove_all(&self, tenant: &TenantId) -> std::io::Result<()> {
        self.remove_tenant(tenant).map_err(std::io::Error::other)
    }
}

fn file_key(name: &str) -> std::io::Result<ImageKey> {
    name.strip_prefix(FILES_PREFIX).and_then(ImageKey::parse).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("`{name}` is not the name of an image file"))
    })
}

/// The media directory of a host. Blocking: call it off the async executor.
#[derive(Debug)]
pub struct MediaStore {
    root: PathBuf,
    limits: MediaLimits,
    /// One lock per variant being made, so concurrent first requests make it once.
    making: Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>,
    made: AtomicU64,
    temp_seq: AtomicU64,
}

impl MediaStore {
    pub fn new(root: impl Into<PathBuf>) -> MediaStore {
        MediaStore {
            root: root.into(),
            limits: MediaLimits::default(),
            making: Mutex::new(HashMap::new()),
            made: AtomicU64::new(0),
            temp_seq: AtomicU64::new(0),
        }
    }

    pub fn with_limits(mut self, limits: MediaLimits) -> MediaStore {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &MediaLimits {
        &self.limits
    }

    /// How many variants this store has made (not read from disk) since it was opened.
    pub fn variants_made(&self) -> u64 {
        self.made.load(Ordering::SeqCst)
    }

    fn dir(&self, tenant: &TenantId, key: &ImageKey) -> PathBuf {
        self.root.join(tenant.as_str()).join(&key.sha256[..2])
    }

    fn original(&self, tenant: &TenantId, key: &ImageKey) -> PathBuf {
        self.dir(tenant, key).join(key.file_name())
    }

    fn variant(&self, tenant: &TenantId, key: &ImageKey, width: u32) -> PathBuf {
        self.dir(tenant, key).join(format!("{}-w{width}.{}", key.sha256, key.format.extension()))
    }

    /// Accept `bytes` (see [`inspect`]) and keep them for `tenant`. Nothing
    /// is written for a refused image.
    pub fn put(&self, tenant: &TenantId, bytes: &[u8], declared: Option<ImageFormat>) -> Result<Stored, MediaError> {
        let _span = tracing::info_span!("media.put", %tenant, size = bytes.len()).entered();
        let image = inspect(bytes, declared, &self.limits)?;
        let key = ImageKey::new(&image.sha256, image.format).expect("a SHA-256 in hex is a valid key");
        let path = self.original(tenant, &key);
        let created = !path.exists();
        if created {
            self.write_whole(&path, bytes)?;
        }
        Ok(Stored { image, key, created })
    }

    /// Every original of `tenant` with its path (variants left out).
    fn originals(&self, tenant: &TenantId) -> std::io::Result<Vec<(ImageKey, PathBuf)>> {
        let mut found = Vec::new();
        let dirs = match std::fs::read_dir(self.root.join(tenant.as_str())) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(e),
        };
        for dir in dirs {
            let dir = dir?;
            if !dir.file_type()?.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir.path())? {
                let file = file?;
                if let Some(key) = file.file_name().to_str().and_then(ImageKey::parse) {
                    found.push((key, file.path()));
                }
            }
        }
        Ok(found)
    }

    /// Remove the originals of `tenant` (and their variants) whose hash
    /// `in_use` does not hold, written before `written_before`. The grace
    /// keeps an upload whose product is being saved right now: its file
    /// exists a moment before the product names it.
    pub fn prune(
        &self,
        tenant: &TenantId,
        in_use: &std::collections::BTreeSet<String>,
        written_before: std::time::SystemTime,
    ) -> Result<Pruned, MediaError> {
        let _span = tracing::info_span!("media.prune", %tenant).entered();
        let mut report = Pruned::default();
        for (key, path) in self.originals(tenant)? {
            let written = std::fs::metadata(&path)?.modified()?;
            if in_use.contains(key.sha256()) || written >= written_before {
                report.kept += 1;
                continue;
            }
            self.remove(tenant, &key)?;
            report.removed += 1;
        }
        Ok(report)
    }

    /// Remove every image of `tenant` (the tenant was deleted).
    pub fn remove_tenant(&self, tenant: &TenantId) -> Result<(), MediaError> {
        match std::fs::remove_dir_all(self.root.join(tenant.as_str())) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Whether `tenant` has this image.
    pub fn contains(&self, tenant: &TenantId, key: &ImageKey) -> bool {
        self.original(tenant, key).is_file()
    }

    /// Remove an image of `tenant` and every variant made of it.
    pub fn remove(&self, tenant: &TenantId, key: &ImageKey) -> Result<(), MediaError> {
        let dir = self.dir(tenant, key);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_str().is_some_and(|n| n.starts_with(&key.sha256)) {
                match std::fs::remove_file(entry.path()) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The bytes for a request of `tenant`'s image at `width` (`None`: the
    /// original). `Ok(None)` when the tenant has no such image.
    pub fn serve(&self, tenant: &TenantId, key: &ImageKey, width: Option<u32>) -> Result<Option<Served>, MediaError> {
        let _span = tracing::debug_span!("media.serve", %tenant, sha256 = %key.sha256, ?width).entered();
        let original = self.original(tenant, key);
        let served = |bytes, etag| Some(Served { bytes, format: key.format, etag });
        let original_etag = format!("\"{}\"", key.sha256);
        let Some(requested) = width else {
            return Ok(read_if_exists(&original)?.and_then(|b| served(b, original_etag)));
        };
        let width = variant_width(requested)?;
        let path = self.variant(tenant, key, width);
        let etag = format!("\"{}-w{width}\"", key.sha256);
        if let Some(bytes) = read_if_exists(&path)? {
            return Ok(served(bytes, etag));
        }
        let Some(bytes) = read_if_exists(&original)? else { return Ok(None) };
        let (original_width, _) = dimensions(&bytes, key.format, &self.limits)?;
        if width >= original_width {
            // Never upscale: the original is the largest there is.
            return Ok(served(bytes, original_etag));
        }
        let lock = self.lock_for(&path);
        let made = {
            let _making = lock.lock().unwrap_or_else(|p| p.into_inner());
            match read_if_exists(&path)? {
                Some(done) => Ok(done),
                None => self.make_variant(&bytes, key.format, width, &path),
            }
        };
        self.release(&path, lock);
        Ok(served(made?, etag))
    }

    fn lock_for(&self, path: &Path) -> Arc<Mutex<()>> {
        let mut making = self.making.lock().unwrap_or_else(|p| p.into_inner());
        making.entry(path.to_path_buf()).or_default().clone()
    }

    fn release(&self, path: &Path, lock: Arc<Mutex<()>>) {
        let mut making = self.making.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and ours: nobody else waits for this variant.
        if Arc::strong_count(&lock) == 2 {
            making.remove(path);
        }
    }

    fn make_variant(
        &self,
        original: &[u8],
        format: ImageFormat,
        width: u32,
        path: &Path,
    ) -> Result<Vec<u8>, MediaError> {
        let _span = tracing::info_span!("media.resize", %format, width).entered();
        let mut reader = ImageReader::with_format(Cursor::new(original), theirs(format));
        reader.limits(self.limits.decoder());
        let image = reader.decode().map_err(|e| corrupt(format, e))?;
        let height = ((u64::from(image.height()) * u64::from(width) + u64::from(image.width()) / 2)
            / u64::from(image.width()))
        .max(1) as u32;
        let resized = image.resize_exact(width, height, FilterType::Triangle);
        let bytes = encode(&resized, format)?;
        self.write_whole(path, &bytes)?;
        self.made.fetch_add(1, Ordering::SeqCst);
        Ok(bytes)
    }

    /// Write a file so that it appears whole or not at all (beside, then rename).
    fn write_whole(&self, path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
        let dir = path.parent().expect("media paths have a directory");
        std::fs::create_dir_all(dir)?;
        let seq = self.temp_seq.fetch_add(1, Ordering::SeqCst);
        let tmp = dir.join(format!(".tmp-{}-{seq}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        Ok(())
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, MediaError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Encode in the original's format (a GIF variant keeps the first frame).
fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, MediaError> {
    let mut out = Cursor::new(Vec::new());
    let failed = |e: image::ImageError| MediaError::Encode { format, detail: e.to_string() };
    match format {
        ImageFormat::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder).map_err(failed)?;
        }
        ImageFormat::Png | ImageFormat::Webp | ImageFormat::Gif => {
            DynamicImage::ImageRgba8(image.to_rgba8()).write_to(&mut out, theirs(format)).map_err(failed)?;
        }
    }
    Ok(out.into_inner())
}

/// A square JPEG tile for the demo shop: a plate of `colour` on a lighter
/// ground, so every product has a picture without shipping photographs.
pub fn demo_tile(size: u32, colour: [u8; 3]) -> Result<Vec<u8>, MediaError> {
    let centre = size as f32 / 2.0;
    let radius = size as f32 * 0.36;
    let tile = image::RgbImage::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 - centre, y as f32 - centre);
        let d = (dx * dx + dy * dy).sqrt();
        let lift = |c: u8, by: f32| (f32::from(c) + (255.0 - f32::from(c)) * by) as u8;
        if d <= radius {
            // Lit from the top left.
            let shade = 0.25 * (1.0 - (dx + dy) / (2.0 * radius)).clamp(0.0, 1.0);
            image::Rgb(colour.map(|c| lift(c, shade)))
        } else if d <= radius * 1.12 {
            image::Rgb([250, 248, 244])
        } else {
            image::Rgb(colour.map(|c| lift(c, 0.8 - 0.1 * y as f32 / size as f32)))
        }
    });
    encode(&DynamicImage::ImageRgb8(tile), ImageFormat::Jpeg)
}
