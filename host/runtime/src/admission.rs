//! Fair admission: each tenant may run only its share of the instance slots,
//! so a tenant that floods calls is told it is busy while the others keep
//! being served from the slots that remain.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::CallError;
use crate::per_thread::{Memo, owner_id};
use crate::state::TenantId;

/// Each tenant's count of running instances. A count is kept once made
/// (a few bytes per tenant the process served), so a thread's memo of it
/// never goes stale and admitting a call is one atomic add.
#[derive(Debug)]
pub(crate) struct Admission {
    per_tenant: u32,
    id: u64,
    running: Mutex<HashMap<TenantId, Arc<AtomicU32>>>,
}

thread_local! {
    static COUNTS: RefCell<Memo<Arc<AtomicU32>>> = RefCell::new(Memo::new());
}

/// A running instance of one tenant; the slot is given back on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    running: Arc<AtomicU32>,
}

impl Admission {
    pub fn new(per_tenant: u32) -> Self {
        Admission { per_tenant, id: owner_id(), running: Mutex::new(HashMap::new()) }
    }

    fn count_of(&self, tenant: &TenantId) -> Arc<AtomicU32> {
        COUNTS.with(|memo| {
            memo.borrow_mut().get_or_find(self.id, 0, tenant, "", || {
                let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
                running.entry(tenant.clone()).or_default().clone()
            })
        })
    }

    /// Take one of the tenant's slots, or refuse with [`CallError::Busy`].
    pub fn admit(&self, tenant: &TenantId) -> Result<Permit, CallError> {
        let running = self.count_of(tenant);
        if running.fetch_add(1, Ordering::AcqRel) >= self.per_tenant {
            running.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!(%tenant, limit = self.per_tenant, blame = "guest", "tenant is at its instance limit");
            return Err(CallError::Busy(self.per_tenant));
        }
        Ok(Permit { running })
    }

    #[cfg(test)]
    fn running(&self, tenant: &TenantId) -> u32 {
        self.count_of(tenant).load(Ordering::Acquire)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
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
}
