//! A real browser: Debian's Chromium, headless, driven over the W3C WebDriver
//! protocol by its ChromeDriver. Only what the tests need.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::Judges;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Run page scripts; off to prove forms work without JavaScript.
    pub javascript: bool,
    /// Preferred language (`Accept-Language`), such as "it" or "en".
    pub language: String,
    pub width: u32,
    pub height: u32,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions { javascript: true, language: "en".into(), width: 1280, height: 900 }
    }
}

/// One headless Chromium session; the driver and browser stop when dropped.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    axe: String,
    profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("session", &self.session).finish()
    }
}

/// An element found in the page.
#[derive(Debug, Clone)]
pub struct Element {
    id: String,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").context("finding a free port for chromedriver")?.local_addr()?.port())
}

impl Judges {
    /// Start ChromeDriver and a headless Chromium session.
    pub async fn browser(&self, options: BrowserOptions) -> anyhow::Result<Browser> {
        let port = free_port()?;
        let driver = Command::new(crate::CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        // The WebDriver client speaks plain HTTP on loopback, but reqwest is
        // built without a default TLS provider in this workspace.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .context("making the WebDriver client")?;
        let base = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = client.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            bail!("chromedriver did not answer on port {port} within 10 s");
        }
        let profile = tempfile::tempdir().context("making a browser profile folder")?;
        let chromium = crate::which(crate::CHROMIUM).context("finding chromium")?;
        let mut prefs = json!({ "intl.accept_languages": options.language });
        if !options.javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        format!("--window-size={},{}", options.width, options.height),
                        format!("--user-data-dir={}", profile.path().display()),
                        format!("--lang={}", options.language),
                    ],
                    "prefs": prefs,
                }
            }}
        });
        let mut browser = Browser { client, base, session: String::new(), driver, axe: self.axe_source()?, profile };
        let created = browser.command(reqwest::Method::POST, "/session", Some(capabilities)).await?;
        browser.session = created["sessionId"].as_str().context("WebDriver gave no session id")?.to_string();
        Ok(browser)
    }
}

