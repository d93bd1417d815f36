//! Segments: a rule over customers, saved, with a live count.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ConsentPurpose, Customer};

/// A point in time a rule compares with: `at` a fixed time, or `days_ago`
/// counted from when the rule is evaluated.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub(crate) enum When {
    At { at_ms: i64 },
    DaysAgo { days: u32 },
}

impl From<domain::When> for When {
    fn from(w: domain::When) -> When {
        match w {
            domain::When::At { at_ms } => When::At { at_ms },
            domain::When::DaysAgo { days } => When::DaysAgo { days },
        }
    }
}

impl From<When> for domain::When {
    fn from(w: When) -> domain::When {
        match w {
            When::At { at_ms } => domain::When::At { at_ms },
            When::DaysAgo { days } => domain::When::DaysAgo { days },
        }
    }
}

/// One rule over a customer (`type` says which). `all` and `any` combine
/// rules (at most 6 levels deep and 64 rules in all). Order rules count the
/// orders that were not cancelled; refunds are not spent. A channel of
/// `null` means the admin or point of sale.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub(crate) enum SegmentRule {
    All { rules: Vec<SegmentRule> },
    Any { rules: Vec<SegmentRule> },
    TotalSpent { at_least_minor: Option<i64>, at_most_minor: Option<i64> },
    OrderCount { at_least: Option<u32>, at_most: Option<u32> },
    LastOrderBefore { when: When },
    LastOrderAfter { when: When },
    FirstOrderChannel { channel_id: Option<String> },
    LastOrderChannel { channel_id: Option<String> },
    Tagged { tag: String },
    Consent { purpose: ConsentPurpose, granted: bool },
    PickedUpAt { location_id: String },
    BoughtProduct { product_id: String },
    BoughtFromCollection { collection_id: String },
}

impl From<domain::SegmentRule> for SegmentRule {
    fn from(r: domain::SegmentRule) -> SegmentRule {
        use domain::SegmentRule as D;
        let all = |rules: Vec<D>| rules.into_iter().map(SegmentRule::from).collect();
        match r {
            D::All { rules } => SegmentRule::All { rules: all(rules) },
            D::Any { rules } => SegmentRule::Any { rules: all(rules) },
            D::TotalSpent { at_least_minor, at_most_minor } => {
                SegmentRule::TotalSpent { at_least_minor, at_most_minor }
            }
            D::OrderCount { at_least, at_most } => SegmentRule::OrderCount { at_least, at_most },
            D::LastOrderBefore { when } => SegmentRule::LastOrderBefore { when: when.into() },
            D::LastOrderAfter { when } => SegmentRule::LastOrderAfter { when: when.into() },
            D::FirstOrderChannel { channel_id } => {
                SegmentRule::FirstOrderChannel { channel_id: channel_id.map(|c| c.to_string()) }
            }
            D::LastOrderChannel { channel_id } => {
                SegmentRule::LastOrderChannel { channel_id: channel_id.map(|c| c.to_string()) }
            }
            D::Tagged { tag } => SegmentRule::Tagged { tag },
            D::Consent { purpose, granted } => SegmentRule::Consent { purpose: purpose.into(), granted },
            D::PickedUpAt { location_id } => SegmentRule::PickedUpAt { location_id: location_id.to_string() },
            D::BoughtProduct { product_id } => SegmentRule::BoughtProduct { product_id: product_id.to_string() },
            D::BoughtFromCollection { collection_id } => {
                SegmentRule::BoughtFromCollection { collection_id: collection_id.to_string() }
            }
        }
    }
}

impl From<SegmentRule> for domain::SegmentRule {
    fn from(r: SegmentRule) -> domain::SegmentRule {
        use domain::SegmentRule as D;
        let all = |rules: Vec<SegmentRule>| rules.into_iter().map(D::from).collect();
        match r {
            SegmentRule::All { rules } => D::All { rules: all(rules) },
            SegmentRule::Any { rules } => D::Any { rules: all(rules) },
            SegmentRule::TotalSpent { at_least_minor, at_most_minor } => {
                D::TotalSpent { at_least_minor, at_most_minor }
            }
            SegmentRule::OrderCount { at_least, at_most } => D::OrderCount { at_least, at_most },
            SegmentRule::LastOrderBefore { when } => D::LastOrderBefore { when: when.into() },
            SegmentRule::LastOrderAfter { when } => D::LastOrderAfter { when: when.into() },
            SegmentRule::FirstOrderChannel { channel_id } => {
                D::FirstOrderChannel { channel_id: channel_id.map(Into::into) }
            }
            SegmentRule::LastOrderChannel { channel_id } => {
                D::LastOrderChannel { channel_id: channel_id.map(Into::into) }
            }
            SegmentRule::Tagged { tag } => D::Tagged { tag },
            SegmentRule::Consent { purpose, granted } => D::Consent { purpose: purpose.into(), granted },
            SegmentRule::PickedUpAt { location_id } => D::PickedUpAt { location_id: location_id.into() },
            SegmentRule::BoughtProduct { product_id } => D::BoughtProduct { product_id: product_id.into() },
            SegmentRule::BoughtFromCollection { collection_id } => {
                D::BoughtFromCollection { collection_id: collection_id.into() }
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Segment {
    pub id: String,
    pub name: String,
    pub rule: SegmentRule,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Segment> for Segment {
    fn from(s: domain::Segment) -> Segment {
        Segment {
            id: s.id.to_string(),
            name: s.name,
            rule: s.rule.into(),
            created_ms: s.created_ms,
            updated_ms: s.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewSegment {
    pub name: String,
    pub rule: SegmentRule,
}

impl From<NewSegment> for domain::NewSegment {
    fn from(s: NewSegment) -> domain::NewSegment {
        domain::NewSegment { name: s.name, rule: s.rule.into() }
    }
}

/// A rule to count without saving it (the live count while editing).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct SegmentPreview {
    pub rule: SegmentRule,
}

/// How many customers a segment selects now, with the first few of them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SegmentCount {
    pub count: u64,
    /// At most 10 of them, in id order.
    pub sample: Vec<Customer>,
}

impl From<domain::SegmentCount> for SegmentCount {
    fn from(c: domain::SegmentCount) -> SegmentCount {
        SegmentCount { count: c.count as u64, sample: c.sample.into_iter().map(Customer::from).collect() }
    }
}
