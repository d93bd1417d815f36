//! The stock ledger's invariants under random sequences of operations:
//! holds, line changes, checkouts from several channels (with and without a
//! safety buffer), ingestion, the order flow, cancel, refund, return,
//! transfers, adjustments, receipts, the passing of time and the sweep of
//! expired holds. After every step, on every backend:
//!
//! - the counters are the sum of the ledger, whose sequence has no gaps;
//! - reserved = the holds of every cart + the unconsumed allocations of
//!   open orders (nothing leaks, nothing is reserved twice);
//! - on hand and available never go below zero unless backorderable, and no
//!   more units were sold than ever came in;
//! - what a channel may sell = on hand − live holds − open allocations −
//!   its buffer (never below zero), whatever the sweep has done;
//! - no unit is restocked twice: per order line, units put back at
//!   cancellation plus units returned never exceed the units that left, and
//!   every `restocked` movement is one of those;
//! - a refused call changes nothing at all;
//! - what is held is kept: a cart whose live holds cover its lines can
//!   refresh its hold and check out (shipping) whatever sold elsewhere and
//!   whichever channel's buffer applies; changing one line of a held cart
//!   keeps holding the others and holds the new quantity; an adjustment or
//!   a transfer that the stock not promised to live holds and open orders
//!   covers is never refused (expired holds block nothing).
//!
//! Shrinking is on: a failure reports the shortest sequence found. Set
//! `PROPTEST_CASES` to run more cases.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use super::support::{self, *};
use super::*;

per_backend!(ledger_invariants_hold_under_random_operations);

const STEPS: usize = 30;

/// Cases per backend: PostgreSQL pays a round trip per read.
fn cases(backend: &str) -> u32 {
    if let Some(n) = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()) {
        return n;
    }
    match backend {
        "memory" => 64,
        "postgres" => 10,
        _ => 32,
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Ship,
    Pickup,
    ShipToStore,
}

/// Indexes: `cart` 0..4 (cart slot i belongs to channel i), `channel` 0..4
/// (0 is the admin, then web with no buffer, Instagram with 2, Pinterest
/// with 1), `variant` 0..3 (cassata, cantucci, backorderable sfogliatella),
/// `order` any (taken modulo the orders placed so far).
#[derive(Debug, Clone)]
enum Op {
    SetLine { cart: usize, variant: usize, quantity: i64 },
    Hold { cart: usize, ttl_ms: i64 },
    Release { cart: usize },
    Checkout { cart: usize, channel: usize, kind: Kind },
    Ingest { channel: usize, variant: usize, quantity: i64, kind: Kind, repeat: bool },
    Ship { order: usize },
    Ready { order: usize },
    Complete { order: usize },
    Cancel { order: usize },
    Refund { order: usize, full: bool },
    Return { order: usize, quantity: i64, restock: bool, at_shop: bool },
    Transfer { variant: usize, to_shop: bool, quantity: i64 },
    Adjust { variant: usize, at_shop: bool, delta: i64 },
    Receive { variant: usize, at_shop: bool, quantity: i64 },
    Advance { ms: i64 },
    Sweep,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Ship), Just(Kind::Pickup), Just(Kind::ShipToStore)]
}

