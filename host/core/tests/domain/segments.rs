//! Segments: rules over customers, checked before they are saved, counted live.

use super::support::*;
use super::*;

/// A shop with four customers whose orders, tags and consent differ:
/// - Giulia: two web orders (cannolo, cassata for pickup at the shop), VIP, e-mail consent;
/// - Marco: one Instagram order (cantucci, shipped), SMS consent;
/// - Anna: no orders, VIP;
/// - Luca: one web order, cancelled.
pub struct People {
    pub s: Shop,
    pub giulia: CustomerId,
    pub marco: CustomerId,
    pub anna: CustomerId,
    pub luca: CustomerId,
}

fn order(s: &Shop, channel: &ChannelId, ext: &str, who: &str, sku: &str, fulfilment: Fulfilment, at: i64) -> Order {
    s.core
        .ingest_order(
            &s.t,
            channel,
            IngestOrder {
                external_id: ext.into(),
                lines: vec![IngestLine { sku: sku.into(), quantity: 1, unit_price: None }],
                customer: Some(Identity::email(who).unwrap()),
                customer_name: None,
                email: None,
                fulfilment,
                codes: vec![],
                note: None,
            },
            at,
        )
        .unwrap()
        .order
}

pub fn people(core: &Core, tenant: &str) -> People {
    let s = shop(core, tenant);
    let pickup = Fulfilment::Pickup { location_id: s.negozio.clone() };
    let g1 = order(&s, &s.web, "W-1", "giulia@example.it", "CAN-1", ship(), T0 + 10);
    order(&s, &s.web, "W-2", "giulia@example.it", "CAS-1", pickup, T0 + 20);
    let m1 = order(&s, &s.insta, "I-1", "marco@example.it", "BIS-1", ship(), T0 + 30);
    let l1 = order(&s, &s.web, "W-3", "luca@example.it", "BIS-1", ship(), T0 + 40);
    s.core.cancel_order(&s.t, &l1.id, None, T0 + 41).unwrap();
    let anna = s.core.identify(&s.t, &Identity::email("anna@example.it").unwrap(), Some("Anna"), T0).unwrap().id;
    let giulia = g1.customer_id.unwrap();
    let marco = m1.customer_id.unwrap();
    s.core.add_identity(&s.t, &giulia, &Identity::phone("+39 333 111 2222").unwrap(), T0 + 50).unwrap();
    s.core.add_identity(&s.t, &marco, &Identity::phone("+39 333 333 4444").unwrap(), T0 + 50).unwrap();
    s.core.set_customer_tags(&s.t, &giulia, &["VIP".into(), "napoli".into()], T0 + 50).unwrap();
    s.core.set_customer_tags(&s.t, &anna, &["vip".into()], T0 + 50).unwrap();
    s.core.set_consent(&s.t, &giulia, ConsentPurpose::EmailMarketing, true, None, "checkout", T0 + 50).unwrap();
    s.core.set_consent(&s.t, &marco, ConsentPurpose::SmsMarketing, true, None, "checkout", T0 + 50).unwrap();
    People { s, giulia, marco, anna, luca: l1.customer_id.unwrap() }
}

fn ids(count: &SegmentCount) -> Vec<CustomerId> {
    let mut ids: Vec<CustomerId> = count.sample.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<CustomerId>) -> Vec<CustomerId> {
    v.sort();
    v
}

