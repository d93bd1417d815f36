//! `cargo xtask liquid-conformance FILE`: runs a suite in the golden-liquid format
//! against omnistore-liquid and lists what fails.

use anyhow::{Context, bail};

pub fn conformance(args: &[String]) -> anyhow::Result<()> {
    let [file] = args else {
        bail!("usage: cargo xtask liquid-conformance FILE (a golden-liquid style JSON suite)");
    };
    let (text, failed) = report(file)?;
    print!("{text}");
    if failed > 0 {
        bail!("{failed} case(s) of {file} failed; their names are listed above");
    }
    Ok(())
}

/// The report of the suite in `file` (ending with `N passed, N failed` and
/// the failing names) and how many cases failed.
fn report(file: &str) -> anyhow::Result<(String, usize)> {
    let json = std::fs::read_to_string(file).with_context(|| format!("reading the suite {file}"))?;
    let report = omnistore_liquid::conformance::run(&json)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{file} is not a golden-liquid suite (an object with a `tests` array)"))?;
    Ok((report.to_text(), report.failed.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(json: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.json");
        std::fs::write(&path, json).unwrap();
        (dir, path.to_string_lossy().into_owned())
    }

    #[test]
    fn the_report_ends_with_the_counts_then_the_failing_names() {
        let (_dir, file) = suite(
            r#"{ "tests": [
                { "name": "echo", "template": "{{ x }}", "data": { "x": "ciao" }, "result": "ciao" },
                { "name": "upcase is wrong here", "template": "{{ 'a' | upcase }}", "result": "a" },
                { "name": "unclosed if", "template": "{% if true %}", "invalid": true },
                { "name": "plus", "template": "{{ 1 | plus: 1 }}", "result": "3" }
            ] }"#,
        );
        let (text, failed) = report(&file).unwrap();
        assert_eq!(failed, 2);
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        assert_eq!(tail, ["plus", "upcase is wrong here", "2 passed, 2 failed"], "{text}");
        let err = conformance(std::slice::from_ref(&file)).unwrap_err();
        assert!(err.to_string().contains("2 case(s)"), "{err}");
        let (_dir, passing) = suite(r#"{ "tests": [ { "name": "t", "template": "x", "result": "x" } ] }"#);
        assert_eq!(report(&passing).unwrap(), ("1 passed, 0 failed\n".to_string(), 0));
        assert!(conformance(&[passing]).is_ok());
    }

    #[test]
    fn a_missing_or_malformed_suite_says_which_file_and_what_is_wrong() {
        let err = format!("{:#}", report("no/such/suite.json").unwrap_err());
        assert!(err.contains("reading the suite no/such/suite.json"), "{err}");
        let (_dir, file) = suite(r#"{ "cases": [] }"#);
        let err = format!("{:#}", report(&file).unwrap_err());
        assert!(err.contains("is not a golden-liquid suite"), "{err}");
        assert!(conformance(&[]).unwrap_err().to_string().starts_with("usage:"));
    }
}
