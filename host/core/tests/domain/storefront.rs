//! What a web storefront asks of the core: search, sorted collection pages,
//! pickup locations for a cart and placing an order with a contact — on
//! every backend.

use super::support::{self, Shop, T0, eur, ship};
use super::*;
use omnistore_core::Window;

per_backend!(
    search_folds_accents_needs_every_word_and_pages_with_checked_cursors,
    collections_sort_and_count,
    pickup_is_offered_only_where_every_line_is_in_stock,
    placing_an_order_identifies_records_consents_and_joins_the_visitor,
    a_refused_order_changes_nothing,
    an_order_for_stock_that_ran_out_is_not_placed,
    page_views_recorded_at_once_share_commits_and_none_is_lost,
);

/// A product published to the web channel only.
#[allow(clippy::too_many_arguments)]
fn web_product(
    s: &Shop,
    handle: &str,
    title: &str,
    description: &str,
    tags: &[&str],
    collections: &[CollectionId],
    sku: &str,
    cents: i64,
    now: i64,
) -> VariantId {
    let d = s
        .core
        .create_product(
            &s.t,
            NewProduct {
                handle: handle.into(),
                title: title.into(),
                description: description.into(),
                brand: None,
                tags: tags.iter().map(|t| t.to_string()).collect(),
                collections: collections.to_vec(),
                images: vec![Image { url: format!("https://cdn.example/{handle}.jpg"), alt: None, media: None }],
                status: ProductStatus::Active,
                variants: vec![NewVariant {
                    sku: sku.into(),
                    title: "Standard".into(),
                    options: BTreeMap::new(),
                    gtin: None,
                    weight_grams: None,
                    price: eur(cents),
                    compare_at: None,
                    backorderable: false,
                }],
            },
            now,
        )
        .unwrap();
    s.core.publish_product(&s.t, &d.product.id, &s.web, now).unwrap();
    d.variants[0].id.clone()
}

fn handles(views: &[ChannelProductView]) -> Vec<String> {
    views.iter().map(|v| v.product.handle.clone()).collect()
}

fn search(s: &Shop, query: &str, cursor: Option<&str>, limit: usize) -> CoreResult<SearchPage> {
    s.core.search_channel_products(&s.t, &s.web, query, cursor, limit, T0)
}

fn search_folds_accents_needs_every_word_and_pages_with_checked_cursors(b: &support::Backend) {
    let s = support::shop(&b.core, "search");
    web_product(&s, "caffe-crema", "Caffè Crema", "", &["bar"], &[], "CAF-9", 150, T0);
    web_product(&s, "biscotti", "Biscotti", "Da inzuppare nel caffè", &[], &[], "BIS-9", 400, T0);
    web_product(&s, "granita", "Granita", "", &["Caffè", "estate"], &[], "GRA-1", 300, T0);

    // Accents and case fold both ways; title matches rank first.
    let page = search(&s, "CAFE", None, 10).unwrap();
    assert_eq!(handles(&page.products), ["caffe-crema", "granita", "biscotti"]);
    assert!(page.next.is_none());
    // Every word must match somewhere.
    assert_eq!(handles(&search(&s, "caffè crema", None, 10).unwrap().products), ["caffe-crema"]);
    assert_eq!(handles(&search(&s, "caffe estate", None, 10).unwrap().products), ["granita"]);
    assert!(search(&s, "caffe zabaione", None, 10).unwrap().products.is_empty());
    // SKUs and brands are searched too.
    assert_eq!(handles(&search(&s, "can-1", None, 10).unwrap().products), ["cannolo"]);
    assert_eq!(search(&s, "dolce vita", None, 10).unwrap().products.len(), 4);
    // Only what the channel shows: the new products are on the web channel only.
    let insta = s.core.search_channel_products(&s.t, &s.insta, "caffe", None, 10, T0).unwrap();
    assert!(insta.products.is_empty(), "{:?}", handles(&insta.products));

    // Paging with the cursor visits every match once, in rank order.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = search(&s, "caffe", cursor.as_deref(), 2).unwrap();
        seen.extend(handles(&page.products));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["caffe-crema", "granita", "biscotti"]);

    // A cursor is checked: garbled, forged, or issued for another query.
    let first = search(&s, "caffe", None, 1).unwrap().next.expect("a next page");
    for bad in ["garbage", "czF8MXxwcmQtMXxmb3JnZWQ", &first[..first.len() - 2], ""] {
        let err = search(&s, "caffe", Some(bad), 1).unwrap_err();
        assert!(matches!(&err, CoreError::Invalid(m) if m.contains("cursor")), "{bad:?}: {err}");
    }
    assert!(matches!(search(&s, "dolce", Some(&first), 1), Err(CoreError::Invalid(_))));
    assert!(matches!(search(&s, &"x".repeat(300), None, 1), Err(CoreError::Invalid(_))));
}

