//! Touchpoints counted per channel and kind over a period (the top of each
//! channel's conversion funnel): customers' and anonymous visitors' alike,
//! only within the period, each shop its own.

use super::support::*;
use super::*;

per_backend!(touchpoints_are_counted_per_channel_and_kind_within_the_period);

fn touchpoints_are_counted_per_channel_and_kind_within_the_period(b: &Backend) {
    let s = shop(&b.core, "dolce");
    let giulia =
        s.core.create_customer(&s.t, NewCustomer { name: Some("Giulia".into()), identities: vec![] }, T0).unwrap();
    let touch = |kind: &str, channel: Option<&ChannelId>, at: i64| {
        let t = NewTouchpoint {
            customer_id: giulia.id.clone(),
            kind: kind.into(),
            channel_id: channel.cloned(),
            product_id: None,
            variant_id: None,
            campaign: None,
            detail: None,
            at_ms: at,
            visitor_id: None,
            source: None,
        };
        s.core.record_touchpoint(&s.t, t, T0).unwrap();
    };
    let visit = |visitor: &str, kind: &str, channel: &ChannelId, at: i64| {
        let t = VisitorTouchpoint {
            visitor_id: visitor.into(),
            kind: kind.into(),
            channel_id: Some(channel.clone()),
            product_id: None,
            variant_id: None,
            campaign: None,
            detail: None,
            source: None,
            at_ms: at,
        };
        assert!(s.core.record_visitor_touchpoint(&s.t, t, T0).unwrap());
    };
    for at in [T0, T0 + 10, T0 + 20] {
        touch("view", Some(&s.insta), at);
    }
    touch("add_to_cart", Some(&s.insta), T0 + 30);
    touch("view", Some(&s.web), T0 + 40);
    touch("view", None, T0 + 50);
    touch("view", Some(&s.insta), T0 - 1); // before the period
    touch("view", Some(&s.insta), T0 + 1000); // at its end: not in it
    visit("v-1", "view", &s.web, T0 + 5);
    visit("v-2", "view", &s.web, T0 + 6);
    visit("v-2", "add_to_cart", &s.web, T0 + 7);
    let other = shop(&b.core, "altro");
    let theirs = VisitorTouchpoint {
        visitor_id: "v-9".into(),
        kind: "view".into(),
        channel_id: Some(other.web.clone()),
        product_id: None,
        variant_id: None,
        campaign: None,
        detail: None,
        source: None,
        at_ms: T0,
    };
    assert!(other.core.record_visitor_touchpoint(&other.t, theirs, T0).unwrap());

    let counts = s.core.touchpoint_counts(&s.t, T0, T0 + 1000).unwrap();
    let count = |channel: Option<&ChannelId>, kind: &str| {
        counts.iter().find(|c| c.channel_id.as_ref() == channel && c.kind == kind).map_or(0, |c| c.count)
    };
    assert_eq!(count(Some(&s.insta), "view"), 3);
    assert_eq!(count(Some(&s.insta), "add_to_cart"), 1);
    assert_eq!(count(Some(&s.web), "view"), 3, "a customer's and two visitors'");
    assert_eq!(count(Some(&s.web), "add_to_cart"), 1);
    assert_eq!(count(None, "view"), 1);
    assert_eq!(counts.len(), 5, "{counts:?}");
    assert!(s.core.touchpoint_counts(&s.t, T0 + 2000, T0 + 3000).unwrap().is_empty());
    assert_eq!(other.core.touchpoint_counts(&other.t, T0, T0 + 1).unwrap().len(), 1, "each shop its own");
}
