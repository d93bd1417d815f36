//! Satisfaction answers: only about a completed order the answering channel
//! reaches, 0 to 10, the latest per order; results per sales channel, pickup
//! location and answering channel.

use super::support::*;
use super::*;

per_backend!(
    answers_need_a_completed_order_the_channel_reaches_and_a_score_to_ten,
    results_count_each_order_once_by_channel_and_location_within_the_period,
);

/// One item ordered on `channel`: cassata (2 at the shop) for pickup, cantucci (at the lab) shipped.
fn ingested(s: &Shop, channel: &ChannelId, external: &str, fulfilment: Fulfilment) -> Order {
    let sku = if matches!(fulfilment, Fulfilment::Ship { .. }) { "BIS-1" } else { "CAS-1" };
    let order = IngestOrder {
        external_id: external.into(),
        lines: vec![IngestLine { sku: sku.into(), quantity: 1, unit_price: None }],
        customer: Some(Identity::email("giulia@example.com").unwrap()),
        customer_name: None,
        email: None,
        fulfilment,
        codes: vec![],
        note: None,
    };
    s.core.ingest_order(&s.t, channel, order, T0).unwrap().order
}

fn answers_need_a_completed_order_the_channel_reaches_and_a_score_to_ten(b: &Backend) {
    let s = shop(&b.core, "dolce");
    let order = ingested(&s, &s.insta, "IG-1", Fulfilment::Ship { address: address() });
    let invalid = |r: CoreResult<SatisfactionAnswer>| matches!(r, Err(CoreError::Invalid(_)));
    assert!(invalid(s.core.record_satisfaction(&s.t, &s.insta, &order.id, 9, T0)), "not completed yet");
    s.core.mark_shipped(&s.t, &order.id, None, T0).unwrap();
    s.core.mark_completed(&s.t, &order.id, T0).unwrap();
    assert!(invalid(s.core.record_satisfaction(&s.t, &s.insta, &order.id, 11, T0)));
    let stranger = s.core.record_satisfaction(&s.t, &s.pins, &order.id, 9, T0);
    assert!(matches!(stranger, Err(CoreError::NotFound { .. })), "a channel that never saw the order: {stranger:?}");
    let other_tenant = shop(&b.core, "altro");
    let elsewhere = s.core.record_satisfaction(&other_tenant.t, &other_tenant.insta, &order.id, 9, T0);
    assert!(matches!(elsewhere, Err(CoreError::NotFound { .. })), "{elsewhere:?}");
    assert_eq!(s.core.satisfaction_of(&s.t, &order.id).unwrap(), None, "nothing recorded by refusals");

    let a = s.core.record_satisfaction(&s.t, &s.insta, &order.id, 9, T0 + 1).unwrap();
    assert_eq!((a.score, a.order_channel.as_ref(), a.location_id), (9, Some(&s.insta), None));
    s.core.record_satisfaction(&s.t, &s.insta, &order.id, 4, T0 + 2).unwrap();
    assert_eq!(s.core.satisfaction_of(&s.t, &order.id).unwrap().unwrap().score, 4, "the latest answer counts");
}

fn results_count_each_order_once_by_channel_and_location_within_the_period(b: &Backend) {
    let s = shop(&b.core, "dolce");
    let collect = |external: &str, channel: &ChannelId| {
        let o = ingested(&s, channel, external, Fulfilment::Pickup { location_id: s.negozio.clone() });
        s.core.mark_ready_for_pickup(&s.t, &o.id, T0).unwrap();
        s.core.mark_completed(&s.t, &o.id, T0).unwrap();
        o
    };
    let web_a = collect("W-1", &s.web);
    let web_b = collect("W-2", &s.web);
    let insta = ingested(&s, &s.insta, "I-1", Fulfilment::Ship { address: address() });
    s.core.mark_shipped(&s.t, &insta.id, None, T0).unwrap();
    s.core.mark_completed(&s.t, &insta.id, T0).unwrap();
    s.core.record_satisfaction(&s.t, &s.web, &web_a.id, 10, T0 + 10).unwrap();
    s.core.record_satisfaction(&s.t, &s.web, &web_b.id, 3, T0 + 20).unwrap();
    s.core.record_satisfaction(&s.t, &s.insta, &insta.id, 8, T0 + 30).unwrap();

    let all = s.core.satisfaction_results(&s.t, T0, T0 + 100).unwrap();
    assert_eq!((all.overall.responses, all.overall.nps(), all.overall.average_tenths()), (3, Some(0), Some(70)));
    let web = &all.by_order_channel.iter().find(|(c, _)| c.as_ref() == Some(&s.web)).unwrap().1;
    assert_eq!((web.responses, web.promoters, web.detractors, web.nps()), (2, 1, 1, Some(0)));
    let ig = &all.by_order_channel.iter().find(|(c, _)| c.as_ref() == Some(&s.insta)).unwrap().1;
    assert_eq!((ig.responses, ig.passives, ig.nps()), (1, 1, Some(0)));
    assert_eq!(all.by_location, vec![(s.negozio.clone(), web.clone())], "the shipped order is at no location");
    assert_eq!(all.by_answer_channel.len(), 2);

    let later = s.core.satisfaction_results(&s.t, T0 + 15, T0 + 100).unwrap();
    assert_eq!((later.overall.responses, later.overall.nps()), (2, Some(-50)));
}
