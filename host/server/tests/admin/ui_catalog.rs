//! A product's page beyond its title and prices: brand, tags and
//! collections, a new variant, and its images put in order or removed —
//! each saved as the JSON API saves it, each refusal next to its field with
//! nothing changed.

use axum::http::StatusCode;
use omnistore_core::{CollectionId, Image, NewCollection, ProductId, ProductPatch, TenantId};

use super::{Admin, Browser, Page};

impl Page {
    /// What the form field `name` holds as the page shows it: an input's
    /// value, a textarea's text, a select's chosen option.
    fn value_of(&self, name: &str) -> String {
        let at = self.html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no field {name}"));
        let tag_start = self.html[..at].rfind('<').unwrap();
        let rest = &self.html[tag_start..];
        let attribute = |tag: &str, attr: &str| {
            tag.split(&format!(" {attr}=\"")).nth(1).map(|v| v.split('"').next().unwrap().to_owned())
        };
        let tag = &rest[..rest.find('>').unwrap()];
        if rest.starts_with("<textarea") {
            let body = &rest[rest.find('>').unwrap() + 1..];
            body[..body.find("</textarea>").unwrap()].to_owned()
        } else if rest.starts_with("<select") {
            let options = &rest[..rest.find("</select>").unwrap()];
            let chosen = options.split("<option").find(|o| o.split('>').next().unwrap().contains(" selected")).unwrap();
            attribute(chosen, "value").unwrap()
        } else {
            attribute(tag, "value").unwrap_or_default()
        }
    }

    /// Names of the fields whose name starts with `prefix`.
    fn names_starting_with(&self, prefix: &str) -> Vec<String> {
        self.html
            .split(&format!("name=\"{prefix}"))
            .skip(1)
            .map(|rest| format!("{prefix}{}", rest.split('"').next().unwrap()))
            .collect()
    }
}

/// The details form as the page has it, with `changes` on top.
fn details(page: &Page, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> =
        ["csrf", "title", "description", "status"].iter().map(|n| (n.to_string(), page.value_of(n))).collect();
    for name in page.names_starting_with("sku_").into_iter().chain(page.names_starting_with("price_")) {
        let value = page.value_of(&name);
        fields.push((name, value));
    }
    for (k, v) in changes {
        fields.retain(|(n, _)| n != k);
        fields.push((k.to_string(), v.to_string()));
    }
    fields
}

