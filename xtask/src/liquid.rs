//! `cargo xtask liquid-conformance FILE`: runs a suite in the golden-liquid format
//! against omnistore-liquid and lists what fails.

use anyhow::{Context, bail};

pub fn conformance(args: &[String]) -> anyhow::Result<()> {
    let [file] = args else {
        bail!("usage: cargo xtask liquid-conformance FILE (a golden-liquid style JSON suite)");
    };
    let json = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let report = omnistore_liquid::conformance::run(&json).map_err(anyhow::Error::msg)?;
    print!("{}", report.to_text());
    if !report.failed.is_empty() {
        bail!("{} of {} cases failed", report.failed.len(), report.total());
    }
    Ok(())
}
