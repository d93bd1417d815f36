//! Segments: a rule over customers (what they spent and bought, how and
//! where they ordered, their tags and consent), saved per tenant and
//! evaluated by the core — for a live count while the merchant edits it, and
//! at send time for a campaign's recipients.
//!
//! A rule is a closed tree: leaves test one fact of a customer, `all` and
//! `any` combine them. It is checked before it is saved or evaluated: at most
//! [`MAX_DEPTH`] levels and [`MAX_RULES`] nodes (so a stored rule can never
//! make evaluation blow up), ranges the right way round, and every channel,
//! location, product and collection it names existing in the tenant.

mod eval;

use serde::{Deserialize, Serialize};

use crate::customers::{ConsentPurpose, Customer};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ChannelId, CollectionId, LocationId, ProductId, SegmentId, TenantId};
use crate::store::{Core, Tx};
use crate::validate;

pub(crate) use eval::{Evaluator, live_customers_page};

/// The deepest a rule tree may nest (`all` inside `any` inside … ).
pub const MAX_DEPTH: usize = 6;
/// The most nodes (leaves and combinations) one rule may have.
pub const MAX_RULES: usize = 64;
/// How many matching customers a count shows as a sample.
pub const SAMPLE_SIZE: usize = 10;

/// A point in time a rule compares with: fixed, or relative to when the rule
/// is evaluated (so a saved "ordered in the last 30 days" stays true to its
/// name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum When {
    At { at_ms: i64 },
    DaysAgo { days: u32 },
}

impl When {
    pub(crate) fn resolve(self, now_ms: i64) -> i64 {
        match self {
            When::At { at_ms } => at_ms,
            When::DaysAgo { days } => now_ms.saturating_sub(i64::from(days) * 24 * 3600 * 1000),
        }
    }
}

/// One rule over a customer. Order facts count the customer's orders that
/// were not cancelled; what was refunded is not spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SegmentRule {
    /// Every rule holds.
    All { rules: Vec<SegmentRule> },
    /// At least one rule holds.
    Any { rules: Vec<SegmentRule> },
    /// Spent in all, in minor units of the shop's currency, within the bounds (inclusive).
    TotalSpent { at_least_minor: Option<i64>, at_most_minor: Option<i64> },
    /// Number of orders within the bounds (inclusive).
    OrderCount { at_least: Option<u32>, at_most: Option<u32> },
    /// Has ordered, and the last order was placed before this time.
    LastOrderBefore { when: When },
    /// The last order was placed at or after this time.
    LastOrderAfter { when: When },
    /// The first order came through this channel (`None`: the admin or point of sale).
    FirstOrderChannel { channel_id: Option<ChannelId> },
    /// The last order came through this channel (`None`: the admin or point of sale).
    LastOrderChannel { channel_id: Option<ChannelId> },
    /// Carries the merchant's tag.
    Tagged { tag: String },
    /// The customer's current decision for the purpose is `granted`
    /// (`false` matches withdrawn and never asked).
    Consent { purpose: ConsentPurpose, granted: bool },
    /// Has collected an order at this location (pickup or ship-to-store).
    PickedUpAt { location_id: LocationId },
    /// Has bought this product.
    BoughtProduct { product_id: ProductId },
    /// Has bought a product that is in this collection.
    BoughtFromCollection { collection_id: CollectionId },
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    pub rule: SegmentRule,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewSegment {
    pub name: String,
    pub rule: SegmentRule,
}

/// How many customers a rule selects now, with the first few of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentCount {
    pub count: usize,
    pub sample: Vec<Customer>,
}

/// Check a rule's shape (depth, size, bounds, texts) without the store.
fn check_shape(rule: &SegmentRule) -> CoreResult<SegmentRule> {
    let mut nodes = 0;
    check_node(rule, 1, &mut nodes)
}