async fn post(admin: &Admin, path: &str, browser: &Browser, fields: &[(String, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin.post(path, browser, &pairs).await
}

#[tokio::test]
async fn brand_tags_and_collections_are_saved_from_the_products_page() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let extra = admin
        .api
        .core
        .create_collection(
            &t,
            NewCollection { handle: "torte".into(), title: "Torte".into(), description: String::new() },
            admin.api.now(),
        )
        .unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    let path = format!("/admin/products/{}", a.product);
    let page = admin.get(&path, &browser).await;
    assert!(page.html.contains(&format!("name=\"collection_{}\" checked", a.collection)), "{}", page.html);

    let before = admin.api.dump();
    let long_tag = "t".repeat(65);
    for (field, value) in [("tags", long_tag.as_str()), ("brand", &*"b".repeat(201))] {
        let r = post(&admin, &path, &browser, &details(&page, &[(field, value)])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.html);
        assert!(r.error_at(field), "{field}: {}", r.html);
    }
    assert!(admin.api.dump() == before, "refused forms changed the store");

    let collection_field = format!("collection_{}", extra.id);
    let fields = details(
        &page,
        &[
            ("brand", "Dolce Vita"),
            ("tags", "siciliano, ricotta, Siciliano , "),
            (collection_field.as_str(), "on"),
            // A collection of no shop, ticked by hand: ignored.
            ("collection_col-nope", "on"),
        ],
    );
    let r = post(&admin, &path, &browser, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let p = admin.api.core.get_product(&t, &ProductId::new(a.product.as_str())).unwrap().product;
    assert_eq!(p.brand.as_deref(), Some("Dolce Vita"));
    assert_eq!(p.tags, ["ricotta", "siciliano"], "trimmed, repeated once (the core keeps them sorted)");
    assert_eq!(
        p.collections,
        std::slice::from_ref(&extra.id),
        "the unticked collection is left, the ticked one joined"
    );
    assert!(!p.collections.contains(&CollectionId::new(a.collection.as_str())));
}

#[tokio::test]
async fn a_variant_is_added_from_the_products_page() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    admin.shop("beta", "B").await;
    let t = TenantId::new("alpha").unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    let path = format!("/admin/products/{}", a.product);
    let csrf = admin.get(&path, &browser).await.hidden("csrf");
    let add = |title: &str, sku: &str, price: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("new_title".to_owned(), title.to_owned()),
            ("new_sku".to_owned(), sku.to_owned()),
            ("new_price".to_owned(), price.to_owned()),
        ]
    };
    let before = admin.api.dump();
    for (fields, field) in [
        (add("", "CAN-M", "3,20"), "new_title"),
        (add("Medio", "", "3,20"), "new_sku"),
        (add("Medio", "CAN-S", "3,20"), "new_sku"),
        (add("Medio", "CAN-M", "-1"), "new_price"),
        (add("Medio", "CAN-M", "tre"), "new_price"),
    ] {
        let r = post(&admin, &format!("{path}/variants"), &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(field), "{fields:?}: no message at {field}: {}", r.html);
        assert!(r.html.contains("value=\"Medio\"") || field == "new_title", "what was typed stays: {}", r.html);
    }
    // Another shop's product is not there for this session.
    let b_product =
        admin.api.core.list_products(&TenantId::new("beta").unwrap(), &Default::default()).unwrap()[0].id.to_string();
    let r =
        post(&admin, &format!("/admin/products/{b_product}/variants"), &browser, &add("Medio", "CAN-M", "3,20")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    assert!(admin.api.dump() == before, "refused forms changed the store");

    let r = post(&admin, &format!("{path}/variants"), &browser, &add("Medio", "CAN-M", "3,20")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let v = admin.api.core.variant_by_sku(&t, "CAN-M").unwrap();
    assert_eq!((v.title.as_str(), v.price.amount_minor), ("Medio", 320));
    assert_eq!(v.product_id.as_str(), a.product);
}

#[tokio::test]
async fn images_are_put_in_order_and_removed_and_a_stale_page_moves_nothing() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let id = ProductId::new(a.product.as_str());
    let image =
        |n: u32| Image { url: format!("https://cdn.example/{n}.jpg"), alt: Some(format!("Photo {n}")), media: None };
    let patch = ProductPatch { images: Some(vec![image(1), image(2), image(3)]), ..Default::default() };
    admin.api.core.update_product(&t, &id, patch, admin.api.now()).unwrap();
    let urls = || -> Vec<String> {
        admin.api.core.get_product(&t, &id).unwrap().product.images.into_iter().map(|i| i.url).collect()
    };
    let browser = admin.sign_in("alpha", "en").await;
    let path = format!("/admin/products/{}", a.product);
    let page = admin.get(&path, &browser).await;
    let csrf = page.hidden("csrf");
    let act = |action: &str, n: u32| {
        (format!("{path}/images/{action}"), vec![("csrf".to_owned(), csrf.clone()), ("url".to_owned(), image(n).url)])
    };

    let (to, fields) = act("first", 3);
    assert_eq!(post(&admin, &to, &browser, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(urls(), [image(3).url, image(1).url, image(2).url]);
    let (to, fields) = act("down", 1);
    assert_eq!(post(&admin, &to, &browser, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(urls(), [image(3).url, image(2).url, image(1).url]);
    let (to, fields) = act("remove", 2);
    assert_eq!(post(&admin, &to, &browser, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(urls(), [image(3).url, image(1).url]);

    // An image no longer there (removed in another tab), an unknown action,
    // a stale form: nothing moves.
    let before = admin.api.dump();
    let (to, fields) = act("up", 2);
    let r = post(&admin, &to, &browser, &fields).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.html);
    assert!(r.html.contains("reload the page"), "{}", r.html);
    let (to, fields) = act("sideways", 1);
    assert_eq!(post(&admin, &to, &browser, &fields).await.status, StatusCode::NOT_FOUND);
    let (to, _) = act("up", 1);
    let stale = vec![("csrf".to_owned(), "stale".to_owned()), ("url".to_owned(), image(1).url)];
    assert_eq!(post(&admin, &to, &browser, &stale).await.status, StatusCode::FORBIDDEN);
    assert!(admin.api.dump() == before, "refused moves changed the store");
    let page = admin.get(&path, &browser).await;
    assert!(page.html.contains("aria-label=\"Make first 2\""), "the second image can be made first: {}", page.html);
}

#[tokio::test]
async fn a_products_page_shows_how_it_stands_on_each_channel() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let path = format!("/admin/products/{}", a.product);
    let page = admin.get(&path, &browser).await;
    assert!(!page.html.contains("id=\"sync-h\""), "no channel reported yet: {}", page.html);
    super::ui_operations::report_sync_error(&admin, &a);
    let page = admin.get(&path, &browser).await;
    let section =
        page.html.split("id=\"sync-h\"").nth(1).expect("the sync section").split("</section>").next().unwrap();
    assert!(section.contains(&format!("href=\"/admin/channels/{}\"", a.channel)), "{section}");
    assert!(section.contains("IMG_SIZE: The image is too small for the catalogue"), "{section}");
    assert!(section.contains("No brand given"), "{section}");
    // Another product of the shop has no report: nothing of this one shows there.
    let other = admin.get(&format!("/admin/products/{}", a.product2), &browser).await;
    assert!(!other.html.contains("IMG_SIZE"), "{}", other.html);
}

#[tokio::test]
async fn products_are_filtered_by_status_and_collection() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let b = admin.shop("beta", "B").await;
    let browser = admin.sign_in("alpha", "en").await;
    let has = |page: &Page, id: &str| page.html.contains(&format!("href=\"/admin/products/{id}\""));
    // The seed has an active product in the collection and a draft outside it.
    let all = admin.get("/admin/products", &browser).await;
    assert!(has(&all, &a.product) && has(&all, &a.product2), "{}", all.html);
    let drafts = admin.get("/admin/products?status=draft", &browser).await;
    assert!(!has(&drafts, &a.product) && has(&drafts, &a.product2), "{}", drafts.html);
    let in_collection = admin.get(&format!("/admin/products?collection={}", a.collection), &browser).await;
    assert!(has(&in_collection, &a.product) && !has(&in_collection, &a.product2), "{}", in_collection.html);
    assert!(in_collection.html.contains(&format!("<option value=\"{}\" selected>", a.collection)));
    // Another shop's collection id filters to nothing rather than showing its products.
    let foreign = admin.get(&format!("/admin/products?collection={}", b.collection), &browser).await;
    assert_eq!(foreign.status, StatusCode::OK);
    assert!(!has(&foreign, &a.product) && !has(&foreign, &b.product), "{}", foreign.html);
}