fn op() -> impl Strategy<Value = Op> {
    let order = 0..16usize;
    prop_oneof![
        4 => (0..4usize, 0..3usize, 0..=4i64).prop_map(|(cart, variant, quantity)| Op::SetLine { cart, variant, quantity }),
        3 => (0..4usize, 1..=3i64).prop_map(|(cart, t)| Op::Hold { cart, ttl_ms: t * 10_000 }),
        1 => (0..4usize).prop_map(|cart| Op::Release { cart }),
        3 => (0..4usize, 0..4usize, kind()).prop_map(|(cart, channel, kind)| Op::Checkout { cart, channel, kind }),
        2 => (1..4usize, 0..3usize, 1..=3i64, kind(), any::<bool>())
            .prop_map(|(channel, variant, quantity, kind, repeat)| Op::Ingest { channel, variant, quantity, kind, repeat }),
        2 => order.clone().prop_map(|order| Op::Ship { order }),
        1 => order.clone().prop_map(|order| Op::Ready { order }),
        1 => order.clone().prop_map(|order| Op::Complete { order }),
        2 => order.clone().prop_map(|order| Op::Cancel { order }),
        1 => (order.clone(), any::<bool>()).prop_map(|(order, full)| Op::Refund { order, full }),
        2 => (order, 1..=3i64, any::<bool>(), any::<bool>())
            .prop_map(|(order, quantity, restock, at_shop)| Op::Return { order, quantity, restock, at_shop }),
        1 => (0..3usize, any::<bool>(), 1..=3i64).prop_map(|(variant, to_shop, quantity)| Op::Transfer { variant, to_shop, quantity }),
        1 => (0..3usize, any::<bool>(), prop_oneof![-3..=-1i64, 1..=3i64])
            .prop_map(|(variant, at_shop, delta)| Op::Adjust { variant, at_shop, delta }),
        1 => (0..3usize, any::<bool>(), 1..=4i64).prop_map(|(variant, at_shop, quantity)| Op::Receive { variant, at_shop, quantity }),
        2 => (0..=35_000i64).prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::Sweep),
    ]
}

fn ledger_invariants_hold_under_random_operations(b: &Backend) {
    let backend = b.core.store().backend();
    let config = Config { cases: cases(backend), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&proptest::collection::vec(op(), 1..=STEPS), |ops| {
        let mut w = World::new(&b.core);
        w.check()?;
        for (i, op) in ops.iter().enumerate() {
            w.apply(op).map_err(|e| TestCaseError::fail(format!("step {i} {op:?}: {e}")))?;
            w.check().map_err(|e| TestCaseError::fail(format!("after step {i} {op:?}: {e}")))?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, ops)) => panic!("{backend}: {reason}\nminimal failing sequence: {ops:#?}"),
        Err(e) => panic!("{backend}: {e}"),
    }
}

/// One case's shop and what the test placed in it.
struct World {
    s: Shop,
    now: i64,
    channels: [Option<ChannelId>; 4],
    buffers: [i64; 4],
    variants: [VariantId; 3],
    /// The current cart of each slot, and every cart ever made.
    slots: [Option<CartId>; 4],
    carts: Vec<CartId>,
    orders: Vec<OrderId>,
    external: u32,
}

impl World {
    fn new(core: &Core) -> World {
        static CASE: AtomicU32 = AtomicU32::new(0);
        let s = shop(core, &format!("prop-{}", CASE.fetch_add(1, Ordering::SeqCst)));
        let buffers = [0, 0, 2, 1];
        for (ch, buffer) in [(&s.insta, 2), (&s.pins, 1)] {
            s.core
                .update_channel(&s.t, ch, ChannelPatch { safety_buffer: Some(buffer), ..Default::default() }, T0)
                .unwrap();
        }
        // Few units, so that carts and channels compete for them.
        s.core.set_stock(&s.t, &s.cantucci, &s.lab, 4, None, T0).unwrap();
        s.core
            .update_variant(&s.t, &s.sfogliatella, VariantPatch { backorderable: Some(true), ..Default::default() }, T0)
            .unwrap();
        World {
            now: T0 + 1_000,
            channels: [None, Some(s.web.clone()), Some(s.insta.clone()), Some(s.pins.clone())],
            buffers,
            variants: [s.cassata.clone(), s.cantucci.clone(), s.sfogliatella.clone()],
            slots: [None, None, None, None],
            carts: Vec::new(),
            orders: Vec::new(),
            external: 0,
            s,
        }
    }

    fn location(&self, at_shop: bool) -> LocationId {
        if at_shop { self.s.negozio.clone() } else { self.s.lab.clone() }
    }

    fn fulfilment(&self, kind: Kind) -> Fulfilment {
        match kind {
            Kind::Ship => ship(),
            Kind::Pickup => Fulfilment::Pickup { location_id: self.s.negozio.clone() },
            Kind::ShipToStore => Fulfilment::ShipToStore { location_id: self.s.negozio.clone() },
        }
    }

