//! Group commit: the small writes of many concurrent callers in one
//! transaction per tenant.
//!
//! A durable commit costs an fsync and a copy of the touched pages whatever
//! it holds, so a busy shop whose every page view writes a touchpoint would
//! spend most of its time committing one record at a time. Callers hand
//! their item in with a way to answer it; the first caller that finds no
//! commit running leads: it takes everything of its tenant waiting, commits
//! it in one transaction, answers each item, and goes on while more arrived
//! meanwhile. Tenants commit beside each other.
//! Nothing is answered before its commit, so durability is unchanged; a lone
//! caller commits at once, so nothing waits for a timer. A caller that must
//! not block a thread while it waits (an async task) hands in an answer that
//! wakes it ([`GroupCommit::enqueue`]) and runs a returned [`Lead`] where
//! blocking is allowed; [`GroupCommit::submit`] waits on the calling thread.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::{CoreError, CoreResult};
use crate::ids::TenantId;

/// What is done with an item's result once its commit ran.
pub(crate) type Answer<R> = Box<dyn FnOnce(CoreResult<R>) + Send>;

struct State<I, R> {
    waiting: Vec<(I, Answer<R>)>,
    leading: bool,
}

/// One tenant's queue: its commits run one at a time, other tenants' beside them.
struct Queue<I, R> {
    state: Mutex<State<I, R>>,
}

/// Items of type `I` committed together per tenant; each gets a `CoreResult<R>`.
pub(crate) struct GroupCommit<I, R> {
    queues: Mutex<HashMap<TenantId, Arc<Queue<I, R>>>>,
}

