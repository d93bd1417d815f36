//! The `touchpoints` interface: a shopper's journey, kept per customer, or per
//! visitor until they order.

use omnistore_core::{self as domain, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use wit::HostError;

use super::CoreServices;
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
    services.call(cx, "touchpoints.record", move |core, s| {
        core.get_channel(&s.tenant, &s.channel)?;
        let source = touchpoint.source.as_ref().map(core_visit_source);
        let Some(customer) = touchpoint.customer_id else {
            let Some(visitor_id) = touchpoint.visitor_id else {
                tracing::trace!(tenant = %s.tenant, channel = %s.channel, kind = %touchpoint.kind, "anonymous touchpoint without a visitor not stored");
                return Ok(());
            };
            let kept = core.record_visitor_touchpoint(
                &s.tenant,
                domain::VisitorTouchpoint {
                    visitor_id,
                    kind: touchpoint.kind,
                    channel_id: Some(s.channel.clone()),
                    product_id: touchpoint.product_id.map(Into::into),
                    variant_id: touchpoint.variant_id.map(Into::into),
                    campaign: touchpoint.campaign_id.map(Into::into),
                    detail: touchpoint.detail,
                    source,
                    at_ms: s.now,
                },
                s.now,
            )?;
            if !kept {
                tracing::debug!(tenant = %s.tenant, channel = %s.channel, "visitor has too many touchpoints; not stored");
            }
            return Ok(());
        };
        let customer = domain::CustomerId::new(customer);
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
