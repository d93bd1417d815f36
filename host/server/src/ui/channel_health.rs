//! A channel's health on its page: the sync report the channel keeps
//! (channel-wide, and per product with the platform's errors and warnings,
//! read through `omnistore_services::sync_state` as the JSON API's
//! `GET …/channels/{channel}/sync`) and its dead letters, each with a replay
//! button calling the core's `replay_dead_letter` as the JSON API's
//! `POST …/events/dead-letters/{delivery}/replay`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{ChannelId, Core, DeliveryId, ProductId, TenantId};
use omnistore_services::sync_state::{self, ChannelSyncStatus, ProductSyncStatus, Reported};
use serde_json::{Value, json};

use super::i18n::Locale;
use super::session::ShopForm;
use super::{UiError, UiState};
use crate::admin::{AdminError, blocking};

/// Dead letters looked at (of every channel), and product reports shown.
const DEAD_READ: usize = 1000;
const PRODUCTS_SHOWN: usize = 500;

/// The channel-wide sync state as the merchant reads it: what it is, the
/// channel's own sentence, when it said so. Blocking.
pub(crate) fn channel_state(
    core: &Core,
    tenant: &TenantId,
    installation: &str,
    locale: Locale,
) -> Result<(&'static str, String, String), AdminError> {
    let kv = core.store().clone();
    Ok(match sync_state::channel_state(&*kv, tenant, installation).map_err(AdminError::storage)? {
        None => (locale.t("health_no_report"), String::new(), String::new()),
        Some(Reported::Unreadable { reason, .. }) => (locale.t("health_unreadable"), reason, String::new()),
        Some(Reported::Read(c)) => {
            let state = match c.status {
                ChannelSyncStatus::Ok => locale.t("health_ok"),
                ChannelSyncStatus::NeedsReauthorization => locale.t("health_reauth"),
                ChannelSyncStatus::Misconfigured => locale.t("health_misconfigured"),
                ChannelSyncStatus::RateLimited => locale.t("health_rate_limited"),
            };
            (state, c.message, locale.datetime(c.updated_ms))
        }
    })
}

/// One product's sync report as the pages show it: its state, when it was
/// last synced, the platform's errors and warnings (`title` is the product
/// id until the caller names it).
pub(crate) fn product_sync_row(report: &Reported<sync_state::ProductSync>, locale: Locale) -> Value {
    match report {
        Reported::Unreadable { key, reason } => json!({
            "id": key, "title": key, "known": false, "status": locale.t("health_unreadable"), "bad": true,
            "synced": "", "errors": [reason], "warnings": [],
        }),
        Reported::Read(p) => {
            let issue = |i: &sync_state::SyncIssue| {
                if i.code.is_empty() { i.message.clone() } else { format!("{}: {}", i.code, i.message) }
            };
            let status = match p.status {
                ProductSyncStatus::Synced => "synced",
                ProductSyncStatus::Pending => "pending",
                ProductSyncStatus::Error => "error_status",
                ProductSyncStatus::Removed => "removed",
            };
            json!({
                "id": p.product_id, "title": p.product_id,
                "status": locale.t(&format!("sync_{status}")), "bad": p.status == ProductSyncStatus::Error,
                "synced": p.last_synced_ms.map(|ms| locale.datetime(ms)).unwrap_or_default(),
                "errors": p.errors.iter().map(issue).collect::<Vec<_>>(),
                "warnings": p.warnings.iter().map(issue).collect::<Vec<_>>(),
            })
        }
    }
}

