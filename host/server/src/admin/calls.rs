//! A channel's recent calls, errors and limits hit: what the plugin runtime
//! remembers of the installation (in memory, since the server started),
//! read through [`super::ChannelInstaller::recent_calls`].

use axum::Json;
use axum::extract::State;
use omnistore_core::ChannelId;
use serde::Deserialize;

use super::extract::{P, Scope};
use super::{Access, AdminError, AdminState, Routes, doc, wire};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Channels").get(
        "/tenants/{tenant}/channels/{channel}/calls",
        get_calls,
        doc(
            "getChannelCalls",
            "The channel's most recent calls (newest first, at most 100), and since the server started its calls, \
             outbound requests, errors and limits hit by kind; kept in memory, so a restart starts them again",
        )
        .ok::<wire::ChannelCalls>(),
    );
}

#[derive(Debug, Deserialize)]
struct ChannelPath {
    channel: ChannelId,
}

async fn get_calls(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<Json<wire::ChannelCalls>, AdminError> {
    let (t, c) = (tenant.clone(), path.channel.clone());
    // Another tenant's channel id is a 404 here like everywhere else.
    state.call(move |core, _| core.get_channel(&t, &c)).await?;
    let report = state.installer.as_ref().map(|i| i.recent_calls(&tenant, &path.channel)).unwrap_or_default();
    Ok(Json(report.into()))
}
