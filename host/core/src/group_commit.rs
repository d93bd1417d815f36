//! Group commit: the small writes of many concurrent callers in one
//! transaction per tenant.
//!
//! A durable commit costs an fsync and a copy of the touched pages whatever
//! it holds, so a busy shop whose every page view writes a touchpoint would
//! spend most of its time committing one record at a time. Callers hand
//! their item in and wait; the first caller that finds no commit running
//! leads: it takes everything of its tenant waiting, commits it in one
//! transaction, hands out the answers, and goes on while more arrived
//! meanwhile. Tenants commit beside each other.
//! Nothing is acknowledged before its commit, so durability is unchanged;
//! a lone caller commits at once, so nothing waits for a timer.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::{CoreError, CoreResult};
use crate::ids::TenantId;

type Ticket = u64;

struct State<I, R> {
    waiting: Vec<(Ticket, I)>,
    answers: HashMap<Ticket, CoreResult<R>>,
    leading: bool,
    next: Ticket,
}

/// One tenant's queue: its commits run one at a time, other tenants' beside them.
struct Queue<I, R> {
    state: Mutex<State<I, R>>,
    answered: Condvar,
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
    /// Commit `item` of `tenant` with whatever else of the tenant is
    /// waiting and return its answer. `commit` writes the items in one
    /// transaction and answers each, in order; an error of the whole
    /// transaction is every item's answer.
    pub(crate) fn submit(
        &self,
        tenant: &TenantId,
        item: I,
        commit: impl Fn(&TenantId, Vec<I>) -> CoreResult<Vec<CoreResult<R>>>,
    ) -> CoreResult<R> {
        let queue = {
            let mut queues = lock(&self.queues);
            queues
                .entry(tenant.clone())
                .or_insert_with(|| {
                    Arc::new(Queue {
                        state: Mutex::new(State {
                            waiting: Vec::new(),
                            answers: HashMap::new(),
                            leading: false,
                            next: 0,
                        }),
                        answered: Condvar::new(),
                    })
                })
                .clone()
        };
        let mut state = lock(&queue.state);
        let ticket = state.next;
        state.next += 1;
        state.waiting.push((ticket, item));
        while state.leading {
            state = queue.answered.wait(state).unwrap_or_else(PoisonError::into_inner);
            if let Some(answer) = state.answers.remove(&ticket) {
                return answer;
            }
        }
        // No commit runs: this caller leads until nothing waits. Its own
        // item goes with the first batch it takes.
        state.leading = true;
        loop {
            let batch = std::mem::take(&mut state.waiting);
            if batch.is_empty() {
                break;
            }
            drop(state);
            let answers = commit_batch(tenant, batch, &commit);
            state = lock(&queue.state);
            state.answers.extend(answers);
            queue.answered.notify_all();
        }
        state.leading = false;
        // Whoever waits now was answered, or leads the next round itself.
        queue.answered.notify_all();
        state.answers.remove(&ticket).unwrap_or_else(|| Err(CoreError::conflict("the commit lost this write; retry")))
    }
}

/// One transaction for the batch; a commit that panics answers its items
/// with an error instead of leaving them waiting for ever.
fn commit_batch<I, R: Clone>(
    tenant: &TenantId,
    batch: Vec<(Ticket, I)>,
    commit: &impl Fn(&TenantId, Vec<I>) -> CoreResult<Vec<CoreResult<R>>>,
) -> Vec<(Ticket, CoreResult<R>)> {
    let (tickets, items): (Vec<Ticket>, Vec<I>) = batch.into_iter().unzip();
    let n = tickets.len();
    let answers = match catch_unwind(AssertUnwindSafe(|| commit(tenant, items))) {
        Ok(Ok(answers)) if answers.len() == n => answers,
        Ok(Ok(_)) => vec![Err(CoreError::conflict("the commit answered the wrong number of writes; retry")); n],
        Ok(Err(e)) => vec![Err(e); n],
        Err(_) => vec![Err(CoreError::conflict("the commit failed unexpectedly; retry")); n],
    };
    tickets.into_iter().zip(answers).collect()
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