    /// The open cart of a slot (a new one once the last was checked out).
    fn cart(&mut self, slot: usize) -> CoreResult<CartId> {
        if let Some(id) = &self.slots[slot]
            && self.s.core.get_cart(&self.s.t, id)?.status == CartStatus::Open
        {
            return Ok(id.clone());
        }
        let new = NewCart { channel: self.channels[slot].clone(), customer: None };
        let id = self.s.core.create_cart(&self.s.t, new, self.now)?.id;
        self.slots[slot] = Some(id.clone());
        self.carts.push(id.clone());
        Ok(id)
    }

    fn order(&self, i: usize) -> Option<OrderId> {
        (!self.orders.is_empty()).then(|| self.orders[i % self.orders.len()].clone())
    }

    fn snapshot(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let prefix = format!("t/{}/", self.s.t);
        let mut txn = self.s.core.store().begin().expect("begin");
        txn.scan(&omnistore_storage::KeyRange::prefix(prefix.as_bytes()), usize::MAX).expect("scan")
    }

    /// Run one operation as one core call. A refusal is fine (the sequence
    /// is random) if it is a domain refusal and the store is unchanged.
    fn apply(&mut self, op: &Op) -> Result<(), String> {
        let cart = match op {
            Op::SetLine { cart, .. } | Op::Hold { cart, .. } | Op::Release { cart } | Op::Checkout { cart, .. } => {
                Some(self.cart(*cart).map_err(|e| format!("opening a cart: {e}"))?)
            }
            _ => None,
        };
        let expect = self.expectation(op, cart.as_ref()).map_err(|e| format!("reading the state: {e}"))?;
        let held_before = match &cart {
            Some(c) => self.live_holds(c).map_err(|e| format!("reading holds: {e}"))?,
            None => BTreeMap::new(),
        };
        let before = self.snapshot();
        let (core, t, now) = (&self.s.core.clone(), &self.s.t.clone(), self.now);
        let mut placed = None;
        let result: CoreResult<()> = match op.clone() {
            Op::SetLine { variant, quantity, .. } => {
                core.set_cart_line(t, cart.as_ref().unwrap(), &self.variants[variant], quantity, now).map(drop)
            }
            Op::Hold { ttl_ms, .. } => core.hold_cart(t, cart.as_ref().unwrap(), ttl_ms, now).map(drop),
            Op::Release { .. } => core.release_cart(t, cart.as_ref().unwrap(), now),
            Op::Checkout { channel, kind, .. } => {
                let request = CheckoutRequest {
                    channel: self.channels[channel].clone(),
                    fulfilment: self.fulfilment(kind),
                    customer: None,
                    email: None,
                    note: None,
                    expected_total_minor: None,
                };
                core.checkout(t, cart.as_ref().unwrap(), request, now).map(|o| placed = Some(o.id))
            }
            Op::Ingest { channel, variant, quantity, kind, repeat } => {
                if !repeat || self.external == 0 {
                    self.external += 1;
                }
                let sku = self.s.core.get_variant(t, &self.variants[variant]).map_err(|e| e.to_string())?.sku;
                let order = IngestOrder {
                    external_id: format!("ext-{}", self.external),
                    lines: vec![IngestLine { sku, quantity, unit_price: None }],
                    customer: None,
                    customer_name: None,
                    email: None,
                    fulfilment: self.fulfilment(kind),
                    codes: vec![],
                    note: None,
                };
                let channel = self.channels[channel].clone().expect("ingestion comes from a channel");
                core.ingest_order(t, &channel, order, now).map(|i| placed = Some(i.order.id))
            }
            Op::Ship { order } => self.on_order(order, |o| core.mark_shipped(t, o, None, now).map(drop)),
            Op::Ready { order } => self.on_order(order, |o| core.mark_ready_for_pickup(t, o, now).map(drop)),
            Op::Complete { order } => self.on_order(order, |o| core.mark_completed(t, o, now).map(drop)),
            Op::Cancel { order } => self.on_order(order, |o| core.cancel_order(t, o, None, now).map(drop)),
            Op::Refund { order, full } => {
                let amount = if full { None } else { Some(100) };
                self.on_order(order, |o| core.refund_order(t, o, amount, None, now).map(drop))
            }
            Op::Return { order, quantity, restock, at_shop } => {
                let request = ReturnRequest {
                    location_id: self.location(at_shop),
                    lines: vec![ReturnLineRequest {
                        line_no: 1,
                        quantity,
                        disposition: if restock { Disposition::Restock } else { Disposition::WriteOff },
                    }],
                    reason: None,
                };
                self.on_order(order, |o| core.receive_return(t, o, request.clone(), now).map(drop))
            }
            Op::Transfer { variant, to_shop, quantity } => {
                let (from, to) = (self.location(!to_shop), self.location(to_shop));
                core.transfer_stock(t, &self.variants[variant], &from, &to, quantity, None, now).map(drop)
            }
            Op::Adjust { variant, at_shop, delta } => {
                core.adjust_stock(t, &self.variants[variant], &self.location(at_shop), delta, None, now).map(drop)
            }
            Op::Receive { variant, at_shop, quantity } => {
                core.receive_stock(t, &self.variants[variant], &self.location(at_shop), quantity, None, now).map(drop)
            }
            Op::Advance { ms } => {
                self.now += ms;
                Ok(())
            }
            Op::Sweep => core.sweep_expired_holds(now, 2).map(drop),
        };
        if let Some(id) = placed
            && !self.orders.contains(&id)
        {
            self.orders.push(id);
        }
        match result {
            Ok(()) => match (op, &cart) {
                (Op::SetLine { variant, quantity, .. }, Some(c)) if !held_before.is_empty() => {
                    self.kept_holds(c, &held_before, &self.variants[*variant], *quantity)
                }
                _ => Ok(()),
            },
            Err(e) if expect.is_some() => Err(format!("{} but it was refused: {e}", expect.unwrap_or_default())),
            Err(e @ (CoreError::Storage(_) | CoreError::NotFound { .. })) => Err(format!("unexpected failure: {e}")),
            Err(e) => {
                if self.snapshot() != before {
                    return Err(format!("the refused call changed the store: {e}"));
                }
                Ok(())
            }
        }
    }

