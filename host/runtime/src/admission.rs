//! Fair admission: each tenant may run only its share of the instance slots,
//! so a tenant that floods calls is told it is busy while the others keep
//! being served from the slots that remain.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::CallError;
use crate::per_thread::{Memo, owner_id};
use crate::state::TenantId;

/// Each tenant's count of instance slots taken. A count is kept once made (a
/// few bytes per tenant the process served), so a thread's memo of it never
/// goes stale.
#[derive(Debug)]
pub(crate) struct Admission {
    per_tenant: u32,
    id: u64,
    tenants: Mutex<HashMap<TenantId, Arc<TenantSlots>>>,
}

/// One tenant's slots: those taken, running or kept idle by a thread, and
/// the threads' lanes that keep them.
#[derive(Debug, Default)]
struct TenantSlots {
    taken: AtomicU32,
    lanes: Mutex<Vec<Weak<Lane>>>,
}

/// One thread's lane of one tenant's slots. A finished call leaves its slot
/// in the lane it was admitted through, still taken, and the thread's next
/// call of the tenant takes it from there: in steady state a call touches
/// only memory its own core holds, where one shared count would pass between
/// the cores on every call. A call refused at the limit takes a slot another
/// lane keeps first, so the limit stays exact.
#[derive(Debug)]
struct Lane {
    kept: AtomicU32,
    tenant: Arc<TenantSlots>,
}

impl Lane {
    fn take_kept(&self) -> bool {
        self.kept.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok()
    }
}

impl Drop for Lane {
    /// A thread that ends, or moves on to another runtime, gives back the
    /// slots its lane kept.
    fn drop(&mut self) {
        let kept = *self.kept.get_mut();
        self.tenant.taken.fetch_sub(kept, Ordering::AcqRel);
    }
}

thread_local! {
    static LANES: RefCell<Memo<Arc<Lane>>> = RefCell::new(Memo::new());
}

/// A running call's slot, left in its lane when the call ends.
#[derive(Debug)]
pub(crate) struct Permit {
    lane: Arc<Lane>,
}

impl Admission {
    pub fn new(per_tenant: u32) -> Self {
        Admission { per_tenant, id: owner_id(), tenants: Mutex::new(HashMap::new()) }
    }

    /// The current thread's lane of `tenant`'s slots.
    fn lane_of(&self, tenant: &TenantId) -> Arc<Lane> {
        LANES.with(|memo| {
            memo.borrow_mut().get_or_find(self.id, 0, tenant, "", || {
                let slots = {
                    let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
                    tenants.entry(tenant.clone()).or_default().clone()
                };
                let lane = Arc::new(Lane { kept: AtomicU32::new(0), tenant: slots.clone() });
                let mut lanes = slots.lanes.lock().unwrap_or_else(PoisonError::into_inner);
                lanes.retain(|l| l.strong_count() > 0);
                lanes.push(Arc::downgrade(&lane));
                drop(lanes);
                lane
            })
        })
    }

    pub fn admit(&self, tenant: &TenantId) -> Result<Permit, CallError> {
        let lane = self.lane_of(tenant);
        if lane.take_kept() {
            return Ok(Permit { lane });
        }
        let slots = &lane.tenant;
        if slots.taken.fetch_add(1, Ordering::AcqRel) < self.per_tenant {
            return Ok(Permit { lane });
        }
        // At the limit: a slot another lane keeps idle is free to take.
        slots.taken.fetch_sub(1, Ordering::AcqRel);
        let others: Vec<Arc<Lane>> =
            slots.lanes.lock().unwrap_or_else(PoisonError::into_inner).iter().filter_map(Weak::upgrade).collect();
        if others.iter().any(|other| other.take_kept()) {
            return Ok(Permit { lane });
        }
        tracing::warn!(%tenant, limit = self.per_tenant, blame = "guest", "tenant is at its instance limit");
        Err(CallError::Busy(self.per_tenant))
    }

    /// Calls of `tenant` running now.
    #[cfg(test)]
    fn running(&self, tenant: &TenantId) -> u32 {
        let slots = self.lane_of(tenant).tenant.clone();
        let lanes = slots.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        let kept: u32 = lanes.iter().filter_map(Weak::upgrade).map(|l| l.kept.load(Ordering::Acquire)).sum();
        slots.taken.load(Ordering::Acquire) - kept
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.lane.kept.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_only_its_share_and_others_are_unaffected() {
        let admission = Admission::new(2);
        let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
        let first = admission.admit(&a).unwrap();
        let _second = admission.admit(&a).unwrap();
        assert!(matches!(admission.admit(&a), Err(CallError::Busy(2))));
        let _other = admission.admit(&b).expect("another tenant is still admitted");
        drop(first);
        let _again = admission.admit(&a).expect("a finished call frees its slot");
        assert_eq!(admission.running(&a), 2);
    }

    #[test]
    fn a_slot_one_thread_keeps_idle_is_taken_by_another_at_the_limit() {
        let admission = Admission::new(1);
        let a = TenantId::new("a").unwrap();
        std::thread::scope(|scope| {
            let (done, ended) = std::sync::mpsc::channel::<()>();
            let (kept, was_kept) = std::sync::mpsc::channel();
            let (admission, a) = (&admission, &a);
            let keeper = scope.spawn(move || {
                drop(admission.admit(a).expect("the first call is admitted"));
                kept.send(()).unwrap();
                // The thread and its lane live on, keeping the slot idle.
                ended.recv().unwrap();
            });
            was_kept.recv().unwrap();
            let permit = admission.admit(a).expect("the idle slot is taken from the other thread's lane");
            assert!(matches!(admission.admit(a), Err(CallError::Busy(1))), "and the limit still holds");
            assert_eq!(admission.running(a), 1);
            drop(permit);
            done.send(()).unwrap();
            keeper.join().unwrap();
        });
    }

    #[test]
    fn a_thread_that_ends_gives_back_the_slots_it_kept() {
        let admission = Admission::new(2);
        let a = TenantId::new("a").unwrap();
        std::thread::scope(|scope| {
            // Joined, not only waited for at the scope's end: the join waits
            // for the thread's locals, and with them its lane, to be dropped.
            scope.spawn(|| drop((admission.admit(&a).unwrap(), admission.admit(&a).unwrap()))).join().unwrap();
        });
        let slots = admission.lane_of(&a).tenant.clone();
        assert_eq!(slots.taken.load(Ordering::Acquire), 0, "the ended thread's lane gave its two slots back");
        let _both = (admission.admit(&a).unwrap(), admission.admit(&a).unwrap());
        assert_eq!(admission.running(&a), 2);
    }
}