fn collections_sort_and_count(b: &support::Backend) {
    let s = support::shop(&b.core, "browse");
    let bar = s
        .core
        .create_collection(
            &s.t,
            NewCollection { handle: "bar".into(), title: "Bar".into(), description: String::new() },
            T0,
        )
        .unwrap()
        .id;
    let cannoli = s.core.collection_by_handle(&s.t, "cannoli").unwrap().id;
    web_product(&s, "zeppola", "Zeppola", "", &[], std::slice::from_ref(&bar), "ZEP-1", 500, T0 + 1);
    web_product(&s, "baba", "Babà", "", &[], std::slice::from_ref(&bar), "BAB-1", 150, T0 + 3);
    // 4.00 with 20% off cannoli: 3.20, between the other two.
    web_product(&s, "cannolo-bar", "Cannolo al bar", "", &[], &[bar.clone(), cannoli], "CBR-1", 400, T0 + 2);
    // In the collection but not published to the web channel.
    let hidden = s
        .core
        .create_product(
            &s.t,
            NewProduct {
                handle: "hidden".into(),
                title: "Hidden".into(),
                description: String::new(),
                brand: None,
                tags: vec![],
                collections: vec![bar.clone()],
                images: vec![],
                status: ProductStatus::Active,
                variants: vec![],
            },
            T0,
        )
        .unwrap();
    assert!(!s.core.is_published(&s.t, &hidden.product.id, &s.web).unwrap());

    let browse =
        |sort, offset, limit| s.core.browse_collection(&s.t, &s.web, &bar, sort, Window { offset, limit }, T0).unwrap();
    let page = browse(ProductSort::PriceAscending, 0, 10);
    assert_eq!(page.total, 3);
    assert_eq!(handles(&page.products), ["baba", "cannolo-bar", "zeppola"]);
    assert_eq!(page.products[1].variants[0].price, eur(320), "the promotion's price");
    assert_eq!(handles(&browse(ProductSort::PriceDescending, 0, 10).products), ["zeppola", "cannolo-bar", "baba"]);
    assert_eq!(handles(&browse(ProductSort::TitleAscending, 0, 10).products), ["baba", "cannolo-bar", "zeppola"]);
    assert_eq!(handles(&browse(ProductSort::TitleDescending, 0, 10).products), ["zeppola", "cannolo-bar", "baba"]);
    assert_eq!(handles(&browse(ProductSort::CreatedAscending, 0, 10).products), ["zeppola", "cannolo-bar", "baba"]);
    assert_eq!(handles(&browse(ProductSort::CreatedDescending, 0, 10).products), ["baba", "cannolo-bar", "zeppola"]);
    assert_eq!(browse(ProductSort::Manual, 0, 10).products.len(), 3);
    // Offset and limit cut the page; the total stays.
    let second = browse(ProductSort::PriceAscending, 1, 1);
    assert_eq!((second.total, handles(&second.products)), (3, vec!["cannolo-bar".to_string()]));
    let past = browse(ProductSort::PriceAscending, 10, 5);
    assert_eq!((past.total, past.products.len()), (3, 0));
    assert!(matches!(
        s.core.browse_collection(
            &s.t,
            &s.web,
            &CollectionId::new("col-missing"),
            ProductSort::Manual,
            Window { offset: 0, limit: 5 },
            T0
        ),
        Err(CoreError::NotFound { .. })
    ));
}