impl Browser {
    /// The browser's own profile folder: every Chromium process of this
    /// session names it on its command line.
    pub fn profile_dir(&self) -> &std::path::Path {
        self.profile.path()
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        } else if method == reqwest::Method::POST {
            request = request.header("content-type", "application/json").body("{}");
        }
        let response = request.send().await.with_context(|| format!("WebDriver {method} {path}"))?;
        let status = response.status();
        let text = response.text().await.context("reading WebDriver's answer")?;
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("WebDriver answered {status} with {text}"))?;
        if !status.is_success() {
            bail!(
                "WebDriver {method} {path}: {} ({})",
                value["value"]["error"].as_str().unwrap_or("error"),
                value["value"]["message"].as_str().unwrap_or(&text).lines().next().unwrap_or_default()
            );
        }
        Ok(value["value"].clone())
    }

    fn at(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    /// Load `url` and wait until the page has loaded.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.command(reqwest::Method::POST, &self.at("/url"), Some(json!({ "url": url })))
            .await
            .with_context(|| format!("opening {url}"))?;
        Ok(())
    }

    /// The address of the page shown now.
    pub async fn current_url(&self) -> anyhow::Result<String> {
        let url = self.command(reqwest::Method::GET, &self.at("/url"), None).await?;
        url.as_str().map(str::to_string).context("WebDriver gave no URL")
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> anyhow::Result<String> {
        let html = self.command(reqwest::Method::GET, &self.at("/source"), None).await?;
        html.as_str().map(str::to_string).context("WebDriver gave no page source")
    }

    /// The first element matching the CSS selector.
    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        let found = match self
            .command(
                reqwest::Method::POST,
                &self.at("/element"),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await
        {
            Ok(found) => found,
            Err(e) => {
                let page = self.current_url().await.unwrap_or_default();
                return Err(e.context(format!("finding `{css}` in {page}")));
            }
        };
        let id = found[ELEMENT_KEY].as_str().context("WebDriver gave no element id")?;
        Ok(Element { id: id.to_string() })
    }

    /// Every element matching the CSS selector.
    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        let found = self
            .command(
                reqwest::Method::POST,
                &self.at("/elements"),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        Ok(found
            .as_array()
            .map(|all| {
                all.iter().filter_map(|e| e[ELEMENT_KEY].as_str()).map(|id| Element { id: id.to_string() }).collect()
            })
            .unwrap_or_default())
    }

    /// Click an element (a link, a button, a radio box).
    pub async fn click(&self, element: &Element) -> anyhow::Result<()> {
        self.command(reqwest::Method::POST, &self.at(&format!("/element/{}/click", element.id)), None).await?;
        Ok(())
    }

    /// Clear a field and type `text` into it.
    pub async fn fill(&self, element: &Element, text: &str) -> anyhow::Result<()> {
        self.command(reqwest::Method::POST, &self.at(&format!("/element/{}/clear", element.id)), None).await?;
        self.command(
            reqwest::Method::POST,
            &self.at(&format!("/element/{}/value", element.id)),
            Some(json!({ "text": text })),
        )
        .await?;
        Ok(())
    }

    /// Choose a file for an `<input type="file">` (WebDriver types its path).
    pub async fn choose_file(&self, element: &Element, path: &Path) -> anyhow::Result<()> {
        self.command(
            reqwest::Method::POST,
            &self.at(&format!("/element/{}/value", element.id)),
            Some(json!({ "text": path.display().to_string() })),
        )
        .await?;
        Ok(())
    }

    /// Choose the option with this value in a `<select>`.
    pub async fn select(&self, select_css: &str, value: &str) -> anyhow::Result<()> {
        let option = self.find(&format!("{select_css} option[value=\"{value}\"]")).await?;
        self.click(&option).await
    }

    /// The visible text of an element.
    pub async fn text(&self, element: &Element) -> anyhow::Result<String> {
        let text = self.command(reqwest::Method::GET, &self.at(&format!("/element/{}/text", element.id)), None).await?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Run a script in the page and return its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.command(reqwest::Method::POST, &self.at("/execute/sync"), Some(json!({ "script": script, "args": args })))
            .await
    }

    /// Wait (up to 10 s) until the CSS selector matches an element.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        for _ in 0..100 {
            if let Some(first) = self.find_all(css).await?.into_iter().next() {
                return Ok(first);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.find(css).await
    }

    /// Wait (up to 10 s) until an element matching `css` shows text that
    /// contains `needle`, and return that text. After a click that submits a
    /// form the old page may still be shown, or its elements go stale while
    /// being read; both just mean "not yet".
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> anyhow::Result<String> {
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen.clear();
            for element in self.find_all(css).await.unwrap_or_default() {
                if let Ok(text) = self.text(&element).await {
                    if text.contains(needle) {
                        return Ok(text);
                    }
                    seen.push(text);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("no `{css}` showed {needle:?} within 10 s; it showed {seen:?}")
    }

    /// Write a PNG screenshot of the page, so a person can look at it.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let png = self.command(reqwest::Method::GET, &self.at("/screenshot"), None).await?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().context("WebDriver gave no screenshot")?)
            .context("decoding the screenshot")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
        }
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
    }

    /// Run axe-core on the page and return the violations of impact
    /// "serious" or "critical", each as "rule: help (n nodes: targets)".
    /// Needs JavaScript on.
    pub async fn serious_accessibility_violations(&self) -> anyhow::Result<Vec<String>> {
        self.execute(&self.axe, vec![]).await.context("loading axe-core into the page")?;
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations), e => done({ error: String(e) }));";
        let violations = self
            .command(reqwest::Method::POST, &self.at("/execute/async"), Some(json!({ "script": script, "args": [] })))
            .await
            .context("running axe-core")?;
        if let Some(error) = violations.get("error") {
            bail!("axe-core failed: {error}");
        }
        Ok(violations
            .as_array()
            .context("axe-core gave no violation list")?
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let targets: Vec<String> =
                    v["nodes"].as_array().into_iter().flatten().map(|n| n["target"].to_string()).collect();
                format!("{}: {} ({} nodes: {})", v["id"], v["help"], targets.len(), targets.join(", "))
            })
            .collect())
    }
}

impl Element {
    /// The element's WebDriver id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing chromedriver would leave its Chromium running, so the
        // session is ended first (WebDriver's "Delete Session" quits the
        // browser). Drop cannot await: a plain blocking request on loopback.
        if !self.session.is_empty() {
            end_session(&self.base, &self.session);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn end_session(base: &str, session: &str) {
    use std::io::{Read, Write};
    let Some(addr) = base.strip_prefix("http://") else { return };
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request =
        format!("DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}