/// The channel's sync report and dead letters, for its page. Blocking.
pub(crate) fn health_view(
    core: &Core,
    tenant: &TenantId,
    channel: &ChannelId,
    locale: Locale,
) -> Result<Value, AdminError> {
    let installation = channel.as_str();
    let (state, message, updated) = channel_state(core, tenant, installation, locale)?;
    let kv = core.store().clone();
    let reports =
        sync_state::product_states(&*kv, tenant, installation, None, PRODUCTS_SHOWN).map_err(AdminError::storage)?;
    let mut products = Vec::new();
    for report in reports {
        let title = match &report {
            Reported::Read(p) => {
                core.get_product(tenant, &ProductId::new(p.product_id.as_str())).ok().map(|d| d.product.title)
            }
            Reported::Unreadable { .. } => None,
        };
        let mut row = product_sync_row(&report, locale);
        row["known"] = json!(title.is_some());
        if let Some(title) = title {
            row["title"] = json!(title);
        }
        products.push(row);
    }
    // Products with errors first: they are what the merchant came to fix.
    products.sort_by_key(|p| !p["bad"].as_bool().unwrap_or(false));
    let dead: Vec<Value> = core
        .dead_letters(tenant, DEAD_READ)?
        .into_iter()
        .filter(|d| d.channel_id == *channel)
        .map(|d| {
            json!({
                "id": d.id.to_string(), "kind": d.kind.to_string(), "subject": d.subject,
                "attempts": locale.number(i64::from(d.attempts)), "error": d.last_error.unwrap_or_default(),
                "at": locale.datetime(d.updated_ms),
            })
        })
        .collect();
    // The catalogue on the channel: how much of what it shows it has
    // reported synced — the progress of an upload after "publish all".
    let published = core.channel_publication_count(tenant, channel)? as u64;
    let counts = sync_state::count_products(&*kv, tenant, installation).map_err(AdminError::storage)?;
    // Still uploading: products wait, or a channel that reports has not
    // reported every published product yet. The page refreshes it then.
    let reported = counts.synced + counts.pending + counts.error + counts.unreadable;
    let uploading =
        counts.pending > 0 || (reported > 0 && published > counts.synced + counts.error + counts.unreadable);
    let catalogue = json!({
        "published": published, "synced": counts.synced.min(published), "uploading": uploading,
        "summary": locale
            .t("catalogue_progress")
            .replace("{published}", &locale.number(published as i64))
            .replace("{synced}", &locale.number(counts.synced as i64))
            .replace("{pending}", &locale.number(counts.pending as i64))
            .replace("{errors}", &locale.number((counts.error + counts.unreadable) as i64)),
    });
    Ok(json!({
        "state": state, "message": message, "updated": updated, "products": products, "dead": dead,
        "catalogue": catalogue,
    }))
}

/// Publish every active product on the channel, as the JSON API's
/// `POST …/channels/{channel}/publish-all` does: the channel is sent each
/// one and uploads them; its page shows the progress.
pub(crate) async fn publish_all(
    State(state): State<UiState>,
    Path(channel): Path<String>,
    ShopForm { shop, .. }: ShopForm,
) -> Result<Response, UiError> {
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let id = ChannelId::new(channel);
    let c = id.clone();
    blocking(move || Ok::<_, AdminError>(core.publish_all_active(&tenant, &c, now)?)).await?;
    Ok(Redirect::to(&format!("/admin/channels/{id}?done=published#sync-h")).into_response())
}

/// Queue a dead delivery of this channel again. A delivery of another
/// channel or shop is not found; one that is no longer dead (replayed from
/// another tab) is said on the channel's page and changes nothing.
pub(crate) async fn replay(
    State(state): State<UiState>,
    Path((channel, delivery)): Path<(String, String)>,
    ShopForm { shop, locale, .. }: ShopForm,
) -> Result<Response, UiError> {
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let (channel_id, delivery_id) = (ChannelId::new(channel.as_str()), DeliveryId::new(delivery));
    let result = blocking(move || {
        core.get_channel(&tenant, &channel_id)?;
        let d = core.get_delivery(&tenant, &delivery_id)?;
        if d.channel_id != channel_id {
            return Err(AdminError::not_found("no such undelivered event on this channel"));
        }
        Ok(core.replay_dead_letter(&tenant, &delivery_id, now).map_err(AdminError::from))
    })
    .await?;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/channels/{channel}?done=replayed")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let message = format!("{} ({})", locale.t("err_action"), e.message);
            super::channels::refused(&state, &shop, locale, ChannelId::new(channel), message).await
        }
        Err(e) => Err(e.into()),
    }
}
