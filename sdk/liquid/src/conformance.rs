//! Runs a conformance suite in the golden-liquid format against this engine.
//!
//! The format is a JSON object with a `tests` array; each case has a `name`, a
//! `template`, optional `data` and `templates` (partials), and either `result`,
//! `results` (any one is accepted) or `invalid: true` (parsing or rendering must fail).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

use crate::{ParseOptions, RenderOptions, Template, Value};

#[derive(Deserialize)]
struct Suite {
    tests: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    template: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    templates: Option<BTreeMap<String, String>>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    results: Option<Vec<String>>,
    #[serde(default)]
    invalid: bool,
}

/// One case that did not pass, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub name: String,
    pub reason: String,
}

/// The outcome of a suite.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub passed: usize,
    pub failed: Vec<Failure>,
}

impl Report {
    pub fn total(&self) -> usize {
        self.passed + self.failed.len()
    }

    /// `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed.len())
    }

    /// Each failure with its reason, the summary line, then the failing names one per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.failed {
            let _ = writeln!(out, "FAIL {}: {}", f.name, f.reason);
        }
        let _ = writeln!(out, "{}", self.summary());
        for f in &self.failed {
            let _ = writeln!(out, "{}", f.name);
        }
        out
    }
}

fn shorten(s: &str) -> String {
    let mut t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    format!("{t:?}")
}

/// Runs every case of a golden-liquid style JSON document.
pub fn run(json: &str) -> Result<Report, String> {
    let suite: Suite = serde_json::from_str(json).map_err(|e| format!("not a golden-liquid suite: {e}"))?;
    let mut report = Report::default();
    for case in &suite.tests {
        match check(case) {
            Ok(()) => report.passed += 1,
            Err(reason) => report.failed.push(Failure { name: case.name.clone(), reason }),
        }
    }
    Ok(report)
}

fn check(case: &Case) -> Result<(), String> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let template = Template::parse(&case.template, &ParseOptions::default())?;
        let partials = case.templates.clone().unwrap_or_default();
        let options = RenderOptions::default().with_partials(&partials);
        template.render(case.data.as_ref().unwrap_or(&Value::Nil), &options)
    }))
    .map_err(|_| "panicked".to_string())?;
    let expected: Vec<&String> = case.result.iter().chain(case.results.iter().flatten()).collect();
    match outcome {
        Ok(got) if case.invalid => Err(format!("expected an error, got {}", shorten(&got))),
        Err(_) if case.invalid => Ok(()),
        Ok(got) if expected.iter().any(|e| **e == got) => Ok(()),
        Ok(got) => Err(format!(
            "expected {}, got {}",
            expected.first().map_or_else(|| "nothing".into(), |e| shorten(e)),
            shorten(&got)
        )),
        Err(e) => Err(format!("unexpected error: {e}")),
    }
}
