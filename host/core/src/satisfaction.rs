//! Satisfaction: after an order is completed, the customer may answer "how
//! likely are you to recommend us?" (0–10) on a channel that asks (an e-mail's
//! score links, a reply to a text). One answer counts per order, the latest;
//! the results are the Net Promoter Score and the average per sales channel,
//! per pickup location and per channel the answer came through.
//!
//! Keys: `sat/{order}` → [`SatisfactionAnswer`].

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};
use crate::ids::{ChannelId, LocationId, OrderId, TenantId};
use crate::orders::{Fulfilment, OrderStatus, load_order};
use crate::reach::{Reachable, reach_of};
use crate::store::Core;

/// The highest score of the question.
pub const MAX_SCORE: u8 = 10;

/// One customer's answer about one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionAnswer {
    pub order_id: OrderId,
    pub score: u8,
    /// The channel the answer came through (the e-mail or SMS channel).
    pub answered_on: ChannelId,
    /// The channel the order was placed on (`None`: the admin or point of sale).
    pub order_channel: Option<ChannelId>,
    /// Where the order was collected (pickup and ship-to-store orders).
    pub location_id: Option<LocationId>,
    pub at_ms: i64,
}

/// Answers summed up: the Net Promoter Score is the share of promoters
/// (9–10) minus the share of detractors (0–6), in points from −100 to 100.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionSummary {
    pub responses: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// Sum of the scores, so the average is `score_sum / responses`.
    pub score_sum: u64,
}

impl SatisfactionSummary {
    fn add(&mut self, score: u8) {
        self.responses += 1;
        self.score_sum += u64::from(score);
        match score {
            9..=10 => self.promoters += 1,
            7..=8 => self.passives += 1,
            _ => self.detractors += 1,
        }
    }

    /// The Net Promoter Score, rounded to the nearest point; `None` without answers.
    pub fn nps(&self) -> Option<i64> {
        if self.responses == 0 {
            return None;
        }
        let diff = i128::from(self.promoters) - i128::from(self.detractors);
        let n = i128::from(self.responses);
        // Round half away from zero: 100·diff/n.
        let scaled = 200 * diff + if diff >= 0 { n } else { -n };
        i64::try_from(scaled / (2 * n)).ok()
    }

    /// The average score in tenths (`85` for 8.5); `None` without answers.
    pub fn average_tenths(&self) -> Option<u64> {
        (self.responses > 0).then(|| (self.score_sum * 10 + self.responses / 2) / self.responses)
    }
}

/// Answers within a period, overall and broken down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SatisfactionResults {
    pub overall: SatisfactionSummary,
    /// By the channel the order was placed on (`None`: admin or point of sale).
    pub by_order_channel: Vec<(Option<ChannelId>, SatisfactionSummary)>,
    /// By pickup location; shipped orders are in none.
    pub by_location: Vec<(LocationId, SatisfactionSummary)>,
    /// By the channel the answer came through.
    pub by_answer_channel: Vec<(ChannelId, SatisfactionSummary)>,
}

fn bucket<K: PartialEq + Clone + Ord>(list: &mut Vec<(K, SatisfactionSummary)>, key: &K, score: u8) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some((_, s)) => s.add(score),
        None => {
            let mut s = SatisfactionSummary::default();
            s.add(score);
            list.push((key.clone(), s));
            list.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }
}

impl Core {
    /// Record `channel`'s answer about `order`: the channel must reach the
    /// order (placed on it or handed to it), the order must be completed and
    /// the score at most [`MAX_SCORE`]. A later answer replaces an earlier one.
    pub fn record_satisfaction(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        order: &OrderId,
        score: u8,
        now_ms: i64,
    ) -> CoreResult<SatisfactionAnswer> {
        if score > MAX_SCORE {
            return Err(CoreError::invalid(format!("a satisfaction score is 0 to {MAX_SCORE}, not {score}")));
        }
        self.write(tenant, now_ms, |tx| {
            let o = load_order(tx, order)?;
            let reached = o.channel_id.as_ref() == Some(channel)
                || reach_of(tx, channel, Reachable::Order, order.as_str())?.is_some();
            if !reached {
                return Err(CoreError::not_found("order", order.as_str()));
            }
            if o.status != OrderStatus::Completed {
                return Err(CoreError::invalid(format!(
                    "order `{order}` is not completed yet; satisfaction is asked after it is collected or delivered"
                )));
            }
            let location_id = match &o.fulfilment {
                Fulfilment::Pickup { location_id } | Fulfilment::ShipToStore { location_id } => {
                    Some(location_id.clone())
                }
                Fulfilment::Ship { .. } => None,
            };
            let answer = SatisfactionAnswer {
                order_id: o.id.clone(),
                score,
                answered_on: channel.clone(),
                order_channel: o.channel_id.clone(),
                location_id,
                at_ms: now_ms,
            };
            tx.put(&["sat", order.as_str()], &answer)?;
            Ok(answer)
        })
    }

    /// The answer about one order, if any.
    pub fn satisfaction_of(&self, tenant: &TenantId, order: &OrderId) -> CoreResult<Option<SatisfactionAnswer>> {
        self.read(tenant, |tx| tx.get::<SatisfactionAnswer>(&["sat", order.as_str()]))
    }

    /// Answers given from `from_ms` (inclusive) to `to_ms` (exclusive).
    pub fn satisfaction_results(&self, tenant: &TenantId, from_ms: i64, to_ms: i64) -> CoreResult<SatisfactionResults> {
        self.read(tenant, |tx| {
            let mut r = SatisfactionResults::default();
            for (_, a) in tx.scan::<SatisfactionAnswer>(&["sat"])? {
                if a.at_ms < from_ms || a.at_ms >= to_ms {
                    continue;
                }
                r.overall.add(a.score);
                bucket(&mut r.by_order_channel, &a.order_channel, a.score);
                bucket(&mut r.by_answer_channel, &a.answered_on, a.score);
                if let Some(l) = &a.location_id {
                    bucket(&mut r.by_location, l, a.score);
                }
            }
            Ok(r)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(scores: &[u8]) -> SatisfactionSummary {
        let mut s = SatisfactionSummary::default();
        for &x in scores {
            s.add(x);
        }
        s
    }

    #[test]
    fn nps_is_promoters_minus_detractors_in_points() {
        assert_eq!(summary(&[]).nps(), None);
        assert_eq!(summary(&[10, 9, 8, 7, 6, 0]).nps(), Some(0));
        assert_eq!(summary(&[10, 10, 10]).nps(), Some(100));
        assert_eq!(summary(&[0, 6, 3]).nps(), Some(-100));
        // 2 promoters, 1 detractor of 3: 33.3 → 33; 1 of 6 more: 16.7 → 17.
        assert_eq!(summary(&[9, 9, 2]).nps(), Some(33));
        assert_eq!(summary(&[9, 8, 8, 8, 8, 8]).nps(), Some(17));
        assert_eq!(summary(&[2, 8, 8, 8, 8, 8]).nps(), Some(-17));
        let s = summary(&[10, 7, 8]);
        assert_eq!((s.promoters, s.passives, s.detractors, s.average_tenths()), (1, 2, 0, Some(83)));
    }
}