    /// Units of each variant a cart holds and may still count on.
    fn live_holds(&self, cart: &CartId) -> CoreResult<BTreeMap<VariantId, i64>> {
        let mut out = BTreeMap::new();
        for h in self.s.core.cart_holds(&self.s.t, cart)? {
            if h.expires_ms > self.now {
                *out.entry(h.variant_id).or_default() += h.quantity;
            }
        }
        Ok(out)
    }

    /// Whether every line of a (non-empty) cart is held in full.
    fn fully_held(&self, cart: &CartId) -> CoreResult<bool> {
        let lines = self.s.core.get_cart(&self.s.t, cart)?.lines;
        let held = self.live_holds(cart)?;
        Ok(!lines.is_empty() && lines.iter().all(|l| held.get(&l.variant_id) == Some(&l.quantity)))
    }

    /// On hand minus what live holds and open orders promise, at a location.
    fn unpromised(&self, variant: &VariantId, location: &LocationId) -> CoreResult<i64> {
        let (core, t) = (&self.s.core, &self.s.t);
        let on_hand = core.stock_level(t, variant, location)?.on_hand;
        let mut promised = 0;
        for c in &self.carts {
            for h in core.cart_holds(t, c)? {
                if h.variant_id == *variant && h.location_id == *location && h.expires_ms > self.now {
                    promised += h.quantity;
                }
            }
        }
        for o in core.list_orders(t, &OrderQuery { limit: 1000, ..Default::default() })? {
            if matches!(o.status, OrderStatus::Placed | OrderStatus::ReadyForPickup) {
                for line in o.lines.iter().filter(|l| l.variant_id == *variant) {
                    let open = line.allocations.iter().filter(|a| a.location_id == *location && !a.consumed);
                    promised += open.map(|a| a.quantity).sum::<i64>();
                }
            }
        }
        Ok(on_hand - promised)
    }

