//! Amounts as customers read them: the SDK's one rule, shared with the SMS channel.

pub use omnistore_sdk::format_for_reader as money;
