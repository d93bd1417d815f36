//! `omnistore theme push DIR`: a theme folder (Shopify's layout: `layout/`,
//! `templates/`, `sections/`, `snippets/`, `assets/`, `locales/`, `config/`)
//! sent into a channel's draft files through the admin API of a running host,
//! file by file and only what changed; then a preview link, or publication
//! with `--publish`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use sha2::{Digest, Sha256};

/// The folders of a theme; anything else in DIR is not sent.
const THEME_FOLDERS: [&str; 7] = ["layout", "templates", "sections", "snippets", "assets", "locales", "config"];

#[derive(Subcommand)]
pub(crate) enum ThemeCommand {
    /// Send a theme folder's files into a channel's draft (only those that
    /// changed), then print a preview link, or publish with `--publish`.
    Push {
        /// The theme folder.
        dir: PathBuf,
        /// The tenant.
        #[arg(long, env = "OMNISTORE_TENANT")]
        tenant: String,
        /// The channel (installation) whose files these are, such as the web storefront's.
        #[arg(long)]
        channel: String,
        /// The host's address.
        #[arg(long, env = "OMNISTORE_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// A token of the tenant (or the operator's).
        #[arg(long, env = "OMNISTORE_TOKEN", hide_env_values = true)]
        token: String,
        /// Make the draft live once every file is sent.
        #[arg(long)]
        publish: bool,
        /// Delete draft files that DIR does not have (those paths fall back to
        /// the plugin's own theme).
        #[arg(long)]
        prune: bool,
    },
}

pub(crate) fn run(command: ThemeCommand) -> anyhow::Result<()> {
    let ThemeCommand::Push { dir, tenant, channel, url, token, publish, prune } = command;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let api = Api::new(&url, &tenant, &channel, &token)?;
    rt.block_on(push(&api, &dir, publish, prune))
}

/// What a push did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Pushed {
    uploaded: usize,
    unchanged: usize,
    deleted: usize,
}

async fn push(api: &Api, dir: &Path, publish: bool, prune: bool) -> anyhow::Result<()> {
    let local = theme_files(dir)?;
    if local.is_empty() {
        bail!(
            "{} holds no theme files; a theme has files under {}",
            dir.display(),
            THEME_FOLDERS.map(|f| format!("{f}/")).join(", ")
        );
    }
    let remote = api.draft_hashes().await?;
    let mut done = Pushed::default();
    let total = local.len();
    for (n, (path, file)) in local.iter().enumerate() {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        if remote.get(path).is_some_and(|h| *h == hex::encode(Sha256::digest(&bytes))) {
            done.unchanged += 1;
            continue;
        }
        api.put(path, bytes).await.with_context(|| format!("sending {path}"))?;
        done.uploaded += 1;
        println!("[{}/{total}] {path}", n + 1);
    }
    if prune {
        for path in remote.keys().filter(|p| !local.contains_key(*p)) {
            api.delete(path).await.with_context(|| format!("deleting {path} from the draft"))?;
            done.deleted += 1;
            println!("deleted {path}");
        }
    }
    println!("{} sent, {} unchanged, {} deleted", done.uploaded, done.unchanged, done.deleted);
    if publish {
        let published = api.post("publish").await.context("publishing the draft")?;
        println!("published: {} files changed in the live theme", published["changed"]);
    } else {
        let link = api.post("preview").await.context("asking for a preview link")?;
        let query = link["query"].as_str().context("the preview answer has no query")?;
        println!("preview for an hour: add ?{query} to any address of the shop");
        println!("publish with: omnistore theme push {} --publish (or POST …/files/publish)", dir.display());
    }
    Ok(())
}

/// Every file of the theme folders under `dir`, by its path in the theme.
fn theme_files(dir: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    if !dir.is_dir() {
        bail!("{} is not a folder; give the theme's folder (the one holding layout/ and templates/)", dir.display());
    }
    let mut files = BTreeMap::new();
    for folder in THEME_FOLDERS {
        collect(&dir.join(folder), folder, &mut files)?;
    }
    Ok(files)
}

fn collect(dir: &Path, prefix: &str, files: &mut BTreeMap<String, PathBuf>) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            bail!("{} has a name that is not UTF-8; rename it", entry.path().display());
        };
        // Editor and system leftovers (`.DS_Store`, `.#x`) are not theme files.
        if name.starts_with('.') {
            continue;
        }
        let path = format!("{prefix}/{name}");
        if entry.file_type()?.is_dir() {
            collect(&entry.path(), &path, files)?;
        } else {
            files.insert(path, entry.path());
        }
    }
    Ok(())
}

/// The admin API's files routes of one channel.
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(url: &str, tenant: &str, channel: &str, token: &str) -> anyhow::Result<Api> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().build().context("setting up the HTTP client")?;
        let url = url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--url {url} must start with http:// or https://");
        }
        Ok(Api {
            client,
            base: format!("{url}/api/v1/tenants/{}/channels/{}/files", segment(tenant), segment(channel)),
            token: token.to_owned(),
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request.bearer_auth(&self.token).send().await.with_context(|| {
            format!("reaching the host at {}; is it running (omnistore serve) and is --url right?", self.base)
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body: serde_json::Value =
            serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or_default();
        let message = body["error"]["message"].as_str().unwrap_or("no explanation given");
        match status.as_u16() {
            401 => bail!("the host refused the token ({message}); pass a token of this tenant with --token"),
            404 => {
                bail!("not found: {message}; check --tenant and --channel (GET /api/v1/tenants/T/channels lists them)")
            }
            _ => bail!("the host answered {status}: {message}"),
        }
    }

    /// Path → SHA-256 of every file the draft reads.
    async fn draft_hashes(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let text = self.send(self.client.get(&self.base)).await?.text().await.context("reading the file list")?;
        let page: serde_json::Value = serde_json::from_str(&text).context("reading the file list")?;
        let items = page["items"].as_array().context("the file list has no items")?;
        Ok(items
            .iter()
            .filter_map(|i| Some((i["path"].as_str()?.to_owned(), i["draft_sha256"].as_str()?.to_owned())))
            .collect())
    }

    /// The address of one file, each segment of its path encoded.
    fn file_url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.split('/').map(segment).collect::<Vec<_>>().join("/"))
    }

    async fn put(&self, path: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        let request =
            self.client.put(self.file_url(path)).header("content-type", "application/octet-stream").body(bytes);
        self.send(request).await.map(drop)
    }

    async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.send(self.client.delete(self.file_url(path))).await.map(drop)
    }

    async fn post(&self, action: &str) -> anyhow::Result<serde_json::Value> {
        let response = self.send(self.client.post(format!("{}/{action}", self.base))).await?;
        let text = response.text().await.context("reading the answer")?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }
}

/// One path segment, percent-encoded.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
