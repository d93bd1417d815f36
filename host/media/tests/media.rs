//! Acceptance, storage and variants of product images, on a temporary directory.

use std::io::Cursor;
use std::sync::Arc;

use image::{DynamicImage, RgbaImage};
use omnistore_media::{ImageFormat, ImageKey, MediaError, MediaLimits, MediaStore, demo_tile, inspect, variant_width};
use omnistore_types::TenantId;

fn tenant(id: &str) -> TenantId {
    TenantId::new(id).unwrap()
}

/// A real image of `width`×`height` in `format`.
fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbaImage::from_fn(width, height, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255]));
    let image = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(pixels).to_rgb8()),
        _ => DynamicImage::ImageRgba8(pixels),
    };
    let f = match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Gif => image::ImageFormat::Gif,
    };
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, f).unwrap();
    out.into_inner()
}

fn decoded_size(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).unwrap();
    (image.width(), image.height())
}

/// A PNG whose header claims `width`×`height` but which carries one tiny
/// compressed row: the shape of a decompression bomb.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = picture(1, 1, ImageFormat::Png);
    // IHDR's width and height sit right after the signature and chunk header.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    // Fix IHDR's CRC so only the size is wrong, not the file.
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

#[test]
fn every_accepted_format_is_sniffed_from_its_bytes() {
    for format in ImageFormat::ALL {
        let bytes = picture(40, 30, format);
        let seen = inspect(&bytes, None, &MediaLimits::default()).unwrap();
        assert_eq!((seen.format, seen.width, seen.height), (format, 40, 30));
        assert_eq!(seen.sha256.len(), 64);
        // The declared type must agree with the bytes.
        assert!(inspect(&bytes, Some(format), &MediaLimits::default()).is_ok());
    }
}

