//! A known customer: her order joins her profile whatever browser she uses;
//! signed in by an e-mail link, she is greeted, her contact is filled in and
//! the cart she started on another channel continues here. An address typed
//! by someone else shows nothing of hers.

use std::time::Duration;

use omnistore_core::{Identity, NewCart, NewChannel, VariantId};
use omnistore_sdk_harness::Harness;

use crate::browser::{BASE_URL, Browser, assert_page_basics, attribute_after, variant_id};
use crate::checkout::{CANNOLO, CASSATA, fill_cart};

/// 1 December 2026, 10:00 UTC: a clock the test can move.
const NOW: i64 = 1_796_119_200_000;

fn shop_with_clock() -> Harness {
    Harness::for_plugin("web-storefront").clock_at(NOW).start().expect("the storefront starts in the harness")
}

/// Place the order of this browser's cart with pickup, contact by `email`.
fn check_out(b: &mut Browser<'_>, email: &str) -> String {
    let page = b.get("/checkout").text();
    let token = attribute_after(&page, "name=\"authenticity_token\" value=\"").unwrap();
    let fulfillment = attribute_after(&page, "type=\"radio\" name=\"fulfillment\" value=\"").unwrap();
    let placed = b.post_form(
        "/checkout",
        &[("authenticity_token", &token), ("email", email), ("fulfillment", &fulfillment), ("payment", "manual")],
    );
    assert_eq!(placed.status, 303, "{}", placed.text());
    placed.header("location").unwrap().to_string()
}

/// Ask for a sign-in link for `email`; the path of the link mailed, if one was.
fn ask_for_link(b: &mut Browser<'_>, h: &Harness, email: &str) -> Option<String> {
    let before = h.mail().unwrap().len();
    let token = b.token("/account/login");
    let asked = b.post_form("/account/login", &[("authenticity_token", &token), ("email", email)]);
    assert_eq!(asked.status, 303, "{}", asked.text());
    let told = b.get(asked.header("location").unwrap());
    assert!(told.text().contains("il link per accedere è in arrivo"), "{}", told.text());
    let mail = h.mail().unwrap();
    let sent = mail.get(before)?;
    assert_eq!(sent.to, [email.to_lowercase()]);
    assert!(sent.subject.contains("accedere"), "{}", sent.subject);
    let start = sent.text.find(BASE_URL).expect("the mail carries the link") + BASE_URL.len();
    let end = start + sent.text[start..].find(char::is_whitespace).unwrap();
    Some(sent.text[start..end].to_string())
}

#[test]
fn an_address_typed_at_checkout_joins_her_profile_but_shows_nothing_of_hers() {
    let h = shop_with_clock();
    let (core, t) = (h.core(), h.tenant());
    let giulia = core.identify(t, &Identity::email("giulia@example.com").unwrap(), Some("Giulia Rossi"), NOW).unwrap();
    core.add_identity(t, &giulia.id, &Identity::phone("+393331234567").unwrap(), NOW).unwrap();
    let customers = core.list_customers(t, None, 1000).unwrap().len();

    let mut b = Browser::new(&h);
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    check_out(&mut b, "Giulia@Example.com");
    let order = h.orders().unwrap().pop().unwrap();
    assert_eq!(order.customer_id.as_ref(), Some(&giulia.id), "the order joins the profile she has");
    assert_eq!(core.list_customers(t, None, 1000).unwrap().len(), customers, "no second profile");

    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    let page = b.get("/checkout").text();
    assert!(!page.contains("Bentornato") && !page.contains("Giulia"), "{page}");
    assert!(!page.contains("3331234567"), "her phone is not shown to whoever typed her address");
    assert!(!b.cookies.contains_key("ws_customer"));
}