fn check_node(rule: &SegmentRule, depth: usize, nodes: &mut usize) -> CoreResult<SegmentRule> {
    *nodes += 1;
    if *nodes > MAX_RULES {
        return Err(CoreError::invalid(format!("a segment has at most {MAX_RULES} rules; simplify it")));
    }
    if depth > MAX_DEPTH {
        return Err(CoreError::invalid(format!("segment rules nest at most {MAX_DEPTH} levels deep; flatten them")));
    }
    let range = |what: &str, low: Option<i64>, high: Option<i64>| -> CoreResult<()> {
        if low.is_none() && high.is_none() {
            return Err(CoreError::invalid(format!("{what} needs at least one bound (at least or at most)")));
        }
        if low.is_some_and(|l| l < 0) || high.is_some_and(|h| h < 0) {
            return Err(CoreError::invalid(format!("{what} bounds must not be negative")));
        }
        if let (Some(l), Some(h)) = (low, high)
            && l > h
        {
            return Err(CoreError::invalid(format!("{what}: at least {l} is more than at most {h}")));
        }
        Ok(())
    };
    let when = |w: When| -> CoreResult<()> {
        match w {
            When::At { at_ms } if at_ms < 0 => Err(CoreError::invalid("a rule's time must not be before 1970")),
            When::DaysAgo { days } if days > 36_500 => Err(CoreError::invalid("a rule looks back at most 36500 days")),
            _ => Ok(()),
        }
    };
    Ok(match rule {
        SegmentRule::All { rules } | SegmentRule::Any { rules } => {
            if rules.is_empty() {
                return Err(CoreError::invalid("an `all` or `any` rule needs at least one rule inside"));
            }
            let checked = rules.iter().map(|r| check_node(r, depth + 1, nodes)).collect::<CoreResult<Vec<_>>>()?;
            match rule {
                SegmentRule::All { .. } => SegmentRule::All { rules: checked },
                _ => SegmentRule::Any { rules: checked },
            }
        }
        SegmentRule::TotalSpent { at_least_minor, at_most_minor } => {
            range("total spent", *at_least_minor, *at_most_minor)?;
            rule.clone()
        }
        SegmentRule::OrderCount { at_least, at_most } => {
            range("number of orders", at_least.map(i64::from), at_most.map(i64::from))?;
            rule.clone()
        }
        SegmentRule::LastOrderBefore { when: w } | SegmentRule::LastOrderAfter { when: w } => {
            when(*w)?;
            rule.clone()
        }
        SegmentRule::Tagged { tag } => SegmentRule::Tagged { tag: validate::text("tag", tag, 64)?.to_lowercase() },
        SegmentRule::FirstOrderChannel { .. }
        | SegmentRule::LastOrderChannel { .. }
        | SegmentRule::Consent { .. }
        | SegmentRule::PickedUpAt { .. }
        | SegmentRule::BoughtProduct { .. }
        | SegmentRule::BoughtFromCollection { .. } => rule.clone(),
    })
}

/// Every record a rule names must exist in the tenant: a rule naming a
/// mistyped (or another tenant's) id would otherwise silently match nobody.
/// Such an id is `NotFound`, as anywhere else in this tenant.
fn check_references(tx: &mut Tx<'_>, rule: &SegmentRule) -> CoreResult<()> {
    let (kind, table, id) = match rule {
        SegmentRule::All { rules } | SegmentRule::Any { rules } => {
            return rules.iter().try_for_each(|r| check_references(tx, r));
        }
        SegmentRule::FirstOrderChannel { channel_id: Some(c) }
        | SegmentRule::LastOrderChannel { channel_id: Some(c) } => ("channel", "chn", c.as_str()),
        SegmentRule::PickedUpAt { location_id } => ("location", "loc", location_id.as_str()),
        SegmentRule::BoughtProduct { product_id } => ("product", "prd", product_id.as_str()),
        SegmentRule::BoughtFromCollection { collection_id } => ("collection", "col", collection_id.as_str()),
        _ => return Ok(()),
    };
    if tx.exists(&[table, id])? { Ok(()) } else { Err(CoreError::not_found(kind, id)) }
}

/// A rule checked in full (shape and references), ready to store or evaluate.
pub(crate) fn checked_rule(tx: &mut Tx<'_>, rule: &SegmentRule) -> CoreResult<SegmentRule> {
    let rule = check_shape(rule)?;
    check_references(tx, &rule)?;
    Ok(rule)
}

pub(crate) fn load_segment(tx: &mut Tx<'_>, id: &SegmentId) -> CoreResult<Segment> {
    tx.must("segment", id.as_str())
}

/// Count the customers a rule selects at `now`, with a sample.
fn count_tx(tx: &mut Tx<'_>, rule: &SegmentRule) -> CoreResult<SegmentCount> {
    let mut eval = Evaluator::new(rule, tx.now()?);
    let mut count = 0;
    let mut sample = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (page, last) = live_customers_page(tx, after.as_deref())?;
        let Some(last) = last else { break };
        after = Some(last);
        for c in page {
            if eval.matches(tx, &c)? {
                count += 1;
                if sample.len() < SAMPLE_SIZE {
                    sample.push(c);
                }
            }
        }
    }
    Ok(SegmentCount { count, sample })
}

