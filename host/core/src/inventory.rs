//! Inventory: an append-only movement ledger per (variant, location) and the
//! counters derived from it, updated in the same transaction.
//!
//! `on_hand` is what is physically there; `reserved` is promised to cart
//! holds and unfulfilled orders; `available = on_hand - reserved`. Every
//! change is a [`Movement`]; [`apply_movement`] is the only writer of the
//! counters and refuses any movement that would push availability (or
//! on-hand) below zero unless the variant is backorderable. Since each
//! checkout reserves all its lines in one serializable transaction, two
//! channels selling the last unit at once cannot both succeed: one commits,
//! the other is retried, sees the new counters and fails with
//! `InsufficientStock`.
//!
//! Holds: a cart may hold stock until an expiry. Expired holds are released
//! by [`Core::sweep_expired_holds`] (all tenants; the host calls it
//! periodically) or [`Core::release_expired`] (one tenant), and also lazily:
//! any allocation or stock change of a variant first releases that variant's
//! expired holds in the same transaction, and availability reads ignore
//! them, so an expired hold never blocks a sale, an adjustment or a delete
//! even if the sweep has not run.
//!
//! A cart's own holds are its units: re-holding (a changed line, a refreshed
//! hold) and checkout give them back and reserve again in one transaction,
//! and the channel's safety buffer applies only to units beyond those the
//! cart held (see [`Held`]), so a sale elsewhere in between cannot cost the
//! cart what it held, and a pickup may take the held units at the shop even
//! when the hold was in the warehouse.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::{Variant, load_product, load_variant, product_variants_tx, remove_product_tx};
use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{CartId, ChannelId, HoldId, LocationId, ProductId, TenantId, TransferId, VariantId};
use crate::store::{Core, Tx, sortable};
use crate::tenants::{Location, LocationKind, all_locations, load_channel, load_location};
use crate::validate;

/// Counters of one variant at one location.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub on_hand: i64,
    pub reserved: i64,
    /// Number of movements so far; the sequence of the next one.
    pub movements: u64,
}

impl StockLevel {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// The figures of one variant at one location, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevelView {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Goods arrived (made in the kitchen, delivered by a supplier).
    Received,
    /// A manual correction by a delta.
    Adjusted,
    /// A stock count set on-hand to a figure.
    Counted,
    HoldPlaced,
    HoldReleased,
    HoldExpired,
    /// Reserved for an order.
    Allocated,
    /// An order's reservation was given back (cancellation).
    AllocationReleased,
    /// Left the location for an order (shipped or picked up).
    Fulfilled,
    /// Came back into sellable stock (a return, a cancelled shipped order).
    Restocked,
    /// A returned unit that was not put back (damaged, perishable).
    WrittenOff,
    TransferOut,
    TransferIn,
}

/// One entry of the ledger. Never updated or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub seq: u64,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    /// The order, hold, transfer or return behind it.
    pub reference: Option<String>,
    pub note: Option<String>,
    pub at_ms: i64,
}

/// Where (part of) a line's quantity was reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub location_id: LocationId,
    pub quantity: i64,
    /// Part of `quantity` beyond the stock at hand (backorderable variants).
    pub backordered: i64,
    /// Whether fulfilment has taken it out of the location.
    pub consumed: bool,
    /// Consumed units put back on hand when the order was cancelled (goods
    /// of a ship-to-store order already at the store). They are in stock
    /// again, so a return of them must not restock them a second time.
    #[serde(default)]
    pub restocked: bool,
}

/// Stock held for a cart until `expires_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: HoldId,
    pub cart_id: CartId,
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub quantity: i64,
    pub expires_ms: i64,
    pub created_ms: i64,
}

/// Which locations an allocation may take from.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    /// Every active location, warehouses first.
    Any,
    /// One location (pickup).
    At(LocationId),
}

fn level(tx: &mut Tx<'_>, variant: &VariantId, location: &LocationId) -> CoreResult<StockLevel> {
    Ok(tx.get(&["stk", variant.as_str(), location.as_str()])?.unwrap_or_default())
}

