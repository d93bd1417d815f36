//! Judges that nobody here wrote, for the tests: a real browser (Debian's
//! Chromium over WebDriver), the Nu HTML checker, axe-core, Lighthouse,
//! extruct (structured data), ultimate-sitemap-parser and openapi-core
//! (requests to a remote API against the API's own OpenAPI description).
//!
//! `cargo xtask judges` installs them into `target/judges` (the README's test
//! command does it first); [`Judges::find`] locates them and says how to
//! install them when they are missing. Tests never skip because a judge is
//! absent: they fail with that message.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

mod browser;
mod lighthouse;
mod nu;
mod openapi;
mod python;

pub use browser::{Browser, BrowserOptions, Element};
pub use lighthouse::LighthouseScores;
pub use nu::NuMessage;
pub use openapi::{OpenApi, Question};

/// Where the judges were installed.
#[derive(Debug, Clone)]
pub struct Judges {
    dir: PathBuf,
}

impl Judges {
    /// The judges installed by `cargo xtask judges`: `OMNISTORE_JUDGES`, else
    /// `target/judges` of this workspace.
    pub fn find() -> anyhow::Result<Judges> {
        let judges = Judges { dir: judges_dir() };
        for needed in [judges.vnu_jar(), judges.axe_script(), judges.python(), judges.lighthouse_bin()] {
            if !needed.exists() {
                bail!(
                    "the test judges are not installed ({} is missing): run `cargo xtask judges`, which `cargo xtask test` does first",
                    needed.display()
                );
            }
        }
        for program in [CHROMIUM, CHROMEDRIVER, "java"] {
            which(program).with_context(|| {
                format!("{program} is not on PATH: run `cargo xtask judges` (it installs Debian's chromium, chromium-driver and default-jre-headless)")
            })?;
        }
        Ok(judges)
    }

    fn node_modules(&self) -> PathBuf {
        self.dir.join("node_modules")
    }

    fn vnu_jar(&self) -> PathBuf {
        self.node_modules().join("vnu-jar/build/dist/vnu.jar")
    }

    fn axe_script(&self) -> PathBuf {
        self.node_modules().join("axe-core/axe.min.js")
    }

    fn lighthouse_bin(&self) -> PathBuf {
        self.node_modules().join(".bin/lighthouse")
    }

    fn python(&self) -> PathBuf {
        self.dir.join("venv/bin/python")
    }

    /// axe-core's script, to inject into a page.
    pub fn axe_source(&self) -> anyhow::Result<String> {
        std::fs::read_to_string(self.axe_script()).context("reading axe-core's script")
    }
}

/// `OMNISTORE_JUDGES`, else `target/judges` of this workspace.
fn judges_dir() -> PathBuf {
    match std::env::var_os("OMNISTORE_JUDGES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/judges"),
    }
}

const CHROMIUM: &str = "chromium";
const CHROMEDRIVER: &str = "chromedriver";

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}