fn cart_with(s: &Shop, lines: &[(&VariantId, i64)]) -> CartId {
    let cart = s.core.create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: None }, T0).unwrap();
    for (v, q) in lines {
        s.core.add_to_cart(&s.t, &cart.id, v, *q, T0).unwrap();
    }
    cart.id
}

fn pickup_names(s: &Shop, cart: &CartId) -> Vec<String> {
    s.core.pickup_locations_for_cart(&s.t, &s.web, cart, T0).unwrap().into_iter().map(|l| l.name).collect()
}

fn pickup_is_offered_only_where_every_line_is_in_stock(b: &support::Backend) {
    let s = support::shop(&b.core, "pickup");
    let bar = s
        .core
        .create_location(
            &s.t,
            NewLocation { name: "Bar".into(), kind: LocationKind::Shop, pickup_enabled: true, address: None },
            T0,
        )
        .unwrap()
        .id;
    s.core.set_stock(&s.t, &s.cassata, &bar, 5, None, T0).unwrap();
    s.core.set_stock(&s.t, &s.cantucci, &s.negozio, 4, None, T0).unwrap();

    // Cassata: 2 at the shop, 5 at the bar (3 at the lab, which offers no pickup).
    assert_eq!(pickup_names(&s, &cart_with(&s, &[(&s.cassata, 2)])), ["Negozio", "Bar"]);
    assert_eq!(pickup_names(&s, &cart_with(&s, &[(&s.cassata, 3)])), ["Bar"]);
    // The bar lacks cantucci: a location missing one line is not offered.
    assert_eq!(pickup_names(&s, &cart_with(&s, &[(&s.cassata, 1), (&s.cantucci, 2)])), ["Negozio"]);
    assert!(pickup_names(&s, &cart_with(&s, &[(&s.cassata, 3), (&s.cantucci, 2)])).is_empty());
    assert!(pickup_names(&s, &cart_with(&s, &[])).is_empty());
    // A channel's safety buffer is kept back.
    s.core.update_channel(&s.t, &s.web, ChannelPatch { safety_buffer: Some(1), ..Default::default() }, T0).unwrap();
    assert_eq!(pickup_names(&s, &cart_with(&s, &[(&s.cantucci, 4)])), Vec::<String>::new());
    assert_eq!(pickup_names(&s, &cart_with(&s, &[(&s.cantucci, 3)])), ["Negozio"]);
}

fn order_request(email: Option<&str>, fulfilment: Fulfilment, payment: PaymentMethod) -> PlaceOrder {
    PlaceOrder {
        contact: Contact { email: email.map(Into::into), phone: None, name: Some("Giulia Rossi".into()) },
        email_marketing: false,
        sms_marketing: false,
        fulfilment,
        payment,
        visitor_id: None,
        note: None,
    }
}

fn view(s: &Shop, visitor: &str, source: &str, at: i64) -> VisitorTouchpoint {
    VisitorTouchpoint {
        visitor_id: visitor.into(),
        kind: "view".into(),
        channel_id: Some(s.web.clone()),
        product_id: None,
        variant_id: Some(s.cannolo.clone()),
        campaign: None,
        detail: None,
        source: Some(VisitSource {
            source: source.into(),
            medium: Some("social".into()),
            campaign: None,
            referrer: None,
        }),
        at_ms: at,
    }
}