#[test]
fn a_declared_type_that_lies_is_refused() {
    let png = picture(10, 10, ImageFormat::Png);
    match inspect(&png, Some(ImageFormat::Jpeg), &MediaLimits::default()) {
        Err(MediaError::Mismatch { declared: ImageFormat::Jpeg, actual: ImageFormat::Png }) => {}
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn non_images_and_other_formats_are_refused() {
    let limits = MediaLimits::default();
    assert!(matches!(
        inspect(b"<svg xmlns='http://www.w3.org/2000/svg'/>", None, &limits),
        Err(MediaError::NotAnImage)
    ));
    assert!(matches!(inspect(b"", None, &limits), Err(MediaError::NotAnImage)));
    // A BMP is an image, but not one the host serves: refused by its magic bytes.
    let bmp = [b"BM".as_slice(), &[0u8; 60]].concat();
    assert!(matches!(inspect(&bmp, None, &limits), Err(MediaError::Unsupported(f)) if f == "BMP"));
    // PNG magic followed by garbage: recognised, then refused as corrupt.
    let mut broken = picture(8, 8, ImageFormat::Png);
    broken.truncate(40);
    assert!(
        matches!(inspect(&broken, None, &limits), Err(MediaError::Corrupt { .. })),
        "{:?}",
        inspect(&broken, None, &limits)
    );
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let limits = MediaLimits::default();
    // 60,000 × 60,000 would take 14 GB decoded; the file is a few dozen bytes.
    let bomb = png_claiming(60_000, 60_000);
    assert!(bomb.len() < 100);
    match inspect(&bomb, None, &limits) {
        Err(MediaError::Dimensions { width: 60_000, height: 60_000, .. }) | Err(MediaError::Corrupt { .. }) => {}
        other => panic!("a bomb was not refused: {other:?}"),
    }
    // Within each side's limit but over the pixel budget.
    let wide = png_claiming(6000, 6000 + 1);
    assert!(inspect(&wide, None, &limits).is_err());
    let budget = MediaLimits { max_pixels: 1000, ..limits };
    match inspect(&picture(40, 30, ImageFormat::Png), None, &budget) {
        Err(MediaError::Dimensions { width: 40, height: 30, max_pixels: 1000, .. }) => {}
        other => panic!("expected the pixel budget to refuse, got {other:?}"),
    }
    let small = MediaLimits { max_bytes: 10, ..limits };
    assert!(matches!(inspect(&picture(4, 4, ImageFormat::Png), None, &small), Err(MediaError::TooLarge { .. })));
}

#[test]
fn widths_round_up_to_the_served_set() {
    assert_eq!(variant_width(1).unwrap(), 80);
    assert_eq!(variant_width(80).unwrap(), 80);
    assert_eq!(variant_width(300).unwrap(), 320);
    assert_eq!(variant_width(2049).unwrap(), 2560);
    assert_eq!(variant_width(4096).unwrap(), 4096);
    assert!(matches!(variant_width(0), Err(MediaError::BadWidth(0))));
    assert!(matches!(variant_width(4097), Err(MediaError::BadWidth(4097))));
}

#[test]
fn keys_admit_only_a_hash_and_a_known_extension() {
    let sha = "ab".repeat(32);
    assert!(ImageKey::parse(&format!("{sha}.png")).is_some());
    for bad in [
        format!("{sha}.svg"),
        format!("{}.png", "AB".repeat(32)),
        format!("{}.png", &sha[..63]),
        "../../etc/passwd".to_string(),
        format!("..%2f{sha}.png"),
        format!("{sha}.png/.."),
        sha.to_string(),
    ] {
        assert!(ImageKey::parse(&bad).is_none(), "{bad} was accepted");
    }
}

#[test]
fn put_keeps_one_file_per_content_and_tenant_and_nothing_on_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::new(dir.path());
    let bytes = picture(64, 48, ImageFormat::Png);
    let first = store.put(&tenant("a"), &bytes, Some(ImageFormat::Png)).unwrap();
    assert!(first.created);
    let again = store.put(&tenant("a"), &bytes, None).unwrap();
    assert!(!again.created && again.key == first.key);
    assert_eq!(files_under(dir.path()).len(), 1);
    assert!(store.contains(&tenant("a"), &first.key));
    assert!(!store.contains(&tenant("b"), &first.key), "another tenant does not see it");

    assert!(store.put(&tenant("a"), b"not an image", Some(ImageFormat::Png)).is_err());
    assert!(store.put(&tenant("a"), &picture(8, 8, ImageFormat::Gif), Some(ImageFormat::Png)).is_err());
    assert!(store.put(&tenant("c"), &png_claiming(60_000, 60_000), None).is_err());
    assert_eq!(files_under(dir.path()).len(), 1, "a refused upload wrote a file");
}

#[test]
fn variants_are_made_once_at_the_rounded_width_and_never_upscaled() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::new(dir.path());
    let t = tenant("shop");
    for format in ImageFormat::ALL {
        let stored = store.put(&t, &picture(1000, 500, format), None).unwrap();
        let made_before = store.variants_made();
        let v = store.serve(&t, &stored.key, Some(300)).unwrap().unwrap();
        assert_eq!(v.format, format);
        assert_eq!(decoded_size(&v.bytes), (320, 160), "{format}");
        assert_eq!(v.etag, format!("\"{}-w320\"", stored.key.sha256()));
        assert_eq!(store.variants_made(), made_before + 1);
        let files = files_under(dir.path()).len();
        // A second request is a cache hit: no new file, nothing made.
        let again = store.serve(&t, &stored.key, Some(320)).unwrap().unwrap();
        assert_eq!(again, v);
        assert_eq!(store.variants_made(), made_before + 1);
        assert_eq!(files_under(dir.path()).len(), files);
        // Wider than the original: the original, untouched.
        let big = store.serve(&t, &stored.key, Some(1600)).unwrap().unwrap();
        assert_eq!(decoded_size(&big.bytes), (1000, 500));
        assert_eq!(big.etag, format!("\"{}\"", stored.key.sha256()));
        assert_eq!(store.variants_made(), made_before + 1, "upscaling made a file");
        assert_eq!(store.serve(&t, &stored.key, None).unwrap().unwrap().bytes, picture(1000, 500, format));
    }
    assert!(matches!(
        store.serve(&t, &ImageKey::parse(&format!("{}.png", "0".repeat(64))).unwrap(), Some(80)),
        Ok(None)
    ));
}

