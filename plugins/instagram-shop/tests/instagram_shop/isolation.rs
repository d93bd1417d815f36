//! Two tenants, each with its own catalog id and token, against one Meta
//! stand-in: every request carries only its own tenant's token, catalog and
//! SKUs.

use omnistore_sdk_harness::Harness;

use crate::meta::Meta;
use crate::shop::{NOW, builder, start, stock_event};

#[test]
fn each_tenants_calls_carry_only_its_own_token_catalog_and_skus() {
    let meta = Meta::start();
    let tenant = |name: &str, catalog: &str, token: &str| -> Harness {
        start(builder(&meta).tenant(name).setting("catalog_id", catalog).secret("access_token", token))
    };
    let a = tenant("tenant-a", "1111111111", "token-of-a");
    let b = tenant("tenant-b", "2222222222", "token-of-b");
    // Tenant-only SKUs: each tenant's own, renamed.
    let rename = |h: &Harness, from: &str, to: &str| {
        let v = h.core().variant_by_sku(h.tenant(), from).unwrap();
        let patch = omnistore_core::VariantPatch { sku: Some(to.into()), ..Default::default() };
        h.core().update_variant(h.tenant(), &v.id, patch, h.now_ms()).unwrap();
    };
    rename(&a, "DV-01-GRA", "A-ONLY-1");
    rename(&b, "DV-01-GRA", "B-ONLY-1");
    // Sent, then each asks to be called again to read its batch back.
    let sent_or_reading = |r: Result<(), omnistore_sdk_harness::Error>| {
        assert!(
            matches!(
                r,
                Ok(())
                    | Err(omnistore_sdk_harness::Error::Plugin(omnistore_sdk_harness::types::PluginError::RetryLater(
                        _
                    )))
            ),
            "{r:?}"
        );
    };
    sent_or_reading(a.event(stock_event(&a, "a1", "A-ONLY-1", 3, NOW)));
    sent_or_reading(b.event(stock_event(&b, "b1", "B-ONLY-1", 4, NOW)));
    a.event(stock_event(&a, "a2", "DV-02-MIG", 5, NOW)).ok();
    let calls = meta.batches();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for call in &calls {
        let skus: Vec<String> = call.requests().iter().map(|r| r["data"]["id"].as_str().unwrap().to_string()).collect();
        match call.param("access_token") {
            Some("token-of-a") => {
                assert!(call.path.contains("/1111111111/"), "{}", call.path);
                assert!(!skus.iter().any(|s| s.starts_with("B-")), "{skus:?}");
            }
            Some("token-of-b") => {
                assert!(call.path.contains("/2222222222/"), "{}", call.path);
                assert!(!skus.iter().any(|s| s.starts_with("A-")), "{skus:?}");
                assert_eq!(skus, ["B-ONLY-1"]);
            }
            other => panic!("a call with another token: {other:?}"),
        }
    }
    meta.assert_conformant();
}