/// One change of a variant's counters at one location, as [`apply_movement`]
/// takes it: named fields, because two adjacent deltas and two adjacent
/// optional strings are easy to swap when passed by position.
pub(crate) struct StockChange<'a> {
    pub variant: &'a VariantId,
    pub sku: &'a str,
    pub location: &'a LocationId,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    /// The hold, order, return or transfer the movement belongs to.
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
    /// Whether the change may take on-hand or availability below zero.
    pub allow_negative: bool,
}

/// The only writer of stock counters: append a movement and update the
/// counters. A movement that lowers availability may not take on-hand or
/// availability below zero unless `allow_negative` (backorders).
pub(crate) fn apply_movement(tx: &mut Tx<'_>, change: StockChange<'_>) -> CoreResult<Movement> {
    let StockChange { variant, sku, location, kind, on_hand_delta, reserved_delta, reference, note, allow_negative } =
        change;
    let mut lvl = level(tx, variant, location)?;
    let overflow = || CoreError::invalid("stock quantity out of range");
    let on_hand = lvl.on_hand.checked_add(on_hand_delta).ok_or_else(overflow)?;
    let reserved = lvl.reserved.checked_add(reserved_delta).ok_or_else(overflow)?;
    if reserved < 0 {
        return Err(CoreError::conflict(format!(
            "releasing {} units of `{sku}` at `{location}` but only {} are reserved there",
            -reserved_delta, lvl.reserved
        )));
    }
    let lowers = on_hand_delta - reserved_delta < 0;
    if lowers && !allow_negative && (on_hand < 0 || on_hand - reserved < 0) {
        let requested = reserved_delta - on_hand_delta;
        return Err(CoreError::InsufficientStock { sku: sku.to_owned(), requested, available: lvl.available().max(0) });
    }
    lvl.on_hand = on_hand;
    lvl.reserved = reserved;
    lvl.movements += 1;
    let movement = Movement {
        variant_id: variant.clone(),
        location_id: location.clone(),
        seq: lvl.movements,
        kind,
        on_hand_delta,
        reserved_delta,
        on_hand_after: on_hand,
        reserved_after: reserved,
        reference: reference.map(str::to_owned),
        note: note.map(str::to_owned),
        at_ms: tx.now()?,
    };
    tx.put(&["stk", variant.as_str(), location.as_str()], &lvl)?;
    let seq = sortable(i64::try_from(lvl.movements).unwrap_or(i64::MAX));
    tx.put(&["mov", variant.as_str(), location.as_str(), &seq], &movement)?;
    touch_stock(tx, variant);
    Ok(movement)
}

/// Stock counters of a variant at every location that ever had any.
fn levels_of(tx: &mut Tx<'_>, variant: &VariantId) -> CoreResult<BTreeMap<LocationId, StockLevel>> {
    Ok(tx.scan::<StockLevel>(&["stk", variant.as_str()])?.into_iter().map(|(l, s)| (LocationId::new(l), s)).collect())
}

pub(crate) fn variant_reserved(tx: &mut Tx<'_>, variant: &VariantId) -> CoreResult<i64> {
    Ok(levels_of(tx, variant)?.values().map(|l| l.reserved).sum())
}

/// Variants whose stock changed in this transaction.
#[derive(Default)]
struct StockTouched(BTreeSet<VariantId>);

/// Note that a variant's stock changed; one `stock.changed` per variant is
/// emitted at the end of the transaction with the final figures.
fn touch_stock(tx: &mut Tx<'_>, variant: &VariantId) {
    tx.state::<StockTouched>().0.insert(variant.clone());
    tx.before_commit("stock.changed", emit_stock_changed);
}

fn emit_stock_changed(tx: &mut Tx<'_>) -> CoreResult<()> {
    for variant in std::mem::take(&mut tx.state::<StockTouched>().0) {
        let payload = stock_changed_payload(tx, &variant)?;
        tx.emit(DomainEventKind::StockChanged, variant.as_str(), payload);
    }
    Ok(())
}

fn stock_changed_payload(tx: &mut Tx<'_>, variant: &VariantId) -> CoreResult<serde_json::Value> {
    let levels = levels_of(tx, variant)?;
    let v = tx.get::<Variant>(&["var", variant.as_str()])?;
    let (on_hand, reserved) = levels.values().fold((0, 0), |(o, r), l| (o + l.on_hand, r + l.reserved));
    let locations: Vec<_> = levels
        .iter()
        .map(|(l, s)| json!({ "location_id": l, "on_hand": s.on_hand, "reserved": s.reserved, "available": s.available() }))
        .collect();
    Ok(json!({
        "variant_id": variant,
        "product_id": v.as_ref().map(|v| &v.product_id),
        "sku": v.as_ref().map(|v| &v.sku),
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "locations": locations,
    }))
}

