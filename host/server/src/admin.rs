//! The admin API: `/api/v1`, JSON in and out, for merchants and operators.
//!
//! - **Access.** Every route but `/openapi.json` needs `Authorization: Bearer
//!   <token>`. The operator token (given at startup) manages tenants and may
//!   act on any tenant; a tenant token reaches only the routes under its own
//!   `/tenants/{tenant}/…`. Tenant tokens are stored as SHA-256 hashes (see
//!   [`auth`]); the plain token is shown once, when it is issued.
//! - **Idempotency.** Every mutation accepts `Idempotency-Key`; see
//!   [`idempotency`] for what is stored and when.
//! - **Errors.** Always `{"error": {"code", "message"}}` with a stable code;
//!   see [`AdminError`].
//! - **Description.** `/openapi.json` is generated from the same table that
//!   builds the router ([`route_docs`]), so the two cannot drift apart.
//!
//! The core is synchronous and may block on disk or on PostgreSQL, so every
//! call into it runs on tokio's blocking pool ([`AdminState::call`]).

mod auth;
mod calls;
pub(crate) mod campaigns;
pub(crate) mod channels;
mod collections;
mod customers;
mod error;
mod events;
mod extract;
mod files;
mod idempotency;
pub(crate) mod images;
mod inventory;
mod locations;
mod mail;
mod openapi;
mod orders;
mod products;
mod promotions;
mod satisfaction;
mod segments;
mod shop;
mod sync;
mod tenants;
pub(crate) mod users;
pub(crate) mod wire;

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodFilter, on};
use omnistore_core::{Core, CoreResult, TenantId};
use sha2::{Digest, Sha256};

use crate::secrets::SecretKeys;

pub use auth::{IssuedToken, TokenInfo};
pub use channels::{CatalogueEntry, ChannelInstaller, MAX_MOUNT_CHARS, MountError, PackageSource, check_mount};
pub use error::AdminError;
pub use users::{UserFieldError, UserInfo};
pub use wire::{InstallRequest, PackageUpload, SchemaFn};

/// Largest request body the admin API reads; larger ones get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Largest install request (a package uploaded in it, base64-encoded).
pub const DEFAULT_MAX_PACKAGE_BYTES: usize = 32 << 20;