fn placing_an_order_identifies_records_consents_and_joins_the_visitor(b: &support::Backend) {
    let s = support::shop(&b.core, "place");
    let pickup = Fulfilment::Pickup { location_id: s.negozio.clone() };

    // A guest with only an e-mail: a new customer, the order carries the contact and payment.
    let cart = cart_with(&s, &[(&s.cassata, 1)]);
    let order = s
        .core
        .place_order(
            &s.t,
            &s.web,
            &cart,
            order_request(Some("new@example.com"), pickup.clone(), PaymentMethod::PayAtPickup),
            T0,
        )
        .unwrap();
    assert_eq!(order.email.as_deref(), Some("new@example.com"));
    assert_eq!(order.payment, Some(PaymentMethod::PayAtPickup));
    let guest = s.core.find_customer(&s.t, &Identity::email("new@example.com").unwrap()).unwrap().unwrap();
    assert_eq!(order.customer_id.as_ref(), Some(&guest.id));
    assert_eq!(s.level(&s.cassata, &s.negozio).reserved, 1, "taken at the pickup location");
    // Placing the same cart again returns the same order.
    let again = s
        .core
        .place_order(
            &s.t,
            &s.web,
            &cart,
            order_request(Some("new@example.com"), pickup.clone(), PaymentMethod::Manual),
            T0,
        )
        .unwrap();
    assert_eq!(again.id, order.id);

    // An existing customer is found by e-mail, whatever its case; ticked
    // consents are recorded, unticked ones left alone; the visitor's
    // touchpoints join the customer's journal.
    let giulia = s.core.identify(&s.t, &Identity::email("giulia@example.com").unwrap(), None, T0).unwrap();
    s.core.record_visitor_touchpoint(&s.t, view(&s, "v-123", "instagram", T0 + 1), T0 + 1).unwrap();
    s.core.record_visitor_touchpoint(&s.t, view(&s, "v-123", "pinterest", T0 + 2), T0 + 2).unwrap();
    s.core.record_visitor_touchpoint(&s.t, view(&s, "v-other", "google", T0 + 2), T0 + 2).unwrap();
    let mut request = order_request(Some(" Giulia@Example.COM "), ship(), PaymentMethod::Manual);
    request.contact.phone = Some("+39 333 123 4567".into());
    request.email_marketing = true;
    request.visitor_id = Some("v-123".into());
    let cart = cart_with(&s, &[(&s.cantucci, 2)]);
    let order = s.core.place_order(&s.t, &s.web, &cart, request, T0 + 10).unwrap();
    assert_eq!(order.customer_id.as_ref(), Some(&giulia.id));
    assert_eq!(order.phone.as_deref(), Some("+393331234567"));
    assert_eq!(order.payment, Some(PaymentMethod::Manual));
    let giulia = s.core.get_customer(&s.t, &giulia.id).unwrap();
    assert!(giulia.has_consent(ConsentPurpose::EmailMarketing));
    assert!(!giulia.has_consent(ConsentPurpose::SmsMarketing));
    assert!(giulia.identity(&IdentityKind::Phone).is_some(), "the phone joined the profile");
    let history = s.core.consent_history(&s.t, &giulia.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].source.as_str(), history[0].channel_id.as_ref()), ("checkout", Some(&s.web)));
    let journey = s.core.timeline(&s.t, &giulia.id, 0, T0 + 1000, 100).unwrap();
    let sources: Vec<String> = journey
        .iter()
        .filter_map(|e| match e {
            TimelineEntry::Touchpoint(t) if t.visitor_id.as_deref() == Some("v-123") => {
                t.source.as_ref().map(|s| s.source.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(sources, ["instagram", "pinterest"]);
    assert!(s.core.visitor_touchpoints(&s.t, "v-123").unwrap().is_empty(), "joined, not copied");
    assert_eq!(s.core.visitor_touchpoints(&s.t, "v-other").unwrap().len(), 1, "another visitor is untouched");

    // A phone alone identifies too.
    let mut by_phone = order_request(None, pickup, PaymentMethod::PayAtPickup);
    by_phone.contact.phone = Some("0039 347 000 1111".into());
    let order = s.core.place_order(&s.t, &s.web, &cart_with(&s, &[(&s.cassata, 1)]), by_phone, T0 + 20).unwrap();
    assert_eq!((order.email, order.phone.as_deref()), (None, Some("+393470001111")));
}

fn a_refused_order_changes_nothing(b: &support::Backend) {
    let s = support::shop(&b.core, "refused");
    let cart = cart_with(&s, &[(&s.cassata, 1)]);
    s.core.record_visitor_touchpoint(&s.t, view(&s, "v-9", "google", T0), T0).unwrap();
    let pickup = Fulfilment::Pickup { location_id: s.negozio.clone() };
    let before = snapshot(b.core.store());
    let mut cases: Vec<(&str, PlaceOrder)> = vec![
        ("no contact", order_request(None, pickup.clone(), PaymentMethod::PayAtPickup)),
        ("bad e-mail", order_request(Some("giulia-at-example"), pickup.clone(), PaymentMethod::PayAtPickup)),
        ("pay at pickup with shipping", order_request(Some("g@example.com"), ship(), PaymentMethod::PayAtPickup)),
        (
            "unknown location",
            order_request(
                Some("g@example.com"),
                Fulfilment::Pickup { location_id: LocationId::new("loc-nowhere") },
                PaymentMethod::PayAtPickup,
            ),
        ),
        (
            "location without pickup",
            order_request(
                Some("g@example.com"),
                Fulfilment::ShipToStore { location_id: s.lab.clone() },
                PaymentMethod::PayAtPickup,
            ),
        ),
    ];
    let mut bad_phone = order_request(None, pickup.clone(), PaymentMethod::Manual);
    bad_phone.contact.phone = Some("333".into());
    cases.push(("bad phone", bad_phone));
    let mut bad_visitor = order_request(Some("g@example.com"), pickup.clone(), PaymentMethod::Manual);
    bad_visitor.visitor_id = Some("../v-9".into());
    bad_visitor.email_marketing = true;
    cases.push(("bad visitor", bad_visitor));
    let mut long_note = order_request(Some("g@example.com"), pickup, PaymentMethod::Manual);
    long_note.note = Some("x".repeat(2000));
    cases.push(("long note", long_note));
    for (case, request) in cases {
        let err = s.core.place_order(&s.t, &s.web, &cart, request, T0 + 5).unwrap_err();
        assert!(matches!(err, CoreError::Invalid(_)), "{case}: {err}");
        assert!(snapshot(b.core.store()) == before, "{case}: the refusal changed the store");
    }
}

fn an_order_for_stock_that_ran_out_is_not_placed(b: &support::Backend) {
    let s = support::shop(&b.core, "ranout");
    let cart = cart_with(&s, &[(&s.cassata, 2)]);
    // Someone else takes the shop's two cassate first.
    s.buy(Some(&s.insta), &[(&s.cassata, 2)], Fulfilment::Pickup { location_id: s.negozio.clone() }, T0).unwrap();
    let mut request = order_request(
        Some("late@example.com"),
        Fulfilment::Pickup { location_id: s.negozio.clone() },
        PaymentMethod::PayAtPickup,
    );
    request.email_marketing = true;
    let orders_before = s.core.list_orders(&s.t, &OrderQuery::default()).unwrap().len();
    let err = s.core.place_order(&s.t, &s.web, &cart, request, T0 + 1).unwrap_err();
    assert!(matches!(err, CoreError::InsufficientStock { .. }), "{err}");
    assert_eq!(s.core.list_orders(&s.t, &OrderQuery::default()).unwrap().len(), orders_before, "no order");
    assert!(
        s.core.find_customer(&s.t, &Identity::email("late@example.com").unwrap()).unwrap().is_none(),
        "no customer was left behind"
    );
    s.assert_ledger(&s.cassata);
}

/// Many shoppers' page views at once: each call returns once its view is
/// stored, none is lost or doubled, a bad one is refused alone, and a
/// visitor's views stay under the cap.
fn page_views_recorded_at_once_share_commits_and_none_is_lost(b: &support::Backend) {
    let s = support::shop(&b.core, "views");
    std::thread::scope(|scope| {
        for th in 0..8 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..25 {
                    let visitor = if i % 2 == 0 { "v-shared".to_string() } else { format!("v-{th}") };
                    let kept = s.core.record_visitor_touchpoint(&s.t, view(s, &visitor, "google", T0 + i), T0 + i);
                    assert!(kept.unwrap(), "thread {th} view {i}");
                }
                let refused = s.core.record_visitor_touchpoint(&s.t, view(s, "not a visitor id", "google", T0), T0);
                assert!(matches!(refused, Err(omnistore_core::CoreError::Invalid(_))), "{refused:?}");
                let message = refused.unwrap_err().to_string();
                assert_eq!(message.matches("invalid request").count(), 1, "said once: {message}");
            });
        }
    });
    assert_eq!(s.core.visitor_touchpoints(&s.t, "v-shared").unwrap().len(), 8 * 13);
    for th in 0..8 {
        assert_eq!(s.core.visitor_touchpoints(&s.t, &format!("v-{th}")).unwrap().len(), 12);
    }
}
