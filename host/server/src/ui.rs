//! The merchant's admin in the browser, at `/admin` on the host's own names.
//!
//! Server-rendered HTML: templates compiled into the binary (minijinja,
//! `include_str!`, HTML autoescape), plain forms answered by POST-redirect-GET,
//! so every page and every form works without JavaScript. A tenant's user
//! signs in with an e-mail address and password (`crate::admin::users`); the
//! operator signs in with the operator token and sees the agency view.
//! Sessions and CSRF: [`session`]. Italian and English: [`i18n`].
//!
//! The pages call the same core functions the JSON API's handlers call, on
//! the blocking pool, with the tenant taken from the session only: an id of
//! another tenant's record is simply not found.

mod agency;
mod agency_tenant;
mod campaign;
mod campaigns;
mod channel_calls;
mod channel_health;
mod channel_install;
mod channels;
mod conversion;
mod customers;
mod dashboard;
mod forms;
pub(crate) mod i18n;
mod inventory;
mod orders;
mod products;
mod promotion;
mod promotions;
mod render;
mod segments;
pub(crate) mod session;
mod shop_settings;
mod signin;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tracing::Instrument;

use crate::admin::{AdminError, AdminState};

pub(crate) use render::Templates;

/// Everything the admin's pages share. Cheap to clone.
#[derive(Clone)]
pub struct UiState {
    pub(crate) admin: AdminState,
    pub(crate) templates: Arc<Templates>,
    pub(crate) throttle: Arc<signin::Throttle>,
    /// The deployment is reached over HTTPS: session cookies are `Secure`.
    pub(crate) https: bool,
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiState").field("https", &self.https).finish_non_exhaustive()
    }
}

impl UiState {
    /// The admin's pages over the admin API's state (core, media, clock).
    pub fn new(admin: AdminState) -> anyhow::Result<UiState> {
        Ok(UiState {
            admin,
            templates: Arc::new(Templates::new()?),
            throttle: Arc::new(signin::Throttle::default()),
            https: false,
        })
    }

    /// Whether shoppers and merchants reach this host over HTTPS (behind a
    /// terminating proxy): session cookies are then `Secure`.
    pub fn with_https(mut self, https: bool) -> UiState {
        self.https = https;
        self
    }
}

/// Why a page is not shown as asked.
#[derive(Debug)]
pub(crate) enum UiError {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// Somewhere else (303).
    Redirect(String),
    /// A form without this session's CSRF token: nothing was done.
    Csrf,
    Admin(AdminError),
}

impl From<AdminError> for UiError {
    fn from(e: AdminError) -> UiError {
        UiError::Admin(e)
    }
}

impl From<omnistore_core::CoreError> for UiError {
    fn from(e: omnistore_core::CoreError) -> UiError {
        UiError::Admin(e.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        // These pages are shown where no locale is at hand (the extractors
        // failed before the handler ran), so they speak both languages.
        let mut incident = String::new();
        let (status, en, it) = match self {
            UiError::SignIn => return Redirect::to("/admin/sign-in").into_response(),
            UiError::Redirect(to) => return Redirect::to(&to).into_response(),
            UiError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this admin, so nothing was changed. Go back, reload the page and try again.",
                "Questo modulo è scaduto o non viene da questo pannello, quindi non è stato cambiato nulla. Torna indietro, ricarica la pagina e riprova.",
            ),
            UiError::Admin(e) if e.status == StatusCode::NOT_FOUND => (
                StatusCode::NOT_FOUND,
                "There is nothing here: it does not exist in this shop.",
                "Qui non c'è nulla: non esiste in questo negozio.",
            ),
            UiError::Admin(e) if e.status.is_client_error() => {
                incident = format!("<p>{}</p>", render::escape(&e.message));
                (
                    e.status,
                    "This could not be done, and nothing was changed.",
                    "Non è stato possibile farlo, e non è stato cambiato nulla.",
                )
            }
            UiError::Admin(e) => {
                // The detail goes to the log with an id; the page shows only the id.
                incident = format!("<p>Id: <code>{}</code></p>", crate::error::incident(e.status, &e.message));
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side; nothing you did caused it. Try again in a moment.",
                    "Qualcosa non ha funzionato da parte nostra. Riprova tra un momento.",
                )
            }
        };
        let body = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>omnistore admin</title><link rel=\"stylesheet\" href=\"/admin/assets/admin.css\"></head>\
             <body><main class=\"narrow\"><h1>omnistore</h1><p role=\"alert\">{en}</p><p lang=\"it\">{it}</p>{incident}\
             <p><a href=\"/admin\">Admin</a></p></main></body></html>"
        );
        (status, Html(body)).into_response()
    }
}

