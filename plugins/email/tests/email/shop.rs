//! The demo pastry shop with the e-mail channel installed; orders placed on
//! the shop's web channel as a shopper places them, and their events
//! delivered to the plugin as the host's dispatcher does (fan-out, then the
//! contract's event).

use omnistore_core::{Address, ChannelId, Contact, Fulfilment, NewCart, Order, PaymentMethod, PlaceOrder};
use omnistore_sdk_harness::Harness;
use omnistore_sdk_harness::types::Event;

pub const SHOP_URL: &str = "https://dolcevita.example";
/// 2026-03-02 10:00 UTC.
const NOW: i64 = 1_772_445_600_000;
const CANNOLO: &str = "DV-01-GRA";

/// The shop with the plugin installed and `extra` settings on top of `shop_url`.
pub fn shop(extra: &[(&str, &str)]) -> Harness {
    let mut builder = Harness::for_plugin("email").clock_at(NOW).setting("shop_url", SHOP_URL);
    for (key, value) in extra {
        builder = builder.setting(key, value);
    }
    builder.start().expect("the built email plugin loads: run `cargo xtask build-plugins` first")
}

/// The shop's web channel, where shoppers place their orders.
fn web_channel(h: &Harness) -> ChannelId {
    h.web_channel().unwrap()
}

/// A web order of two large cannoli by `email` (without marketing consent),
/// collected at the shop (Negozio) or shipped.
pub fn place_order(h: &Harness, email: Option<&str>, ship: bool) -> Order {
    let (core, tenant, now) = (h.core(), h.tenant(), h.now_ms());
    let web = web_channel(h);
    let cart = core.create_cart(tenant, NewCart { channel: Some(web.clone()), customer: None }, now).unwrap();
    let variant = core.variant_by_sku(tenant, CANNOLO).unwrap();
    core.add_to_cart(tenant, &cart.id, &variant.id, 2, now).unwrap();
    let fulfilment = if ship {
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
            email: email.map(str::to_string),
            // Without an e-mail the order needs another way to reach the shopper.
            phone: Some("+393331234567".into()),
            name: Some("Giulia Rossi".into()),
        },
        email_marketing: false,
        sms_marketing: false,
        fulfilment,
        payment: if ship { PaymentMethod::Manual } else { PaymentMethod::PayAtPickup },
        visitor_id: None,
        note: None,
    };
    core.place_order(tenant, &web, &cart.id, request, now).unwrap()
}

/// The one event waiting for the plugin's channel, as the dispatcher hands it over.
pub fn next_event(h: &Harness) -> Event {
    let mut events = h.pending_events().unwrap();
    assert_eq!(events.len(), 1, "one event for the channel: {events:?}");
    events.remove(0)
}
