//! The tenant's mail queue and its dead letters: what the channels sent that
//! has not reached the relay yet, and what was given up, with the reason.

use axum::Json;
use axum::extract::State;
use omnistore_services::commerce::CoreServices;
use serde::Deserialize;

use super::extract::{Empty, OptJsonBody, P, Q, Scope, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc, param};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Mail")
        .get(
            "/tenants/{tenant}/mail",
            list_queued,
            doc("listQueuedMail", "Messages waiting for the relay, oldest first, with their attempts and last error")
                .query(
                    const {
                        &[
                            param("after", "string", "cursor: the last message id of the previous page"),
                            param("limit", "integer", "page size, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok::<wire::Page<wire::Mail>>(),
        )
        .get(
            "/tenants/{tenant}/mail/dead-letters",
            list_dead,
            doc("listDeadMail", "Messages the relay refused for good or that ran out of attempts")
                .query(const { &[param("limit", "integer", "at most this many, 1-1000 (default 100)")] })
                .ok::<wire::Page<wire::Mail>>(),
        )
        .post(
            "/tenants/{tenant}/mail/dead-letters/{mail}/replay",
            replay,
            doc("replayDeadMail", "Queue a dead message again, due now, with its attempts reset").ok::<wire::Mail>(),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    after: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct MailPath {
    mail: String,
}

fn services(state: &AdminState) -> CoreServices {
    CoreServices::new(state.core().clone())
}

async fn list_queued(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Page<wire::Mail>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items =
        services(&state).mail_outbox(&tenant, q.after.as_deref(), limit + 1).await.map_err(AdminError::storage)?;
    let more = items.len() > limit;
    let items: Vec<wire::Mail> = items.into_iter().take(limit).map(wire::Mail::from).collect();
    let next_after = if more { items.last().map(|m| m.id.clone()) } else { None };
    Ok(Json(Page { items, next_after }))
}

async fn list_dead(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<LimitQuery>,
) -> Result<Json<Page<wire::Mail>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = services(&state).dead_mail(&tenant, limit).await.map_err(AdminError::storage)?;
    Ok(Json(Page::of(items, None)))
}

async fn replay(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<MailPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::Mail>, AdminError> {
    match services(&state).replay_dead_mail(&tenant, &path.mail).await.map_err(AdminError::storage)? {
        None => Err(AdminError::not_found(format!("no dead letter `{}` in this shop's mail", path.mail))),
        Some(Err(full)) => Err(AdminError::conflict(full)),
        Some(Ok(mail)) => Ok(Json(mail.into())),
    }
}