fn pool_locations(tx: &mut Tx<'_>, pool: &Pool) -> CoreResult<Vec<Location>> {
    match pool {
        Pool::At(id) => {
            let l = load_location(tx, id)?;
            if !l.active {
                return Err(CoreError::invalid(format!("location `{}` is inactive", l.name)));
            }
            Ok(vec![l])
        }
        Pool::Any => {
            let mut ls: Vec<Location> = all_locations(tx)?.into_iter().filter(|l| l.active).collect();
            // Ship from warehouses before emptying shop shelves.
            ls.sort_by_key(|l| (l.kind != LocationKind::Warehouse, l.id.clone()));
            Ok(ls)
        }
    }
}

/// Units of expired holds per location, not yet released.
fn expired_holds(tx: &mut Tx<'_>, variant: &VariantId) -> CoreResult<Vec<Hold>> {
    let now = tx.now()?;
    let mut out = Vec::new();
    for (id, ()) in tx.scan::<()>(&["hldv", variant.as_str()])? {
        if let Some(h) = tx.get::<Hold>(&["hld", &id])?
            && h.expires_ms <= now
        {
            out.push(h);
        }
    }
    Ok(out)
}

pub(crate) fn release_hold(tx: &mut Tx<'_>, hold: &Hold, kind: MovementKind) -> CoreResult<()> {
    let sku = tx.get::<Variant>(&["var", hold.variant_id.as_str()])?.map(|v| v.sku).unwrap_or_default();
    apply_movement(
        tx,
        StockChange {
            variant: &hold.variant_id,
            sku: &sku,
            location: &hold.location_id,
            kind,
            on_hand_delta: 0,
            reserved_delta: -hold.quantity,
            reference: Some(hold.id.as_str()),
            note: None,
            allow_negative: true,
        },
    )?;
    tx.del(&["hld", hold.id.as_str()])?;
    tx.del(&["hldv", hold.variant_id.as_str(), hold.id.as_str()])?;
    tx.del(&["hldx", &sortable(hold.expires_ms), hold.id.as_str()])?;
    tx.del(&["hldc", hold.cart_id.as_str(), hold.id.as_str()])?;
    Ok(())
}

pub(crate) fn cart_holds(tx: &mut Tx<'_>, cart: &CartId) -> CoreResult<Vec<Hold>> {
    let mut out = Vec::new();
    for (id, ()) in tx.scan::<()>(&["hldc", cart.as_str()])? {
        if let Some(h) = tx.get::<Hold>(&["hld", &id])? {
            out.push(h);
        }
    }
    Ok(out)
}

/// Units a cart held until just now, per variant: live holds it gave back
/// in this transaction to re-reserve them. They were checked against the
/// safety buffer when they were taken, so taking them again is not checked
/// a second time (another sale in between must not cost the cart its units).
pub(crate) type Held = BTreeMap<VariantId, i64>;

/// Release a cart's holds (of one variant, or all), returning the live
/// units given back. Expired holds are released too but give no credit.
pub(crate) fn release_cart_holds_of(tx: &mut Tx<'_>, cart: &CartId, variant: Option<&VariantId>) -> CoreResult<Held> {
    let mut held = Held::new();
    for h in cart_holds(tx, cart)? {
        if variant.is_some_and(|v| *v != h.variant_id) {
            continue;
        }
        let kind = if h.expires_ms <= tx.now()? {
            MovementKind::HoldExpired
        } else {
            *held.entry(h.variant_id.clone()).or_default() += h.quantity;
            MovementKind::HoldReleased
        };
        release_hold(tx, &h, kind)?;
    }
    Ok(held)
}

pub(crate) fn release_cart_holds(tx: &mut Tx<'_>, cart: &CartId) -> CoreResult<Held> {
    release_cart_holds_of(tx, cart, None)
}

