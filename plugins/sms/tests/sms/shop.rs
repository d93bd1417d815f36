//! The demo pastry shop with the SMS channel installed and pointed at the
//! Twilio stand-in; orders placed on the shop's web channel as a shopper
//! places them, and their events delivered to the plugin as the host's
//! dispatcher does (fan-out, which hands the order's customer to the
//! channel, then the contract's event).

use omnistore_core::{
    Address, ChannelId, ConsentPurpose, Contact, CustomerId, Fulfilment, NewCart, Order, PaymentMethod, PlaceOrder,
};
use omnistore_sdk_harness::types::Event;
use omnistore_sdk_harness::{Harness, TestResponse};
use serde_json::Value;

use crate::twilio::Twilio;

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "0123456789abcdef-auth-token";
pub const FROM: &str = "+15005550006";
/// Where Twilio reaches the installation: the host's base URL of its mount.
pub const PUBLIC_BASE: &str = "https://dolce-vita.example/sms";
/// 2026-03-02 10:00 UTC.
pub const NOW: i64 = 1_772_445_600_000;
const CANNOLO: &str = "DV-01-GRA";

/// The shop with the plugin installed, `extra` settings on top of the test account.
pub fn shop(twilio: &Twilio, extra: &[(&str, &str)]) -> Harness {
    let mut builder = Harness::for_plugin("sms")
        .clock_at(NOW)
        .allow_origin(&twilio.url())
        .setting("account_sid", ACCOUNT_SID)
        .secret("auth_token", AUTH_TOKEN)
        .setting("from_number", FROM)
        .setting("api_base_url", &twilio.url())
        .setting("callback_base_url", PUBLIC_BASE);
    for (key, value) in extra {
        builder = builder.setting(key, value);
    }
    builder.start().expect("the built sms plugin loads: run `cargo xtask build-plugins` first")
}

/// Who checks out, and what they tick.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shopper<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub sms_consent: bool,
    pub email_consent: bool,
    /// Shipped to an address instead of collected at the shop.
    pub ship: bool,
}

/// The shop's web channel, where shoppers place their orders.
fn web_channel(h: &Harness) -> ChannelId {
    h.web_channel().unwrap()
}

/// A web order of two large cannoli, collected at the shop (Negozio) or shipped.
pub fn place_order(h: &Harness, shopper: Shopper<'_>) -> Order {
    let (core, tenant, now) = (h.core(), h.tenant(), h.now_ms());
    let web = web_channel(h);
    let cart = core.create_cart(tenant, NewCart { channel: Some(web.clone()), customer: None }, now).unwrap();
    let variant = core.variant_by_sku(tenant, CANNOLO).unwrap();
    core.add_to_cart(tenant, &cart.id, &variant.id, 2, now).unwrap();
    let fulfilment = if shopper.ship {
        Fulfilment::Ship {
            address: Address {
                name: "Giulia Rossi".into(),
                line1: "Via Toledo 10".into(),
                line2: None,
                city: "Napoli".into(),
                postal_code: "80134".into(),
                country: "IT".into(),
                phone: None,
            },
        }
    } else {
        let shop = core.list_locations(tenant).unwrap().into_iter().find(|l| l.name == "Negozio").unwrap();
        Fulfilment::Pickup { location_id: shop.id }
    };
    let request = PlaceOrder {
        contact: Contact {
            email: shopper.email.map(str::to_string),
            phone: shopper.phone.map(str::to_string),
            name: Some("Giulia Rossi".into()),
        },
        email_marketing: shopper.email_consent,
        sms_marketing: shopper.sms_consent,
        fulfilment,
        payment: if shopper.ship { PaymentMethod::Manual } else { PaymentMethod::PayAtPickup },
        visitor_id: None,
        note: None,
    };
    core.place_order(tenant, &web, &cart.id, request, now).unwrap()
}

/// The events waiting for the plugin's channel, as the dispatcher hands
/// them over (each taken off the queue).
pub fn pending_events(h: &Harness) -> Vec<Event> {
    h.pending_events().unwrap()
}

/// The one event waiting for the plugin.
pub fn next_event(h: &Harness) -> Event {
    let mut events = pending_events(h);
    assert_eq!(events.len(), 1, "one event for the channel: {events:?}");
    events.remove(0)
}

/// What the plugin recorded about one text of an order (`order_placed`, …).
pub fn record(h: &Harness, order: &Order, text: &str) -> Option<Value> {
    h.stored(&format!("msg/{}/{text}", order.id)).unwrap().map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

/// Leave a record as a plugin call that crashed would: written straight
/// into the installation's storage.
pub fn put_record(h: &Harness, order: &Order, text: &str, value: &Value) {
    let mut key = omnistore_storage::keyspace::plugin_data_prefix(h.tenant(), h.channel().as_str());
    key.extend_from_slice(format!("msg/{}/{text}", order.id).as_bytes());
    let mut txn = h.core().store().begin().unwrap();
    txn.put(&key, value.to_string().as_bytes()).unwrap();
    txn.commit().unwrap();
}

pub fn customer_of(order: &Order) -> CustomerId {
    order.customer_id.clone().expect("the order has a customer")
}

/// Whether the customer has SMS consent now.
pub fn sms_consent(h: &Harness, customer: &CustomerId) -> bool {
    h.core().get_customer(h.tenant(), customer).unwrap().has_consent(ConsentPurpose::SmsMarketing)
}

/// A webhook call as Twilio makes it: form-encoded, signed with `token` over
/// the public URL, through the host (which tells the plugin its base URL).
pub fn webhook(h: &Harness, path_and_query: &str, params: &[(&str, &str)], token: &str) -> TestResponse {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let signature = omnistore_sms::signature::sign(token, &format!("{PUBLIC_BASE}{path_and_query}"), &params);
    webhook_signed(h, path_and_query, &params, Some(&signature))
}

/// A webhook call with this signature header (or none).
pub fn webhook_signed(
    h: &Harness,
    path_and_query: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> TestResponse {
    let body = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
    let mut req = omnistore_sdk_harness::request("POST", path_and_query, body.into_bytes());
    req.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
    req.headers.push(("x-omnistore-base-url".into(), PUBLIC_BASE.into()));
    if let Some(s) = signature {
        req.headers.push(("x-twilio-signature".into(), s.into()));
    }
    h.request(req).expect("the webhook call completes")
}

/// Percent-encoding as Twilio's form posts use it (space as `+`).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}
