//! OAuth: a refused access token is renewed once with the refresh token;
//! a renewal Pinterest refuses asks the merchant to reconnect, without a
//! storm of calls.

use std::time::Duration;

use serde_json::Value;

use crate::shop::*;
use crate::stand_in::{Pinterest, basic};

#[test]
fn an_expired_token_is_renewed_stored_and_the_call_repeated_once() {
    let pinterest = Pinterest::start();
    // Pinterest honours the refresh token, but no longer the access token the settings hold.
    pinterest.issue("pina_current", REFRESH);
    let h = builder(&pinterest, "test-tenant", "pina_old", &[("create_pins", "off")]).start().unwrap();
    deliver(&h, &changed("e-1", &product("p-1", "Cannolo", &["CAN-1"])));
    let requests = pinterest.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.uri.as_str()).collect();
    // Then the event that sent the batch reads its outcome, with the renewed token.
    assert_eq!(requests.len(), 4, "call, renewal, call again, the batch read back: {paths:?}");
    assert!(requests[3].uri.starts_with("/v5/catalogs/items/batch/"), "{paths:?}");
    assert_eq!(requests[3].header("authorization"), requests[2].header("authorization"));
    assert_eq!(requests[1].uri, "/v5/oauth/token");
    assert_eq!(requests[1].header("authorization"), Some(basic("app-1", "app-secret").as_str()));
    assert_eq!(requests[1].header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(requests[1].text(), format!("grant_type=refresh_token&refresh_token={REFRESH}"));
    let renewed = requests[2].header("authorization").unwrap().to_string();
    assert!(renewed.starts_with("Bearer pina_renewed_"), "{renewed}");
    let tokens: Value = stored(&h, "auth/tokens").unwrap();
    assert_eq!(format!("Bearer {}", tokens["access_token"].as_str().unwrap()), renewed);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("pinr_renewed_"));

    h.advance(Duration::from_secs(2));
    deliver(&h, &changed("e-2", &product("p-2", "Babà", &["BABA-1"])));
    let later = &pinterest.requests()[4..];
    assert!(
        !later.is_empty() && later.iter().all(|r| r.header("authorization") == Some(renewed.as_str())),
        "the renewed token is used from then on"
    );
    assert!(later.iter().all(|r| r.uri != "/v5/oauth/token"), "no renewal needed any more");
    pinterest.assert_conformant();
}

#[test]
fn a_refused_renewal_asks_to_reconnect_without_a_retry_storm() {
    let pinterest = Pinterest::start();
    let h = builder(&pinterest, "test-tenant", "pina_old", &[("create_pins", "off")]).start().unwrap();
    let err = h.event(changed("e-1", &product("p-1", "Cannolo", &["CAN-1"]))).unwrap_err().to_string();
    assert!(err.contains("reconnect"), "{err}");
    let channel = stored(&h, "sync/channel").unwrap();
    assert_eq!(channel["status"], "needs_reauthorization");
    assert!(channel["message"].as_str().unwrap().contains("invalid_grant"), "{channel}");
    assert_eq!(pinterest.requests().len(), 2, "one call and one renewal");
    for i in 0..5 {
        h.advance(Duration::from_secs(60));
        assert!(h.event(changed(&format!("r-{i}"), &product("p-1", "Cannolo", &["CAN-1"]))).is_err());
    }
    assert_eq!(pinterest.requests().len(), 2, "no further calls with dead tokens");
    pinterest.assert_conformant();
}
