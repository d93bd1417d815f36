//! Segments: rules over customers, saved per tenant, counted by the core.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::SegmentId;
use serde::Deserialize;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Segments")
        .get(
            "/tenants/{tenant}/segments",
            list_segments,
            doc("listSegments", "Saved segments in id order").query(PAGE_PARAMS).ok::<wire::Page<wire::Segment>>(),
        )
        .post(
            "/tenants/{tenant}/segments",
            create,
            doc("createSegment", "Save a segment: a rule over customers")
                .body::<wire::NewSegment>()
                .created::<wire::Segment>(),
        )
        .post(
            "/tenants/{tenant}/segments/preview",
            preview,
            doc("previewSegment", "Count the customers an unsaved rule selects now (changes nothing)")
                .body::<wire::SegmentPreview>()
                .ok::<wire::SegmentCount>(),
        )
        .get("/tenants/{tenant}/segments/{segment}", get_one, doc("getSegment", "Get a segment").ok::<wire::Segment>())
        .get(
            "/tenants/{tenant}/segments/{segment}/count",
            count,
            doc("countSegment", "How many customers the segment selects now, with a sample").ok::<wire::SegmentCount>(),
        );
}

#[derive(Debug, Deserialize)]
struct SegmentPath {
    segment: SegmentId,
}

async fn list_segments(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<SegmentId>>,
) -> Result<Json<Page<wire::Segment>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_segments(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |s| s.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewSegment>,
) -> Result<(StatusCode, Json<wire::Segment>), AdminError> {
    let s = state.call(move |core, now| core.create_segment(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

async fn preview(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::SegmentPreview>,
) -> Result<Json<wire::SegmentCount>, AdminError> {
    let rule = body.rule.into();
    Ok(Json(state.call(move |core, now| core.preview_segment(&tenant, &rule, now)).await?.into()))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<SegmentPath>,
) -> Result<Json<wire::Segment>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_segment(&tenant, &path.segment)).await?.into()))
}

async fn count(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<SegmentPath>,
) -> Result<Json<wire::SegmentCount>, AdminError> {
    Ok(Json(state.call(move |core, now| core.count_segment(&tenant, &path.segment, now)).await?.into()))
}
