//! Checkers from PyPI, run with the judges' own Python: extruct reads
//! structured data (JSON-LD, Open Graph) out of a page; ultimate-sitemap-parser
//! reads a site's sitemaps.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::Judges;

const EXTRUCT: &str = r#"
import json, sys
import extruct
html = sys.stdin.read()
data = extruct.extract(html, base_url=sys.argv[1], syntaxes=["json-ld", "opengraph"], uniform=True)
json.dump(data, sys.stdout)
"#;

const SITEMAP: &str = r#"
import json, sys
from usp.tree import sitemap_tree_for_homepage
tree = sitemap_tree_for_homepage(sys.argv[1], use_robots=True, use_known_paths=False)
json.dump(sorted({page.url for page in tree.all_pages()}), sys.stdout)
"#;

impl Judges {
    /// Run a Python script with the judges' Python (its PyPI packages importable),
    /// `args` as `sys.argv[1..]`, `stdin` on its standard input; the script
    /// prints JSON, which is returned.
    pub fn run_python(&self, script: &str, args: &[&str], stdin: &[u8]) -> anyhow::Result<Value> {
        self.run_python_with(script, args, stdin, &[])
    }

    fn run_python_with(
        &self,
        script: &str,
        args: &[&str],
        stdin: &[u8],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let mut child = Command::new(self.python())
            .envs(env.iter().copied())
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the judges' Python")?;
        child.stdin.take().context("python's stdin")?.write_all(stdin).context("writing to python")?;
        let output = child.wait_with_output().context("waiting for python")?;
        if !output.status.success() {
            bail!("the Python judge failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        serde_json::from_slice(&output.stdout).context("reading the Python judge's answer")
    }

    /// The page's structured data as extruct reads it, `uniform`:
    /// `{"json-ld": [...], "opengraph": [...]}`.
    pub fn structured_data(&self, html: &str, base_url: &str) -> anyhow::Result<Value> {
        self.run_python(EXTRUCT, &[base_url], html.as_bytes())
    }

    /// Every page URL that ultimate-sitemap-parser finds in the sitemaps of
    /// the site at `homepage` (found through its robots.txt), sorted.
    pub fn sitemap_urls(&self, homepage: &str) -> anyhow::Result<Vec<String>> {
        self.sitemap_urls_through(homepage, None)
    }

    /// [`Judges::sitemap_urls`] with every request sent to `server`
    /// (`host:port`) as an HTTP proxy, so a site on a name the system's
    /// resolver does not know (such as `shop.localhost`) is read as a
    /// crawler reads it: robots.txt at the root of its own host name.
    pub fn sitemap_urls_through(&self, homepage: &str, server: Option<&str>) -> anyhow::Result<Vec<String>> {
        let proxy = server.map(|s| format!("http://{s}"));
        let env: Vec<(&str, &str)> = match &proxy {
            Some(p) => vec![("http_proxy", p.as_str()), ("HTTP_PROXY", p.as_str()), ("no_proxy", "")],
            None => vec![],
        };
        let urls = self.run_python_with(SITEMAP, &[homepage], b"", &env)?;
        serde_json::from_value(urls).context("reading the sitemap parser's URL list")
    }
}
