//! The golden-liquid suite: at least 95% must pass, and exactly the cases listed in
//! `known_failures.md` may fail, so a regression and an unlisted fix both show.

use std::collections::BTreeSet;

const SUITE: &str = include_str!("../fixtures/golden_liquid.json");
const KNOWN: &str = include_str!("../fixtures/known_failures.md");

fn known_failures() -> BTreeSet<String> {
    KNOWN
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|l| l.split(" — ").next().unwrap_or(l).trim().to_string())
        .collect()
}

#[test]
fn golden_liquid_suite() {
    let report = omnistore_liquid::conformance::run(SUITE).expect("the suite parses");
    let total = report.total();
    assert_eq!(total, 836, "the fixture has all its cases");
    let failing: BTreeSet<String> = report.failed.iter().map(|f| f.name.clone()).collect();
    let known = known_failures();
    let rate = report.passed as f64 / total as f64;
    let text = report.to_text();
    assert!(rate >= 0.95, "only {} of {total} pass:\n{text}", report.passed);
    let new: Vec<_> = failing.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&failing).collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "newly failing: {new:#?}\nnow passing (remove from known_failures.md): {fixed:#?}\n{text}"
    );
}
