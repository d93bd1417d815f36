//! SMS rules that more than one part of omnistore needs, pure Rust so they run
//! natively (the CLI, campaign previews) and inside the SMS channel plugin:
//!
//! - [`segments`]: how many SMS a text takes, with the GSM 03.38 alphabet
//!   (GSM-7) or UCS-2;
//! - [`keywords`]: the opt-out, opt-in and help words carriers and Twilio
//!   honour;
//! - [`signature`]: Twilio's `X-Twilio-Signature` on inbound webhooks;
//! - [`quiet_hours`]: when marketing texts must wait, in the shop's time zone;
//! - [`campaign_footer`]: the opt-out line under every campaign text, which
//!   the channel sends and the host's preview counts.

pub mod campaign_footer;
pub mod keywords;
pub mod quiet_hours;
pub mod segments;
pub mod signature;

pub use keywords::{Keyword, keyword};
pub use quiet_hours::{QuietHours, QuietHoursError};
pub use segments::{Encoding, SegmentCount, count_segments};