/// How long a client may take to send a request body before it gets 408.
pub const DEFAULT_BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Shortest operator token accepted at startup: a guessable operator token
/// would open every tenant.
pub const MIN_OPERATOR_TOKEN_LEN: usize = 16;

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Everything the admin handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AdminState {
    core: Core,
    /// Only the hash is kept, so the token is not in memory dumps longer
    /// than startup needs it.
    operator_hash: [u8; 32],
    installer: Option<Arc<dyn ChannelInstaller>>,
    secrets: Option<Arc<SecretKeys>>,
    media: Option<Arc<omnistore_media::MediaStore>>,
    preview: Option<crate::preview::PreviewKey>,
    clock: Clock,
    max_body_bytes: usize,
    max_package_bytes: usize,
    body_read_timeout: std::time::Duration,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("core", &self.core)
            .field("installer", &self.installer.is_some())
            .field("secrets", &self.secrets)
            .field("media", &self.media.is_some())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_package_bytes", &self.max_package_bytes)
            .field("body_read_timeout", &self.body_read_timeout)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// State over `core` with the deployment's operator token. Tenant tokens
    /// and idempotency records live in the core's store.
    pub fn new(core: Core, operator_token: &str) -> anyhow::Result<AdminState> {
        if operator_token.trim().len() < MIN_OPERATOR_TOKEN_LEN {
            anyhow::bail!(
                "the operator token must be at least {MIN_OPERATOR_TOKEN_LEN} characters; \
                 generate one with `openssl rand -hex 32`"
            );
        }
        Ok(AdminState {
            core,
            operator_hash: sha256(operator_token.as_bytes()),
            installer: None,
            secrets: None,
            media: None,
            preview: None,
            clock: Arc::new(omnistore_runtime::system_now_ms),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_package_bytes: DEFAULT_MAX_PACKAGE_BYTES,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
        })
    }

    /// Install channels from plugin packages with this (the runtime's) installer.
    /// Without one, `POST …/channels` answers 501.
    pub fn with_installer(mut self, installer: Arc<dyn ChannelInstaller>) -> AdminState {
        self.installer = Some(installer);
        self
    }

    /// Seal channel secrets with these keys before they are stored. Without
    /// them, setting a secret answers 501: secrets are never kept in clear.
    pub fn with_secrets(mut self, keys: Arc<SecretKeys>) -> AdminState {
        self.secrets = Some(keys);
        self
    }

    /// Keep uploaded product images in this store. Without one, uploads
    /// answer 501.
    pub fn with_media(mut self, media: Arc<omnistore_media::MediaStore>) -> AdminState {
        self.media = Some(media);
        self
    }

    /// Sign preview links with this key (the storefront verifies them with
    /// the same). Without one, `POST …/files/preview` answers 501.
    pub fn with_preview(mut self, key: crate::preview::PreviewKey) -> AdminState {
        self.preview = Some(key);
        self
    }

    /// Use another clock (milliseconds since the Unix epoch), for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> AdminState {
        self.clock = Arc::new(clock);
        self
    }

    pub fn with_max_body_bytes(mut self, max: usize) -> AdminState {
        self.max_body_bytes = max;
        self
    }

    /// Largest install request, which may carry a package.
    pub fn with_max_package_bytes(mut self, max: usize) -> AdminState {
        self.max_package_bytes = max;
        self
    }

    pub fn with_body_read_timeout(mut self, timeout: std::time::Duration) -> AdminState {
        self.body_read_timeout = timeout;
        self
    }

    /// The body limit of a request: install requests may carry a package.
    pub(crate) fn body_limit(&self, method: &Method, path: &str) -> usize {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let install = *method == Method::POST && matches!(segments.as_slice(), [.., "tenants", _, "channels"]);
        let image = *method == Method::POST && images::is_upload(&segments);
        let file = *method == Method::PUT && files::is_file_write(&segments);
        match &self.media {
            _ if install => self.max_package_bytes.max(self.max_body_bytes),
            _ if file => files::FILE_BODY_LIMIT.max(self.max_body_bytes),
            Some(media) if image => media.limits().max_bytes.max(self.max_body_bytes),
            _ => self.max_body_bytes,
        }
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The installer of channels, if this host has one (the browser's
    /// channel pages read manifests through it).
    pub(crate) fn installer(&self) -> Option<Arc<dyn ChannelInstaller>> {
        self.installer.clone()
    }

    /// Whether `token` is the operator's (compared by hash, without an early exit).
    pub(crate) fn is_operator_token(&self, token: &str) -> bool {
        let hash = sha256(token.as_bytes());
        hash.iter().zip(&self.operator_hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The keys of the idempotency layer's request fingerprints, the signing
    /// one first. They come from the secrets key when the host has one (as
    /// every real host does); a host without one derives a key from the
    /// operator token. Either is kept out of the store, which is the point:
    /// a fingerprint covers bodies that hold passwords and channel secrets.
    pub(crate) fn fingerprint_keys(&self) -> Vec<[u8; 32]> {
        match &self.secrets {
            Some(keys) => keys.fingerprint_keys().copied().collect(),
            None => {
                let purpose = b"omnistore admin idempotency fingerprint v1\n".as_slice();
                vec![sha256(&[purpose, &self.operator_hash].concat())]
            }
        }
    }

    /// Where uploaded images are kept, if this host keeps any.
    pub(crate) fn media_store(&self) -> Option<Arc<omnistore_media::MediaStore>> {
        self.media.clone()
    }

    /// Largest image upload this host takes.
    pub(crate) fn media_limit(&self) -> usize {
        self.media.as_ref().map_or(0, |m| m.limits().max_bytes)
    }

    /// Issue a token for a tenant outside HTTP (the CLI prints the demo
    /// tenant's token this way). Blocking: call it off the async executor.
    pub fn issue_token(&self, tenant: &TenantId, label: &str) -> Result<IssuedToken, AdminError> {
        self.core.get_tenant(tenant)?;
        auth::issue(&self.core, tenant, label, self.now())
    }

    pub(crate) fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Run a core call on the blocking pool with the current time.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, AdminError>
    where
        T: Send + 'static,
        F: FnOnce(&Core, i64) -> CoreResult<T> + Send + 'static,
    {
        let core = self.core.clone();
        let now = self.now();
        blocking(move || f(&core, now).map_err(AdminError::from)).await
    }
}

/// Run blocking work (store access) off the async executor.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, AdminError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AdminError> + Send + 'static,
{
    crate::async_core::off_executor(f).await.map_err(|e| AdminError::internal(format!("admin task failed: {e}")))?
}

/// How many API tokens a tenant has (at most 10,000 are counted). Blocking.
pub(crate) fn token_count(core: &Core, tenant: &TenantId) -> Result<usize, AdminError> {
    Ok(auth::list(core, tenant, None, 10_000)?.len())
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (the OpenAPI description).
    Public,
    /// The operator token only.
    Operator,
    /// A token of the tenant in the path, or the operator token.
    Tenant,
}

/// A query parameter of a route, for the OpenAPI description.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    /// JSON schema type: "string", "integer" or "boolean".
    pub kind: &'static str,
    pub required: bool,
    pub description: &'static str,
}

pub(crate) const fn param(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param { name, kind, required: false, description }
}

pub(crate) const fn required(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param { name, kind, required: true, description }
}

/// One route as the router serves it and the description documents it.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    pub method: Method,
    /// Relative to `/api/v1`, with `{param}` placeholders as axum writes them.
    pub path: &'static str,
    pub access: Access,
    pub tag: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub query: &'static [Param],
    /// Schema of the JSON body (a wire type), if the route reads one.
    pub body: Option<SchemaFn>,
    /// Content types of a body taken as raw bytes (an image), if the route
    /// reads one instead of JSON.
    pub raw_body: &'static [&'static str],
    /// Whether the body may be left out (every field optional).
    pub body_optional: bool,
    /// Success status.
    pub status: u16,
    /// Schema of the success body (a wire type); `None` for an empty body.
    pub response: Option<SchemaFn>,
    /// The success body is JSON lines, each of `response`'s schema.
    pub json_lines: bool,
    /// The answer is raw bytes (`application/octet-stream`), not JSON.
    pub bytes_response: bool,
}

