//! The Nu HTML checker (vnu.jar), the W3C validator's engine.

use std::process::Command;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::Judges;

/// One message of the checker about one page.
#[derive(Debug, Clone, Deserialize)]
pub struct NuMessage {
    /// "error", "info" (warnings are info with sub-type "warning") or "non-document-error".
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "subType", default)]
    pub sub_kind: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(rename = "lastLine", default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub extract: Option<String>,
    /// Which page: the name given to [`Judges::check_html`].
    #[serde(default)]
    pub url: String,
}

impl NuMessage {
    /// Errors fail a page; warnings and infos do not.
    pub fn is_error(&self) -> bool {
        self.kind == "error" || self.kind == "non-document-error"
    }
}

impl std::fmt::Display for NuMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.url, self.line.unwrap_or(0), self.message)?;
        if let Some(extract) = &self.extract {
            write!(f, " [{}]", extract.trim())?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Report {
    messages: Vec<NuMessage>,
}

impl Judges {
    /// Check HTML documents, named by `pages[i].0`, in one run of the checker
    /// (starting Java once), and return every message; `url` of each
    /// message is the page's name.
    pub fn check_html(&self, pages: &[(&str, &str)]) -> anyhow::Result<Vec<NuMessage>> {
        let dir = tempfile::tempdir().context("making a folder for the pages to check")?;
        let mut files = Vec::new();
        for (i, (_, html)) in pages.iter().enumerate() {
            let file = dir.path().join(format!("page-{i}.html"));
            std::fs::write(&file, html).context("writing a page to check")?;
            files.push(file);
        }
        let output = Command::new("java")
            .arg("-jar")
            .arg(self.vnu_jar())
            .args(["--format", "json", "--stdout", "--exit-zero-always"])
            .args(&files)
            .output()
            .context("running the Nu HTML checker (java -jar vnu.jar)")?;
        if !output.status.success() {
            bail!("the Nu HTML checker failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let report: Report = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("reading the checker's report: {}", String::from_utf8_lossy(&output.stdout)))?;
        let mut messages = report.messages;
        for message in &mut messages {
            let index =
                files.iter().position(|f| message.url.ends_with(&*f.file_name().unwrap_or_default().to_string_lossy()));
            if let Some(i) = index {
                message.url = pages[i].0.to_string();
            }
        }
        Ok(messages)
    }

    /// Like [`Judges::check_html`], but only the errors, as one readable
    /// string per error.
    pub fn html_errors(&self, pages: &[(&str, &str)]) -> anyhow::Result<Vec<String>> {
        Ok(self.check_html(pages)?.into_iter().filter(NuMessage::is_error).map(|m| m.to_string()).collect())
    }
}
