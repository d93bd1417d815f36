//! The `touchpoints` interface: a shopper's journey, kept per customer, or per
//! visitor until they order.

use omnistore_core::{self as domain, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use wit::HostError;

use super::CoreServices;
use super::call::{Fail, finish};
use super::convert::core_visit_source;

/// The contract caps touchpoint detail at 1 KiB.
const MAX_TOUCHPOINT_DETAIL: usize = 1024;

pub(super) async fn record_touchpoint(
    services: &CoreServices,
    cx: &CallContext,
    touchpoint: wit::Touchpoint,
) -> ServiceResult<()> {
    if touchpoint.detail.as_ref().is_some_and(|d| d.len() > MAX_TOUCHPOINT_DETAIL) {
        return Err(HostError::Invalid(format!("touchpoint detail exceeds {MAX_TOUCHPOINT_DETAIL} bytes")));
    }
    let Some(customer) = touchpoint.customer_id else {
        if touchpoint.visitor_id.is_some() {
            return record_visitor_touchpoint(services, cx, touchpoint).await;
        }
        return services
            .read(cx, "touchpoints.record", move |core, s| {
                core.get_channel(&s.tenant, &s.channel)?;
                tracing::trace!(tenant = %s.tenant, channel = %s.channel, kind = %touchpoint.kind, "anonymous touchpoint without a visitor not stored");
                Ok(())
            })
            .await;
    };
    services
        .call(cx, "touchpoints.record", move |core, s| {
            let source = touchpoint.source.as_ref().map(core_visit_source);
            let customer = domain::CustomerId::new(customer);
            core.get_channel(&s.tenant, &s.channel)?;
            core.customer_for_channel(&s.tenant, &s.channel, &customer, Reach::Handed)?;
            let new = domain::NewTouchpoint {
                customer_id: customer,
                kind: touchpoint.kind,
                channel_id: Some(s.channel.clone()),
                product_id: touchpoint.product_id.map(Into::into),
                variant_id: touchpoint.variant_id.map(Into::into),
                campaign: touchpoint.campaign_id.map(Into::into),
                detail: touchpoint.detail,
                at_ms: s.now,
                visitor_id: touchpoint.visitor_id,
                source,
            };
            core.record_touchpoint(&s.tenant, new, s.now)?;
            Ok(())
        })
        .await
}

/// A page view of an anonymous visitor: checked at once, then handed to the
/// tenant's group commit, and answered without waiting for the commit, so a
/// page never waits for the store's writer. The caller that finds no commit
/// running starts one on the blocking pool. The commit checks the channel,
/// as every import does; what it refuses then is logged.
async fn record_visitor_touchpoint(
    services: &CoreServices,
    cx: &CallContext,
    touchpoint: wit::Touchpoint,
) -> ServiceResult<()> {
    const OP: &str = "touchpoints.record";
    let s = services.scope(cx);
    let visit = domain::VisitorTouchpoint {
        visitor_id: touchpoint.visitor_id.unwrap_or_default(),
        kind: touchpoint.kind,
        channel_id: Some(s.channel.clone()),
        product_id: touchpoint.product_id.map(Into::into),
        variant_id: touchpoint.variant_id.map(Into::into),
        campaign: touchpoint.campaign_id.map(Into::into),
        detail: touchpoint.detail,
        source: touchpoint.source.as_ref().map(core_visit_source),
        at_ms: s.now,
    };
    let (tenant, channel) = (s.tenant.clone(), s.channel.clone());
    let queued = services.core().enqueue_visitor_touchpoint(&s.tenant, visit, s.now, move |result| match result {
        Ok(true) => {}
        Ok(false) => tracing::debug!(%tenant, %channel, "visitor has too many touchpoints; not stored"),
        Err(e) => tracing::warn!(%tenant, %channel, error = %e, "a visitor's touchpoint was not stored"),
    });
    let outcome = queued.map(|lead| {
        if let Some(commit) = lead {
            drop(tokio::task::spawn_blocking(move || commit.run()));
        }
    });
    finish(cx, OP, Ok((outcome.map_err(Fail::Core), s)))
}
