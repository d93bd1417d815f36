//! Checkouts while a large customer list is paged through: reads run in
//! read-only transactions and must not hold up writers. Reports checkout
//! latency alone and under the reader, and their ratio, in one run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use omnistore_core::{Core, CustomerId, NewCustomer, TenantId};

use crate::report;

/// Customers in the list the reader pages through.
pub const CUSTOMERS: usize = 5_000;
/// Page size of the reader, the admin API's largest.
const PAGE: usize = 1_000;

pub fn add_customers(core: &Core, tenant: &TenantId, now_ms: i64) -> anyhow::Result<()> {
    for i in 0..CUSTOMERS {
        core.create_customer(tenant, NewCustomer { name: Some(format!("Customer {i}")), identities: vec![] }, now_ms)?;
    }
    Ok(())
}

fn timed(checkouts: usize, place: &(dyn Fn(usize) -> anyhow::Result<()> + Sync)) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(checkouts);
    for i in 0..checkouts {
        let t = Instant::now();
        place(i)?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times)
}

/// `place(i)` places one order; the reader lists every customer, page after
/// page, for as long as the checkouts run.
pub fn checkout_while_listing(
    name: &str,
    core: &Core,
    tenant: &TenantId,
    checkouts: usize,
    place: &(dyn Fn(usize) -> anyhow::Result<()> + Sync),
    rows: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let alone = timed(checkouts, place)?;
    let stop = AtomicBool::new(false);
    let (pages, listed) = (AtomicU64::new(0), AtomicU64::new(0));
    let contended = std::thread::scope(|scope| {
        let reader = scope.spawn(|| -> anyhow::Result<()> {
            while !stop.load(Ordering::Relaxed) {
                let mut after: Option<CustomerId> = None;
                loop {
                    let page = core.list_customers(tenant, after.as_ref(), PAGE)?;
                    pages.fetch_add(1, Ordering::Relaxed);
                    listed.fetch_add(page.len() as u64, Ordering::Relaxed);
                    match page.last() {
                        Some(last) if page.len() == PAGE => after = Some(last.id.clone()),
                        _ => break,
                    }
                }
            }
            Ok(())
        });
        // Let the reader get going first.
        while pages.load(Ordering::Relaxed) == 0 && !reader.is_finished() {
            std::thread::yield_now();
        }
        let times = timed(checkouts, place);
        stop.store(true, Ordering::Relaxed);
        let read = reader.join().map_err(|_| anyhow::anyhow!("the reader thread panicked"));
        read??;
        times
    })?;
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let (p50a, p99a) = (report::percentile(&alone, 0.5), report::percentile(&alone, 0.99));
    let (p50c, p99c) = (report::percentile(&contended, 0.5), report::percentile(&contended, 0.99));
    rows.push((format!("{name}: checkout alone p50 / p99"), format!("{} / {}", ms(p50a), ms(p99a))));
    rows.push((
        format!("{name}: checkout while listing {CUSTOMERS} customers p50 / p99"),
        format!("{} / {}", ms(p50c), ms(p99c)),
    ));
    rows.push((
        format!("{name}: listing slowdown of checkout (p50, p99)"),
        format!(
            "{:.2}x, {:.2}x ({} pages, {} customers read meanwhile)",
            p50c.as_secs_f64() / p50a.as_secs_f64(),
            p99c.as_secs_f64() / p99a.as_secs_f64(),
            pages.load(Ordering::Relaxed),
            listed.load(Ordering::Relaxed)
        ),
    ));
    Ok(())
}
