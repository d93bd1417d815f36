//! Meta's webhook: the subscription handshake, signed order notifications
//! ingested once, with the stock movement of a web order; a bad signature
//! changes nothing.

use hmac::{Hmac, Mac};
use omnistore_core::{Address, Contact, Fulfilment, NewCart, Order, PaymentMethod, PlaceOrder};
use omnistore_sdk_harness::{Harness, TestResponse};
use serde_json::json;
use sha2::Sha256;

use crate::meta::Meta;
use crate::shop::{APP_SECRET, VERIFY_TOKEN, shop, variant};

const SKU: &str = "DV-01-GRA";
const EMAIL: &str = "giulia@example.com";

fn get(h: &Harness, path: &str) -> TestResponse {
    h.get(path).expect("the request completes")
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

#[test]
fn the_subscription_handshake_echoes_the_challenge_for_the_right_token_only() {
    let meta = Meta::start();
    let h = shop(&meta);
    let ok = get(
        &h,
        &format!("/webhook?hub.mode=subscribe&hub.verify_token={}&hub.challenge=1158201444", encode(VERIFY_TOKEN)),
    );
    assert_eq!((ok.status, ok.text().as_str()), (200, "1158201444"));
    let wrong = get(&h, "/webhook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444");
    assert_eq!(wrong.status, 403);
    assert!(!wrong.text().contains("1158201444"));
    let no_mode = get(&h, &format!("/webhook?hub.verify_token={}&hub.challenge=1", encode(VERIFY_TOKEN)));
    assert_eq!(no_mode.status, 403);
}

/// An order notification as Meta sends it, in the shape the README documents.
fn notification(order_id: &str, quantity: u32) -> Vec<u8> {
    json!({
        "object": "page",
        "entry": [{
            "id": "104000000000001",
            "time": 1_772_445_600,
            "changes": [{
                "field": "commerce_orders",
                "value": {
                    "id": order_id,
                    "order_status": {"state": "CREATED"},
                    "created": "2026-03-02T10:00:00+00:00",
                    "channel": "instagram",
                    "buyer_details": {
                        "name": "Giulia Rossi",
                        "email": EMAIL,
                        "email_remarketing_option": false,
                        "instagram_handle": "@giulia.dolci"
                    },
                    "shipping_address": {
                        "name": "Giulia Rossi",
                        "street1": "Via Toledo 10",
                        "street2": "",
                        "city": "Napoli",
                        "state": "NA",
                        "postal_code": "80134",
                        "country": "IT"
                    },
                    "items": [{
                        "id": "7000000000001",
                        "product_id": "6000000000001",
                        "retailer_id": SKU,
                        "quantity": quantity,
                        "price_per_unit": {"amount": "2.80", "currency": "EUR"}
                    }],
                    "estimated_payment_details": {
                        "subtotal": {"items": {"amount": "5.60", "currency": "EUR"}, "shipping": {"amount": "0.00", "currency": "EUR"}},
                        "total_amount": {"amount": "5.60", "currency": "EUR"}
                    }
                }
            }]
        }]
    })
    .to_string()
    .into_bytes()
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn post(h: &Harness, body: &[u8], signature: Option<&str>) -> TestResponse {
    let mut req = omnistore_sdk_harness::request("POST", "/webhook", body.to_vec());
    req.headers.push(("content-type".into(), "application/json".into()));
    if let Some(s) = signature {
        req.headers.push(("x-hub-signature-256".into(), s.into()));
    }
    h.request(req).expect("the webhook call completes")
}

/// Stock of the SKU at every location: (location, on hand, reserved).
fn stock(h: &Harness) -> Vec<(String, i64, i64)> {
    let levels = h.core().stock_levels(h.tenant(), &variant(h, SKU)).unwrap();
    let mut out: Vec<_> = levels.into_iter().map(|l| (l.location_id.to_string(), l.on_hand, l.reserved)).collect();
    out.sort();
    out
}

fn delta(before: &[(String, i64, i64)], after: &[(String, i64, i64)]) -> Vec<(String, i64, i64)> {
    before.iter().zip(after).map(|(b, a)| (b.0.clone(), a.1 - b.1, a.2 - b.2)).collect()
}

/// The same two cannoli bought on the shop's web channel, shipped.
fn web_order(h: &Harness) -> Order {
    let (core, tenant, now) = (h.core(), h.tenant(), h.now_ms());
    let web = h.web_channel().unwrap();
    let cart = core.create_cart(tenant, NewCart { channel: Some(web.clone()), customer: None }, now).unwrap();
    core.add_to_cart(tenant, &cart.id, &variant(h, SKU), 2, now).unwrap();
    let address = Address {
        name: "Giulia Rossi".into(),
        line1: "Via Toledo 10".into(),
        line2: None,
        city: "Napoli".into(),
        postal_code: "80134".into(),
        country: "IT".into(),
        phone: None,
    };
    let request = PlaceOrder {
        contact: Contact { email: Some(EMAIL.into()), phone: None, name: Some("Giulia Rossi".into()) },
        email_marketing: false,
        sms_marketing: false,
        fulfilment: Fulfilment::Ship { address },
        payment: PaymentMethod::Manual,
        visitor_id: None,
        note: None,
    };
    core.place_order(tenant, &web, &cart.id, request, now).unwrap()
}

#[test]
fn an_instagram_order_lands_once_for_the_web_customer_with_a_web_orders_stock_movement() {
    let meta = Meta::start();
    let h = shop(&meta);
    let before_web = stock(&h);
    let web = web_order(&h);
    let web_movement = delta(&before_web, &stock(&h));

    let before = stock(&h);
    let body = notification("64000841790004", 2);
    let r = post(&h, &body, Some(&sign(APP_SECRET, &body)));
    assert_eq!(r.status, 200, "{}", r.text());
    // Meta redelivers when unsure: nothing more happens.
    let again = post(&h, &body, Some(&sign(APP_SECRET, &body)));
    assert_eq!(again.status, 200);

    let orders = h.orders().unwrap();
    let ours: Vec<_> = orders.iter().filter(|o| o.external_id.as_deref() == Some("64000841790004")).collect();
    assert_eq!(ours.len(), 1, "{orders:#?}");
    let order = ours[0];
    assert_eq!(order.channel_id.as_ref(), Some(&h.channel()));
    assert_eq!(order.customer_id, web.customer_id, "the same customer as on the web, by e-mail");
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(order.total.amount_minor, 560);
    assert_eq!(delta(&before, &stock(&h)), web_movement, "the same stock movement as the web order");
    assert!(web_movement.iter().any(|(_, on_hand, reserved)| *on_hand != 0 || *reserved != 0), "{web_movement:?}");
    assert!(meta.calls().is_empty(), "an order needs no call to Meta");
    // The one profile now knows the buyer by e-mail and by Instagram handle.
    let customer = h.core().get_customer(h.tenant(), web.customer_id.as_ref().unwrap()).unwrap();
    let handles: Vec<_> = customer
        .identities
        .iter()
        .filter(|i| matches!(&i.kind, omnistore_core::IdentityKind::Social { network } if network == "instagram-shop"))
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(handles, ["giulia.dolci"], "{:?}", customer.identities);
}

#[test]
fn a_handle_already_on_another_profile_is_left_and_the_order_still_lands() {
    let meta = Meta::start();
    let h = shop(&meta);
    let web = web_order(&h);
    // Someone else already goes by that handle here (a profile the merchant has not merged).
    let (core, t, now) = (h.core(), h.tenant(), h.now_ms());
    // The host files a plugin's handles under the plugin's id as the network.
    let handle = omnistore_core::Identity::social("instagram-shop", "giulia.dolci").unwrap();
    let other = core.identify(t, &handle, Some("Another Giulia"), now).unwrap();
    let body = notification("64000841790005", 1);
    let r = post(&h, &body, Some(&sign(APP_SECRET, &body)));
    assert_eq!(r.status, 200, "{}", r.text());
    let orders = h.orders().unwrap();
    let order = orders.iter().find(|o| o.external_id.as_deref() == Some("64000841790005")).unwrap();
    assert_eq!(order.customer_id, web.customer_id, "the order is the e-mail's customer's");
    let buyer = core.get_customer(t, web.customer_id.as_ref().unwrap()).unwrap();
    assert!(buyer.identities.iter().all(|i| i.value != "giulia.dolci"), "{:?}", buyer.identities);
    let other = core.get_customer(t, &other.id).unwrap();
    assert!(other.identities.iter().any(|i| i.value == "giulia.dolci"), "the other profile keeps its handle");
}

#[test]
fn a_bad_or_missing_signature_is_refused_and_changes_nothing() {
    let meta = Meta::start();
    let h = shop(&meta);
    let before = (stock(&h), h.orders().unwrap().len());
    let body = notification("64000841790005", 1);
    let mut tampered = body.clone();
    let pos = tampered.windows(4).position(|w| w == b"2.80").unwrap();
    tampered[pos] = b'0';
    for (payload, signature) in [
        (&body, Some(sign("not-the-secret", &body))),
        (&tampered, Some(sign(APP_SECRET, &body))),
        (&body, None),
        (&body, Some(sign(APP_SECRET, &body).replace("sha256=", "sha1="))),
    ] {
        let r = post(&h, payload, signature.as_deref());
        assert_eq!(r.status, 403, "{}", r.text());
    }
    assert_eq!((stock(&h), h.orders().unwrap().len()), before);
}