#[test]
fn a_sign_in_link_welcomes_her_back_until_she_says_not_you() {
    let h = shop_with_clock();
    let email = Identity::email("giulia@example.com").unwrap();
    let giulia = h.core().identify(h.tenant(), &email, Some("Giulia Rossi"), NOW).unwrap();

    let mut b = Browser::new(&h);
    let login = b.get("/account/login");
    assert_eq!(login.status, 200);
    assert_page_basics(&login.text());
    let token = b.token("/account/login");
    let wrong = b.post_form("/account/login", &[("authenticity_token", &token), ("email", "giulia@")]);
    assert_eq!(wrong.status, 422);
    assert!(wrong.text().contains("non sembra corretto"), "{}", wrong.text());
    assert_eq!(b.post_form("/account/login", &[("authenticity_token", "forged"), ("email", "a@b.it")]).status, 403);
    assert!(h.mail().unwrap().is_empty());

    let link = ask_for_link(&mut b, &h, "Giulia@Example.com").expect("a link is mailed");
    assert!(ask_for_link(&mut b, &h, "giulia@example.com").is_none(), "one link a minute per address");
    assert_eq!(h.stored_keys("sign-in/").unwrap().len(), 1);
    h.advance(Duration::from_secs(61));
    assert!(ask_for_link(&mut b, &h, "giulia@example.com").is_some(), "another after a minute");
    let kept = h.stored_keys("sign-in/").unwrap();
    assert_eq!(kept.len(), 1, "the past minute's note is gone: {kept:?}");
    assert!(!kept[0].contains("giulia"), "no address in the plugin's storage: {kept:?}");

    // Another browser holding a forged or stale link gets nowhere.
    let mut stranger = Browser::new(&h);
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let refused = stranger.get(&forged);
    assert_eq!(refused.status, 410);
    assert!(refused.text().contains("scaduto o non è valido"), "{}", refused.text());
    assert!(!stranger.cookies.contains_key("ws_customer"));

    let signed_in = b.get(&link);
    assert_eq!(signed_in.status, 303, "{}", signed_in.text());
    assert_eq!(signed_in.header("location"), Some("/cart"));
    assert!(b.cookies.contains_key("ws_customer"));
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    let page = b.get("/checkout").text();
    assert_page_basics(&page);
    assert!(page.contains("Bentornato, Giulia."), "{page}");
    assert!(page.contains("name=\"email\" value=\"giulia@example.com\""), "her contact is filled in: {page}");
    assert!(page.contains("name=\"email_marketing\" value=\"on\">"), "consents stay unticked: {page}");
    check_out(&mut b, "giulia@example.com");
    assert_eq!(h.orders().unwrap().pop().unwrap().customer_id.as_ref(), Some(&giulia.id));

    // "Not you?" forgets her on this browser, and only here.
    let token = b.token("/account/login");
    assert_eq!(b.post_form("/account/logout", &[("authenticity_token", "forged")]).status, 403);
    let forgotten = b.post_form("/account/logout", &[("authenticity_token", &token)]);
    assert_eq!(forgotten.status, 303, "{}", forgotten.text());
    assert!(!b.cookies.contains_key("ws_customer") && !b.cookies.contains_key("ws_cart"));
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    assert!(!b.get("/checkout").text().contains("Bentornato"));
    assert!(h.core().get_customer(h.tenant(), &giulia.id).is_ok(), "nothing of hers changed");

    // A link works for half an hour.
    h.advance(Duration::from_secs(31 * 60));
    let late = b.get(&link);
    assert_eq!(late.status, 410);
    assert!(!b.cookies.contains_key("ws_customer"));
}

