//! The satisfaction survey's results: NPS and average per sales channel,
//! pickup location and answering channel, over a period.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{Q, Scope};
use super::{Access, AdminError, AdminState, Routes, doc, param, wire};

/// The period when none is asked: the last 90 days.
const DEFAULT_DAYS: i64 = 90;

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Customers").get(
        "/tenants/{tenant}/satisfaction",
        get_satisfaction,
        doc(
            "getSatisfaction",
            "Answers to the satisfaction survey in a period: NPS and average overall, per sales channel, per pickup location and per channel the answers came through",
        )
        .query(
            const {
                &[
                    param("from_ms", "integer", "start of the period, Unix milliseconds (default: 90 days before `to_ms`)"),
                    param("to_ms", "integer", "end of the period, Unix milliseconds, exclusive (default: now)"),
                ]
            },
        )
        .ok::<wire::SatisfactionReport>(),
    );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

async fn get_satisfaction(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<Period>,
) -> Result<Json<wire::SatisfactionReport>, AdminError> {
    let now = state.now();
    let to = q.to_ms.unwrap_or(now.saturating_add(1));
    let from = q.from_ms.unwrap_or(to.saturating_sub(DEFAULT_DAYS * 24 * 60 * 60 * 1000));
    if from > to {
        return Err(AdminError::invalid(format!(
            "`from_ms` ({from}) is after `to_ms` ({to}); give the start of the period first"
        )));
    }
    let report = state
        .call(move |core, _| {
            Ok(wire::SatisfactionReport::new(from, to, &core.satisfaction_results(&tenant, from, to)?))
        })
        .await?;
    Ok(Json(report))
}
