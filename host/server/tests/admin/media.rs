//! Product images through the whole host: uploaded through the admin API,
//! kept per tenant, served on the tenant's host names with resized variants.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use omnistore_server::deployment::HttpSettings;
use serde_json::{Value, json};

use super::{Edge, Reply};
use crate::OPERATOR;

/// A real image of `width`×`height`.
fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 120]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels).write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
    })
}

/// A shop `tenant` on `{tenant}.example` with one product; its token and product id.
async fn shop(edge: &Edge, tenant: &str) -> (String, String) {
    let token = edge.tenant(tenant).await;
    edge.domain(tenant, &format!("{tenant}.example"));
    let product = json!({
        "handle": "cannolo", "title": "Cannolo", "status": "active",
        "variants": [{ "sku": format!("{tenant}-1"), "title": "Uno", "price": { "amount_minor": 250, "currency": "EUR" } }]
    });
    let r = edge.admin("POST", &format!("/tenants/{tenant}/products"), &token, Some(&product)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    (token, r.json["product"]["id"].as_str().unwrap().to_owned())
}

async fn upload(edge: &Edge, path: &str, token: &str, content_type: Option<&str>, bytes: Vec<u8>) -> Reply {
    let mut request = Request::post(format!("/api/v1{path}")).header("authorization", format!("Bearer {token}"));
    if let Some(t) = content_type {
        request = request.header("content-type", t);
    }
    edge.send(request.body(Body::from(bytes)).unwrap()).await
}

async fn image_get(edge: &Edge, host: &str, url: &str, etag: Option<&str>) -> Reply {
    let mut request = Request::get(url).header("host", host);
    if let Some(tag) = etag {
        request = request.header("if-none-match", tag);
    }
    edge.send(request.body(Body::empty()).unwrap()).await
}

fn media_dir(edge: &Edge) -> std::path::PathBuf {
    edge.dir.path().join("media")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_image_is_served_resized_and_cached_on_the_shops_host_name() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, product) = shop(&edge, "alpha").await;
    let bytes = picture(1200, 900, image::ImageFormat::Png);
    let path = format!("/tenants/alpha/products/{product}/images?alt=A%20cannolo");
    let r = upload(&edge, &path, &token, Some("image/png"), bytes.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let image = r.json.clone();
    let url = image["url"].as_str().unwrap().to_owned();
    let id = image["media"]["id"].as_str().unwrap();
    let sha = image["media"]["sha256"].as_str().unwrap();
    assert_eq!(url, format!("/media/{id}/{sha}.png"));
    assert_eq!(image["alt"], "A cannolo");
    assert_eq!((image["media"]["width"].as_u64(), image["media"]["height"].as_u64()), (Some(1200), Some(900)));
    assert_eq!(image["media"]["content_type"], "image/png");

    // The product carries it, for the admin and (through the catalog) for plugins.
    let p = edge.admin("GET", &format!("/tenants/alpha/products/{product}"), &token, None).await;
    assert_eq!(p.json["product"]["images"], json!([image]));

    // The original.
    let original = image_get(&edge, "alpha.example", &url, None).await;
    assert_eq!(original.status, StatusCode::OK, "{}", original.text());
    assert_eq!(original.bytes.as_ref(), bytes.as_slice());
    assert_eq!(original.headers["content-type"], "image/png");

    // A variant: 300 is rounded up to 320, the height follows.
    let small = image_get(&edge, "alpha.example", &format!("{url}?width=300"), None).await;
    assert_eq!(small.status, StatusCode::OK, "{}", small.text());
    assert_eq!(small.headers["content-type"], "image/png");
    assert_eq!(small.headers["cache-control"], "public, max-age=31536000, immutable");
    let decoded = image::load_from_memory(&small.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
    let etag = small.headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong ETag: {etag}");
    assert_ne!(etag, original.headers["etag"].to_str().unwrap());
    let files = files_under(&media_dir(&edge));

    // Revalidation, and a second request that makes nothing new.
    let again = image_get(&edge, "alpha.example", &format!("{url}?width=320"), Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
    let other_etag = image_get(&edge, "alpha.example", &format!("{url}?width=320"), Some("\"nope\"")).await;
    assert_eq!(other_etag.status, StatusCode::OK);
    assert_eq!(other_etag.bytes, small.bytes);
    assert_eq!(files_under(&media_dir(&edge)), files, "a cached variant was made again");

    // Never upscaled.
    let big = image_get(&edge, "alpha.example", &format!("{url}?width=4000"), None).await;
    assert_eq!(image::load_from_memory(&big.bytes).unwrap().width(), 1200);
    // Widths outside what is served.
    for bad in ["0", "5000", "wide"] {
        let r = image_get(&edge, "alpha.example", &format!("{url}?width={bad}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "width={bad}: {}", r.text());
    }
    // Not a path a plugin could take: a HEAD is answered, a POST is not.
    let head = edge.send(Request::head(&url).header("host", "alpha.example").body(Body::empty()).unwrap()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.bytes.is_empty());
    let post = edge.send(Request::post(&url).header("host", "alpha.example").body(Body::empty()).unwrap()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_shops_images_and_made_up_paths_are_not_found() {
    let edge = Edge::start(HttpSettings::development()).await;
    let (alpha_token, alpha_product) = shop(&edge, "alpha").await;
    let (beta_token, beta_product) = shop(&edge, "beta").await;
    let bytes = picture(200, 100, image::ImageFormat::Jpeg);
    let a = upload(
        &edge,
        &format!("/tenants/alpha/products/{alpha_product}/images"),
        &alpha_token,
        Some("image/jpeg"),
        bytes.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let url = a.json["url"].as_str().unwrap().to_owned();
    assert_eq!(image_get(&edge, "alpha.example", &url, None).await.status, StatusCode::OK);
    // Under path routing too.
    assert_eq!(image_get(&edge, "localhost", &format!("/t/alpha{url}?width=80"), None).await.status, StatusCode::OK);

    // Alpha's URL on beta's name: beta has no such image.
    let crossed = image_get(&edge, "beta.example", &url, None).await;
    assert_eq!(crossed.status, StatusCode::NOT_FOUND);
    // Even when beta has the same bytes, alpha's image id is not beta's.
    let b =
        upload(&edge, &format!("/tenants/beta/products/{beta_product}/images"), &beta_token, Some("image/jpeg"), bytes)
            .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text());
    assert_eq!(image_get(&edge, "beta.example", &url, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(image_get(&edge, "beta.example", b.json["url"].as_str().unwrap(), None).await.status, StatusCode::OK);

    let id = a.json["media"]["id"].as_str().unwrap();
    let sha = a.json["media"]["sha256"].as_str().unwrap();
    for path in [
        format!("/media/{id}/../../omnistore.redb"),
        format!("/media/{id}/..%2F..%2Fomnistore.redb"),
        format!("/media/{id}/{sha}.png"),
        format!("/media/{id}/{sha}"),
        format!("/media/{id}/{}.jpg", "0".repeat(64)),
        "/media/../operator-token".to_string(),
        "/media/".to_string(),
        format!("/media/{id}"),
        format!("/media/{id}/{sha}.jpg/x"),
    ] {
        let r = image_get(&edge, "alpha.example", &path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uploads_store_nothing() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, product) = shop(&edge, "alpha").await;
    let path = format!("/tenants/alpha/products/{product}/images");
    let before = edge.dump();
    let png = picture(64, 64, image::ImageFormat::Png);
    let mut corrupt = png.clone();
    corrupt.truncate(60);
    // A PNG claiming 50,000 × 50,000 pixels.
    let mut bomb = png.clone();
    bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let cases: Vec<(Option<&str>, Vec<u8>, StatusCode, &str)> = vec![
        (Some("image/jpeg"), png.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (
            Some("image/png"),
            b"GIF89a but not really".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Some("image/png"),
            b"<html>hello</html>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (Some("image/svg+xml"), b"<svg/>".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (None, png.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (Some("image/png"), corrupt, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (Some("image/png"), bomb, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (Some("image/png"), vec![0u8; (10 << 20) + 1], StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
    ];
    for (content_type, bytes, status, code) in cases {
        let r = upload(&edge, &path, &token, content_type, bytes).await;
        assert_eq!((r.status, r.code()), (status, code), "{content_type:?}: {}", r.text());
        assert!(!r.json["error"]["message"].as_str().unwrap().is_empty());
    }
    // An image for a product that does not exist.
    let r = upload(&edge, "/tenants/alpha/products/prd-nope/images", &token, Some("image/png"), png.clone()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    // Wrong or missing token; another tenant's token.
    let r = upload(&edge, &path, "osk_wrong", Some("image/png"), png.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let other = edge.tenant("beta").await;
    let r = upload(&edge, &path, &other, Some("image/png"), png.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(files_under(&media_dir(&edge)), 0, "a refused upload left a file");
    // The store changed only by beta's creation: alpha's records are as
    // before. The host's dispatcher is delivering alpha's earlier events all
    // along (its events, deliveries and counters move), so those are left out.
    let alpha_records = |dump: &[(Vec<u8>, Vec<u8>)]| -> Vec<(Vec<u8>, Vec<u8>)> {
        dump.iter()
            .filter(|(k, _)| {
                let k = String::from_utf8_lossy(k);
                let bookkeeping = ["evt", "dlv", "due", "dead", "coal", "seq"]
                    .iter()
                    .any(|b| k.starts_with(&format!("t/alpha/{b}/")) || k.starts_with(&format!("t/alpha/{b}\0")));
                k.contains("alpha") && !bookkeeping
            })
            .cloned()
            .collect()
    };
    let after = edge.dump();
    assert!(alpha_records(&before) == alpha_records(&after), "a refused upload changed the store");
    // And a good one is still accepted (up to the limit the route allows).
    let r = upload(&edge, &path, &token, Some("image/png"), png).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_reordered_with_the_product_and_deleted_by_id() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, product) = shop(&edge, "alpha").await;
    let path = format!("/tenants/alpha/products/{product}/images");
    let mut images = Vec::new();
    for (w, format, mime) in [
        (100, image::ImageFormat::Png, "image/png"),
        (120, image::ImageFormat::Gif, "image/gif"),
        (140, image::ImageFormat::WebP, "image/webp"),
    ] {
        let r = upload(&edge, &path, &token, Some(mime), picture(w, 50, format)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{mime}: {}", r.text());
        images.push(r.json);
    }
    // Reversed through the product update; a URL sent back altered is
    // rewritten from the image's own hash.
    let mut reversed: Vec<Value> = images.iter().rev().cloned().collect();
    reversed[0]["url"] = json!("https://elsewhere.example/x.png");
    let r = edge
        .admin("PATCH", &format!("/tenants/alpha/products/{product}"), &token, Some(&json!({ "images": reversed })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let expected: Vec<Value> = images.iter().rev().cloned().collect();
    assert_eq!(r.json["images"], json!(expected));
    // An image id made up, or issued for another tenant, is refused.
    let mut forged = images[0].clone();
    forged["media"]["id"] = json!("img-0000-0000000001-00000000000000000000000000000000");
    let r = edge
        .admin("PATCH", &format!("/tenants/alpha/products/{product}"), &token, Some(&json!({ "images": [forged] })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    let gone = images[1]["media"]["id"].as_str().unwrap();
    let r = edge.admin("DELETE", &format!("{path}/{gone}"), &token, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let p = edge.admin("GET", &format!("/tenants/alpha/products/{product}"), &token, None).await;
    assert_eq!(p.json["product"]["images"], json!([images[2], images[0]]));
    let r = edge.admin("DELETE", &format!("{path}/{gone}"), &token, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shop_gets_a_picture_for_every_product() {
    let edge = Edge::start(HttpSettings::default()).await;
    let core = edge.host.core.clone();
    let seeded = tokio::task::spawn_blocking(move || omnistore_core::seed_demo(&core, 1_760_000_000_000).unwrap())
        .await
        .unwrap();
    let tenant = seeded.tenant.clone();
    let added = edge.host.add_demo_images(&tenant).await.unwrap();
    assert_eq!(added, seeded.products_total);
    // A second run adds nothing.
    assert_eq!(edge.host.add_demo_images(&tenant).await.unwrap(), 0);
    edge.domain(tenant.as_str(), "demo.example");
    let r = edge.admin("GET", &format!("/tenants/{tenant}/products?limit=1000"), OPERATOR, None).await;
    let products = r.json["items"].as_array().unwrap();
    assert_eq!(products.len(), seeded.products_total);
    for p in products {
        let images = p["images"].as_array().unwrap();
        assert_eq!(images.len(), 1, "{p}");
        let url = images[0]["url"].as_str().unwrap();
        let r = image_get(&edge, "demo.example", &format!("{url}?width=480"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{url}");
        assert_eq!(image::load_from_memory(&r.bytes).unwrap().width(), 480);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_no_product_shows_are_pruned_with_their_copies_and_only_the_tenants_own() {
    let edge = Edge::start(HttpSettings::default()).await;
    let (token, product) = shop(&edge, "alpha").await;
    let (beta_token, beta_product) = shop(&edge, "beta").await;
    let path = format!("/tenants/alpha/products/{product}/images");
    let kept = upload(&edge, &path, &token, Some("image/png"), picture(100, 50, image::ImageFormat::Png)).await;
    let dropped = upload(&edge, &path, &token, Some("image/png"), picture(120, 60, image::ImageFormat::Png)).await;
    let theirs = upload(
        &edge,
        &format!("/tenants/beta/products/{beta_product}/images"),
        &beta_token,
        Some("image/png"),
        picture(140, 70, image::ImageFormat::Png),
    )
    .await;
    // A resized copy of the image about to be dropped.
    let dropped_url = dropped.json["url"].as_str().unwrap().to_owned();
    let r = image_get(&edge, "alpha.example", &format!("{dropped_url}?width=80"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let id = dropped.json["media"]["id"].as_str().unwrap();
    let r = edge.admin("DELETE", &format!("{path}/{id}"), &token, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let files_before = files_under(&media_dir(&edge));

    // Within the default grace period nothing goes.
    let r = edge.admin("POST", "/tenants/alpha/images/prune", &token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json["removed"].as_u64(), r.json["kept"].as_u64()), (Some(0), Some(2)), "{}", r.json);

    let r = edge.admin("POST", "/tenants/alpha/images/prune?grace_s=0", &token, None).await;
    assert_eq!((r.json["removed"].as_u64(), r.json["kept"].as_u64()), (Some(1), Some(1)), "{}", r.json);
    assert_eq!(files_under(&media_dir(&edge)), files_before - 2, "the original and its resized copy");
    let gone = image_get(&edge, "alpha.example", &dropped_url, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let shown = image_get(&edge, "alpha.example", kept.json["url"].as_str().unwrap(), None).await;
    assert_eq!(shown.status, StatusCode::OK, "the image the product shows stays");
    let other = image_get(&edge, "beta.example", theirs.json["url"].as_str().unwrap(), None).await;
    assert_eq!(other.status, StatusCode::OK, "another tenant's images are not touched");

    // Another tenant's token prunes nothing here; a bad grace is refused.
    let r = edge.admin("POST", "/tenants/alpha/images/prune?grace_s=0", &beta_token, None).await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.text());
    let r = edge.admin("POST", "/tenants/alpha/images/prune?grace_s=-1", &token, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
}
