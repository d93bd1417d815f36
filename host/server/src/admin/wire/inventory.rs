//! Stock levels, the movement ledger and the stock operations.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::wire_enum;

wire_enum! {
    /// Why a stock counter moved.
    MovementKind <=> MovementKind {
        Received, Adjusted, Counted, HoldPlaced, HoldReleased, HoldExpired, Allocated,
        AllocationReleased, Fulfilled, Restocked, WrittenOff, TransferOut, TransferIn,
    }
}

/// The stock of one variant at one location.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct StockLevel {
    pub variant_id: String,
    pub location_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

impl From<domain::StockLevelView> for StockLevel {
    fn from(s: domain::StockLevelView) -> StockLevel {
        StockLevel {
            variant_id: s.variant_id.to_string(),
            location_id: s.location_id.to_string(),
            on_hand: s.on_hand,
            reserved: s.reserved,
            available: s.available,
        }
    }
}

/// Units of a variant that can be sold now (through a channel, at a location).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Availability {
    pub variant_id: String,
    pub available: i64,
}

/// One entry of the stock ledger.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Movement {
    pub variant_id: String,
    pub location_id: String,
    pub seq: u64,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub at_ms: i64,
}

impl From<domain::Movement> for Movement {
    fn from(m: domain::Movement) -> Movement {
        Movement {
            variant_id: m.variant_id.to_string(),
            location_id: m.location_id.to_string(),
            seq: m.seq,
            kind: m.kind.into(),
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            on_hand_after: m.on_hand_after,
            reserved_after: m.reserved_after,
            reference: m.reference,
            note: m.note,
            at_ms: m.at_ms,
        }
    }
}

/// Goods arrived at a location.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiveStock {
    #[schemars(with = "String")]
    pub variant_id: domain::VariantId,
    #[schemars(with = "String")]
    pub location_id: domain::LocationId,
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: i64,
    pub note: Option<String>,
}

/// A correction of the units on hand.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdjustStock {
    #[schemars(with = "String")]
    pub variant_id: domain::VariantId,
    #[schemars(with = "String")]
    pub location_id: domain::LocationId,
    /// Non-zero; negative for breakage.
    pub delta: i64,
    pub note: Option<String>,
}

/// A stock count: the units on hand are set to what was counted.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountStock {
    #[schemars(with = "String")]
    pub variant_id: domain::VariantId,
    #[schemars(with = "String")]
    pub location_id: domain::LocationId,
    #[schemars(range(min = 0))]
    pub on_hand: i64,
    pub note: Option<String>,
}

/// Units moved from one location to another.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransferStock {
    #[schemars(with = "String")]
    pub variant_id: domain::VariantId,
    #[schemars(with = "String")]
    pub from_location_id: domain::LocationId,
    #[schemars(with = "String")]
    pub to_location_id: domain::LocationId,
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: i64,
    pub note: Option<String>,
}

/// A transfer done: its id and both levels after it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Transfer {
    pub transfer_id: String,
    pub from: StockLevel,
    pub to: StockLevel,
}