#[test]
fn each_rule_selects_the_customers_it_names() {
    let p = people(&memory_core(), "segrules");
    let s = &p.s;
    let now = T0 + 1000;
    let count = |rule: SegmentRule| s.core.preview_segment(&s.t, &rule, now).unwrap();
    let cases: Vec<(SegmentRule, Vec<CustomerId>)> = vec![
        // Cannolo 3.50 less 20% = 2.80, cassata 28.00: Giulia spent 30.80; Luca's order was cancelled.
        (SegmentRule::TotalSpent { at_least_minor: Some(3000), at_most_minor: None }, vec![p.giulia.clone()]),
        (
            SegmentRule::TotalSpent { at_least_minor: None, at_most_minor: Some(0) },
            vec![p.anna.clone(), p.luca.clone()],
        ),
        (SegmentRule::OrderCount { at_least: Some(2), at_most: None }, vec![p.giulia.clone()]),
        (SegmentRule::OrderCount { at_least: Some(1), at_most: Some(1) }, vec![p.marco.clone()]),
        (SegmentRule::LastOrderBefore { when: When::At { at_ms: T0 + 15 } }, vec![]),
        (SegmentRule::LastOrderBefore { when: When::At { at_ms: T0 + 25 } }, vec![p.giulia.clone()]),
        (SegmentRule::LastOrderBefore { when: When::At { at_ms: T0 + 31 } }, vec![p.giulia.clone(), p.marco.clone()]),
        (SegmentRule::LastOrderAfter { when: When::At { at_ms: T0 + 25 } }, vec![p.marco.clone()]),
        (SegmentRule::LastOrderAfter { when: When::DaysAgo { days: 1 } }, vec![p.giulia.clone(), p.marco.clone()]),
        (SegmentRule::FirstOrderChannel { channel_id: Some(s.insta.clone()) }, vec![p.marco.clone()]),
        (SegmentRule::LastOrderChannel { channel_id: Some(s.web.clone()) }, vec![p.giulia.clone()]),
        (SegmentRule::Tagged { tag: "VIP".into() }, vec![p.giulia.clone(), p.anna.clone()]),
        (SegmentRule::Consent { purpose: ConsentPurpose::SmsMarketing, granted: true }, vec![p.marco.clone()]),
        (
            SegmentRule::Consent { purpose: ConsentPurpose::EmailMarketing, granted: false },
            vec![p.marco.clone(), p.anna.clone(), p.luca.clone()],
        ),
        (SegmentRule::PickedUpAt { location_id: s.negozio.clone() }, vec![p.giulia.clone()]),
        (SegmentRule::BoughtProduct { product_id: product_of(s, &s.cantucci) }, vec![p.marco.clone()]),
        (SegmentRule::BoughtFromCollection { collection_id: collection(s, "cannoli") }, vec![p.giulia.clone()]),
    ];
    for (rule, want) in cases {
        let got = count(rule.clone());
        assert_eq!(got.count, want.len(), "{rule:?}");
        assert_eq!(ids(&got), sorted(want), "{rule:?}");
    }
    // VIPs who ordered, or anyone who agreed to texts.
    let combined = SegmentRule::Any {
        rules: vec![
            SegmentRule::All {
                rules: vec![
                    SegmentRule::Tagged { tag: "vip".into() },
                    SegmentRule::OrderCount { at_least: Some(1), at_most: None },
                ],
            },
            SegmentRule::Consent { purpose: ConsentPurpose::SmsMarketing, granted: true },
        ],
    };
    assert_eq!(ids(&count(combined)), sorted(vec![p.giulia.clone(), p.marco.clone()]));
}

fn product_of(s: &Shop, v: &VariantId) -> ProductId {
    s.core.get_variant(&s.t, v).unwrap().product_id
}

fn collection(s: &Shop, handle: &str) -> CollectionId {
    s.core.list_collections(&s.t).unwrap().into_iter().find(|c| c.handle == handle).unwrap().id
}

