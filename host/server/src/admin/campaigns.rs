//! Campaigns: a message per channel to a segment, sent now or at a time,
//! previewed for one customer (with the SMS encoding and segment count), and
//! their results. The sending itself is the core's, in batches driven by the
//! dispatcher's rounds.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{self as domain, CampaignId, CustomerId, TenantId};
use omnistore_services::installer::setting_text;
use omnistore_sms::campaign_footer;
use serde::Deserialize;

use super::extract::{JsonBody, P, PAGE_PARAMS, PageQuery, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
use super::{Access, AdminError, AdminState, Param, Routes, doc, required};

const PREVIEW_PARAMS: &[Param] = &[required("customer", "string", "the customer to render the messages for")];

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Campaigns")
        .get(
            "/tenants/{tenant}/campaigns",
            list_campaigns,
            doc("listCampaigns", "Campaigns in id order").query(PAGE_PARAMS).ok::<wire::Page<wire::Campaign>>(),
        )
        .post(
            "/tenants/{tenant}/campaigns",
            create,
            doc(
                "createCampaign",
                "Save a campaign (templates are checked now); with send_at_ms it starts by itself then",
            )
            .body::<wire::NewCampaign>()
            .created::<wire::Campaign>(),
        )
        .get(
            "/tenants/{tenant}/campaigns/{campaign}",
            get_one,
            doc("getCampaign", "Get a campaign with its progress").ok::<wire::Campaign>(),
        )
        .get(
            "/tenants/{tenant}/campaigns/{campaign}/preview",
            preview,
            doc("previewCampaign", "One customer's messages as they would be sent, with the SMS encoding and parts, and how many customers each channel would reach now")
                .query(PREVIEW_PARAMS)
                .ok::<wire::CampaignPreview>(),
        )
        .post(
            "/tenants/{tenant}/campaigns/{campaign}/send",
            send,
            doc("sendCampaign", "Send now: the segment's customers are fixed as recipients and batches follow")
                .ok::<wire::Campaign>(),
        )
        .get(
            "/tenants/{tenant}/campaigns/{campaign}/results",
            results,
            doc("campaignResults", "Per channel: queued, skipped by reason, delivered, clicked, orders and revenue")
                .ok::<wire::CampaignResults>(),
        );
}

#[derive(Debug, Deserialize)]
struct CampaignPath {
    campaign: CampaignId,
}

async fn list_campaigns(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<PageQuery<CampaignId>>,
) -> Result<Json<Page<wire::Campaign>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let items = state.call(move |core, _| core.list_campaigns(&tenant, q.after.as_ref(), limit)).await?;
    let next = cursor(&items, limit, |c| c.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewCampaign>,
) -> Result<(StatusCode, Json<wire::Campaign>), AdminError> {
    let c = state.call(move |core, now| core.create_campaign(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

async fn get_one(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CampaignPath>,
) -> Result<Json<wire::Campaign>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_campaign(&tenant, &path.campaign)).await?.into()))
}

async fn preview(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CampaignPath>,
    Q(q): Q<wire::PreviewQuery>,
) -> Result<Json<wire::CampaignPreview>, AdminError> {
    let customer = CustomerId::new(q.customer);
    let preview = preview_as_sent(&state, tenant, path.campaign, customer).await?;
    let customer_id = preview.customer_id.to_string();
    Ok(Json(wire::CampaignPreview::new(customer_id, preview)))
}

/// The core's preview with the SMS channel's opt-out line under the text,
/// read from that channel's settings as the channel itself reads it
/// (`omnistore_sms::campaign_footer`): the parts counted are the parts sent.
pub(crate) async fn preview_as_sent(
    state: &AdminState,
    tenant: TenantId,
    campaign: CampaignId,
    customer: CustomerId,
) -> Result<domain::CampaignPreview, AdminError> {
    let t = tenant.clone();
    let (mut preview, sms_channel, shop) = state
        .call(move |core, now| {
            let preview = core.preview_campaign(&t, &campaign, &customer, now)?;
            let channel = match core.get_campaign(&t, &campaign)?.sms {
                Some(sms) => Some(core.get_channel(&t, &sms.channel_id)?),
                None => None,
            };
            Ok((preview, channel, core.get_tenant(&t)?))
        })
        .await?;
    let (Some(sms), Some(channel)) = (preview.sms.as_mut(), sms_channel) else {
        return Ok(preview);
    };
    let manifest = match state.installer() {
        Some(installer) => installer.manifest(&tenant, &channel).await,
        None => None,
    };
    let setting = |key: &str| {
        channel.settings.get(key).map(setting_text).or_else(|| {
            manifest.as_ref().and_then(|m| m.settings.iter().find(|s| s.key == key)).and_then(|s| s.default.clone())
        })
    };
    let primary = shop.languages().into_iter().next().unwrap_or_default();
    let language = campaign_footer::language(setting("language").as_deref(), &primary);
    let source = setting(&campaign_footer::setting_key(language)).unwrap_or_default();
    let footer = campaign_footer::render(language, &source, &shop.name).map_err(|e| {
        AdminError::invalid(format!("the SMS channel `{}` cannot add its opt-out line: {e}", channel.name))
    })?;
    sms.text = campaign_footer::with_footer(&sms.text, footer.as_deref());
    Ok(preview)
}

async fn send(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CampaignPath>,
) -> Result<Json<wire::Campaign>, AdminError> {
    Ok(Json(state.call(move |core, now| core.send_campaign(&tenant, &path.campaign, now)).await?.into()))
}

async fn results(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<CampaignPath>,
) -> Result<Json<wire::CampaignResults>, AdminError> {
    Ok(Json(state.call(move |core, _| core.campaign_results(&tenant, &path.campaign)).await?.into()))
}
