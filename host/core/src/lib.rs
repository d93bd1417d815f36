//! The commerce domain. Knows nothing of wasm or HTTP.
//!
//! One [`Core`] over one [`omnistore_storage::KvStore`]; every method takes
//! the [`TenantId`] first and reaches only that tenant's keys. Every mutation
//! is one serializable transaction that also writes its domain events to the
//! tenant's outbox (see [`events`]). Time is always passed in as `now_ms`
//! (milliseconds since the Unix epoch); nothing here reads the clock.
//!
//! Modules: [`tenants`] (tenants, channels, locations), [`catalog`],
//! [`pricing`] (the price resolver and promotions — read it for the stacking
//! rules), [`inventory`], [`listing`] (products as a channel shows them), [`carts`] (and checkout), [`orders`], [`returns`],
//! [`customers`], [`profiles`] (merging profiles, the timeline), [`reach`] (what one channel may reach inside its tenant),
//! [`events`], [`segments`] (rules over customers, a live count), [`campaigns`]
//! (messages to a segment, sent exactly once, and their results), [`seed`]. [`records`] is how records are stored (versioned,
//! apart from the domain types) and [`migrate`] brings old ones up to date.

pub mod campaigns;
pub mod carts;
pub mod catalog;
mod conflict;
pub mod customers;
pub mod erasure;
pub mod error;
pub mod event_kind;
pub mod events;
pub mod funnel;
mod group_commit;
pub mod ids;
pub mod inventory;
pub mod listing;
pub mod migrate;
pub mod money;
pub mod orders;
pub mod place_order;
pub mod pricing;
pub mod profiles;
pub mod reach;
pub mod records;
mod repricing;
pub mod returns;
pub mod satisfaction;
pub mod search;
pub mod seed;
pub mod segments;
mod store;
pub mod tenant_data;
pub mod tenants;
mod validate;
pub mod visitors;

pub use campaigns::{
    Campaign, CampaignMessageEvent, CampaignPreview, CampaignProgress, CampaignResults, CampaignRound, CampaignStatus,
    ChannelProgress, ChannelResults, EmailMessage, Medium, NewCampaign, Rendered, SkipReason, SmsMessage,
};
pub use carts::{Cart, CartLine, CartStatus, CheckoutRequest, NewCart};
pub use catalog::{
    Collection, Image, ImageMedia, NewCollection, NewImageMedia, NewProduct, NewVariant, Product, ProductDetail,
    ProductPatch, ProductQuery, ProductStatus, Publication, SyncState, SyncStatus, Variant, VariantPatch,
};
pub use conflict::ConflictRetry;
pub use customers::{
    ConsentPurpose, ConsentRecord, Customer, Identity, IdentityKind, NewCustomer, NewTouchpoint, TimelineEntry,
    Touchpoint, VisitSource,
};
pub use erasure::{CustomerExport, ErasureReport};
pub use error::{CoreError, CoreResult};
pub use event_kind::{DomainEventKind, EventKind};
pub use events::{Delivery, DeliveryState, DueDelivery, Event, RetryPolicy};
pub use funnel::TouchpointCount;
pub use ids::{
    CampaignId, CampaignRef, CartId, ChannelId, CollectionId, CustomerId, DeliveryId, EventId, HoldId, ImageId,
    LocationId, OrderId, ProductId, PromotionId, ReturnId, SegmentId, TenantId, TouchpointId, TransferId, VariantId,
};
pub use inventory::{Allocation, Hold, Movement, MovementKind, StockLevel, StockLevelView};
pub use listing::{ChannelProductView, ChannelVariantView};
pub use migrate::{MigrationReport, StorageVersions};
pub use money::{Money, currency_exponent, validate_currency};
/// What a tenant owns outside the store (its images), exported and imported with its data.
pub use omnistore_types::{NoFiles, TenantFiles};
pub use orders::{
    Address, Fulfilment, IngestLine, IngestOrder, Ingested, Order, OrderLine, OrderQuery, OrderStatus, PaymentMethod,
    StatusChange,
};
pub use place_order::{Contact, PlaceOrder};
pub use pricing::{
    AppliedPromotion, DiscountValue, NewPromotion, Promotion, PromotionConditions, PromotionPatch, PromotionScope,
    Quote, QuoteLine, QuoteLineRequest, QuoteRequest,
};
pub use reach::Reach;
pub use returns::{Disposition, Return, ReturnLine, ReturnLineRequest, ReturnRequest};
pub use satisfaction::{MAX_SCORE, SatisfactionAnswer, SatisfactionResults, SatisfactionSummary};
pub use search::{CountedPage, ProductSort, SearchPage, Window};
pub use seed::{SeedReport, seed_demo, seed_demo_into};
pub use segments::{NewSegment, Segment, SegmentCount, SegmentRule, When};
pub use store::Core;
pub use tenant_data::TenantDataReport;
pub use tenants::{
    Channel, ChannelPatch, DEFAULT_LANGUAGE, Location, LocationKind, LocationPatch, NewChannel, NewLocation, ShopPatch,
    Tenant, check_time_zone,
};
pub use visitors::{VisitorCommit, VisitorTouchpoint};
