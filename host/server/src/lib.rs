//! The HTTP front of omnistore (axum): tenancy resolution and routing of
//! storefront pages, feeds and webhooks to plugin installations.
//!
//! Requests reach a tenant by host name (a domain configured for the
//! tenant) or, where enabled for development, by path (`/t/{tenant}/…`) on
//! the host's own names ([`PathRouting`]). Within a tenant, the installation whose
//! mount path is the longest prefix of the request path answers.

pub mod admin;
mod channels;
pub mod deployment;
mod error;
pub mod host;
pub mod mail_settings;
mod media;
pub mod preview;
pub mod provision;
pub mod registry;
pub mod secrets;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use omnistore_runtime::Runtime;

pub use channels::{BASE_URL_HEADER, PREVIEW_HEADER};
pub use error::AppError;
/// The services, dispatcher and async core handle, which know no HTTP, live in
/// `omnistore-services`; they are re-exported under their old paths.
pub use omnistore_services::{async_core, commerce, dispatcher};
pub use registry::{Mounted, Registry, normalize_mount};

/// Largest request body routed to a plugin.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// What bounds the requests and streamed responses of the channel routes.
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    /// Largest request body routed to a plugin.
    pub max_body_bytes: usize,
    /// How long a client may take to send its request body.
    pub body_read_timeout: Duration,
    /// Caps of one streamed (continued) response.
    pub stream: StreamLimits,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_read_timeout: Duration::from_secs(15),
            stream: StreamLimits::default(),
        }
    }
}

/// A plugin may continue a response in pages; these end it when it would not.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Pages after the first.
    pub max_pages: u64,
    /// Bytes of the whole body, the first page included.
    pub max_bytes: u64,
    /// Wall time from the first page to the last.
    pub max_duration: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits { max_pages: 100_000, max_bytes: 1 << 30, max_duration: Duration::from_secs(300) }
    }
}

/// Where `/t/{tenant}/…` path routing is answered.
///
/// Path routing lets any page of any tenant be served under one host name,
/// so it is a development convenience only: on a tenant's own domain it would
/// let another tenant's plugin serve pages and cookies in that domain's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PathRouting {
    /// Tenants are found by host name only (production).
    #[default]
    Off,
    /// Also by path, on these host names of the host itself (lowercase, no port).
    OnHostNames(Vec<String>),
}

impl PathRouting {
    /// Path routing on the given names of the host itself.
    pub fn on<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> PathRouting {
        PathRouting::OnHostNames(names.into_iter().map(|n| n.as_ref().to_ascii_lowercase()).collect())
    }

    fn allows(&self, host: &str) -> bool {
        match self {
            PathRouting::Off => false,
            PathRouting::OnHostNames(names) => names.iter().any(|n| n == host),
        }
    }
}

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub runtime: Runtime,
    pub registry: Arc<Registry>,
    pub limits: EdgeLimits,
    pub path_routing: PathRouting,
    /// Product images, answered at `/media/…` on every tenant's names.
    pub media: Option<Arc<omnistore_media::MediaStore>>,
    /// Verifies preview tokens; without it no request is a preview.
    pub preview: Option<preview::PreviewKey>,
    /// The scheme shoppers reach the host by, for `x-omnistore-base-url`.
    pub scheme: PublicScheme,
}

/// How shoppers reach the host: through TLS (the host behind a terminating
/// proxy, as in production), or plain HTTP (development).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicScheme {
    #[default]
    Https,
    Http,
}

impl PublicScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            PublicScheme::Https => "https",
            PublicScheme::Http => "http",
        }
    }
}

impl AppState {
    /// Routing by host name only, default limits, reached over HTTPS.
    pub fn new(runtime: Runtime, registry: Arc<Registry>) -> Self {
        AppState {
            runtime,
            registry,
            limits: EdgeLimits::default(),
            path_routing: PathRouting::Off,
            media: None,
            preview: None,
            scheme: PublicScheme::Https,
        }
    }

    /// Honour preview links signed with this key.
    pub fn with_preview(mut self, key: preview::PreviewKey) -> Self {
        self.preview = Some(key);
        self
    }

    pub fn with_scheme(mut self, scheme: PublicScheme) -> Self {
        self.scheme = scheme;
        self
    }

    pub fn with_limits(mut self, limits: EdgeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Serve the product images of this store.
    pub fn with_media(mut self, media: Arc<omnistore_media::MediaStore>) -> Self {
        self.media = Some(media);
        self
    }

    pub fn with_path_routing(mut self, path_routing: PathRouting) -> Self {
        self.path_routing = path_routing;
        self
    }
}

/// The host's router.
pub fn router(state: AppState) -> Router {
    Router::new().route("/healthz", get(|| async { "ok" })).fallback(channels::route).with_state(state)
}
