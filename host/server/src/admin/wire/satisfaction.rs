//! Satisfaction survey results.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::Serialize;

/// Answers summed up.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SatisfactionSummary {
    pub responses: u64,
    /// Scores 9 and 10.
    pub promoters: u64,
    /// Scores 7 and 8.
    pub passives: u64,
    /// Scores 0 to 6.
    pub detractors: u64,
    /// Net Promoter Score, −100 to 100: promoters' share minus detractors', in points; null without answers.
    pub nps: Option<i64>,
    /// Average score, 0 to 10, to one decimal; null without answers.
    pub average: Option<f64>,
}

impl From<&domain::SatisfactionSummary> for SatisfactionSummary {
    fn from(s: &domain::SatisfactionSummary) -> Self {
        SatisfactionSummary {
            responses: s.responses,
            promoters: s.promoters,
            passives: s.passives,
            detractors: s.detractors,
            nps: s.nps(),
            average: s.average_tenths().map(|t| t as f64 / 10.0),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ChannelSatisfaction {
    /// The channel; null for orders taken in the admin or at the counter.
    pub channel_id: Option<String>,
    #[serde(flatten)]
    pub summary: SatisfactionSummary,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct LocationSatisfaction {
    pub location_id: String,
    #[serde(flatten)]
    pub summary: SatisfactionSummary,
}

/// Answers to "how likely are you to recommend us?" given in a period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SatisfactionReport {
    /// Start of the period, Unix milliseconds (inclusive).
    pub from_ms: i64,
    /// End of the period, Unix milliseconds (exclusive).
    pub to_ms: i64,
    pub overall: SatisfactionSummary,
    /// By the channel the order was placed on.
    pub by_order_channel: Vec<ChannelSatisfaction>,
    /// By the location the order was collected at (shipped orders are in none).
    pub by_location: Vec<LocationSatisfaction>,
    /// By the channel the answer came through (e-mail, SMS).
    pub by_answer_channel: Vec<ChannelSatisfaction>,
}

impl SatisfactionReport {
    pub(crate) fn new(from_ms: i64, to_ms: i64, r: &domain::SatisfactionResults) -> Self {
        let channel = |c: Option<&domain::ChannelId>, s| ChannelSatisfaction {
            channel_id: c.map(ToString::to_string),
            summary: SatisfactionSummary::from(s),
        };
        SatisfactionReport {
            from_ms,
            to_ms,
            overall: (&r.overall).into(),
            by_order_channel: r.by_order_channel.iter().map(|(c, s)| channel(c.as_ref(), s)).collect(),
            by_location: r
                .by_location
                .iter()
                .map(|(l, s)| LocationSatisfaction { location_id: l.to_string(), summary: s.into() })
                .collect(),
            by_answer_channel: r.by_answer_channel.iter().map(|(c, s)| channel(Some(c), s)).collect(),
        }
    }
}
