//! The `customers` interface: identifying a shopper, reading the customers a
//! channel reaches, and recording their consent.

use omnistore_core::{self as domain, Reach};
use omnistore_runtime::types as wit;
use omnistore_runtime::{CallContext, ServiceResult};

use super::CoreServices;
use super::convert::{core_identity, core_purpose, wit_customer};

pub(super) async fn identify_customer(
    services: &CoreServices,
    cx: &CallContext,
    identity: wit::Identity,
    name: Option<String>,
) -> ServiceResult<wit::Customer> {
    services
        .call(cx, "customers.identify", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            let identity = core_identity(&identity, &s.plugin);
            let customer = core.identify(&s.tenant, &identity, name.as_deref(), s.now)?;
            core.grant_customer_reach(&s.tenant, &s.channel, &customer.id, Reach::Identified, s.now)?;
            Ok(wit_customer(&customer))
        })
        .await
}

pub(super) async fn get_customer(
    services: &CoreServices,
    cx: &CallContext,
    customer_id: &str,
) -> ServiceResult<wit::Customer> {
    let id = domain::CustomerId::new(customer_id);
    services
        .call(cx, "customers.get", move |core, s| {
            core.get_channel(&s.tenant, &s.channel)?;
            Ok(wit_customer(&core.customer_for_channel(&s.tenant, &s.channel, &id, Reach::Handed)?))
        })
        .await
}

/// Only a customer the channel identified itself may be given an identity:
/// one handed over in an event (a web buyer in an `order.placed`) is not the
/// channel's to vouch for.
pub(super) async fn add_identity(
    services: &CoreServices,
    cx: &CallContext,
    customer_id: &str,
    identity: wit::Identity,
) -> ServiceResult<wit::Customer> {
    let id = domain::CustomerId::new(customer_id);
    services
        .call(cx, "customers.add-identity", move |core, s| {
            core.customer_for_channel(&s.tenant, &s.channel, &id, Reach::Identified)?;
            let identity = core_identity(&identity, &s.plugin);
            // The core's message names the other profile; the channel need
            // not learn that it exists.
            let added = core.add_identity(&s.tenant, &id, &identity, s.now).map_err(|e| match e {
                domain::CoreError::Conflict(_) => domain::CoreError::Conflict(
                    "this identity belongs to another customer of the shop; the merchant can merge the two profiles"
                        .into(),
                ),
                e => e,
            })?;
            Ok(wit_customer(&added))
        })
        .await
}

pub(super) async fn set_consent(
    services: &CoreServices,
    cx: &CallContext,
    customer_id: &str,
    purpose: wit::ConsentPurpose,
    granted: bool,
) -> ServiceResult<wit::Customer> {
    let id = domain::CustomerId::new(customer_id);
    services
        .call(cx, "customers.set-consent", move |core, s| {
            // Recording an opt-in needs the customer to have identified
            // themselves on this channel; an opt-out only needs reach.
            let needed = if granted { Reach::Identified } else { Reach::Handed };
            core.customer_for_channel(&s.tenant, &s.channel, &id, needed)?;
            let source = format!("plugin {}", s.plugin);
            let c =
                core.set_consent(&s.tenant, &id, core_purpose(purpose), granted, Some(&s.channel), &source, s.now)?;
            Ok(wit_customer(&c))
        })
        .await
}
