//! Fair admission: each tenant may run only its share of the instance slots,
//! so a tenant that floods calls is told it is busy while the others keep
//! being served from the slots that remain.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::CallError;
use crate::state::TenantId;

#[derive(Debug)]
pub(crate) struct Admission {
    per_tenant: u32,
    running: Mutex<HashMap<TenantId, u32>>,
}

/// A running instance of one tenant; the slot is given back on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    admission: Arc<Admission>,
    tenant: TenantId,
}

impl Admission {
    pub fn new(per_tenant: u32) -> Arc<Self> {
        Arc::new(Admission { per_tenant, running: Mutex::new(HashMap::new()) })
    }

    /// Take one of the tenant's slots, or refuse with [`CallError::Busy`].
    pub fn admit(self: &Arc<Self>, tenant: &TenantId) -> Result<Permit, CallError> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let count = running.entry(tenant.clone()).or_insert(0);
        if *count >= self.per_tenant {
            tracing::warn!(%tenant, limit = self.per_tenant, blame = "guest", "tenant is at its instance limit");
            return Err(CallError::Busy(self.per_tenant));
        }
        *count += 1;
        Ok(Permit { admission: self.clone(), tenant: tenant.clone() })
    }

    #[cfg(test)]
    fn running(&self, tenant: &TenantId) -> u32 {
        self.running.lock().unwrap().get(tenant).copied().unwrap_or(0)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut running = self.admission.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = running.get_mut(&self.tenant) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.tenant);
            }
        }
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