/// Release the expired holds of a variant, so they neither block a change
/// of its stock nor count as reserved.
pub(crate) fn sweep_variant(tx: &mut Tx<'_>, variant: &VariantId) -> CoreResult<()> {
    for h in expired_holds(tx, variant)? {
        release_hold(tx, &h, MovementKind::HoldExpired)?;
    }
    Ok(())
}

/// Sellable units of a variant in a pool (all active locations, or one),
/// after a channel's safety buffer, ignoring expired holds. Never negative.
pub(crate) fn sellable_tx(
    tx: &mut Tx<'_>,
    variant: &VariantId,
    location: Option<&LocationId>,
    buffer: i64,
) -> CoreResult<i64> {
    let pool = location.map_or(Pool::Any, |l| Pool::At(l.clone()));
    let locations = pool_locations(tx, &pool)?;
    let levels = levels_of(tx, variant)?;
    let mut expired: BTreeMap<LocationId, i64> = BTreeMap::new();
    for h in expired_holds(tx, variant)? {
        *expired.entry(h.location_id).or_default() += h.quantity;
    }
    let total: i64 = locations
        .iter()
        .map(|l| {
            let lvl = levels.get(&l.id).cloned().unwrap_or_default();
            (lvl.available() + expired.get(&l.id).copied().unwrap_or(0)).max(0)
        })
        .sum();
    Ok((total - buffer).max(0))
}

/// What to reserve and how.
pub(crate) struct AllocateSpec<'a> {
    pub variant: &'a Variant,
    pub quantity: i64,
    pub pool: &'a Pool,
    pub buffer: i64,
    pub kind: MovementKind,
    pub reference: &'a str,
    /// Holds: reserve what there is rather than backorder or fail, for
    /// backorderable variants.
    pub partial_ok: bool,
    /// Units of this variant the same cart held until just now (see [`Held`]);
    /// the buffer applies only beyond them.
    pub credit: i64,
}

/// Reserve stock for one line: release the variant's expired holds, check the
/// pool has enough sellable units (after the buffer, which does not apply to
/// the `credit` the cart held already), and reserve greedily location by
/// location. Backorderable variants reserve the shortfall at the first
/// location of the pool.
pub(crate) fn allocate(tx: &mut Tx<'_>, spec: AllocateSpec<'_>) -> CoreResult<Vec<Allocation>> {
    let v = spec.variant;
    sweep_variant(tx, &v.id)?;
    let locations = pool_locations(tx, spec.pool)?;
    let mut avail = Vec::with_capacity(locations.len());
    for l in &locations {
        avail.push(level(tx, &v.id, &l.id)?.available().max(0));
    }
    let in_pool = avail.iter().sum::<i64>();
    let credit = spec.credit.clamp(0, spec.quantity);
    // The held units may have been elsewhere (a pickup at another shop than
    // the one holding them), so they count only as far as the pool has stock.
    let sellable = in_pool.min(credit + (in_pool - credit - spec.buffer).max(0));
    let mut want = spec.quantity;
    if want > sellable {
        if spec.partial_ok && v.backorderable {
            want = sellable;
        } else if !v.backorderable {
            return Err(CoreError::InsufficientStock {
                sku: v.sku.clone(),
                requested: spec.quantity,
                available: sellable,
            });
        }
    }
    let mut remaining = want.min(sellable);
    let mut out: Vec<Allocation> = Vec::new();
    for (l, a) in locations.iter().zip(&avail) {
        if remaining == 0 {
            break;
        }
        let take = remaining.min(*a);
        if take > 0 {
            out.push(Allocation {
                location_id: l.id.clone(),
                quantity: take,
                backordered: 0,
                consumed: false,
                restocked: false,
            });
            remaining -= take;
        }
    }
    let backorder = want - out.iter().map(|a| a.quantity).sum::<i64>();
    if backorder > 0 {
        let first = locations.first().ok_or_else(|| {
            CoreError::invalid(format!("no active location can take a backorder of `{}`; activate a location", v.sku))
        })?;
        match out.iter_mut().find(|a| a.location_id == first.id) {
            Some(a) => {
                a.quantity += backorder;
                a.backordered += backorder;
            }
            None => out.insert(
                0,
                Allocation {
                    location_id: first.id.clone(),
                    quantity: backorder,
                    backordered: backorder,
                    consumed: false,
                    restocked: false,
                },
            ),
        }
    }
    for a in &out {
        apply_movement(
            tx,
            StockChange {
                variant: &v.id,
                sku: &v.sku,
                location: &a.location_id,
                kind: spec.kind,
                on_hand_delta: 0,
                reserved_delta: a.quantity,
                reference: Some(spec.reference),
                note: None,
                allow_negative: v.backorderable,
            },
        )?;
    }
    Ok(out)
}

