//! The plugin runtime's commerce imports, served by the commerce core.
//!
//! [`CoreServices`] implements [`HostServices`](omnistore_runtime::HostServices)
//! over one [`Core`]: it turns the contract's (WIT) types into the core's and
//! back, and the core's errors into [`HostError`](omnistore_runtime::types::HostError)s
//! a plugin can act on.
//!
//! Fencing: the tenant always comes from `cx.tenant` and the channel from
//! `cx.installation`; no argument a plugin passes names either. The core keys
//! every record under its tenant, so an id issued to another tenant is simply
//! not found here.
//!
//! The core is synchronous and may wait on the disk (redb fsyncs each
//! commit), so every call runs on tokio's blocking pool, except reads
//! (catalog, locations, files, the shop) of a store whose reads never wait:
//! they run in place, since the hand-off would cost more than the read.
//!
//! Where the contract and the core differ:
//! - a contract address has a `region`, the core's has none: it is kept as
//!   part of the city ("Napoli, NA");
//! - a contract `social-handle` names no network: the calling plugin's id is
//!   used as the network (an Instagram plugin's handles are Instagram's);
//! - touchpoints with neither a customer nor a visitor are accepted but not
//!   stored, because the core keeps its journals per customer and per visitor;
//! - mail is recorded in an outbox in the key-value store for the host's
//!   transport ([`CoreServices::mail_outbox`]); nothing is sent yet, so the
//!   queue is bounded per tenant ([`MailLimits`]) and counts against the
//!   tenant's storage quota.

use std::time::Duration;

use omnistore_core::{self as domain, Core};

// How one import runs: the caller's `Scope`, the blocking pool, `host_error`.
mod call;
// `Clock`, the time every import reads.
mod clock;
// Conversions between the contract's types and the core's domain types.
mod convert;
// The runtime's `HostServices` trait, each function handed to its interface's module.
mod imports;
// The mail outbox: the `mail` import, `QueuedMail`, `MailLimits`.
mod outbox;

// One module per contract interface, each with its helpers:
// `catalog`; `carts` (checkout included); `orders` (ingested and the channel's own);
// `customers` (identity, consent); `touchpoints`.
mod carts;
mod catalog;
mod customers;
mod orders;
mod touchpoints;

pub use call::host_error;
pub(crate) use call::{Outcome, Scope};
pub use clock::{Clock, system_clock};
pub(crate) use convert::{core_fulfilment, wit_campaign_message, wit_customer, wit_order, wit_product, wit_return};
pub use outbox::{DeliveryOutcome, MailLimits, QueuedMail};

/// How long a cart holds its stock after its last change, unless configured.
pub const DEFAULT_CART_TTL: Duration = Duration::from_secs(30 * 60);

/// The commerce imports over the commerce core. Cheap to clone.
#[derive(Clone)]
pub struct CoreServices {
    core: Core,
    clock: Clock,
    cart_ttl_ms: i64,
    mail: MailLimits,
}

impl std::fmt::Debug for CoreServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreServices").field("core", &self.core).field("cart_ttl_ms", &self.cart_ttl_ms).finish()
    }
}

impl CoreServices {
    pub fn new(core: Core) -> Self {
        CoreServices {
            core,
            clock: system_clock(),
            cart_ttl_ms: duration_ms(DEFAULT_CART_TTL),
            mail: MailLimits::default(),
        }
    }

    /// Other bounds for the mail queue.
    pub fn with_mail_limits(mut self, limits: MailLimits) -> Self {
        self.mail = limits;
        self
    }

    /// Use another clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a cart holds stock after its last change; clamped to what
    /// the core allows (1 ms to 24 h).
    pub fn with_cart_ttl(mut self, ttl: Duration) -> Self {
        self.cart_ttl_ms = duration_ms(ttl).clamp(1, domain::carts::MAX_HOLD_MS);
        self
    }

    pub fn core(&self) -> &Core {
        &self.core
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