    /// Why `op` must succeed, if it must.
    fn expectation(&self, op: &Op, cart: Option<&CartId>) -> CoreResult<Option<String>> {
        Ok(match (op, cart) {
            (Op::Hold { .. }, Some(c)) if self.fully_held(c)? => Some("refreshing a fully held cart".into()),
            (Op::Checkout { kind: Kind::Ship | Kind::ShipToStore, .. }, Some(c)) if self.fully_held(c)? => {
                Some("checking out a fully held cart".into())
            }
            (Op::SetLine { variant, quantity, .. }, Some(c)) => {
                let held = self.live_holds(c)?;
                let v = &self.variants[*variant];
                let lowering = held.get(v).is_some_and(|h| *quantity <= *h);
                (!held.is_empty() && (*quantity == 0 || lowering)).then(|| "lowering a line of a held cart".to_owned())
            }
            (Op::Adjust { variant, at_shop, delta }, _) if *delta < 0 => {
                let free = self.unpromised(&self.variants[*variant], &self.location(*at_shop))?;
                (free + delta >= 0).then(|| format!("taking {} of {free} unpromised units", -delta))
            }
            (Op::Transfer { variant, to_shop, quantity }, _) => {
                let free = self.unpromised(&self.variants[*variant], &self.location(!to_shop))?;
                (free >= *quantity).then(|| format!("transferring {quantity} of {free} unpromised units"))
            }
            _ => None,
        })
    }

    /// After a line change of a held cart: the other lines are held as
    /// before and the changed one is held at its new quantity.
    fn kept_holds(
        &self,
        cart: &CartId,
        before: &BTreeMap<VariantId, i64>,
        variant: &VariantId,
        quantity: i64,
    ) -> Result<(), String> {
        let after = self.live_holds(cart).map_err(|e| e.to_string())?;
        for (v, q) in before.iter().filter(|(v, _)| *v != variant) {
            if after.get(v) != Some(q) {
                return Err(format!("changing {variant} lost the hold of {v}: {q} before, {:?} after", after.get(v)));
            }
        }
        let backorderable = *variant == self.variants[2];
        let now_held = after.get(variant).copied().unwrap_or(0);
        if now_held != quantity && !(backorderable && now_held <= quantity) {
            return Err(format!("the changed line {variant} holds {now_held}, not {quantity}"));
        }
        Ok(())
    }