/// Place holds for a cart's line.
pub(crate) fn hold_line(
    tx: &mut Tx<'_>,
    cart: &CartId,
    variant: &Variant,
    quantity: i64,
    buffer: i64,
    credit: i64,
    expires_ms: i64,
) -> CoreResult<Vec<Hold>> {
    let reference = format!("cart:{cart}");
    let allocations = allocate(
        tx,
        AllocateSpec {
            variant,
            quantity,
            pool: &Pool::Any,
            buffer,
            kind: MovementKind::HoldPlaced,
            reference: &reference,
            partial_ok: true,
            credit,
        },
    )?;
    let mut holds = Vec::new();
    for a in allocations {
        let id = HoldId::new(tx.new_id(HoldId::PREFIX)?);
        let h = Hold {
            id: id.clone(),
            cart_id: cart.clone(),
            variant_id: variant.id.clone(),
            location_id: a.location_id,
            quantity: a.quantity,
            expires_ms,
            created_ms: tx.now()?,
        };
        tx.put(&["hld", id.as_str()], &h)?;
        tx.put(&["hldv", variant.id.as_str(), id.as_str()], &())?;
        tx.put(&["hldx", &sortable(expires_ms), id.as_str()], &())?;
        tx.put(&["hldc", cart.as_str(), id.as_str()], &())?;
        holds.push(h);
    }
    Ok(holds)
}

/// Take reserved units out of a location (shipped or picked up).
pub(crate) fn consume(
    tx: &mut Tx<'_>,
    variant: &VariantId,
    sku: &str,
    a: &Allocation,
    reference: &str,
) -> CoreResult<()> {
    apply_movement(
        tx,
        StockChange {
            variant,
            sku,
            location: &a.location_id,
            kind: MovementKind::Fulfilled,
            on_hand_delta: -a.quantity,
            reserved_delta: -a.quantity,
            reference: Some(reference),
            note: None,
            allow_negative: true,
        },
    )?;
    Ok(())
}

/// Give back an unconsumed reservation.
pub(crate) fn release_allocation(
    tx: &mut Tx<'_>,
    variant: &VariantId,
    sku: &str,
    a: &Allocation,
    reference: &str,
) -> CoreResult<()> {
    apply_movement(
        tx,
        StockChange {
            variant,
            sku,
            location: &a.location_id,
            kind: MovementKind::AllocationReleased,
            on_hand_delta: 0,
            reserved_delta: -a.quantity,
            reference: Some(reference),
            note: None,
            allow_negative: true,
        },
    )?;
    Ok(())
}

pub(crate) fn restock(
    tx: &mut Tx<'_>,
    variant: &VariantId,
    sku: &str,
    location: &LocationId,
    quantity: i64,
    reference: &str,
) -> CoreResult<()> {
    apply_movement(
        tx,
        StockChange {
            variant,
            sku,
            location,
            kind: MovementKind::Restocked,
            on_hand_delta: quantity,
            reserved_delta: 0,
            reference: Some(reference),
            note: None,
            allow_negative: true,
        },
    )?;
    Ok(())
}

pub(crate) fn write_off(
    tx: &mut Tx<'_>,
    variant: &VariantId,
    sku: &str,
    location: &LocationId,
    quantity: i64,
    reference: &str,
) -> CoreResult<()> {
    let note = format!("{quantity} returned unit(s) written off");
    apply_movement(
        tx,
        StockChange {
            variant,
            sku,
            location,
            kind: MovementKind::WrittenOff,
            on_hand_delta: 0,
            reserved_delta: 0,
            reference: Some(reference),
            note: Some(&note),
            allow_negative: true,
        },
    )?;
    Ok(())
}

fn view(variant: &VariantId, location: &LocationId, l: &StockLevel) -> StockLevelView {
    StockLevelView {
        variant_id: variant.clone(),
        location_id: location.clone(),
        on_hand: l.on_hand,
        reserved: l.reserved,
        available: l.available(),
    }
}

