//! `cargo xtask judges`: install the independent checkers the tests run
//! (Debian's Chromium and ChromeDriver and a Java runtime; vnu-jar, axe-core
//! and Lighthouse from npm; extruct and ultimate-sitemap-parser from PyPI)
//! into `target/judges`, once: a later run with the same pinned versions does
//! nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::{root, run, step, which};

const DEBIAN_PACKAGES: [(&str, &str); 3] =
    [("chromium", "chromium"), ("chromedriver", "chromium-driver"), ("java", "default-jre-headless")];

/// Install what is missing and return the folder the tests read (`OMNISTORE_JUDGES`).
pub fn install() -> anyhow::Result<PathBuf> {
    let root = root();
    let spec = root.join("tests").join("judges");
    let dir = root.join("target").join("judges");
    std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
    debian(&DEBIAN_PACKAGES)?;
    npm(&spec, &dir)?;
    python(&spec, &dir)?;
    Ok(dir)
}

/// Install the Debian packages whose program is missing: `(program, package)`.
pub(crate) fn debian(packages: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> =
        packages.iter().filter(|(program, _)| which(program).is_none()).map(|(_, package)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !is_root || which("apt-get").is_none() {
        bail!(
            "this needs Debian's {}: install them (`sudo apt-get install {}`) and run again",
            missing.join(", "),
            missing.join(" ")
        );
    }
    step(&format!("installing {} from Debian (once)", missing.join(", ")));
    let install = || {
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run(install)
    };
    if install().is_err() {
        eprintln!("    refreshing the package lists and trying again");
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        run(update)?;
        install()?;
    }
    Ok(())
}

/// A marker naming the pinned versions, so a changed pin reinstalls.
fn up_to_date(marker: &Path, pins: &str) -> bool {
    std::fs::read_to_string(marker).is_ok_and(|installed| installed == pins)
}

fn npm(spec: &Path, dir: &Path) -> anyhow::Result<()> {
    let pins = std::fs::read_to_string(spec.join("package.json")).context("reading tests/judges/package.json")?;
    let marker = dir.join("node_modules").join(".omnistore-pins");
    if up_to_date(&marker, &pins) {
        return Ok(());
    }
    which("npm")
        .context("the tests need Node.js and npm (Debian's nodejs and npm) for vnu-jar, axe-core and Lighthouse")?;
    step("installing vnu-jar, axe-core and Lighthouse from npm into target/judges (once)");
    std::fs::write(dir.join("package.json"), &pins).context("writing target/judges/package.json")?;
    let mut install = Command::new("npm");
    // vnu-jar's install script only fetches a Java runtime; Debian's is used.
    install.args(["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix"]).arg(dir);
    run(install)?;
    std::fs::write(&marker, pins).context("recording the npm judges' versions")
}

fn python(spec: &Path, dir: &Path) -> anyhow::Result<()> {
    let pins =
        std::fs::read_to_string(spec.join("requirements.txt")).context("reading tests/judges/requirements.txt")?;
    let venv = dir.join("venv");
    let marker = venv.join(".omnistore-pins");
    if up_to_date(&marker, &pins) {
        return Ok(());
    }
    let python = which("python3")
        .context("the tests need Python 3 with venv for the Python judges (structured data, sitemaps, SMTP, DKIM)")?;
    step("installing the Python judges of tests/judges/requirements.txt from PyPI into target/judges/venv (once)");
    let mut make = Command::new(python);
    make.args(["-m", "venv"]).arg(&venv);
    run(make)?;
    let mut install = Command::new(venv.join("bin").join("pip"));
    install.args(["install", "-q", "--disable-pip-version-check", "-r"]).arg(spec.join("requirements.txt"));
    run(install)?;
    std::fs::write(&marker, pins).context("recording the Python judges' versions")
}