const CSS: &str = include_str!("ui/assets/admin.css");
const SCRIPT: &str = include_str!("ui/assets/admin.js");

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], SCRIPT)
        .into_response()
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], CSS)
        .into_response()
}

/// A span per request, and the headers every admin page carries: never
/// cached (they show private data), never framed, scripts only from here.
async fn edge(request: Request, next: Next) -> Response {
    let span = tracing::info_span!("admin.ui", method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

async fn home(State(_): State<UiState>, session: Option<session::Session>) -> Result<Response, UiError> {
    match session {
        None => Err(UiError::SignIn),
        Some(s) if s.tenant().is_none() => Err(UiError::Redirect("/admin/agency".into())),
        Some(_) => Err(UiError::Redirect("/admin/orders".into())),
    }
}

/// The admin's pages, with paths as they are served (`/admin/…`).
pub fn ui_router(state: UiState) -> Router {
    let upload_limit = state.admin.media_limit().max(1 << 20) + (64 << 10);
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/assets/admin.css", get(css))
        .route("/admin/assets/admin.js", get(script))
        .route("/admin/sign-in", get(signin::form).post(signin::sign_in))
        .route("/admin/sign-in/operator", post(signin::sign_in_operator))
        .route("/admin/sign-out", post(signin::sign_out))
        .route("/admin/language", get(signin::language))
        .route("/admin/agency", get(agency::view))
        .route("/admin/agency/{tenant}", get(agency_tenant::detail))
        .route("/admin/agency/{tenant}/tokens", post(agency_tenant::issue))
        .route("/admin/agency/{tenant}/tokens/{token}/revoke", post(agency_tenant::revoke))
        .route("/admin/dashboard", get(dashboard::view))
        .route("/admin/orders", get(orders::list))
        .route("/admin/orders/{order}", get(orders::detail))
        .route("/admin/orders/{order}/return", post(orders::receive_return))
        .route("/admin/orders/{order}/{action}", post(orders::act))
        .route("/admin/products", get(products::list).post(products::create))
        .route("/admin/products/new", get(products::new_form))
        .route("/admin/products/{product}", get(products::edit).post(products::update))
        .route("/admin/products/{product}/publications", post(products::publications))
        .route(
            "/admin/products/{product}/images",
            post(products::upload_image).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/admin/products/{product}/variants", post(products::add_variant))
        .route("/admin/products/{product}/images/{action}", post(products::arrange_image))
        .route("/admin/media/{image}/{file}", get(products::media))
        .route("/admin/customers", get(customers::list))
        .route("/admin/customers/{customer}", get(customers::detail))
        .route("/admin/channels", get(channels::list))
        .route("/admin/channels/new", get(channel_install::new).post(channel_install::install))
        .route("/admin/channels/{channel}", get(channels::detail))
        .route("/admin/channels/{channel}/switch", post(channels::switch))
        .route("/admin/channels/{channel}/settings", post(channels::save))
        .route("/admin/channels/{channel}/dead-letters/{delivery}/replay", post(channel_health::replay))
        .route("/admin/channels/{channel}/publish-all", post(channel_health::publish_all))
        .route("/admin/inventory", get(inventory::grid))
        .route("/admin/inventory/adjust", post(inventory::adjust))
        .route("/admin/inventory/transfer", post(inventory::transfer))
        .route("/admin/inventory/{variant}", get(inventory::ledger))
        .route("/admin/promotions", get(promotions::list).post(promotions::create))
        .route("/admin/promotions/{promotion}", get(promotion::edit).post(promotion::update))
        .route("/admin/segments", get(segments::list).post(segments::create))
        .route("/admin/segments/count", post(segments::count))
        .route("/admin/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/admin/campaigns/new", get(campaigns::compose))
        .route("/admin/campaigns/{campaign}", get(campaign::detail))
        .route("/admin/campaigns/{campaign}/send", post(campaign::send))
        .route("/admin/shop", get(shop_settings::view).post(shop_settings::save))
        .layer(from_fn(edge))
        .with_state(state)
}

/// Serve `ui` for `/admin…` on the host's own names (`[http] host_names`),
/// everything else through `router`. On a tenant's domain `/admin` stays the
/// storefront's: the admin's session cookie must never be sent to a host
/// name whose pages a plugin writes.
pub fn on_own_names(router: Router, ui: Router, host_names: Vec<String>) -> Router {
    let names: Arc<[String]> = host_names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
    router.layer(from_fn(move |request: Request, next: Next| {
        let (ui, names) = (ui.clone(), names.clone());
        async move {
            let path = request.uri().path();
            let admin = path == "/admin" || path.starts_with("/admin/");
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| request.uri().host())
                .map(crate::registry::normalize_host)
                .unwrap_or_default();
            if admin && names.contains(&host) {
                use tower::ServiceExt;
                return match ui.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
            }
            next.run(request).await
        }
    }))
}
