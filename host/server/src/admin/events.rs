//! The outbox and the dead-letter list of event deliveries.

use axum::Json;
use axum::extract::State;
use omnistore_core::{DeliveryId, EventId};
use serde::Deserialize;

use super::extract::{Empty, OptJsonBody, P, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc, param};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Events")
        .get(
            "/tenants/{tenant}/events",
            list_events,
            doc("listEvents", "Domain events of the outbox, oldest first")
                .query(
                    const {
                        &[
                            param("after", "string", "cursor: the last event id of the previous page"),
                            param("limit", "integer", "page size, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok::<wire::Page<wire::Event>>(),
        )
        .get(
            "/tenants/{tenant}/events/dead-letters",
            dead_letters,
            doc("listDeadLetters", "Deliveries that failed every attempt")
                .query(const { &[param("limit", "integer", "at most this many, 1-1000 (default 100)")] })
                .ok::<wire::Page<wire::Delivery>>(),
        )
        .post(
            "/tenants/{tenant}/events/dead-letters/{delivery}/replay",
            replay,
            doc("replayDeadLetter", "Queue a dead delivery again, due now, with its attempts reset")
                .ok::<wire::Delivery>(),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    after: Option<EventId>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct DeliveryPath {
    delivery: DeliveryId,
}

async fn list_events(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Page<wire::Event>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_events(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |e| e.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn dead_letters(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<LimitQuery>,
) -> Result<Json<Page<wire::Delivery>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.dead_letters(&tenant, limit)).await?;
    Ok(Json(Page::of(items, None)))
}

async fn replay(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<DeliveryPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::Delivery>, AdminError> {
    Ok(Json(state.call(move |core, now| core.replay_dead_letter(&tenant, &path.delivery, now)).await?.into()))
}