/// Documentation given at registration; see [`RouteDoc`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Doc {
    operation_id: &'static str,
    summary: &'static str,
    query: &'static [Param],
    body: Option<SchemaFn>,
    raw_body: &'static [&'static str],
    body_optional: bool,
    status: u16,
    response: Option<SchemaFn>,
    json_lines: bool,
    bytes_response: bool,
}

pub(crate) const fn doc(operation_id: &'static str, summary: &'static str) -> Doc {
    Doc {
        operation_id,
        summary,
        query: &[],
        body: None,
        raw_body: &[],
        body_optional: false,
        status: 200,
        response: None,
        json_lines: false,
        bytes_response: false,
    }
}

impl Doc {
    /// The route reads a JSON body of wire type `T`.
    pub(crate) const fn body<T: schemars::JsonSchema>(mut self) -> Doc {
        self.body = Some(wire::schema_of::<T>);
        self
    }

    /// The body is raw bytes of one of these content types.
    pub(crate) const fn raw_body(mut self, content_types: &'static [&'static str]) -> Doc {
        self.raw_body = content_types;
        self
    }

    /// The route reads a JSON body of wire type `T`, which may be left out.
    pub(crate) const fn optional_body<T: schemars::JsonSchema>(mut self) -> Doc {
        self.body = Some(wire::schema_of::<T>);
        self.body_optional = true;
        self
    }

    pub(crate) const fn query(mut self, query: &'static [Param]) -> Doc {
        self.query = query;
        self
    }

    /// 200 with a body of wire type `T`.
    pub(crate) const fn ok<T: schemars::JsonSchema>(mut self) -> Doc {
        self.response = Some(wire::schema_of::<T>);
        self
    }

    /// 200 with the raw bytes of a file.
    pub(crate) const fn ok_bytes(mut self) -> Doc {
        self.response = None;
        self.bytes_response = true;
        self
    }

    /// 200 with JSON lines, each of wire type `T`.
    pub(crate) const fn json_lines<T: schemars::JsonSchema>(mut self) -> Doc {
        self.response = Some(wire::schema_of::<T>);
        self.json_lines = true;
        self
    }

    /// 201 with a body of wire type `T`.
    pub(crate) const fn created<T: schemars::JsonSchema>(mut self) -> Doc {
        self.status = 201;
        self.response = Some(wire::schema_of::<T>);
        self
    }

    pub(crate) const fn no_content(mut self) -> Doc {
        self.status = 204;
        self.response = None;
        self
    }
}

