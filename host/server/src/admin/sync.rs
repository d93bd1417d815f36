//! A catalog channel's sync with its platform, as the channel reported it:
//! whether it can reach the platform, and each product's last sync, status,
//! errors and warnings (see `omnistore_services::sync_state`).

use axum::Json;
use axum::extract::State;
use omnistore_core::ChannelId;
use omnistore_services::sync_state;
use serde::Deserialize;

use super::extract::{P, Q, Scope, page_limit};
use super::wire::{self, ProductSync};
use super::{Access, AdminError, AdminState, Routes, blocking, doc, param};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Channels").get(
        "/tenants/{tenant}/channels/{channel}/sync",
        get_sync,
        doc(
            "getChannelSync",
            "The channel's sync with its platform: whether it can reach it, and per product the last sync, status, errors and warnings",
        )
        .query(
            const {
                &[
                    param("after", "string", "cursor: the last product id of the previous page"),
                    param("limit", "integer", "products per page, 1-1000 (default 100)"),
                ]
            },
        )
        .ok::<wire::ChannelSync>(),
    )
    .post(
        "/tenants/{tenant}/channels/{channel}/publish-all",
        publish_all,
        doc(
            "publishAllProducts",
            "Publish every active product on the channel (each is sent to it, which uploads it); the sync report shows the progress",
        )
        .ok::<wire::PublishedAll>(),
    );
}

async fn publish_all(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<Json<wire::PublishedAll>, AdminError> {
    let published = state
        .call(move |core, now| {
            let newly = core.publish_all_active(&tenant, &path.channel, now)?;
            Ok((newly, core.channel_publication_count(&tenant, &path.channel)?))
        })
        .await?;
    Ok(Json(wire::PublishedAll { newly_published: published.0 as u64, published: published.1 as u64 }))
}

#[derive(Debug, Deserialize)]
struct ChannelPath {
    channel: ChannelId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncQuery {
    after: Option<String>,
    limit: Option<usize>,
}

async fn get_sync(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    Q(q): Q<SyncQuery>,
) -> Result<Json<wire::ChannelSync>, AdminError> {
    let limit = page_limit(q.limit)?;
    let (t, c) = (tenant.clone(), path.channel.clone());
    // Another tenant's channel id is a 404 here like everywhere else.
    state.call(move |core, _| core.get_channel(&t, &c)).await?;
    let kv = state.core().store().clone();
    let sync = blocking(move || {
        let installation = path.channel.as_str();
        let channel = sync_state::channel_state(&*kv, &tenant, installation).map_err(AdminError::storage)?;
        let mut products = sync_state::product_states(&*kv, &tenant, installation, q.after.as_deref(), limit + 1)
            .map_err(AdminError::storage)?;
        let more = products.len() > limit;
        products.truncate(limit);
        let products: Vec<ProductSync> = products.into_iter().map(ProductSync::from).collect();
        let next_after = if more { products.last().map(|p| p.product_id.clone()) } else { None };
        Ok(wire::ChannelSync::new(channel, products, next_after))
    })
    .await?;
    Ok(Json(sync))
}