#[test]
fn a_cart_she_started_on_another_channel_continues_here() {
    let h = shop_with_clock();
    let (core, t) = (h.core(), h.tenant());
    let sara = core.identify(t, &Identity::email("sara@example.com").unwrap(), Some("Sara"), NOW).unwrap().id;

    // She chats with the shop on Instagram, which starts a cart for her.
    let instagram = NewChannel {
        plugin_id: "instagram-shop".into(),
        version: "0.1.0".into(),
        name: "Instagram".into(),
        enabled: true,
        ..NewChannel::default()
    };
    let instagram = core.install_channel(t, instagram, NOW).unwrap();
    let started = NewCart { channel: Some(instagram.id.clone()), customer: Some(sara.clone()) };
    let on_instagram = core.create_cart(t, started, NOW).unwrap();
    let mut b = Browser::new(&h);
    let cassata = VariantId::new(variant_id(&mut b, CASSATA, "6 porzioni"));
    core.add_to_cart(t, &on_instagram.id, &cassata, 2, NOW).unwrap();

    // On the web shop, before signing in, she adds cannoli: a cart of her browser's own.
    fill_cart(&mut b, CANNOLO, "Mignon", "1");
    assert_eq!(b.cart()["item_count"], 1);
    let cart_page = b.get("/cart").text();
    assert!(cart_page.contains("href=\"/account/login\""), "the cart offers to sign in: {cart_page}");

    // Someone typing her address elsewhere sees none of it.
    let mut stranger = Browser::new(&h);
    fill_cart(&mut stranger, CANNOLO, "Mignon", "1");
    check_out(&mut stranger, "sara@example.com");
    assert_eq!(stranger.cart()["item_count"], 0);

    // Signed in, her Instagram cart is the cart here, with the cannoli folded in.
    let link = ask_for_link(&mut b, &h, "sara@example.com").unwrap();
    assert_eq!(b.get(&link).status, 303);
    let cart = b.cart();
    assert_eq!(cart["item_count"], 3, "{cart}");
    let variants: Vec<&str> =
        cart["items"].as_array().unwrap().iter().filter_map(|i| i["variant_id"].as_str()).collect();
    assert!(variants.contains(&cassata.as_str()), "{cart}");
    assert!(b.get("/cart").text().contains("Cassata"));
    let carried = core.get_cart(t, &on_instagram.id).unwrap();
    assert_eq!(carried.channel_id.as_ref(), Some(&h.channel()), "the web shop carries on with it");
    assert_eq!(carried.lines.len(), 2);

    // What she adds here is in the same cart, and she checks it all out as herself.
    fill_cart(&mut b, CANNOLO, "Mignon", "2");
    assert_eq!(b.cart()["item_count"], 5);
    check_out(&mut b, "sara@example.com");
    let order = h.orders().unwrap().pop().unwrap();
    assert_eq!(order.customer_id.as_ref(), Some(&sara));
    assert_eq!(order.lines.iter().map(|l| l.quantity).sum::<i64>(), 5, "{:?}", order.lines);
    assert!(order.lines.iter().any(|l| l.variant_id == cassata));
    assert!(core.customer_open_cart(t, &sara).unwrap().is_none_or(|c| c.lines.is_empty()));

    // Marta signs in on the same browser without Sara's "Not you?": she gets her own cart.
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    core.identify(t, &Identity::email("marta@example.com").unwrap(), Some("Marta"), NOW).unwrap();
    let link = ask_for_link(&mut b, &h, "marta@example.com").unwrap();
    assert_eq!(b.get(&link).status, 303);
    assert_eq!(b.cart()["item_count"], 0, "nothing of Sara's");
    assert_eq!(core.customer_open_cart(t, &sara).unwrap().map(|c| c.lines.len()), Some(1), "Sara's cart is kept");
}

#[test]
fn a_signed_in_customer_who_was_erased_is_forgotten_and_the_shop_keeps_selling() {
    let h = shop_with_clock();
    let anna = h.core().identify(h.tenant(), &Identity::email("anna@example.com").unwrap(), None, NOW).unwrap();
    let mut b = Browser::new(&h);
    let link = ask_for_link(&mut b, &h, "anna@example.com").unwrap();
    assert_eq!(b.get(&link).status, 303);
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    assert!(b.cookies.contains_key("ws_customer"));

    h.core().erase_customer(h.tenant(), &anna.id, NOW).unwrap();
    let page = b.get("/cart");
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(!b.cookies.contains_key("ws_customer"), "the browser forgets whom the shop no longer knows");
    // The erasure unlinked her cart: this browser goes on with it, anonymously.
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    assert_eq!(b.cart()["item_count"], 2);
    assert!(!b.get("/checkout").text().contains("Bentornato"));
    check_out(&mut b, "someone@example.com");
    assert_eq!(h.orders().unwrap().pop().unwrap().lines[0].quantity, 2);
}

#[test]
fn a_shop_without_mail_says_sign_in_is_unavailable_and_keeps_selling() {
    let h = Harness::for_plugin("web-storefront")
        .clock_at(NOW)
        .withhold(omnistore_sdk_harness::Capability::Mail)
        .start()
        .expect("the storefront starts without mail");
    let mut b = Browser::new(&h);
    let token = b.token("/account/login");
    let refused = b.post_form("/account/login", &[("authenticity_token", &token), ("email", "anna@example.com")]);
    assert_eq!(refused.status, 503, "{}", refused.text());
    let html = refused.text();
    assert!(html.contains("non è disponibile in questo negozio"), "{html}");
    assert!(html.contains("value=\"anna@example.com\""), "her address stays in the form");
    assert!(h.mail().unwrap().is_empty());
    assert!(h.stored_keys("sign-in/").unwrap().is_empty(), "a link not sent does not count against the minute");
    fill_cart(&mut b, CASSATA, "6 porzioni", "1");
    check_out(&mut b, "anna@example.com");
}