#[test]
fn another_tenants_image_is_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::new(dir.path());
    let stored = store.put(&tenant("a"), &picture(200, 200, ImageFormat::Jpeg), None).unwrap();
    assert!(store.serve(&tenant("b"), &stored.key, None).unwrap().is_none());
    assert!(store.serve(&tenant("b"), &stored.key, Some(80)).unwrap().is_none());
    assert_eq!(store.variants_made(), 0);
}

#[test]
fn concurrent_first_requests_make_the_variant_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MediaStore::new(dir.path()));
    let t = tenant("shop");
    let key = store.put(&t, &picture(1800, 1200, ImageFormat::Jpeg), None).unwrap().key;
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (store, t, key) = (store.clone(), t.clone(), key.clone());
                s.spawn(move || store.serve(&t, &key, Some(640)).unwrap().unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(store.variants_made(), 1);
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(decoded_size(&results[0].bytes), (640, 427));
}

#[test]
fn removing_an_image_removes_its_variants_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::new(dir.path());
    let t = tenant("shop");
    let keep = store.put(&t, &picture(500, 500, ImageFormat::Png), None).unwrap().key;
    let gone = store.put(&t, &picture(600, 500, ImageFormat::Png), None).unwrap().key;
    store.serve(&t, &gone, Some(160)).unwrap().unwrap();
    store.remove(&t, &gone).unwrap();
    assert!(store.serve(&t, &gone, Some(160)).unwrap().is_none());
    assert!(store.serve(&t, &keep, None).unwrap().is_some());
    assert_eq!(files_under(dir.path()).len(), 1);
}

#[test]
fn demo_tiles_are_accepted_images() {
    let tile = demo_tile(240, [200, 120, 60]).unwrap();
    let seen = inspect(&tile, Some(ImageFormat::Jpeg), &MediaLimits::default()).unwrap();
    assert_eq!((seen.width, seen.height), (240, 240));
}

#[test]
fn a_tenants_originals_are_its_files_for_export_and_import() {
    use omnistore_types::TenantFiles;
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let (source, target) = (MediaStore::new(from.path()), MediaStore::new(to.path()));
    let alpha = tenant("alpha");
    let png = source.put(&alpha, &picture(40, 30, ImageFormat::Png), None).unwrap();
    let jpeg = source.put(&alpha, &picture(50, 20, ImageFormat::Jpeg), None).unwrap();
    source.serve(&alpha, &png.key, Some(80)).unwrap();
    source.put(&tenant("beta"), &picture(10, 10, ImageFormat::Png), None).unwrap();

    let mut names = source.list(&alpha).unwrap();
    let mut want = vec![format!("media/{}", png.key.file_name()), format!("media/{}", jpeg.key.file_name())];
    want.sort();
    names.sort();
    assert_eq!(names, want, "the originals only: no variant, no other tenant's image");
    for name in &names {
        target.write(&alpha, name, &source.read(&alpha, name).unwrap()).unwrap();
    }
    assert!(target.contains(&alpha, &png.key) && target.contains(&alpha, &jpeg.key));
    assert_eq!(target.read(&alpha, &want[0]).unwrap(), source.read(&alpha, &want[0]).unwrap());

    // A name that is no image file, or bytes that are not the named image, are refused and leave nothing.
    let beta = tenant("beta");
    for bad in ["../alpha/x.png", "media/nothex.png", "other/abc.png"] {
        let e = target.write(&beta, bad, &picture(10, 10, ImageFormat::Png)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{bad}: {e}");
    }
    let e = target.write(&beta, &want[0], &picture(12, 12, ImageFormat::Png)).unwrap_err();
    assert!(e.to_string().contains("another image"), "{e}");
    assert!(target.list(&beta).unwrap().is_empty(), "{:?}", target.list(&beta).unwrap());
    target.remove_all(&alpha).unwrap();
    assert!(target.list(&alpha).unwrap().is_empty());
}