impl Core {
    /// Goods arrived at a location.
    pub fn receive_stock(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        location: &LocationId,
        quantity: i64,
        note: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<StockLevelView> {
        validate::positive_qty("quantity", quantity)?;
        self.stock_change(tenant, variant, location, now_ms, |_| Ok((MovementKind::Received, quantity)), note)
    }

    /// Correct on-hand by a delta (negative for breakage). Refused if it
    /// would leave less than what is reserved.
    pub fn adjust_stock(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        location: &LocationId,
        delta: i64,
        note: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<StockLevelView> {
        if delta == 0 {
            return Err(CoreError::invalid("adjustment must not be zero"));
        }
        validate::positive_qty("adjustment size", delta.saturating_abs())?;
        self.stock_change(tenant, variant, location, now_ms, |_| Ok((MovementKind::Adjusted, delta)), note)
    }

    /// Set on-hand to a counted figure.
    pub fn set_stock(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        location: &LocationId,
        on_hand: i64,
        note: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<StockLevelView> {
        if !(0..=1_000_000_000).contains(&on_hand) {
            return Err(CoreError::invalid(format!("counted stock must be between 0 and 1000000000, got {on_hand}")));
        }
        self.stock_change(
            tenant,
            variant,
            location,
            now_ms,
            |current| Ok((MovementKind::Counted, on_hand - current.on_hand)),
            note,
        )
    }

    fn stock_change(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        location: &LocationId,
        now_ms: i64,
        delta: impl Fn(&StockLevel) -> CoreResult<(MovementKind, i64)>,
        note: Option<&str>,
    ) -> CoreResult<StockLevelView> {
        let note = validate::opt_text("note", note, 500)?;
        self.write(tenant, now_ms, |tx| {
            let v = load_variant(tx, variant)?;
            load_location(tx, location)?;
            sweep_variant(tx, variant)?;
            let current = level(tx, variant, location)?;
            let (kind, d) = delta(&current)?;
            if d != 0 {
                apply_movement(
                    tx,
                    StockChange {
                        variant,
                        sku: &v.sku,
                        location,
                        kind,
                        on_hand_delta: d,
                        reserved_delta: 0,
                        reference: None,
                        note: note.as_deref(),
                        allow_negative: false,
                    },
                )?;
            }
            Ok(view(variant, location, &level(tx, variant, location)?))
        })
    }

    /// Move units from one location to another, at once.
    #[allow(clippy::too_many_arguments)]
    pub fn transfer_stock(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        from: &LocationId,
        to: &LocationId,
        quantity: i64,
        note: Option<&str>,
        now_ms: i64,
    ) -> CoreResult<TransferId> {
        validate::positive_qty("quantity", quantity)?;
        if from == to {
            return Err(CoreError::invalid("a transfer needs two different locations"));
        }
        let note = validate::opt_text("note", note, 500)?;
        self.write(tenant, now_ms, |tx| {
            let v = load_variant(tx, variant)?;
            load_location(tx, from)?;
            load_location(tx, to)?;
            sweep_variant(tx, variant)?;
            let id = TransferId::new(tx.new_id(TransferId::PREFIX)?);
            let n = note.as_deref();
            apply_movement(
                tx,
                StockChange {
                    variant,
                    sku: &v.sku,
                    location: from,
                    kind: MovementKind::TransferOut,
                    on_hand_delta: -quantity,
                    reserved_delta: 0,
                    reference: Some(id.as_str()),
                    note: n,
                    allow_negative: false,
                },
            )?;
            apply_movement(
                tx,
                StockChange {
                    variant,
                    sku: &v.sku,
                    location: to,
                    kind: MovementKind::TransferIn,
                    on_hand_delta: quantity,
                    reserved_delta: 0,
                    reference: Some(id.as_str()),
                    note: n,
                    allow_negative: false,
                },
            )?;
            Ok(id)
        })
    }

    /// Delete a product and its variants. Refused while any of its stock is
    /// reserved by carts or orders; archive it instead.
    pub fn delete_product(&self, tenant: &TenantId, id: &ProductId, now_ms: i64) -> CoreResult<()> {
        self.write(tenant, now_ms, |tx| {
            let product = load_product(tx, id)?;
            let variants = product_variants_tx(tx, id)?;
            for v in &variants {
                // Expired holds are no reservation.
                sweep_variant(tx, &v.id)?;
                if variant_reserved(tx, &v.id)? > 0 {
                    return Err(CoreError::conflict(format!(
                        "variant `{}` has stock reserved by open carts or orders; archive the product instead",
                        v.sku
                    )));
                }
            }
            remove_product_tx(tx, &product, &variants)
        })
    }

    pub fn stock_level(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        location: &LocationId,
    ) -> CoreResult<StockLevelView> {
        self.read(tenant, |tx| {
            load_variant(tx, variant)?;
            load_location(tx, location)?;
            Ok(view(variant, location, &level(tx, variant, location)?))
        })
    }

    /// Counters at every location that holds or held the variant.
    pub fn stock_levels(&self, tenant: &TenantId, variant: &VariantId) -> CoreResult<Vec<StockLevelView>> {
        self.read(tenant, |tx| {
            load_variant(tx, variant)?;
            Ok(levels_of(tx, variant)?.iter().map(|(l, s)| view(variant, l, s)).collect())
        })
    }

    /// Units a channel (or the admin, `None`) can sell now: active
    /// locations, or one location for pickup, minus the channel's safety
    /// buffer, ignoring expired holds. Backorderable variants can always be
    /// sold; this still reports the stock figure.
    pub fn availability(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        channel: Option<&ChannelId>,
        location: Option<&LocationId>,
        now_ms: i64,
    ) -> CoreResult<i64> {
        self.read_at(tenant, now_ms, |tx| {
            load_variant(tx, variant)?;
            let buffer = match channel {
                Some(c) => load_channel(tx, c)?.safety_buffer,
                None => 0,
            };
            sellable_tx(tx, variant, location, buffer)
        })
    }

    /// The ledger of a variant at a location, oldest first, after `after_seq`.
    pub fn movements(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        location: &LocationId,
        after_seq: u64,
        limit: usize,
    ) -> CoreResult<Vec<Movement>> {
        let limit = if limit == 0 { 100 } else { limit.min(10_000) };
        self.read(tenant, |tx| {
            let after = sortable(i64::try_from(after_seq).unwrap_or(i64::MAX));
            Ok(tx
                .scan_range::<Movement>(
                    &["mov", variant.as_str(), location.as_str()],
                    Bound::Excluded(&after),
                    Bound::Unbounded,
                    limit,
                )?
                .into_iter()
                .map(|(_, m)| m)
                .collect())
        })
    }

    /// Release holds that expired at or before `now_ms`, at most `limit` in
    /// one transaction. Returns how many were released; call until 0.
    pub fn release_expired(&self, tenant: &TenantId, now_ms: i64, limit: usize) -> CoreResult<usize> {
        let limit = if limit == 0 { 500 } else { limit };
        self.write(tenant, now_ms, |tx| {
            let end = sortable(now_ms.saturating_add(1));
            let due = tx.scan_range::<()>(&["hldx"], Bound::Unbounded, Bound::Excluded(&end), limit)?;
            let mut released = 0;
            for (key, ()) in due {
                let id = key.rsplit('/').next().unwrap_or_default().to_owned();
                if let Some(h) = tx.get::<Hold>(&["hld", &id])? {
                    release_hold(tx, &h, MovementKind::HoldExpired)?;
                    released += 1;
                }
            }
            Ok(released)
        })
    }

    /// Release every tenant's holds that expired at or before `now_ms`, in
    /// transactions of at most `batch` holds. The host calls it periodically
    /// so expired holds stop counting as reserved even for variants nobody
    /// touches; operations that reserve or change stock sweep the holds of
    /// their variant themselves. Returns how many holds were released.
    pub fn sweep_expired_holds(&self, now_ms: i64, batch: usize) -> CoreResult<usize> {
        let mut total = 0;
        for tenant in self.list_tenants()? {
            loop {
                let released = self.release_expired(&tenant.id, now_ms, batch)?;
                total += released;
                if released == 0 {
                    break;
                }
            }
        }
        Ok(total)
    }

    pub fn cart_holds(&self, tenant: &TenantId, cart: &CartId) -> CoreResult<Vec<Hold>> {
        self.read(tenant, |tx| cart_holds(tx, cart))
    }
}
