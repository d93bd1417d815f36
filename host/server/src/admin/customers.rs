//! Customers: one profile per person with many channel identities, consent
//! per purpose with its history, and the journey timeline.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{
    ChannelId, ConsentPurpose, Customer, CustomerExport, CustomerId, ErasureReport, Identity, NewCustomer,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Empty, JsonBody, OptJsonBody, P, Q, Scope, cursor, list, page_limit};
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
                .ok("[Customer]"),
        )
        .post(
            "/tenants/{tenant}/customers",
            create,
            doc("createCustomer", "Create a customer profile").body("NewCustomer").created("Customer"),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}",
            get_one,
            doc("getCustomer", "Get a profile (a merged-away id returns the surviving profile)").ok("Customer"),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/identities",
            add_identity,
            doc("addIdentity", "Add a channel identity (email, phone, social handle) to a profile")
                .body("Identity")
                .ok("Customer"),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}/consent",
            consent,
            doc("getConsent", "Current consent per purpose and every decision ever made").ok("Consent"),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/consent",
            set_consent,
            doc("setConsent", "Record a consent decision (granted or withdrawn)").body("SetConsent").ok("Customer"),
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
                .ok("[TimelineEntry]"),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/merge",
            merge,
            doc("mergeCustomers", "Merge another profile into this one (they are the same person)")
                .body("MergeCustomers")
                .ok("Customer"),
        )
        .get(
            "/tenants/{tenant}/customers/{customer}/export",
            export,
            doc("exportCustomer", "Everything held about the customer, for an access request (GDPR art. 15)")
                .ok("CustomerExport"),
        )
        .post(
            "/tenants/{tenant}/customers/{customer}/erase",
            erase,
            doc(
                "eraseCustomer",
                "Erase the customer (GDPR art. 17): profile, identities, consent log, touchpoints deleted; \
                 orders kept anonymised",
            )
            .ok("ErasureReport"),
        )
        .get(
            "/tenants/{tenant}/erasures",
            erasures,
            doc("listErasures", "Every erasure done, oldest first, without personal data").ok("[ErasureReport]"),
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    purpose: ConsentPurpose,
    granted: bool,
    channel_id: Option<ChannelId>,
    /// How the decision was made ("admin", "checkout checkbox", "STOP reply").
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    absorbed_id: CustomerId,
}

async fn list_customers(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items: Vec<Customer> = state.call(move |core, _| core.list_customers(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |c| c.id.to_string());
    Ok(Json(list(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<NewCustomer>,
) -> Result<(StatusCode, Json<Customer>), AdminError> {
    let c = state.call(move |core, now| core.create_customer(&tenant, body, now)).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn export(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
) -> Result<Json<CustomerExport>, AdminError> {
    Ok(Json(state.call(move |core, now| core.export_customer(&tenant, &path.customer, now)).await?))
}

async fn erase(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    OptJsonBody(_): OptJsonBody<Empty>,
) -> Result<Json<ErasureReport>, AdminError> {
    Ok(Json(state.call(move |core, now| core.erase_customer(&tenant, &path.customer, now)).await?))
}

async fn erasures(State(state): State<AdminState>, Scope(tenant): Scope) -> Result<Json<Value>, AdminError> {
    let items = state.call(move |core, _| core.erasure_log(&tenant)).await?;
    Ok(Json(list(items, None)))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
) -> Result<Json<Customer>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_customer(&tenant, &path.customer)).await?))
}

async fn add_identity(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(identity): JsonBody<Identity>,
) -> Result<Json<Customer>, AdminError> {
    Ok(Json(state.call(move |core, now| core.add_identity(&tenant, &path.customer, &identity, now)).await?))
}

async fn consent(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
) -> Result<Json<Value>, AdminError> {
    let (customer, history) = state
        .call(move |core, _| {
            let c = core.get_customer(&tenant, &path.customer)?;
            let h = core.consent_history(&tenant, &c.id)?;
            Ok((c, h))
        })
        .await?;
    Ok(Json(json!({ "customer_id": customer.id, "current": customer.consents, "history": history })))
}

async fn set_consent(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(b): JsonBody<ConsentBody>,
) -> Result<Json<Customer>, AdminError> {
    let source = b.source.unwrap_or_else(|| "admin".to_owned());
    Ok(Json(
        state
            .call(move |core, now| {
                core.set_consent(&tenant, &path.customer, b.purpose, b.granted, b.channel_id.as_ref(), &source, now)
            })
            .await?,
    ))
}

async fn timeline(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    Q(q): Q<TimelineQuery>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let from = q.from_ms.unwrap_or(0);
    let to = q.to_ms.unwrap_or(i64::MAX);
    let items = state.call(move |core, _| core.timeline(&tenant, &path.customer, from, to, limit)).await?;
    Ok(Json(list(items, None)))
}

async fn merge(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CustomerPath>,
    JsonBody(b): JsonBody<MergeBody>,
) -> Result<Json<Customer>, AdminError> {
    Ok(Json(state.call(move |core, now| core.merge_customers(&tenant, &path.customer, &b.absorbed_id, now)).await?))
}
