//! What both benchmark binaries share: percentiles and the printed table.

use std::time::Duration;

/// The `p` quantile (0.0–1.0) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Print `(measure, value)` rows as an aligned table.
pub fn print_table(rows: &[(String, String)]) {
    let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    println!("\n{:width$}  value", "measure");
    println!("{}  {}", "-".repeat(width), "-".repeat(24));
    for (k, v) in rows {
        println!("{k:width$}  {v}");
    }
}

/// CPU time this process (all its threads, not its children) has used, read
/// from `/proc/self/stat` in the kernel's clock ticks (`USER_HZ`, 100 on Linux).
#[allow(dead_code)] // only the storefront's bench reports CPU time
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which may hold spaces, start at the state (field 3).
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}
