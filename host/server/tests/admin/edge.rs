//! The HTTP edge over a real host (`Host::start`: redb, runtime, installer):
//! package installs, routing by host name, streamed responses, sealed
//! secrets and the limits on request bodies.
//!
//! The plugin packages come from `cargo xtask build-plugins` (target/plugins).

mod files;
mod install;
mod limits;
mod media;
mod routing;
mod satisfaction;
mod secrets;
mod streaming;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host, HostOptions};
use omnistore_server::secrets::SecretKeys;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::OPERATOR;

/// A built plugin package.
fn package(id: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins").join(id);
    assert!(dir.join("plugin.wasm").exists(), "{} is missing: run `cargo xtask build-plugins` first", dir.display());
    dir
}

/// The install body that uploads package `id`.
fn upload(id: &str) -> Value {
    let dir = package(id);
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let wasm = std::fs::read(dir.join("plugin.wasm")).unwrap();
    json!({ "upload": {
        "manifest": manifest,
        "component": base64::engine::general_purpose::STANDARD.encode(wasm),
    } })
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Bytes,
    json: Value,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

struct Edge {
    host: Host,
    router: Router,
    dir: tempfile::TempDir,
}

impl Edge {
    async fn start(http: HttpSettings) -> Edge {
        let keys = Arc::new(SecretKeys::random().unwrap());
        Edge::start_in(tempfile::tempdir().unwrap(), http, keys).await.unwrap()
    }

    /// A host on a redb store in `dir` (so a restart finds the same data).
    async fn start_in(dir: tempfile::TempDir, http: HttpSettings, keys: Arc<SecretKeys>) -> anyhow::Result<Edge> {
        let host = Host::start(HostOptions {
            data_dir: dir.path().to_path_buf(),
            store: None,
            allow_private_network: false,
            operator_token: OPERATOR.into(),
            http,
            secrets: Some(keys),
            development_origins: Vec::new(),
        })
        .await?;
        let router = host.router();
        Ok(Edge { host, router, dir })
    }

    async fn stop(self) -> tempfile::TempDir {
        let Edge { host, router, dir } = self;
        drop(router);
        host.stop().await;
        dir
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, bytes, json }
    }

    async fn admin(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"))
            .header("authorization", format!("Bearer {token}"))
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        self.send(request).await
    }

    /// A page of the storefront at `path` asked for on `host`.
    async fn page(&self, host: &str, path: &str) -> Reply {
        self.send(Request::get(path).header("host", host).body(Body::empty()).unwrap()).await
    }

    /// Create a tenant; its token.
    async fn tenant(&self, id: &str) -> String {
        let body = json!({ "id": id, "name": format!("Shop {id}"), "currency": "EUR" });
        let created = self.admin("POST", "/tenants", OPERATOR, Some(&body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        created.json["token"]["secret"].as_str().unwrap().to_owned()
    }

    /// Give a tenant a domain, as the deployment file does.
    fn domain(&self, tenant: &str, domain: &str) {
        let t = omnistore_runtime::TenantId::new(tenant).unwrap();
        self.host.registry.add_tenant(t, &[domain.to_string()]);
    }

    /// Install package `id` for `tenant` by upload, mounted at `/`.
    async fn install(&self, tenant: &str, token: &str, id: &str) -> String {
        self.install_with(tenant, token, id, json!({})).await
    }

    /// Install package `id` by upload at `/` with these settings.
    async fn install_with(&self, tenant: &str, token: &str, id: &str, settings: Value) -> String {
        let mut body = upload(id);
        body["mount"] = json!("/");
        body["settings"] = settings;
        let r = self.admin("POST", &format!("/tenants/{tenant}/channels"), token, Some(&body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json["id"].as_str().unwrap().to_owned()
    }

    /// Everything in the raw store.
    fn dump(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut txn = self.host.core.store().begin().unwrap();
        txn.scan(&omnistore_storage::KeyRange::all(), usize::MAX).unwrap()
    }
}
