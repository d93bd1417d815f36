//! The `orders` interface: orders a channel took elsewhere, ingested once
//! by their external id, and the channel's own orders.

use omnistore_core::{self as domain, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use super::CoreServices;
use super::call::is_not_found;
use super::convert::{core_fulfilment, core_identity, core_money, wit_order};

pub(super) async fn ingest_order(
    services: &CoreServices,
    cx: &CallContext,
    order: wit::IncomingOrder,
) -> ServiceResult<wit::Order> {
    services.call(cx, "orders.ingest", move |core, s| {
        let customer = order.customer.as_ref().map(|i| core_identity(i, &s.plugin));
        let email = order
            .customer
            .as_ref()
            .filter(|i| matches!(i.kind, wit::IdentityKind::Email))
            .map(|i| i.value.clone());
        // The core prices ingested lines from the channel's unit prices;
        // a different channel total (shipping, fees) is kept as a note.
        let lines_sum = order.lines.iter().try_fold(0i64, |acc, l| {
            l.unit_price.amount_minor.checked_mul(i64::from(l.quantity)).and_then(|x| acc.checked_add(x))
        });
        let note = match lines_sum {
            Some(sum) if sum == order.total.amount_minor => None,
            _ => Some(format!(
                "the channel charged {} {} in total",
                order.total.amount_minor, order.total.currency
            )),
        };
        let ingest = domain::IngestOrder {
            external_id: order.external_id.clone(),
            lines: order
                .lines
                .iter()
                .map(|l| domain::IngestLine {
                    sku: l.sku.clone(),
                    quantity: i64::from(l.quantity),
                    unit_price: Some(core_money(&l.unit_price)),
                })
                .collect(),
            customer,
            customer_name: order.customer_name.clone(),
            email,
            fulfilment: core_fulfilment(&order.fulfillment),
            codes: vec![],
            note,
        };
        let ingested = core.ingest_order(&s.tenant, &s.channel, ingest, s.now)?;
        if let Some(customer) = &ingested.order.customer_id {
            core.grant_customer_reach(&s.tenant, &s.channel, customer, Reach::Identified, s.now)?;
        }
        if !ingested.created {
            tracing::debug!(tenant = %s.tenant, channel = %s.channel, order = %ingested.order.id, "order ingested before; returning the first");
        }
        Ok(wit_order(&ingested.order))
    })
    .await
}

pub(super) async fn get_order(services: &CoreServices, cx: &CallContext, order_id: &str) -> ServiceResult<wit::Order> {
    let id = domain::OrderId::new(order_id);
    services
        .call(cx, "orders.get", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(wit_order(&core.order_for_channel(&s.tenant, &s.channel, &id)?))
        })
        .await
}

pub(super) async fn record_satisfaction(
    services: &CoreServices,
    cx: &CallContext,
    order_id: &str,
    score: u8,
) -> ServiceResult<()> {
    let id = domain::OrderId::new(order_id);
    services
        .call(cx, "orders.record-satisfaction", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            core.record_satisfaction(&s.tenant, &s.channel, &id, score, s.now)?;
            Ok(())
        })
        .await
}

pub(super) async fn find_order_by_external_id(
    services: &CoreServices,
    cx: &CallContext,
    external_id: &str,
) -> ServiceResult<Option<wit::Order>> {
    let external_id = external_id.to_owned();
    services
        .call(cx, "orders.find-by-external-id", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            match core.order_by_external_id(&s.tenant, &s.channel, &external_id) {
                Ok(o) => Ok(Some(wit_order(&o))),
                Err(e) if is_not_found(&e, "order") => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
}
