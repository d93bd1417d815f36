//! One campaign: its messages previewed for a customer (the JSON API's
//! preview: the SMS text with the channel's opt-out line, its encoding and
//! parts counted by `omnistore-sms`, the SMS channel's own counter), the send
//! button, progress while sending, and the results per
//! channel (`campaign_results`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{CampaignId, CampaignStatus, Core, CustomerId, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::campaigns::{segment_names, status_key};
use super::i18n::Locale;
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Customers offered for the preview at most.
const CUSTOMERS_OFFERED: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    done: String,
}

/// The preview for `customer` (the segment's first one when none is
/// chosen): the JSON API's, in the JSON API's words.
async fn preview(
    state: &UiState,
    tenant: &TenantId,
    id: &CampaignId,
    customer: CustomerId,
) -> Result<Value, AdminError> {
    let p = crate::admin::campaigns::preview_as_sent(&state.admin, tenant.clone(), id.clone(), customer).await?;
    let wire = crate::admin::wire::CampaignPreview::new(p.customer_id.to_string(), p);
    serde_json::to_value(wire).map_err(|e| AdminError::internal(format!("the preview cannot be shown: {e}")))
}

/// Everything the page shows but the preview, and whose preview to show.
/// Blocking.
fn view(
    core: &Core,
    tenant: &TenantId,
    id: &CampaignId,
    chosen: &str,
    now: i64,
    locale: Locale,
) -> Result<(Value, Option<CustomerId>), AdminError> {
    let results = core.campaign_results(tenant, id)?;
    let c = &results.campaign;
    let currency = core.get_tenant(tenant)?.currency;
    let customers: Vec<Value> = core
        .list_customers(tenant, None, CUSTOMERS_OFFERED)?
        .into_iter()
        .map(|c| {
            let contact = c.identities.first().map(|i| i.value.clone()).unwrap_or_default();
            let name = c.name.clone().unwrap_or_else(|| locale.t("no_name").to_owned());
            json!({ "id": c.id.to_string(), "name": format!("{name} {contact}").trim().to_owned() })
        })
        .collect();
    let customer = if chosen.is_empty() {
        let first = core.count_segment(tenant, &c.segment_id, now)?.sample.into_iter().next().map(|c| c.id);
        first.or_else(|| customers.first().map(|c| CustomerId::new(c["id"].as_str().unwrap_or_default())))
    } else {
        Some(CustomerId::new(chosen))
    };
    let channels: Vec<Value> = results
        .channels
        .iter()
        .map(|r| {
            let skipped: Vec<Value> = r
                .skipped
                .iter()
                .map(|(reason, n)| {
                    let key = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(|s| format!("skip_{s}")));
                    json!({ "reason": locale.t(&key.unwrap_or_default()), "count": locale.number(*n as i64) })
                })
                .collect();
            json!({
                "medium": locale.t(&format!("medium_{}", r.medium.as_str())), "queued": locale.number(r.queued as i64), "skipped": skipped,
                "delivered": locale.number(r.delivered as i64), "failed": locale.number(r.failed as i64),
                "clicked": locale.number(r.clicked as i64),
                "orders": locale.number(r.orders_last_touch as i64),
                "revenue": locale.money(r.revenue_last_touch.amount_minor, &currency),
                "orders_first": locale.number(r.orders_first_touch as i64),
                "revenue_first": locale.money(r.revenue_first_touch.amount_minor, &currency),
            })
        })
        .collect();
    let names = segment_names(core, tenant)?;
    let view = json!({
        "id": c.id.to_string(), "name": c.name,
        "segment": names.get(c.segment_id.as_str()).cloned().unwrap_or_else(|| c.segment_id.to_string()),
        "status": locale.t(status_key(c.status)),
        "send_at": c.send_at_ms.filter(|_| c.status == CampaignStatus::Scheduled).map(|ms| format!("{} ({})", locale.datetime(ms), locale.zone.name())),
        "can_send": matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled),
        "sending": c.status == CampaignStatus::Sending,
        "done": c.progress.done, "total": c.progress.total,
        "done_text": locale.number(c.progress.done as i64), "total_text": locale.number(c.progress.total as i64),
        "email": c.email.as_ref().map(|e| json!({ "subject": e.subject, "text": e.text })),
        "sms": c.sms.as_ref().map(|s| json!({ "text": s.text })),
        "customers": customers, "channels": channels,
    });
    Ok((view, customer))
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let campaign = CampaignId::new(id);
    let chosen = q.customer.clone();
    let (t, c) = (tenant.clone(), campaign.clone());
    let (mut data, customer) = blocking(move || view(&core, &t, &c, &chosen, now, locale)).await?;
    let preview = match customer {
        Some(customer) => match preview(&state, &tenant, &campaign, customer).await {
            Ok(p) => p,
            // Another shop's id, or one erased: there is nothing to preview.
            Err(e) if e.status == StatusCode::NOT_FOUND => Value::Null,
            Err(e) => return Err(e.into()),
        },
        None => Value::Null,
    };
    data["chosen"] = preview["customer"].clone();
    data["preview"] = preview;
    let done = match q.done.as_str() {
        "created" => Some(locale.t("done_campaign_created")),
        "sending" => Some(locale.t("done_campaign_sending")),
        _ => None,
    };
    let chrome = Chrome::new(locale, Some(&shop.session), "campaigns", uri.to_string());
    page(&state, StatusCode::OK, "campaign.html", &chrome, json!({ "c": data, "done": done }))
}

/// Send now: the segment's customers are fixed as recipients and the
/// dispatcher's rounds send the batches; the page shows the progress.
pub(crate) async fn send(
    State(state): State<UiState>,
    Path(id): Path<String>,
    ShopForm { shop, .. }: ShopForm,
) -> Result<Response, UiError> {
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let campaign = CampaignId::new(id);
    let sent = blocking(move || Ok::<_, AdminError>(core.send_campaign(&tenant, &campaign, now)?)).await?;
    Ok(Redirect::to(&format!("/admin/campaigns/{}?done=sending", sent.id)).into_response())
}