#[test]
fn a_saved_segment_counts_live_and_lists_in_order() {
    let p = people(&memory_core(), "segsaved");
    let s = &p.s;
    let vip = s
        .core
        .create_segment(&s.t, NewSegment { name: " VIP ".into(), rule: SegmentRule::Tagged { tag: "vip".into() } }, T0)
        .unwrap();
    assert_eq!(vip.name, "VIP");
    assert_eq!(s.core.count_segment(&s.t, &vip.id, T0 + 100).unwrap().count, 2);
    // The count is live: a tag added later is counted at once.
    s.core.set_customer_tags(&s.t, &p.marco, &["vip".into()], T0 + 200).unwrap();
    assert_eq!(s.core.count_segment(&s.t, &vip.id, T0 + 300).unwrap().count, 3);
    let other = s
        .core
        .create_segment(
            &s.t,
            NewSegment { name: "Buyers".into(), rule: SegmentRule::OrderCount { at_least: Some(1), at_most: None } },
            T0,
        )
        .unwrap();
    let listed: Vec<SegmentId> = s.core.list_segments(&s.t, None, 10).unwrap().into_iter().map(|g| g.id).collect();
    assert_eq!(listed, vec![vip.id.clone(), other.id.clone()]);
    assert_eq!(s.core.list_segments(&s.t, Some(&vip.id), 10).unwrap().len(), 1);
    assert_eq!(s.core.get_segment(&s.t, &other.id).unwrap(), other);
}

#[test]
fn bad_rules_are_refused_with_a_reason_and_save_nothing() {
    let p = people(&memory_core(), "segbad");
    let elsewhere = shop(&p.s.core, "segbad-other");
    let s = &p.s;
    let before = snapshot(s.core.store());
    let mut deep = SegmentRule::Tagged { tag: "vip".into() };
    for _ in 0..10 {
        deep = SegmentRule::All { rules: vec![deep] };
    }
    let cases = [
        (deep, "nest at most"),
        (SegmentRule::Any { rules: vec![] }, "at least one rule"),
        (SegmentRule::OrderCount { at_least: Some(5), at_most: Some(2) }, "more than at most"),
    ];
    for (rule, why) in cases {
        let err = s.core.create_segment(&s.t, NewSegment { name: "x".into(), rule: rule.clone() }, T0).unwrap_err();
        assert!(matches!(err, CoreError::Invalid(_)), "{rule:?}: {err}");
        assert!(err.to_string().contains(why), "{rule:?}: {err}");
        let err = s.core.preview_segment(&s.t, &rule, T0).unwrap_err();
        assert!(err.to_string().contains(why), "{rule:?}: {err}");
    }
    // A record of another tenant (or none) is not found here, as anywhere.
    let foreign = [
        SegmentRule::PickedUpAt { location_id: elsewhere.negozio.clone() },
        SegmentRule::BoughtProduct { product_id: ProductId::new("prd-nope") },
        SegmentRule::All { rules: vec![SegmentRule::FirstOrderChannel { channel_id: Some(elsewhere.web.clone()) }] },
    ];
    for rule in foreign {
        let err = s.core.create_segment(&s.t, NewSegment { name: "x".into(), rule: rule.clone() }, T0).unwrap_err();
        assert!(matches!(err, CoreError::NotFound { .. }), "{rule:?}: {err}");
        assert!(matches!(s.core.preview_segment(&s.t, &rule, T0), Err(CoreError::NotFound { .. })));
    }
    let err = s
        .core
        .create_segment(&s.t, NewSegment { name: "  ".into(), rule: SegmentRule::Tagged { tag: "a".into() } }, T0)
        .unwrap_err();
    assert!(err.to_string().contains("segment name"), "{err}");
    assert!(snapshot(s.core.store()) == before, "a refused segment writes nothing");
    // Another tenant's segment is not found here.
    let theirs = elsewhere
        .core
        .create_segment(
            &elsewhere.t,
            NewSegment { name: "x".into(), rule: SegmentRule::Tagged { tag: "a".into() } },
            T0,
        )
        .unwrap();
    assert!(matches!(s.core.get_segment(&s.t, &theirs.id), Err(CoreError::NotFound { .. })));
    assert!(matches!(s.core.count_segment(&s.t, &theirs.id, T0), Err(CoreError::NotFound { .. })));
}
