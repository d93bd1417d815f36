//! Group commit: the small writes of many concurrent callers in one
//! transaction per tenant.
//!
//! A commit costs a transaction's fixed work (and a durable one an fsync)
//! whatever it holds, so a busy shop whose every page view writes a
//! touchpoint would spend much of its time committing one record at a time.
//! Callers hand their item in with a way to answer it; the first caller that
//! finds no commit running leads: it takes everything of its tenant waiting,
//! commits it in one transaction, answers each item, and goes on while more
//! arrived meanwhile. Tenants commit beside each other.
//!
//! A queue made [`GroupCommit::gathering`] lets its items gather for a moment
//! before each commit, for callers that do not wait for their answer (page
//! views); a caller that waits ([`GroupCommit::submit`]) or needs everything
//! handed in so far committed ([`GroupCommit::flush`]) cuts the gathering
//! short. Nothing is answered before its commit. A caller that must not block
//! a thread while it waits (an async task) hands in an answer that wakes it
//! ([`GroupCommit::enqueue`]) and runs a returned [`Lead`] where blocking is
//! allowed; [`GroupCommit::submit`] waits on the calling thread.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{CoreError, CoreResult};
use crate::ids::TenantId;

/// What is done with an item's result once its commit ran.
pub(crate) type Answer<R> = Box<dyn FnOnce(CoreResult<R>) + Send>;

struct State<I, R> {
    waiting: Vec<(I, Answer<R>)>,
    leading: bool,
    /// Batches taken from `waiting` so far, and how many of them are answered.
    taken: u64,
    done: u64,
    /// Someone waits for what is waiting: commit it without gathering more.
    hurry: bool,
}

/// One tenant's queue: its commits run one at a time, other tenants' beside them.
struct Queue<I, R> {
    state: Mutex<State<I, R>>,
    /// Signalled when a batch is answered or someone hurries the lead.
    changed: Condvar,
}

/// Items of type `I` committed together per tenant; each gets a `CoreResult<R>`.
pub(crate) struct GroupCommit<I, R> {
    queues: Mutex<HashMap<TenantId, Arc<Queue<I, R>>>>,
    /// How long a lead lets items gather before each commit.
    gather: Duration,
}

