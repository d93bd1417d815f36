//! Images the host keeps for products: attached with an issued id and a URL
//! written by the core, reordered with the product, detached by id.

use super::*;

fn media(byte: char) -> NewImageMedia {
    NewImageMedia {
        sha256: byte.to_string().repeat(64),
        content_type: omnistore_types::ImageFormat::Png,
        width: 800,
        height: 600,
        alt: Some("A cannolo".into()),
    }
}

fn cannolo(s: &Shop) -> ProductId {
    s.core.get_variant(&s.t, &s.cannolo).unwrap().product_id
}

#[test]
fn attached_images_get_an_id_of_the_tenant_and_a_url_from_their_hash() {
    let s = mem_shop("images");
    let product = cannolo(&s);
    let before = s.core.get_product(&s.t, &product).unwrap().product.images.len();
    let (p, image) = s.core.attach_image(&s.t, &product, media('a'), T0 + 1).unwrap();
    let m = image.media.clone().unwrap();
    assert!(m.id.issued_in(&s.t));
    assert_eq!(image.url, format!("/media/{}/{}.png", m.id, "a".repeat(64)));
    assert_eq!(p.images.len(), before + 1);
    assert_eq!(p.images.last(), Some(&image));
    assert_eq!(s.core.get_product(&s.t, &product).unwrap().product.images.last(), Some(&image));

    // The same bytes twice are two images, each with its own id.
    let (_, second) = s.core.attach_image(&s.t, &product, media('a'), T0 + 2).unwrap();
    assert_ne!(second.media.as_ref().unwrap().id, m.id);

    // Reordered through the product; the URL always follows the media.
    let mut reordered = s.core.get_product(&s.t, &product).unwrap().product.images;
    reordered.reverse();
    reordered[0].url = "https://elsewhere.example/x.png".into();
    let patch = ProductPatch { images: Some(reordered.clone()), ..Default::default() };
    let p = s.core.update_product(&s.t, &product, patch, T0 + 3).unwrap();
    assert_eq!(p.images[0], second);
    assert_eq!(p.images[1], image);

    let (p, removed) = s.core.detach_image(&s.t, &product, &m.id, T0 + 4).unwrap();
    assert_eq!(removed, image);
    assert!(!p.images.iter().any(|i| i.media.as_ref().is_some_and(|x| x.id == m.id)));
    assert!(matches!(s.core.detach_image(&s.t, &product, &m.id, T0 + 5), Err(CoreError::NotFound { .. })));
}

#[test]
fn forged_or_malformed_media_is_refused_and_changes_nothing() {
    let s = mem_shop("images");
    let other = mem_shop("other");
    let product = cannolo(&s);
    let (_, theirs) = other.core.attach_image(&other.t, &cannolo(&other), media('b'), T0).unwrap();
    let before = snapshot(s.core.store());
    let mut bad_hash = media('a');
    bad_hash.sha256 = "A".repeat(64);
    assert!(matches!(s.core.attach_image(&s.t, &product, bad_hash, T0), Err(CoreError::Invalid(_))));
    let mut flat = media('a');
    flat.height = 0;
    assert!(matches!(s.core.attach_image(&s.t, &product, flat, T0), Err(CoreError::Invalid(_))));
    let mut long_alt = media('a');
    long_alt.alt = Some("x".repeat(501));
    assert!(matches!(s.core.attach_image(&s.t, &product, long_alt, T0), Err(CoreError::Invalid(_))));
    assert!(matches!(
        s.core.attach_image(&s.t, &ProductId::new("prd-none"), media('a'), T0),
        Err(CoreError::NotFound { .. })
    ));
    // Another tenant's image id, sent in a product update.
    let patch = ProductPatch { images: Some(vec![theirs.clone()]), ..Default::default() };
    assert!(matches!(s.core.update_product(&s.t, &product, patch, T0), Err(CoreError::Invalid(_))));
    // The same image listed twice.
    let (_, ours) = {
        let core = memory_core();
        let copy = shop(&core, "images");
        let id = cannolo(&copy);
        copy.core.attach_image(&copy.t, &id, media('c'), T0).unwrap()
    };
    let patch = ProductPatch { images: Some(vec![ours.clone(), ours]), ..Default::default() };
    assert!(matches!(s.core.update_product(&s.t, &product, patch, T0), Err(CoreError::Invalid(_))));
    assert_eq!(snapshot(s.core.store()), before, "a refused image changed the store");
}

#[test]
fn a_product_holds_at_most_a_hundred_images() {
    let s = mem_shop("images");
    let product = cannolo(&s);
    for i in 0..100 {
        let start = s.core.get_product(&s.t, &product).unwrap().product.images.len();
        if start >= 100 {
            break;
        }
        s.core.attach_image(&s.t, &product, media(char::from(b'a' + (i % 6) as u8)), T0).unwrap();
    }
    assert_eq!(s.core.get_product(&s.t, &product).unwrap().product.images.len(), 100);
    assert!(matches!(s.core.attach_image(&s.t, &product, media('a'), T0), Err(CoreError::Invalid(_))));
}

#[test]
fn an_image_without_media_is_stored_in_its_old_shape() {
    let image = Image { url: "https://cdn.example/a.jpg".into(), alt: None, media: None };
    assert_eq!(
        serde_json::to_value(&image).unwrap(),
        serde_json::json!({ "url": "https://cdn.example/a.jpg", "alt": null })
    );
    let old: Image = serde_json::from_str(r#"{"url":"/a.jpg","alt":"A"}"#).unwrap();
    assert_eq!(old.media, None);
}
