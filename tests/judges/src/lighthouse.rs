//! Lighthouse, run against Debian's Chromium.

use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::Judges;

/// Category scores of one Lighthouse run, 0 to 100.
#[derive(Debug, Clone)]
pub struct LighthouseScores {
    pub seo: u32,
    pub accessibility: u32,
    /// Titles of the audits that did not pass, for the failure message.
    pub failed_audits: Vec<String>,
}

impl Judges {
    /// Run Lighthouse's SEO and accessibility categories on `url`.
    pub fn lighthouse(&self, url: &str) -> anyhow::Result<LighthouseScores> {
        let dir = tempfile::tempdir().context("making a folder for Lighthouse")?;
        let report = dir.path().join("report.json");
        let chromium = crate::which(crate::CHROMIUM).context("finding chromium")?;
        let output = Command::new(self.lighthouse_bin())
            .arg(url)
            .args(["--only-categories=seo,accessibility", "--output=json", "--quiet"])
            .arg(format!("--output-path={}", report.display()))
            .arg("--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage")
            .env("CHROME_PATH", chromium)
            .env("HOME", dir.path())
            .output()
            .context("running lighthouse")?;
        if !output.status.success() {
            bail!("lighthouse failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let report: Value = serde_json::from_slice(&std::fs::read(&report).context("reading Lighthouse's report")?)
            .context("parsing Lighthouse's report")?;
        let score = |category: &str| -> anyhow::Result<u32> {
            let score = report["categories"][category]["score"]
                .as_f64()
                .with_context(|| format!("Lighthouse gave no {category} score"))?;
            Ok((score * 100.0).round() as u32)
        };
        let failed_audits = report["audits"]
            .as_object()
            .map(|audits| {
                audits
                    .values()
                    .filter(|a| a["score"].as_f64().is_some_and(|s| s < 1.0) && a["scoreDisplayMode"] == "binary")
                    .filter_map(|a| a["title"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(LighthouseScores { seo: score("seo")?, accessibility: score("accessibility")?, failed_audits })
    }
}
