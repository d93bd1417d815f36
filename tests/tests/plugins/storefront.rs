//! What contract 0.2.0 added for web storefronts, end to end: the `shopper`
//! test guest (raw bindings, no SDK) calls every new import through the real
//! runtime on the real core, and the server hands it only the host's own
//! `x-omnistore-*` headers.

use omnistore_core::{
    DiscountValue, NewPromotion, PromotionConditions, PromotionScope, ShopPatch, TenantId as CoreTenant,
};
use omnistore_runtime::CallOptions;
use omnistore_server::PublicScheme;
use omnistore_services::files::FileStore;

use super::*;

async fn call(host: &Host, plugin: &Plugin, inst: &Installation, path: &str) -> (u16, String) {
    let response = host.runtime.handle_request(plugin, inst, get(path)).await.unwrap_or_else(|e| panic!("{path}: {e}"));
    (response.status, String::from_utf8_lossy(&response.body).into_owned())
}

/// The value of `key=` in a guest's answer.
fn field(answer: &str, key: &str) -> String {
    answer
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {answer}"))
        .to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The demo shop with `shopper` installed on it, every capability granted.
async fn shop(host: &Host) -> (Arc<Plugin>, Installation) {
    let plugin = host.load("shopper").await;
    host.seed_demo("demo");
    let inst = host.install("demo", &plugin);
    (plugin, inst)
}

fn demo() -> CoreTenant {
    CoreTenant::new("demo").unwrap()
}

#[tokio::test]
async fn search_and_sorted_collections_through_a_real_component() {
    let host = Host::new(false);
    let (plugin, inst) = shop(&host).await;

    let (status, answer) = call(&host, &plugin, &inst, "/search?q=TIRAMISU").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(field(&answer, "handles"), "tiramisu", "the accent folds: {answer}");
    // Every word must match; the cursor pages on; a forged cursor is refused.
    let (_, first) = call(&host, &plugin, &inst, "/search?q=cannolo%20pistacchio").await;
    // Both words in the title rank first; a cannolo with pistacchio in its description follows.
    assert!(field(&first, "handles").starts_with("cannolo-al-pistacchio,"), "{first}");
    assert!(!field(&first, "handles").contains("sfogliatella"), "{first}");
    let (_, page) = call(&host, &plugin, &inst, "/search?q=cannolo").await;
    let next = field(&page, "next");
    assert!(!next.is_empty() && field(&page, "handles").split(',').count() == 2, "{page}");
    let (status, more) = call(&host, &plugin, &inst, &format!("/search?q=cannolo&cursor={next}")).await;
    assert_eq!(status, 200, "{more}");
    assert!(!field(&more, "handles").is_empty() && field(&more, "handles") != field(&page, "handles"));
    let (status, forged) = call(&host, &plugin, &inst, "/search?q=cannolo&cursor=czF8OTk5fHByZC14fGZvcmdlZA").await;
    assert_eq!(status, 400, "{forged}");
    assert!(forged.starts_with("HostError::Invalid") && forged.contains("cursor"), "{forged}");

    // Torte by price: eight cakes, the cheapest first, with the total.
    let torte = host.core().collection_by_handle(&demo(), "torte").unwrap().id;
    let (status, browse) =
        call(&host, &plugin, &inst, &format!("/browse?collection={torte}&sort=price-ascending&limit=2")).await;
    assert_eq!(status, 200, "{browse}");
    assert_eq!(field(&browse, "total"), "8");
    assert_eq!(field(&browse, "handles"), "torta-della-nonna,torta-caprese");
    let (_, by_title) =
        call(&host, &plugin, &inst, &format!("/browse?collection={torte}&sort=title-descending&offset=7&limit=5"))
            .await;
    assert_eq!((field(&by_title, "total"), field(&by_title, "handles")), ("8".into(), "cassata-siciliana".into()));

    // A promotion with an end date says until when the price holds; the creation time is there.
    let ends = now_ms() + 86_400_000;
    host.core()
        .create_promotion(
            &demo(),
            NewPromotion {
                name: "Festa della torta".into(),
                scope: PromotionScope::Line,
                value: DiscountValue::Percent { bps: 1000 },
                conditions: PromotionConditions { collections: vec![torte], ends_ms: Some(ends), ..Default::default() },
                code: None,
                usage_limit: None,
            },
            T0,
        )
        .unwrap();
    let (_, product) = call(&host, &plugin, &inst, "/product?handle=tiramisu").await;
    assert_eq!(field(&product, "valid_until"), format!("{ends},{ends}"));
    assert_eq!(field(&product, "created_at"), T0.to_string());
    let (_, plain) = call(&host, &plugin, &inst, "/product?handle=cantucci-alle-mandorle").await;
    assert!(field(&plain, "valid_until").split(',').all(|v| v == "none"), "{plain}");
}

#[tokio::test]
async fn locations_carts_and_place_order_through_a_real_component() {
    let host = Host::new(false);
    let (plugin, inst) = shop(&host).await;
    let (_, locations) = call(&host, &plugin, &inst, "/locations").await;
    let names = field(&locations, "names");
    let mut names: Vec<&str> = names.split(',').collect();
    names.sort();
    assert_eq!(names, ["Laboratorio", "Negozio"]);
    let negozio = host.core().list_locations(&demo()).unwrap().into_iter().find(|l| l.name == "Negozio").unwrap().id;

    // Cakes: 2 of each size at the shop. A cart line names its product, handle and first image.
    let sku = host.core().product_by_handle(&demo(), "cassata-siciliana").unwrap().variants[0].sku.clone();
    let (status, cart) = call(&host, &plugin, &inst, &format!("/cart?sku={sku}&qty=2")).await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(field(&cart, "handle"), "cassata-siciliana");
    assert_eq!(field(&cart, "image"), "/demo/images/cassata-siciliana.jpg");
    assert!(field(&cart, "product_id").starts_with("prd"), "{cart}");
    let two = field(&cart, "cart");
    let (_, pickup) = call(&host, &plugin, &inst, &format!("/for-cart?cart={two}")).await;
    assert_eq!(field(&pickup, "names"), "Negozio");
    let (_, three) = call(&host, &plugin, &inst, &format!("/cart?sku={sku}&qty=3")).await;
    let (_, none) = call(&host, &plugin, &inst, &format!("/for-cart?cart={}", field(&three, "cart"))).await;
    assert_eq!(field(&none, "names"), "", "the shop holds two, not three");

    // A visitor browsed before ordering.
    let (status, touched) = call(&host, &plugin, &inst, "/touch?visitor=v-42&source=instagram&medium=social").await;
    assert_eq!(status, 200, "{touched}");
    assert_eq!(host.core().visitor_touchpoints(&demo(), "v-42").unwrap().len(), 1);

    // Refused: no contact, pay at pickup without a pickup, an unknown location.
    for bad in [
        format!("/place?cart={two}&pickup={negozio}"),
        format!("/place?cart={two}&email=g%40example.com&store=loc-nowhere"),
        format!("/place?cart={two}&email=nope&pickup={negozio}"),
    ] {
        let (status, answer) = call(&host, &plugin, &inst, &bad).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(answer.starts_with("HostError::Invalid"), "{bad}: {answer}");
    }
    let (status, placed) = call(
        &host,
        &plugin,
        &inst,
        &format!(
            "/place?cart={two}&email=Giulia%40Example.com&pickup={negozio}&payment=pickup&visitor=v-42&consent=email"
        ),
    )
    .await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!(field(&placed, "payment"), "Some(PaymentMethod::PayAtPickup)");
    assert_eq!(field(&placed, "email"), "giulia@example.com");
    let customer = omnistore_core::CustomerId::new(field(&placed, "customer"));
    let giulia = host.core().get_customer(&demo(), &customer).unwrap();
    assert!(giulia.has_consent(omnistore_core::ConsentPurpose::EmailMarketing));
    assert!(host.core().visitor_touchpoints(&demo(), "v-42").unwrap().is_empty(), "joined to the customer");

    // The other cart wants the same cakes, now gone from the shop: conflict, no order.
    let (status, late) = call(
        &host,
        &plugin,
        &inst,
        &format!("/place?cart={}&email=late%40example.com&pickup={negozio}", field(&three, "cart")),
    )
    .await;
    assert_eq!(status, 400, "{late}");
    assert!(late.starts_with("HostError::Conflict"), "{late}");
}

#[tokio::test]
async fn files_shop_and_random_bytes_through_a_real_component() {
    let host = Host::new(false);
    let (plugin, inst) = shop(&host).await;
    let files = FileStore::new(host.core().store().clone());
    files.put_draft(&demo(), &inst.id, "templates/product.liquid", b"live {{ product.title }}").unwrap();
    files.publish(&demo(), &inst.id).unwrap();
    files.put_draft(&demo(), &inst.id, "templates/product.liquid", b"draft").unwrap();

    let (status, live) = call(&host, &plugin, &inst, "/file?path=templates/product.liquid").await;
    assert_eq!((status, live.as_str()), (200, "live {{ product.title }}"));
    let preview = host
        .runtime
        .handle_request_with(&plugin, &inst, get("/file?path=templates/product.liquid"), CallOptions { preview: true })
        .await
        .unwrap();
    assert_eq!(preview.body, b"draft", "a preview reads the draft");
    let (_, listed) = call(&host, &plugin, &inst, "/files?prefix=templates/").await;
    assert_eq!(field(&listed, "paths"), "templates/product.liquid");
    let (status, missing) = call(&host, &plugin, &inst, "/file?path=templates/none.liquid").await;
    assert_eq!(status, 404, "{missing}");
    for bad in ["../secrets", "%2Fetc%2Fpasswd", "a%5Cb"] {
        let (status, answer) = call(&host, &plugin, &inst, &format!("/file?path={bad}")).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(answer.starts_with("HostError::Invalid"), "{bad}: {answer}");
    }

    let (_, shop) = call(&host, &plugin, &inst, "/shop").await;
    assert_eq!(
        (field(&shop, "name"), field(&shop, "currency"), field(&shop, "languages")),
        ("Pasticceria Dolce Vita".into(), "EUR".into(), "it,en".into())
    );
    let patch = ShopPatch {
        languages: Some(vec!["it".into(), "en-GB".into()]),
        contact_email: Some(Some("Ciao@DolceVita.example".into())),
        ..Default::default()
    };
    host.core().update_shop(&demo(), patch, T0 + 1).unwrap();
    let (_, shop) = call(&host, &plugin, &inst, "/shop").await;
    assert_eq!(
        (field(&shop, "languages"), field(&shop, "email")),
        ("it,en-GB".into(), "ciao@dolcevita.example".into())
    );

    let (_, a) = call(&host, &plugin, &inst, "/random?n=32").await;
    let (_, b) = call(&host, &plugin, &inst, "/random?n=32").await;
    assert_eq!(field(&a, "len"), "32");
    assert_ne!(field(&a, "hex"), field(&b, "hex"));
    let err = host.runtime.handle_request(&plugin, &inst, get("/random?n=1025")).await.unwrap_err();
    assert!(matches!(&err, CallError::Trap(m) if m.contains("1024")), "{err:?}");
}

#[tokio::test]
async fn the_new_imports_are_denied_unless_granted() {
    let host = Host::new(false);
    let (plugin, mut inst) = shop(&host).await;
    inst.grants = Grants::from_manifest(&plugin.manifest).without(Capability::Locations).without(Capability::Files);
    for path in ["/locations", "/file?path=a.txt", "/files?prefix="] {
        let (status, answer) = call(&host, &plugin, &inst, path).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(answer.starts_with("HostError::Denied"), "{path}: {answer}");
    }
    // What is granted still works.
    let (status, _) = call(&host, &plugin, &inst, "/search?q=cannolo").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn only_the_host_sets_x_omnistore_headers() {
    let host = Host::new(false);
    let (plugin, inst) = shop(&host).await;
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant("demo"), &["demo.localhost".to_string()]);
    registry.mount(Mounted { mount: "/shop".into(), installation: inst, plugin });
    let app = omnistore_server::router(
        AppState::new(host.runtime.clone(), registry).with_path_routing(dev_routing()).with_scheme(PublicScheme::Http),
    );
    let forged = dev_get("/t/demo/shop/headers")
        .header("x-omnistore-preview", "1")
        .header("X-Omnistore-Base-Url", "https://evil.example")
        .header("accept-language", "it")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(forged).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = body_text(response).await;
    assert!(!headers.contains("x-omnistore-preview"), "{headers}");
    assert!(!headers.contains("evil.example"), "{headers}");
    assert!(headers.contains("accept-language: it"), "{headers}");
    assert!(headers.lines().any(|l| l == "x-omnistore-base-url: http://localhost/t/demo/shop"), "{headers}");
    // By host name the base URL keeps the port; https is the production default.
    let by_host =
        HttpRequest::get("/shop/headers").header(header::HOST, "Demo.Localhost:8443").body(Body::empty()).unwrap();
    let response = omnistore_server::router(
        AppState::new(host.runtime.clone(), registry_for(&host).await).with_path_routing(dev_routing()),
    )
    .oneshot(by_host)
    .await
    .unwrap();
    let headers = body_text(response).await;
    assert!(headers.lines().any(|l| l == "x-omnistore-base-url: https://demo.localhost:8443/shop"), "{headers}");
}

/// A registry with `shopper` mounted at `/shop` of tenant `demo`, on `demo.localhost`.
async fn registry_for(host: &Host) -> Arc<Registry> {
    let plugin = host.load("shopper").await;
    let inst = installation("demo", "shopper-2", &plugin);
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant("demo"), &["demo.localhost".to_string()]);
    registry.mount(Mounted { mount: "/shop".into(), installation: inst, plugin });
    registry
}