impl<I, R> Default for GroupCommit<I, R> {
    fn default() -> Self {
        GroupCommit { queues: Mutex::new(HashMap::new()) }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<I, R: Clone> GroupCommit<I, R> {
    /// Hand `item` of `tenant` in; `answer` gets its result, on the thread
    /// that commits it. When no commit of the tenant runs, the caller leads:
    /// the returned [`Lead`] must be run, on a thread that may block.
    pub(crate) fn enqueue(&self, tenant: &TenantId, item: I, answer: Answer<R>) -> Option<Lead<I, R>> {
        let queue = {
            let mut queues = lock(&self.queues);
            queues
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(Queue { state: Mutex::new(State { waiting: Vec::new(), leading: false }) }))
                .clone()
        };
        let mut state = lock(&queue.state);
        state.waiting.push((item, answer));
        if state.leading {
            return None;
        }
        state.leading = true;
        drop(state);
        Some(Lead { tenant: tenant.clone(), queue: Some(queue) })
    }

    /// Commit `item` of `tenant` with whatever else of the tenant is
    /// waiting and return its answer, waiting on this thread. `commit`
    /// writes the items in one transaction and answers each, in order; an
    /// error of the whole transaction is every item's answer.
    pub(crate) fn submit(
        &self,
        tenant: &TenantId,
        item: I,
        commit: impl Fn(&TenantId, Vec<I>) -> CoreResult<Vec<CoreResult<R>>>,
    ) -> CoreResult<R>
    where
        R: Send + 'static,
    {
        let slot: Arc<(Mutex<Option<CoreResult<R>>>, Condvar)> = Arc::default();
        let answered = slot.clone();
        let answer: Answer<R> = Box::new(move |result| {
            *lock(&answered.0) = Some(result);
            answered.1.notify_one();
        });
        if let Some(lead) = self.enqueue(tenant, item, answer) {
            lead.run(commit);
        }
        let mut result = lock(&slot.0);
        loop {
            if let Some(answer) = result.take() {
                return answer;
            }
            result = slot.1.wait(result).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The duty to commit a tenant's waiting items, taken by the caller that
/// found no commit running.
pub(crate) struct Lead<I, R> {
    tenant: TenantId,
    /// `None` once run.
    queue: Option<Arc<Queue<I, R>>>,
}

impl<I, R: Clone> Lead<I, R> {
    /// Commit batch after batch until nothing of the tenant waits.
    pub(crate) fn run(mut self, commit: impl Fn(&TenantId, Vec<I>) -> CoreResult<Vec<CoreResult<R>>>) {
        // Kept in `self` until the end: if an answer panics, `drop` still
        // hands the lead back.
        let Some(queue) = self.queue.clone() else { return };
        let mut state = lock(&queue.state);
        loop {
            let batch = std::mem::take(&mut state.waiting);
            if batch.is_empty() {
                // Whoever comes next leads the next round.
                state.leading = false;
                self.queue = None;
                return;
            }
            drop(state);
            let (items, answers): (Vec<I>, Vec<Answer<R>>) = batch.into_iter().unzip();
            for (answer, result) in answers.into_iter().zip(commit_batch(&self.tenant, items, &commit)) {
                answer(result);
            }
            state = lock(&queue.state);
        }
    }
}

impl<I, R> Drop for Lead<I, R> {
    /// A lead dropped before it ran (its thread never started) answers what
    /// waits with an error, so no caller waits for ever and the next leads.
    fn drop(&mut self) {
        let Some(queue) = self.queue.take() else { return };
        let waiting = {
            let mut state = lock(&queue.state);
            state.leading = false;
            std::mem::take(&mut state.waiting)
        };
        for (_, answer) in waiting {
            answer(Err(CoreError::conflict("the commit did not run; retry")));
        }
    }
}

/// One transaction for the batch; a commit that panics answers its items
/// with an error instead of leaving them waiting for ever.
fn commit_batch<I, R: Clone>(
    tenant: &TenantId,
    items: Vec<I>,
    commit: &impl Fn(&TenantId, Vec<I>) -> CoreResult<Vec<CoreResult<R>>>,
) -> Vec<CoreResult<R>> {
    let n = items.len();
    match catch_unwind(AssertUnwindSafe(|| commit(tenant, items))) {
        Ok(Ok(answers)) if answers.len() == n => answers,
        Ok(Ok(_)) => vec![Err(CoreError::conflict("the commit answered the wrong number of writes; retry")); n],
        Ok(Err(e)) => vec![Err(e); n],
        Err(_) => vec![Err(CoreError::conflict("the commit failed unexpectedly; retry")); n],
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn concurrent_writes_share_commits_and_each_gets_its_own_answer() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::default();
        let commits = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..64u32)
            .map(|i| {
                let (group, commits) = (group.clone(), commits.clone());
                std::thread::spawn(move || {
                    let tenant = TenantId::new(if i % 2 == 0 { "even" } else { "odd" }).unwrap();
                    let answer = group.submit(&tenant, i, |t, items| {
                        commits.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        assert!(items.iter().all(|i| (i % 2 == 0) == (t.as_str() == "even")), "one tenant per commit");
                        Ok(items
                            .into_iter()
                            .map(|i| if i == 13 { Err(CoreError::invalid("13")) } else { Ok(i * 10) })
                            .collect())
                    });
                    (i, answer)
                })
            })
            .collect();
        for t in threads {
            let (i, answer) = t.join().unwrap();
            match answer {
                Ok(v) => assert_eq!(v, i * 10),
                Err(e) => assert!(i == 13 && e.to_string().contains("13"), "{i}: {e}"),
            }
        }
        let commits = commits.load(Ordering::SeqCst);
        assert!(commits < 64, "64 writes took {commits} commits");
    }

    /// Callers that must not block hand in an answer; only the first of a
    /// round leads, and a lead that never runs answers what waits with an
    /// error and lets the next caller lead.
    #[test]
    fn enqueued_items_are_answered_by_whoever_leads_and_an_abandoned_lead_answers_them() {
        let group: GroupCommit<u32, u32> = GroupCommit::default();
        let t = TenantId::new("shop").unwrap();
        let answers = Arc::new(Mutex::new(Vec::new()));
        let answer = |answers: &Arc<Mutex<Vec<CoreResult<u32>>>>| -> Answer<u32> {
            let answers = answers.clone();
            Box::new(move |r| lock(&answers).push(r))
        };
        let lead = group.enqueue(&t, 1, answer(&answers)).expect("the first caller leads");
        assert!(group.enqueue(&t, 2, answer(&answers)).is_none(), "a commit is already led");
        lead.run(|_, items| Ok(items.into_iter().map(|i| Ok(i * 10)).collect()));
        assert_eq!(lock(&answers).drain(..).map(Result::unwrap).collect::<Vec<_>>(), [10, 20]);

        let abandoned = group.enqueue(&t, 3, answer(&answers)).expect("the lead was handed back");
        assert!(group.enqueue(&t, 4, answer(&answers)).is_none());
        drop(abandoned);
        assert_eq!(lock(&answers).drain(..).filter(Result::is_err).count(), 2);
        let next = group.enqueue(&t, 5, answer(&answers)).expect("the next caller leads");
        next.run(|_, items| Ok(items.into_iter().map(Ok).collect()));
        assert_eq!(lock(&answers).drain(..).map(Result::unwrap).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn a_failed_or_panicking_commit_answers_every_item_and_the_next_one_runs() {
        let group: GroupCommit<u32, u32> = GroupCommit::default();
        let t = TenantId::new("shop").unwrap();
        let failed = group.submit(&t, 1, |_, _| Err(CoreError::conflict("disk full")));
        assert!(failed.unwrap_err().to_string().contains("disk full"));
        let panicked = group.submit(&t, 2, |_, _| panic!("bug"));
        assert!(panicked.is_err());
        assert_eq!(group.submit(&t, 3, |_, items| Ok(items.into_iter().map(Ok).collect())).unwrap(), 3);
    }
}