impl<I, R> Default for GroupCommit<I, R> {
    fn default() -> Self {
        GroupCommit { queues: Mutex::new(HashMap::new()), gather: Duration::ZERO }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<I, R: Clone> GroupCommit<I, R> {
    /// A group commit whose lead waits up to `gather` before each commit,
    /// so that items of callers who do not wait share fewer commits.
    pub(crate) fn gathering(gather: Duration) -> Self {
        GroupCommit { gather, ..GroupCommit::default() }
    }

    fn queue(&self, tenant: &TenantId) -> Arc<Queue<I, R>> {
        let mut queues = lock(&self.queues);
        queues
            .entry(tenant.clone())
            .or_insert_with(|| {
                Arc::new(Queue {
                    state: Mutex::new(State { waiting: Vec::new(), leading: false, taken: 0, done: 0, hurry: false }),
                    changed: Condvar::new(),
                })
            })
            .clone()
    }

    /// Hand `item` of `tenant` in; `answer` gets its result, on the thread
    /// that commits it. When no commit of the tenant runs, the caller leads:
    /// the returned [`Lead`] must be run, on a thread that may block.
    pub(crate) fn enqueue(&self, tenant: &TenantId, item: I, answer: Answer<R>) -> Option<Lead<I, R>> {
        self.hand_in(tenant, item, answer, false)
    }

    fn hand_in(&self, tenant: &TenantId, item: I, answer: Answer<R>, hurry: bool) -> Option<Lead<I, R>> {
        let queue = self.queue(tenant);
        let mut state = lock(&queue.state);
        state.waiting.push((item, answer));
        if hurry {
            state.hurry = true;
            queue.changed.notify_all();
        }
        if state.leading {
            return None;
        }
        state.leading = true;
        drop(state);
        Some(Lead { tenant: tenant.clone(), queue: Some(queue), gather: self.gather })
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
        if let Some(lead) = self.hand_in(tenant, item, answer, true) {
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

    /// Wait until everything of `tenant` handed in before this call is
    /// committed and answered; blocks the calling thread.
    pub(crate) fn flush(&self, tenant: &TenantId) {
        let Some(queue) = lock(&self.queues).get(tenant).cloned() else { return };
        let mut state = lock(&queue.state);
        let target = if !state.waiting.is_empty() {
            state.taken + 1
        } else if state.leading {
            state.taken
        } else {
            return;
        };
        state.hurry = true;
        queue.changed.notify_all();
        let _done = queue.changed.wait_while(state, |s| s.done < target).unwrap_or_else(PoisonError::into_inner);
    }
}

/// The duty to commit a tenant's waiting items, taken by the caller that
/// found no commit running.
pub(crate) struct Lead<I, R> {
    tenant: TenantId,
    /// `None` once run.
    queue: Option<Arc<Queue<I, R>>>,
    gather: Duration,
}

impl<I, R: Clone> Lead<I, R> {
    /// Commit batch after batch until nothing of the tenant waits.
    pub(crate) fn run(mut self, commit: impl Fn(&TenantId, Vec<I>) -> CoreResult<Vec<CoreResult<R>>>) {
        // Kept in `self` until the end: if an answer panics, `drop` still
        // hands the lead back.
        let Some(queue) = self.queue.clone() else { return };
        let mut state = lock(&queue.state);
        loop {
            if !self.gather.is_zero() && !state.waiting.is_empty() {
                state = queue
                    .changed
                    .wait_timeout_while(state, self.gather, |s| !s.hurry)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            let batch = std::mem::take(&mut state.waiting);
            if batch.is_empty() {
                // Whoever comes next leads the next round.
                state.leading = false;
                self.queue = None;
                return;
            }
            state.hurry = false;
            state.taken += 1;
            let number = state.taken;
            drop(state);
            let (items, answers): (Vec<I>, Vec<Answer<R>>) = batch.into_iter().unzip();
            for (answer, result) in answers.into_iter().zip(commit_batch(&self.tenant, items, &commit)) {
                answer(result);
            }
            state = lock(&queue.state);
            state.done = number;
            queue.changed.notify_all();
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
            // Whatever it had taken or left waiting counts as done.
            state.taken += 1;
            state.done = state.taken;
            state.hurry = false;
            queue.changed.notify_all();
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

    /// Items handed in without waiting gather into one commit; a flush cuts
    /// the gathering short and returns once they are all answered.
    #[test]
    fn gathered_items_share_a_commit_and_a_flush_hurries_them() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::new(GroupCommit::gathering(Duration::from_secs(60)));
        let t = TenantId::new("shop").unwrap();
        let answers = Arc::new(Mutex::new(Vec::new()));
        let commits = Arc::new(AtomicUsize::new(0));
        let mut leads = Vec::new();
        for i in 1..=3 {
            let answers = answers.clone();
            leads.extend(group.enqueue(&t, i, Box::new(move |r| lock(&answers).push(r))));
        }
        assert_eq!(leads.len(), 1, "one lead for the round");
        let lead = leads.pop().unwrap();
        let runner = std::thread::spawn({
            let commits = commits.clone();
            move || {
                lead.run(|_, items| {
                    commits.fetch_add(1, Ordering::SeqCst);
                    Ok(items.into_iter().map(|i| Ok(i * 10)).collect())
                })
            }
        });
        let started = std::time::Instant::now();
        group.flush(&t);
        assert!(started.elapsed() < Duration::from_secs(30), "the flush waited for the whole gathering");
        assert_eq!(lock(&answers).iter().map(|r| *r.as_ref().unwrap()).collect::<Vec<_>>(), [10, 20, 30]);
        assert_eq!(commits.load(Ordering::SeqCst), 1, "the three items shared one commit");
        runner.join().unwrap();
        // Nothing waits: a flush returns at once, and a tenant never seen too.
        group.flush(&t);
        group.flush(&TenantId::new("other").unwrap());
    }

    /// A waiting caller of a gathering group is not held up by the gathering.
    #[test]
    fn a_submit_to_a_gathering_group_commits_at_once() {
        let group: GroupCommit<u32, u32> = GroupCommit::gathering(Duration::from_secs(60));
        let t = TenantId::new("shop").unwrap();
        let started = std::time::Instant::now();
        assert_eq!(group.submit(&t, 4, |_, items| Ok(items.into_iter().map(|i| Ok(i + 1)).collect())).unwrap(), 5);
        assert!(started.elapsed() < Duration::from_secs(30), "the submit waited for the gathering");
    }
}