    fn on_order(&self, i: usize, call: impl FnOnce(&OrderId) -> CoreResult<()>) -> CoreResult<()> {
        match self.order(i) {
            Some(o) => call(&o),
            None => Ok(()),
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let (core, t, now) = (&self.s.core, &self.s.t, self.now);
        let fail = |e: CoreError| TestCaseError::fail(e.to_string());
        let mut holds: Vec<Hold> = Vec::new();
        for c in &self.carts {
            holds.extend(core.cart_holds(t, c).map_err(fail)?);
        }
        let orders = core.list_orders(t, &OrderQuery { limit: 1000, ..Default::default() }).map_err(fail)?;
        prop_assert_eq!(orders.len(), self.orders.len(), "every order placed is listed once");
        let open = |o: &Order| matches!(o.status, OrderStatus::Placed | OrderStatus::ReadyForPickup);
        let mut restocked_expected: BTreeMap<VariantId, i64> = BTreeMap::new();
        for o in &orders {
            let returns = core.order_returns(t, &o.id).map_err(fail)?;
            for line in &o.lines {
                prop_assert_eq!(line.allocations.iter().map(|a| a.quantity).sum::<i64>(), line.quantity);
                let left: i64 = line.allocations.iter().filter(|a| a.consumed).map(|a| a.quantity).sum();
                let back: i64 = line.allocations.iter().filter(|a| a.restocked).map(|a| a.quantity).sum();
                prop_assert!(line.allocations.iter().all(|a| a.consumed || !a.restocked));
                let returned: i64 = returns
                    .iter()
                    .flat_map(|r| &r.lines)
                    .filter(|l| l.line_no == line.line_no)
                    .map(|l| l.quantity)
                    .sum();
                prop_assert_eq!(returned, line.returned);
                prop_assert!(
                    back + returned <= left,
                    "order #{} line {}: {} put back at cancel + {} returned, but only {} left",
                    o.number,
                    line.line_no,
                    back,
                    returned,
                    left
                );
                let restocked_by_returns: i64 = returns
                    .iter()
                    .flat_map(|r| &r.lines)
                    .filter(|l| l.line_no == line.line_no && l.disposition == Disposition::Restock)
                    .map(|l| l.quantity)
                    .sum();
                *restocked_expected.entry(line.variant_id.clone()).or_default() += back + restocked_by_returns;
            }
        }
        for (vi, v) in self.variants.iter().enumerate() {
            let backorderable = vi == 2;
            let mut free_by_location = Vec::new();
            let mut restocked = 0;
            for l in [&self.s.lab, &self.s.negozio] {
                let level = core.stock_level(t, v, l).map_err(fail)?;
                let ms = core.movements(t, v, l, 0, 10_000).map_err(fail)?;
                for (i, m) in ms.iter().enumerate() {
                    prop_assert_eq!(m.seq, i as u64 + 1, "ledger sequence of {} at {}", v, l);
                }
                let on_hand: i64 = ms.iter().map(|m| m.on_hand_delta).sum();
                let reserved: i64 = ms.iter().map(|m| m.reserved_delta).sum();
                prop_assert_eq!((on_hand, reserved), (level.on_hand, level.reserved), "ledger of {} at {}", v, l);
                restocked +=
                    ms.iter().filter(|m| m.kind == MovementKind::Restocked).map(|m| m.on_hand_delta).sum::<i64>();

                let at = |h: &&Hold| h.variant_id == *v && h.location_id == *l;
                let all_holds: i64 = holds.iter().filter(at).map(|h| h.quantity).sum();
                let live_holds: i64 = holds.iter().filter(at).filter(|h| h.expires_ms > now).map(|h| h.quantity).sum();
                let allocated: i64 = orders
                    .iter()
                    .filter(|o| open(o))
                    .flat_map(|o| &o.lines)
                    .filter(|line| line.variant_id == *v)
                    .flat_map(|line| &line.allocations)
                    .filter(|a| a.location_id == *l && !a.consumed)
                    .map(|a| a.quantity)
                    .sum();
                prop_assert_eq!(
                    level.reserved,
                    all_holds + allocated,
                    "reserved of {} at {} = holds {} + open allocations {}",
                    v,
                    l,
                    all_holds,
                    allocated
                );
                if !backorderable {
                    prop_assert!(level.on_hand >= 0 && level.available >= 0, "below zero: {:?}", level);
                    let sold: i64 =
                        ms.iter().filter(|m| m.kind == MovementKind::Fulfilled).map(|m| -m.on_hand_delta).sum();
                    let came_in: i64 = ms.iter().map(|m| m.on_hand_delta).filter(|d| *d > 0).sum();
                    let went_otherwise: i64 = ms
                        .iter()
                        .filter(|m| m.kind != MovementKind::Fulfilled)
                        .map(|m| m.on_hand_delta)
                        .filter(|d| *d < 0)
                        .sum();
                    prop_assert!(
                        sold <= came_in + went_otherwise,
                        "sold {} of {} at {}: more than came in",
                        sold,
                        v,
                        l
                    );
                }
                free_by_location.push((level.on_hand - live_holds - allocated).max(0));
            }
            prop_assert_eq!(
                restocked,
                restocked_expected.get(v).copied().unwrap_or(0),
                "every restock of {} is a cancelled ship-to-store or a return",
                v
            );
            for (ch, buffer) in self.channels.iter().zip(self.buffers) {
                let sellable = core.availability(t, v, ch.as_ref(), None, now).map_err(fail)?;
                let expected = (free_by_location.iter().sum::<i64>() - buffer).max(0);
                prop_assert_eq!(sellable, expected, "what {:?} may sell of {}", ch, v);
            }
        }
        Ok(())
    }
}
