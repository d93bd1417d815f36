//! Customers: one profile per person with many channel identities, consent
//! per purpose with its history, and the journey timeline.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::CustomerId;
use serde::Deserialize;

use super::extract::{Empty, JsonBody, OptJsonBody, P, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Routes, doc, param};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Customers")
        .get(
            "/tenants/{tenant}/customers",
            list_customers,
            doc("listCustomers", "Customer profiles in id order")
                .query(
                    const {
                        &[
                            param("after", "string", "cursor: the last customer id of the previous page"),
                            param("limit", "integer", "page size, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok::<wire::Page<wire::Customer>>(),
        )
        .post(
            "/tenants/{tenant}/customers",
            create,
            doc("createCustomer", "Create a customer profile").body::<wire::NewCustomer>().created::<wire::Customer>(),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}",
            get_one,
            doc("getCustomer", "Get a profile (a merged-away id returns the surviving profile)").ok::<wire::Customer>(),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/identities",
            add_identity,
            doc("addIdentity", "Add a channel identity (email, phone, social handle) to a profile")
                .body::<wire::Identity>()
                .ok::<wire::Customer>(),
        )
        .put(
            "/tenants/{tenant}/customers/{customer}/tags",
            set_tags,
            doc("setCustomerTags", "Replace the customer's tags (segments select on them)")
                .body::<wire::CustomerTags>()
                .ok::<wire::Customer>(),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}/consent",
            consent,
            doc("getConsent", "Current consent per purpose and every decision ever made").ok::<wire::Consent>(),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/consent",
            set_consent,
            doc("setConsent", "Record a consent decision (granted or withdrawn)")
                .body::<wire::SetConsent>()
                .ok::<wire::Customer>(),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}/timeline",
            timeline,
            doc("customerTimeline", "The customer's journey: touchpoints, orders and consent, oldest first")
                .query(
                    const {
                        &[
                            param("from_ms", "integer", "from this time (inclusive, default 0)"),
                            param("to_ms", "integer", "until this time (exclusive, default: no end)"),
                            param("limit", "integer", "at most this many entries, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok::<wire::Page<wire::TimelineEntry>>(),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/merge",
            merge,
            doc("mergeCustomers", "Merge another profile into this one (they are the same person)")
                .body::<wire::MergeCustomers>()
                .ok::<wire::Customer>(),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}/export",
            export,
            doc("exportCustomer", "Everything held about the customer, for an access request (GDPR art. 15)")
                .ok::<wire::CustomerExport>(),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/erase",
            erase,
            doc(
                "eraseCustomer",
                "Erase the customer (GDPR art. 17): profile, identities, consent log, touchpoints deleted; \
                 orders kept anonymised",
            )
            .ok::<wire::ErasureReport>(),
        )
        .get(
            "/tenants/{tenant}/erasures",
            erasures,
            doc("listErasures", "Every erasure done, oldest first, without personal data")
                .ok::<wire::Page<wire::ErasureReport>>(),
        );
}

#[derive(Debug, Deserialize)]
struct CustomerPath {
    customer: CustomerId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    after: Option<CustomerId>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelineQuery {
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    limit: Option<usize>,
}

async fn list_customers(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Page<wire::Customer>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_customers(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |c| c.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewCustomer>,
) -> Result<(StatusCode, Json<wire::Customer>), AdminError> {
    let c = state.call(move |core, now| core.create_customer(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

async fn export(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
) -> Result<Json<wire::CustomerExport>, AdminError> {
    Ok(Json(state.call(move |core, now| core.export_customer(&tenant, &path.customer, now)).await?.into()))
}

async fn erase(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<wire::ErasureReport>, AdminError> {
    Ok(Json(state.call(move |core, now| core.erase_customer(&tenant, &path.customer, now)).await?.into()))
}

async fn erasures(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
) -> Result<Json<Page<wire::ErasureReport>>, AdminError> {
    let items = state.call(move |core, _| core.erasure_log(&tenant)).await?;
    Ok(Json(Page::of(items, None)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
) -> Result<Json<wire::Customer>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_customer(&tenant, &path.customer)).await?.into()))
}

async fn add_identity(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(identity): JsonBody<wire::Identity>,
) -> Result<Json<wire::Customer>, AdminError> {
    let identity = identity.into();
    Ok(Json(state.call(move |core, now| core.add_identity(&tenant, &path.customer, &identity, now)).await?.into()))
}

async fn consent(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
) -> Result<Json<wire::Consent>, AdminError> {
    let (customer, history) = state
        .call(move |core, _| {
            let c = core.get_customer(&tenant, &path.customer)?;
            let h = core.consent_history(&tenant, &c.id)?;
            Ok((c, h))
        })
        .await?;
    Ok(Json(wire::Consent {
        customer_id: customer.id.to_string(),
        current: customer.consents.into_iter().map(Into::into).collect(),
        history: history.into_iter().map(Into::into).collect(),
    }))
}

async fn set_tags(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(b): JsonBody<wire::CustomerTags>,
) -> Result<Json<wire::Customer>, AdminError> {
    Ok(Json(state.call(move |core, now| core.set_customer_tags(&tenant, &path.customer, &b.tags, now)).await?.into()))
}

async fn set_consent(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(b): JsonBody<wire::SetConsent>,
) -> Result<Json<wire::Customer>, AdminError> {
    let source = b.source.unwrap_or_else(|| "admin".to_owned());
    Ok(Json(
        state
            .call(move |core, now| {
                let purpose = b.purpose.into();
                core.set_consent(&tenant, &path.customer, purpose, b.granted, b.channel_id.as_ref(), &source, now)
            })
            .await?
            .into(),
    ))
}

async fn timeline(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    Q(q): Q<TimelineQuery>,
) -> Result<Json<Page<wire::TimelineEntry>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let from = q.from_ms.unwrap_or(0);
    let to = q.to_ms.unwrap_or(i64::MAX);
    let items = state.call(move |core, _| core.timeline(&tenant, &path.customer, from, to, limit)).await?;
    Ok(Json(Page::of(items, None)))
}

async fn merge(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(b): JsonBody<wire::MergeCustomers>,
) -> Result<Json<wire::Customer>, AdminError> {
    Ok(Json(
        state.call(move |core, now| core.merge_customers(&tenant, &path.customer, &b.absorbed_id, now)).await?.into(),
    ))
}
