//! The e-mail channel's one test binary: the built plugin on the real core
//! over the memory store (the SDK's harness), with the demo pastry shop.
//! Build the plugin first: `cargo xtask build-plugins`.

#[path = "email/campaigns.rs"]
mod campaigns;
#[path = "email/mails.rs"]
mod mails;
#[path = "email/shop.rs"]
mod shop;
#[path = "email/survey.rs"]
mod survey;
