//! Customers: the list with search, and a customer's page — profile,
//! identities, consent now and its history, the timeline of touchpoints
//! across channels, and their orders. Read-only: what changes a customer
//! (consent, merges, erasure) stays with the JSON API for now.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use omnistore_core::{ConsentPurpose, Core, CustomerId, IdentityKind, OrderQuery, TenantId, TimelineEntry};
use serde::Deserialize;
use serde_json::{Value, json};

use super::i18n::Locale;
use super::orders::{channel_names, status_name};
use super::render::{Chrome, page};
use super::session::Shop;
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Customers looked through for one search at most, and shown.
const SCAN_LIMIT: usize = 20_000;
const SHOWN: usize = 200;
/// Timeline entries shown (the oldest first, as the core lists them).
const TIMELINE: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
}

fn identity_text(kind: &IdentityKind, value: &str, locale: Locale) -> String {
    match kind {
        IdentityKind::Email => format!("{}: {value}", locale.t("email")),
        IdentityKind::Phone => format!("{}: {value}", locale.t("phone")),
        IdentityKind::Social { network } => format!("{network}: {value}"),
    }
}

fn purpose_text(purpose: ConsentPurpose, locale: Locale) -> &'static str {
    match purpose {
        ConsentPurpose::EmailMarketing => locale.t("consent_email"),
        ConsentPurpose::SmsMarketing => locale.t("consent_sms"),
    }
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    uri: Uri,
    Query(s): Query<Search>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant, q) = (state.admin.core().clone(), shop.tenant.clone(), s.q.trim().to_lowercase());
    let customers = blocking(move || {
        let mut found = Vec::new();
        let mut after: Option<CustomerId> = None;
        let mut scanned = 0;
        loop {
            let page = core.list_customers(&tenant, after.as_ref(), 1000)?;
            scanned += page.len();
            after = page.last().map(|c| c.id.clone());
            let full = page.len() == 1000;
            for c in page {
                let hit = q.is_empty()
                    || c.name.as_deref().is_some_and(|n| n.to_lowercase().contains(&q))
                    || c.identities.iter().any(|i| i.value.to_lowercase().contains(&q));
                if hit && found.len() < SHOWN {
                    found.push(c);
                }
            }
            if !full || scanned >= SCAN_LIMIT || found.len() >= SHOWN {
                return Ok::<_, AdminError>(found);
            }
        }
    })
    .await?;
    let rows: Vec<Value> = customers
        .iter()
        .map(|c| {
            json!({
                "id": c.id.to_string(),
                "name": c.name.clone().unwrap_or_else(|| locale.t("no_name").to_owned()),
                "identities": c.identities.iter().map(|i| i.value.clone()).collect::<Vec<_>>().join(", "),
                "email_ok": c.has_consent(ConsentPurpose::EmailMarketing),
                "sms_ok": c.has_consent(ConsentPurpose::SmsMarketing),
                "created": locale.date(c.created_ms),
            })
        })
        .collect();
    let chrome = Chrome::new(locale, Some(&shop.session), "customers", uri.to_string());
    page(&state, StatusCode::OK, "customers.html", &chrome, json!({ "customers": rows, "q": s.q }))
}

/// Everything a customer's page shows. Blocking.
fn customer_view(
    core: &Core,
    tenant: &TenantId,
    id: &CustomerId,
    now: i64,
    locale: Locale,
) -> Result<Value, AdminError> {
    let customer = core.get_customer(tenant, id)?;
    let names = channel_names(core, tenant)?;
    let channel = |c: Option<&omnistore_core::ChannelId>| match c {
        Some(c) => names.get(c.as_str()).cloned().unwrap_or_else(|| c.to_string()),
        None => locale.t("channel_admin").to_owned(),
    };
    let history: Vec<Value> = core
        .consent_history(tenant, &customer.id)?
        .iter()
        .rev()
        .map(|r| {
            json!({
                "purpose": purpose_text(r.purpose, locale),
                "granted": if r.granted { locale.t("granted") } else { locale.t("withdrawn") },
                "channel": channel(r.channel_id.as_ref()),
                "source": r.source,
                "at": locale.datetime(r.at_ms),
            })
        })
        .collect();
    let timeline: Vec<Value> = core
        .timeline(tenant, &customer.id, 0, now.saturating_add(1), TIMELINE)?
        .iter()
        .rev()
        .map(|entry| match entry {
            TimelineEntry::Touchpoint(t) => json!({
                "at": locale.datetime(t.at_ms),
                "what": t.kind,
                "channel": channel(t.channel_id.as_ref()),
                "detail": t.detail.clone().unwrap_or_default(),
                "order": null,
            }),
            TimelineEntry::OrderPlaced { order_id, number, channel_id, total, at_ms } => json!({
                "at": locale.datetime(*at_ms),
                "what": format!("{} #{number}", locale.t("order")),
                "channel": channel(channel_id.as_ref()),
                "detail": locale.money(total.amount_minor, &total.currency),
                "order": order_id.to_string(),
            }),
            TimelineEntry::Consent(r) => json!({
                "at": locale.datetime(r.at_ms),
                "what": purpose_text(r.purpose, locale),
                "channel": channel(r.channel_id.as_ref()),
                "detail": if r.granted { locale.t("granted") } else { locale.t("withdrawn") },
                "order": null,
            }),
        })
        .collect();
    let query =
        OrderQuery { after: None, limit: 1000, status: None, channel: None, customer: Some(customer.id.clone()) };
    let orders: Vec<Value> = core
        .list_orders(tenant, &query)?
        .iter()
        .rev()
        .map(|o| {
            json!({
                "id": o.id.to_string(), "number": o.number, "placed": locale.datetime(o.placed_ms),
                "channel": channel(o.channel_id.as_ref()),
                "status": locale.t(&format!("status_{}", status_name(o.status))),
                "total": locale.money(o.total.amount_minor, &o.total.currency),
            })
        })
        .collect();
    Ok(json!({
        "id": customer.id.to_string(),
        "name": customer.name.clone().unwrap_or_else(|| locale.t("no_name").to_owned()),
        "created": locale.datetime(customer.created_ms),
        "identities": customer.identities.iter().map(|i| identity_text(&i.kind, &i.value, locale)).collect::<Vec<_>>(),
        "email_ok": if customer.has_consent(ConsentPurpose::EmailMarketing) { locale.t("granted") } else { locale.t("not_granted") },
        "sms_ok": if customer.has_consent(ConsentPurpose::SmsMarketing) { locale.t("granted") } else { locale.t("not_granted") },
        "history": history,
        "timeline": timeline,
        "orders": orders,
    }))
}

pub(crate) async fn detail(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path(customer): Path<String>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let id = CustomerId::new(customer);
    let here = format!("/admin/customers/{id}");
    let view = blocking(move || customer_view(&core, &tenant, &id, now, locale)).await?;
    let chrome = Chrome::new(locale, Some(&shop.session), "customers", here);
    page(&state, StatusCode::OK, "customer.html", &chrome, json!({ "customer": view }))
}