/// Collects routes into one router per [`Access`] and their documentation,
/// in the same call, so that nothing is served undocumented.
pub(crate) struct Routes {
    access: Access,
    tag: &'static str,
    public: Router<AdminState>,
    operator: Router<AdminState>,
    tenant: Router<AdminState>,
    docs: Vec<RouteDoc>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            access: Access::Tenant,
            tag: "",
            public: Router::new(),
            operator: Router::new(),
            tenant: Router::new(),
            docs: Vec::new(),
        }
    }

    /// Routes registered next need this access and carry this tag.
    pub(crate) fn section(&mut self, access: Access, tag: &'static str) -> &mut Routes {
        self.access = access;
        self.tag = tag;
        self
    }

    fn add<H, T>(&mut self, method: Method, path: &'static str, handler: H, doc: Doc) -> &mut Routes
    where
        H: Handler<T, AdminState>,
        T: 'static,
    {
        let filter = match method.as_str() {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            other => unreachable!("admin routes use no {other} method"),
        };
        let router = match self.access {
            Access::Public => &mut self.public,
            Access::Operator => &mut self.operator,
            Access::Tenant => &mut self.tenant,
        };
        *router = std::mem::take(router).route(path, on(filter, handler));
        self.docs.push(RouteDoc {
            method,
            path,
            access: self.access,
            tag: self.tag,
            operation_id: doc.operation_id,
            summary: doc.summary,
            query: doc.query,
            body: doc.body,
            raw_body: doc.raw_body,
            body_optional: doc.body_optional,
            status: doc.status,
            response: doc.response,
            json_lines: doc.json_lines,
            bytes_response: doc.bytes_response,
        });
        self
    }

    pub(crate) fn get<H: Handler<T, AdminState>, T: 'static>(
        &mut self,
        path: &'static str,
        h: H,
        d: Doc,
    ) -> &mut Routes {
        self.add(Method::GET, path, h, d)
    }

    pub(crate) fn post<H: Handler<T, AdminState>, T: 'static>(
        &mut self,
        path: &'static str,
        h: H,
        d: Doc,
    ) -> &mut Routes {
        self.add(Method::POST, path, h, d)
    }

    pub(crate) fn put<H: Handler<T, AdminState>, T: 'static>(
        &mut self,
        path: &'static str,
        h: H,
        d: Doc,
    ) -> &mut Routes {
        self.add(Method::PUT, path, h, d)
    }

    pub(crate) fn patch<H: Handler<T, AdminState>, T: 'static>(
        &mut self,
        path: &'static str,
        h: H,
        d: Doc,
    ) -> &mut Routes {
        self.add(Method::PATCH, path, h, d)
    }

    pub(crate) fn delete<H: Handler<T, AdminState>, T: 'static>(
        &mut self,
        path: &'static str,
        h: H,
        d: Doc,
    ) -> &mut Routes {
        self.add(Method::DELETE, path, h, d)
    }
}

fn build() -> Routes {
    let mut r = Routes::new();
    openapi::routes(&mut r);
    tenants::routes(&mut r);
    products::routes(&mut r);
    images::routes(&mut r);
    collections::routes(&mut r);
    locations::routes(&mut r);
    inventory::routes(&mut r);
    promotions::routes(&mut r);
    orders::routes(&mut r);
    customers::routes(&mut r);
    segments::routes(&mut r);
    campaigns::routes(&mut r);
    channels::routes(&mut r);
    files::routes(&mut r);
    events::routes(&mut r);
    mail::routes(&mut r);
    sync::routes(&mut r);
    calls::routes(&mut r);
    satisfaction::routes(&mut r);
    shop::routes(&mut r);
    users::routes(&mut r);
    r
}

/// Every route of the admin API, as documented and served.
pub fn route_docs() -> Vec<RouteDoc> {
    build().docs
}

/// The OpenAPI 3.1 description of the admin API (what `/openapi.json` serves).
pub fn openapi_spec() -> serde_json::Value {
    openapi::spec(&route_docs())
}

/// The admin API, with paths relative to where it is nested (`/api/v1`).
pub fn admin_router(state: AdminState) -> Router {
    let r = build();
    // Route layers run after routing, so the middleware sees the matched
    // path parameters; the last one added runs first: authentication, then
    // idempotency, then the handler. Before all of them, for every request,
    // the body is read within its size limit and time (`extract::body_guard`),
    // so a slow or oversized upload costs no token lookup.
    let operator = r
        .operator
        .route_layer(from_fn_with_state(state.clone(), idempotency::middleware))
        .route_layer(from_fn_with_state(state.clone(), auth::operator));
    let tenant = r
        .tenant
        .route_layer(from_fn_with_state(state.clone(), idempotency::middleware))
        .route_layer(from_fn_with_state(state.clone(), auth::tenant));
    Router::new()
        .merge(r.public)
        .merge(operator)
        .merge(tenant)
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), extract::body_guard))
        .with_state(state)
}