impl Core {
    pub fn create_segment(&self, tenant: &TenantId, new: NewSegment, now_ms: i64) -> CoreResult<Segment> {
        let name = validate::text("segment name", &new.name, 200)?;
        let rule = check_shape(&new.rule)?;
        self.write(tenant, now_ms, |tx| {
            let rule = checked_rule(tx, &rule)?;
            let id = SegmentId::new(tx.new_id(SegmentId::PREFIX)?);
            let segment = Segment { id: id.clone(), name: name.clone(), rule, created_ms: now_ms, updated_ms: now_ms };
            tx.put(&["seg", id.as_str()], &segment)?;
            Ok(segment)
        })
    }

    pub fn get_segment(&self, tenant: &TenantId, id: &SegmentId) -> CoreResult<Segment> {
        self.read(tenant, |tx| load_segment(tx, id))
    }

    /// A page of saved segments in id order.
    pub fn list_segments(
        &self,
        tenant: &TenantId,
        after: Option<&SegmentId>,
        limit: usize,
    ) -> CoreResult<Vec<Segment>> {
        self.page(tenant, "seg", after.map(SegmentId::as_str), limit)
    }

    /// How many customers a saved segment selects at `now_ms`.
    pub fn count_segment(&self, tenant: &TenantId, id: &SegmentId, now_ms: i64) -> CoreResult<SegmentCount> {
        self.read_at(tenant, now_ms, |tx| {
            let segment = load_segment(tx, id)?;
            count_tx(tx, &segment.rule)
        })
    }

    /// How many customers an unsaved rule would select at `now_ms` (the live
    /// count while the merchant edits a segment). Checked like a saved one.
    pub fn preview_segment(&self, tenant: &TenantId, rule: &SegmentRule, now_ms: i64) -> CoreResult<SegmentCount> {
        let rule = check_shape(rule)?;
        self.read_at(tenant, now_ms, |tx| {
            let rule = checked_rule(tx, &rule)?;
            count_tx(tx, &rule)
        })
    }
}

/// Ids of every live customer a rule selects, in id order (a campaign's
/// recipients at send time).
pub(crate) fn members_tx(tx: &mut Tx<'_>, rule: &SegmentRule) -> CoreResult<Vec<crate::ids::CustomerId>> {
    let mut eval = Evaluator::new(rule, tx.now()?);
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (page, last) = live_customers_page(tx, after.as_deref())?;
        let Some(last) = last else { break };
        after = Some(last);
        for c in page {
            if eval.matches(tx, &c)? {
                out.push(c.id);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> SegmentRule {
        SegmentRule::Tagged { tag: "vip".into() }
    }

    #[test]
    fn rules_are_bounded_in_depth_and_size() {
        let mut deep = leaf();
        for _ in 0..MAX_DEPTH {
            deep = SegmentRule::All { rules: vec![deep] };
        }
        let err = check_shape(&deep).unwrap_err().to_string();
        assert!(err.contains("nest at most"), "{err}");
        let wide = SegmentRule::Any { rules: vec![leaf(); MAX_RULES] };
        let err = check_shape(&wide).unwrap_err().to_string();
        assert!(err.contains("at most 64 rules"), "{err}");
        assert!(check_shape(&SegmentRule::Any { rules: vec![leaf(); MAX_RULES - 1] }).is_ok());
    }

    #[test]
    fn ranges_and_combinations_must_make_sense() {
        let bad = [
            SegmentRule::All { rules: vec![] },
            SegmentRule::TotalSpent { at_least_minor: None, at_most_minor: None },
            SegmentRule::TotalSpent { at_least_minor: Some(500), at_most_minor: Some(100) },
            SegmentRule::OrderCount { at_least: Some(3), at_most: Some(1) },
            SegmentRule::TotalSpent { at_least_minor: Some(-1), at_most_minor: None },
            SegmentRule::Tagged { tag: "  ".into() },
            SegmentRule::LastOrderAfter { when: When::At { at_ms: -5 } },
        ];
        for rule in bad {
            assert!(check_shape(&rule).is_err(), "{rule:?} was accepted");
        }
        let tag = check_shape(&SegmentRule::Tagged { tag: " VIP ".into() }).unwrap();
        assert_eq!(tag, SegmentRule::Tagged { tag: "vip".into() });
    }
}
