//! The SMS channel's one test binary: the built plugin on the real core over
//! the memory store (the SDK's harness), with the demo pastry shop and a
//! Twilio stand-in on 127.0.0.1. Every request the plugin sends, and every
//! message the stand-in creates, is checked against Twilio's own OpenAPI
//! description by openapi-core.
//! Build the plugin first: `cargo xtask build-plugins`.

#[path = "sms/campaigns.rs"]
mod campaigns;
#[path = "sms/openapi.rs"]
mod openapi;
#[path = "sms/sending.rs"]
mod sending;
#[path = "sms/shop.rs"]
mod shop;
#[path = "sms/survey.rs"]
mod survey;
#[path = "sms/twilio.rs"]
mod twilio;
#[path = "sms/webhooks.rs"]
mod webhooks;
