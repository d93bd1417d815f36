//! The admin in the browser through its router (`oneshot`): sign-in, wrong
//! passwords and their throttle, CSRF refusals, tenant isolation by id,
//! every page in Italian and English, bad input next to its field with
//! nothing changed, and every page through the Nu HTML checker.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use omnistore_core::{Core, OrderStatus, RetryPolicy, TenantId};
use omnistore_server::Registry;
use omnistore_server::admin::{AdminState, admin_router};
use omnistore_server::secrets::SecretKeys;
use omnistore_server::ui::{UiState, on_own_names, ui_router};
use omnistore_storage::{KvStore, MemoryStore};
use serde_json::json;
use tower::ServiceExt;

use super::{Api, FakeInstaller, OPERATOR, START_MS, World, seed};
use async_trait::async_trait;
use omnistore_core::Channel;
use omnistore_server::admin::{AdminError, CatalogueEntry, ChannelInstaller, InstallRequest};

mod ui_browser;
mod ui_calls;
mod ui_catalog;
mod ui_marketing;
mod ui_operations;
mod ui_shop;

pub(crate) const PASSWORD: &str = "correct horse battery";

/// The admin API and the admin's pages over one store, with a media store.
pub(crate) struct Admin {
    pub api: Api,
    pub ui: Router,
    /// The host-name table, filled as the host fills it from the
    /// deployment's `[[tenants]] domains` (each shop gets one in `shop`).
    pub registry: Arc<Registry>,
    pub _media: tempfile::TempDir,
}

impl Admin {
    pub(crate) fn new() -> Admin {
        let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let core =
            Core::new(store.clone()).with_retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
        let clock = Arc::new(AtomicI64::new(START_MS));
        let c = clock.clone();
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let media = tempfile::tempdir().unwrap();
        let registry = Arc::new(Registry::new());
        let installer = WithManifests(FakeInstaller { core: core.clone(), gate: gate.clone() }, registry.clone());
        let state = AdminState::new(core.clone(), OPERATOR)
            .unwrap()
            .with_clock(move || c.load(Ordering::SeqCst))
            .with_installer(Arc::new(installer))
            .with_secrets(Arc::new(SecretKeys::random().unwrap()))
            .with_media(Arc::new(omnistore_media::MediaStore::new(media.path().to_path_buf())));
        let ui = ui_router(UiState::new(state.clone()).unwrap());
        let router = Router::new().nest("/api/v1", admin_router(state));
        Admin { api: Api { router, store, core, clock, gate }, ui, registry, _media: media }
    }

    /// A seeded shop with a user who may sign in; its world.
    pub(crate) async fn shop(&self, tenant: &str, marker: &str) -> World {
        let world = seed(&self.api, tenant, marker).await;
        self.registry.add_tenant(TenantId::new(tenant).unwrap(), &[format!("shop.{tenant}.example")]);
        let r = self
            .api
            .post(
                &format!("/tenants/{tenant}/users"),
                &world.token,
                json!({ "email": format!("owner@{tenant}.example"), "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        world
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Page {
        let response = self.ui.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page { status, headers, html: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub(crate) async fn get(&self, path: &str, browser: &Browser) -> Page {
        let request = browser.request("GET", path).body(Body::empty()).unwrap();
        self.send(request).await
    }

    pub(crate) async fn post(&self, path: &str, browser: &Browser, fields: &[(&str, &str)]) -> Page {
        let body = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let request = browser
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Sign in as `tenant`'s owner; the browser keeps the session.
    pub(crate) async fn sign_in(&self, tenant: &str, language: &str) -> Browser {
        let mut browser = Browser::new(language);
        let form = self.get("/admin/sign-in", &browser).await;
        browser.keep(&form);
        let token = form.hidden("csrf");
        let email = format!("owner@{tenant}.example");
        let r = self
            .post(
                "/admin/sign-in",
                &browser,
                &[("csrf", &token), ("shop", tenant), ("email", &email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
        browser.keep(&r);
        assert!(browser.cookies.contains_key("omnistore_admin"), "no session cookie: {:?}", r.headers);
        browser
    }

    fn order_status(&self, tenant: &str, order: &str) -> OrderStatus {
        self.api.core.get_order(&TenantId::new(tenant).unwrap(), &omnistore_core::OrderId::new(order)).unwrap().status
    }
}

/// The fake installer, which also keeps a manifest for the seeded
/// Instagram channel, so its settings form can be generated, and answers
/// for the host's routing table and a quota of 64 MB a tenant.
struct WithManifests(FakeInstaller, Arc<Registry>);

/// The fixture's tenant storage quota.
pub(crate) const QUOTA_BYTES: u64 = 64 << 20;

const INSTAGRAM_MANIFEST: &str = r#"
[plugin]
id = "instagram"
name = "Instagram"
version = "1.0.0"
publisher = "Tests"
description = "A catalog channel."
contract = "^0.2"

[capabilities]
imports = ["catalog", "orders", "settings"]

[[settings]]
key = "catalog_id"
label = "Catalog id"
required = true

[[settings]]
key = "country"
label = "Country"
default = "IT"

[[settings]]
key = "shop_url"
label = "Shop address"
type = "url"

[[settings]]
key = "language"
label = "Language"
type = "choice"
options = ["it", "en"]
default = "it"

[[settings]]
key = "pins"
label = "Pin new products"
type = "flag"
default = "off"

[[settings]]
key = "kept"
label = "Events remembered"
type = "integer"
min = 100
max = 100000

[[settings]]
key = "access_token"
label = "Access token"
secret = true
required = true
"#;

#[async_trait]
impl ChannelInstaller for WithManifests {
    async fn install(&self, tenant: &TenantId, request: InstallRequest, now_ms: i64) -> Result<Channel, AdminError> {
        if let Some(id) = &request.catalog
            && let Some(entry) = self.catalogue().into_iter().find(|e| e.manifest.id == *id)
        {
            return super::install_offered(&self.0.core, tenant, &entry.manifest, request, now_ms);
        }
        self.0.install(tenant, request, now_ms).await
    }

    /// Every package of the catalogue keeps its manifest: the seeded
    /// Instagram channel's, and those a merchant installs from it.
    async fn manifest(&self, _tenant: &TenantId, channel: &Channel) -> Option<omnistore_runtime::Manifest> {
        self.catalogue().into_iter().find(|e| e.manifest.id == channel.plugin_id).map(|e| e.manifest)
    }

    /// The fake's catalogue, and the Instagram package the seeded shops have.
    fn catalogue(&self) -> Vec<CatalogueEntry> {
        let mut offered = self.0.catalogue();
        offered.push(CatalogueEntry { manifest: omnistore_runtime::Manifest::parse(INSTAGRAM_MANIFEST).unwrap() });
        offered
    }

    fn domains(&self, tenant: &TenantId) -> Vec<String> {
        self.1.domains_of(tenant)
    }

    fn tenant_storage_quota_bytes(&self) -> u64 {
        QUOTA_BYTES
    }

    fn recent_calls(&self, tenant: &TenantId, channel: &omnistore_core::ChannelId) -> omnistore_runtime::CallReport {
        self.0.recent_calls(tenant, channel)
    }
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// A browser as far as these tests need one: its language and cookies.
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    pub language: String,
    pub cookies: std::collections::BTreeMap<String, String>,
    pub forwarded_https: bool,
}

impl Browser {
    pub(crate) fn new(language: &str) -> Browser {
        Browser { language: language.into(), cookies: Default::default(), forwarded_https: false }
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path).header(header::ACCEPT_LANGUAGE, &self.language);
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            b = b.header(header::COOKIE, cookie);
        }
        if self.forwarded_https {
            b = b.header("x-forwarded-proto", "https");
        }
        b
    }

    /// Take the cookies a response sets (an empty value removes one).
    pub(crate) fn keep(&mut self, page: &Page) {
        for value in page.headers.get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let (name, rest) = value.split_once('=').unwrap();
            let v = rest.split(';').next().unwrap();
            if v.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), v.to_owned());
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// The value of the first hidden input named `name`.
    pub(crate) fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {}", self.html)) + marker.len();
        self.html[start..].split('"').next().unwrap().to_owned()
    }

    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }

    /// Whether the page shows an error next to the field `name`.
    fn error_at(&self, name: &str) -> bool {
        self.html.contains(&format!("id=\"e-{name}\"")) && self.html.contains(&format!("aria-describedby=\"e-{name}\""))
    }
}

#[tokio::test]
async fn a_user_signs_in_with_the_password_and_a_wrong_one_is_refused() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "ALPHA-ONLY").await;

    // The password is kept only as an Argon2id hash.
    let stored: Vec<String> = admin
        .api
        .dump()
        .into_iter()
        .filter(|(k, _)| k.starts_with(b"admin/user/alpha/"))
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
        .collect();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].contains("$argon2id$") && !stored[0].contains(PASSWORD), "{}", stored[0]);

    // Not signed in: every page sends the browser to sign in.
    let mut browser = Browser::new("en");
    let r = admin.get("/admin/orders", &browser).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/sign-in"));

    let form = admin.get("/admin/sign-in", &browser).await;
    assert_eq!(form.status, StatusCode::OK);
    browser.keep(&form);
    let token = form.hidden("csrf");
    let wrong = admin
        .post(
            "/admin/sign-in",
            &browser,
            &[("csrf", &token), ("shop", "alpha"), ("email", "owner@alpha.example"), ("password", "wrong password!")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("do not match a user of this shop"), "{}", wrong.html);
    assert!(!wrong.set_cookies().iter().any(|c| c.starts_with("omnistore_admin=")), "a wrong password got a session");

    // The right one, with the e-mail address in another case.
    browser.keep(&wrong);
    let token = wrong.hidden("csrf");
    let right = admin
        .post(
            "/admin/sign-in",
            &browser,
            &[("csrf", &token), ("shop", "alpha"), ("email", "Owner@Alpha.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.html);
    let session = right.set_cookies().into_iter().find(|c| c.starts_with("omnistore_admin=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/admin"));
    assert!(!session.contains("Secure"), "plain HTTP: a Secure cookie would never come back: {session}");
    browser.keep(&right);
    let orders = admin.get("/admin/orders", &browser).await;
    assert_eq!(orders.status, StatusCode::OK);
    assert!(orders.html.contains(&format!("/admin/orders/{}", a.order_pickup)), "{}", orders.html);

    // Signing out ends the session in the store: the old cookie is dead.
    let csrf = orders.hidden("csrf");
    let old = browser.clone();
    let out = admin.post("/admin/sign-out", &browser, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!admin.api.dump().iter().any(|(k, _)| k.starts_with(b"admin/session/alpha/")));
    let r = admin.get("/admin/orders", &old).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/sign-in"));
}

#[tokio::test]
async fn the_session_cookie_is_secure_over_tls_and_sessions_expire() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    let mut browser = Browser::new("en");
    browser.forwarded_https = true;
    let form = admin.get("/admin/sign-in", &browser).await;
    browser.keep(&form);
    let r = admin
        .post(
            "/admin/sign-in",
            &browser,
            &[
                ("csrf", &form.hidden("csrf")),
                ("shop", "alpha"),
                ("email", "owner@alpha.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let session = r.set_cookies().into_iter().find(|c| c.starts_with("omnistore_admin=")).unwrap();
    assert!(session.contains("; Secure"), "{session}");
    browser.keep(&r);
    assert_eq!(admin.get("/admin/orders", &browser).await.status, StatusCode::OK);
    // Thirteen hours later the session is over.
    admin.api.clock.fetch_add(13 * 3_600_000, Ordering::SeqCst);
    let r = admin.get("/admin/orders", &browser).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/sign-in"));
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_for_a_while() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    let mut browser = Browser::new("it");
    let mut last = None;
    for _ in 0..6 {
        let form = admin.get("/admin/sign-in", &browser).await;
        browser.keep(&form);
        let r = admin
            .post(
                "/admin/sign-in",
                &browser,
                &[
                    ("csrf", &form.hidden("csrf")),
                    ("shop", "alpha"),
                    ("email", "owner@alpha.example"),
                    ("password", "guess-guess"),
                ],
            )
            .await;
        last = Some(r);
    }
    let locked = last.unwrap();
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.html);
    assert!(locked.html.contains("Troppi tentativi"), "{}", locked.html);
    // Even the right password waits until the lock is over.
    let form = admin.get("/admin/sign-in", &browser).await;
    browser.keep(&form);
    let fields = [
        ("csrf", form.hidden("csrf")),
        ("shop", "alpha".into()),
        ("email", "owner@alpha.example".into()),
        ("password", PASSWORD.into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(admin.post("/admin/sign-in", &browser, &fields).await.status, StatusCode::TOO_MANY_REQUESTS);
    admin.api.clock.fetch_add(31_000, Ordering::SeqCst);
    assert_eq!(admin.post("/admin/sign-in", &browser, &fields).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_form_without_the_sessions_token_changes_nothing() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let page = admin.get(&format!("/admin/orders/{}", a.order_pickup), &browser).await;
    let csrf = page.hidden("csrf");
    let before = admin.api.dump();
    for stale in [None, Some("0".repeat(64)), Some(csrf[..63].to_owned())] {
        let fields: Vec<(&str, &str)> = stale.as_deref().map(|s| vec![("csrf", s)]).unwrap_or_default();
        let r = admin.post(&format!("/admin/orders/{}/ready", a.order_pickup), &browser, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{stale:?}: {}", r.html);
        assert!(r.html.contains("nothing was changed") && r.html.contains("non è stato cambiato nulla"));
    }
    // The sign-in form's own token, too: a sign-in from another site is refused.
    let r = admin.post("/admin/sign-in", &Browser::new("en"), &[("csrf", "x"), ("shop", "alpha")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(admin.api.dump() == before, "a refused form changed the store");
    assert_eq!(admin.order_status("alpha", &a.order_pickup), OrderStatus::Placed);

    // With the token the same button works: the core's transition ran.
    let r = admin.post(&format!("/admin/orders/{}/ready", a.order_pickup), &browser, &[("csrf", &csrf)]).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, &*format!("/admin/orders/{}?done=ready", a.order_pickup))
    );
    assert_eq!(admin.order_status("alpha", &a.order_pickup), OrderStatus::ReadyForPickup);
    let shown = admin.get(r.location(), &browser).await;
    assert!(shown.html.contains("ready for pickup; the customer is told"), "{}", shown.html);
}

#[tokio::test]
async fn a_shops_session_cannot_read_or_change_another_shops_records() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "ALPHA-ONLY").await;
    let b = admin.shop("bravo", "BRAVO-ONLY").await;
    let browser = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/orders", &browser).await.hidden("csrf");
    let of_b = |dump: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<(Vec<u8>, Vec<u8>)> {
        dump.into_iter().filter(|(k, _)| k.starts_with(b"t/bravo/") || k.starts_with(b"admin/user/bravo/")).collect()
    };
    let before = of_b(admin.api.dump());

    for path in [format!("/admin/orders/{}", b.order_pickup), format!("/admin/products/{}", b.product)] {
        let r = admin.get(&path, &browser).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.html);
        assert!(!r.html.contains(&b.marker), "{path} leaked B's data");
    }
    for (path, fields) in [
        (format!("/admin/orders/{}/ready", b.order_pickup), vec![("csrf", csrf.as_str())]),
        (format!("/admin/orders/{}/cancel", b.order_pickup), vec![("csrf", csrf.as_str()), ("reason", "x")]),
        (
            format!("/admin/products/{}", b.product),
            vec![("csrf", csrf.as_str()), ("title", "Stolen"), ("description", ""), ("status", "active")],
        ),
        (format!("/admin/products/{}/publications", b.product), vec![("csrf", csrf.as_str())]),
        (format!("/admin/channels/{}/switch", b.channel), vec![("csrf", csrf.as_str()), ("on", "0")]),
        (
            format!("/admin/channels/{}/settings", b.channel),
            vec![("csrf", csrf.as_str()), ("setting_catalog_id", "stolen")],
        ),
    ] {
        let r = admin.post(&path, &browser, &fields).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.html);
        assert!(!r.html.contains(&b.marker));
    }
    // B's variant in A's adjust form: not found next to the field.
    let r = admin
        .post(
            "/admin/inventory/adjust",
            &browser,
            &[("csrf", &csrf), ("variant", &b.variant), ("location", &b.warehouse), ("delta", "-5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_at("variant") && r.error_at("location"), "{}", r.html);
    assert!(!r.html.contains(&b.marker));
    // B's product with A's image upload.
    let r = admin.send(upload_request(&browser, &b.product, &csrf, png())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);

    assert!(of_b(admin.api.dump()) == before, "B's data changed");
    // A's own lists show nothing of B.
    for path in ["/admin/dashboard", "/admin/orders", "/admin/products", "/admin/inventory", "/admin/customers"] {
        let r = admin.get(path, &browser).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.html.contains(&a.marker) || path == "/admin/orders", "{path}");
        assert!(!r.html.contains(&b.marker), "{path} shows B's data");
    }
}

pub(crate) fn png() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(pixels).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn upload_request(browser: &Browser, product: &str, csrf: &str, image: Vec<u8>) -> Request<Body> {
    let boundary = "----omnistore-test-boundary";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").bytes());
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nA cake\r\n").bytes());
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"cake.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .bytes(),
    );
    body.extend(image);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    browser
        .request("POST", &format!("/admin/products/{product}/images"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

/// Every page of a signed-in shop, with what it must show in each language.
async fn every_page(admin: &Admin, a: &World, language: &str) -> Vec<(String, Page)> {
    let browser = admin.sign_in("alpha", language).await;
    let mut pages = Vec::new();
    for path in [
        "/admin/dashboard".to_owned(),
        "/admin/orders".to_owned(),
        "/admin/orders?status=placed&from=2020-01-01".to_owned(),
        format!("/admin/orders?fulfilment=pickup&location={}", a.shop),
        format!("/admin/orders/{}", a.order_pickup),
        format!("/admin/orders/{}", a.order_shipped),
        "/admin/products".to_owned(),
        "/admin/products?q=cannolo".to_owned(),
        "/admin/products/new".to_owned(),
        format!("/admin/products/{}", a.product),
        "/admin/inventory".to_owned(),
        format!("/admin/inventory/{}", a.variant),
        "/admin/customers".to_owned(),
        "/admin/customers?q=giulia".to_owned(),
        format!("/admin/customers/{}", a.customer),
        "/admin/channels".to_owned(),
        format!("/admin/channels/{}", a.channel),
        "/admin/channels/new".to_owned(),
        "/admin/channels/new?plugin=hello".to_owned(),
        "/admin/promotions".to_owned(),
        format!("/admin/promotions/{}", a.promotion),
        "/admin/segments".to_owned(),
        "/admin/campaigns".to_owned(),
        "/admin/campaigns/new".to_owned(),
        format!("/admin/campaigns/{}", a.campaign),
        format!("/admin/campaigns/{}?customer={}", a.campaign, a.customer),
        "/admin/shop".to_owned(),
    ] {
        let page = admin.get(&path, &browser).await;
        pages.push((path, page));
    }
    pages.push(("/admin/sign-in".to_owned(), admin.get("/admin/sign-in", &Browser::new(language)).await));
    pages
}

#[tokio::test]
async fn every_page_renders_in_italian_and_in_english() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    for (language, words, price) in [
        ("it", ["Ordini", "Prodotti", "Magazzino"], "€\u{a0}2,50"),
        ("en", ["Orders", "Products", "Inventory"], "€2.50"),
    ] {
        for (path, page) in every_page(&admin, &a, language).await {
            assert_eq!(page.status, StatusCode::OK, "{language} {path}: {}", page.html);
            assert!(page.html.contains(&format!("<html lang=\"{language}\">")), "{language} {path}");
            if path != "/admin/sign-in" {
                for word in words {
                    assert!(page.html.contains(word), "{language} {path} lacks {word}");
                }
            }
            if path.contains(&a.order_pickup) || path.contains(&a.product) {
                assert!(page.html.contains(price), "{language} {path} should show {price:?}: {}", page.html);
            }
        }
    }
    // The switch remembers a choice over the browser's language.
    let mut browser = admin.sign_in("alpha", "en").await;
    let r = admin.get("/admin/language?to=it&back=/admin/products", &browser).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/products"));
    browser.keep(&r);
    assert!(admin.get("/admin/products", &browser).await.html.contains("<html lang=\"it\">"));
    let r = admin.get("/admin/language?to=en&back=https://evil.example/", &browser).await;
    assert_eq!(r.location(), "/admin", "the switch never sends the browser to another site");
}

#[tokio::test]
async fn the_operator_signs_in_with_the_token_and_sees_every_shop() {
    let admin = Admin::new();
    admin.shop("alpha", "ALPHA-ONLY").await;
    admin.shop("bravo", "BRAVO-ONLY").await;
    let mut browser = Browser::new("it");
    let form = admin.get("/admin/sign-in", &browser).await;
    browser.keep(&form);
    let wrong =
        admin.post("/admin/sign-in/operator", &browser, &[("csrf", &form.hidden("csrf")), ("token", "nope")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    browser.keep(&wrong);
    let r =
        admin.post("/admin/sign-in/operator", &browser, &[("csrf", &wrong.hidden("csrf")), ("token", OPERATOR)]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/agency"));
    browser.keep(&r);
    let agency = admin.get("/admin/agency", &browser).await;
    assert_eq!(agency.status, StatusCode::OK);
    assert!(agency.html.contains("Shop ALPHA-ONLY") && agency.html.contains("Shop BRAVO-ONLY"), "{}", agency.html);
    assert!(agency.html.contains("Tutti i negozi"));
    // The shop's pages need a shop's session.
    let r = admin.get("/admin/orders", &browser).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/agency"));
    // And a shop's user does not see the agency view.
    let user = admin.sign_in("alpha", "en").await;
    assert_eq!(admin.get("/admin/agency", &user).await.location(), "/admin");
}

#[tokio::test]
async fn bad_input_is_shown_next_to_its_field_and_changes_nothing() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/products/new", &browser).await.hidden("csrf");
    let long = "x".repeat(301);
    let before = admin.api.dump();
    let cases: Vec<(Vec<(&str, &str)>, &[&str])> = vec![
        (vec![("title", ""), ("sku", "NEW-1"), ("price", "3,00"), ("status", "active")], &["title"]),
        (vec![("title", long.as_str()), ("sku", "NEW-1"), ("price", "3"), ("status", "active")], &["title"]),
        (vec![("title", "Torta"), ("sku", ""), ("price", "-3"), ("status", "active")], &["sku", "price"]),
        (vec![("title", "Torta"), ("sku", "NEW-1"), ("price", "tre euro"), ("status", "active")], &["price"]),
        (vec![("title", "Torta"), ("sku", "CAN-S"), ("price", "3"), ("status", "active")], &["sku"]),
        (vec![("title", "Cannolo"), ("sku", "NEW-1"), ("price", "3"), ("status", "active")], &["handle"]),
        (vec![("title", "Torta"), ("sku", "NEW-1"), ("price", "3"), ("status", "sold")], &["status"]),
    ];
    for (mut fields, bad) in cases {
        fields.push(("csrf", csrf.as_str()));
        let r = admin.post("/admin/products", &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        for field in bad {
            assert!(r.error_at(field), "{fields:?}: no message at {field}: {}", r.html);
        }
        if fields.contains(&("price", "tre euro")) {
            assert!(r.html.contains("value=\"tre euro\""), "what was typed stays in the form");
        }
    }
    // A product's page: a variant's price negative, its SKU too long.
    let detail = admin.core_product(&a);
    let mut base: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("title".into(), "Changed".into()),
        ("description".into(), String::new()),
        ("status".into(), "active".into()),
    ];
    for v in &detail.variants {
        base.push((format!("sku_{}", v.id), v.sku.clone()));
        base.push((format!("price_{}", v.id), "9".into()));
    }
    for (name, value) in
        [(format!("price_{}", a.variant), "-1".to_owned()), (format!("sku_{}", a.variant), "S".repeat(65))]
    {
        let sent: Vec<(&str, &str)> =
            base.iter().map(|(k, v)| (k.as_str(), if *k == name { value.as_str() } else { v.as_str() })).collect();
        let r = admin.post(&format!("/admin/products/{}", a.product), &browser, &sent).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.html);
        assert!(r.error_at(&name), "{name}: {}", r.html);
    }
    // Stock: not a number, zero, below what is reserved.
    for (delta, status) in [
        ("abc", StatusCode::UNPROCESSABLE_ENTITY),
        ("0", StatusCode::UNPROCESSABLE_ENTITY),
        ("-1000", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = admin
            .post(
                "/admin/inventory/adjust",
                &browser,
                &[("csrf", &csrf), ("variant", &a.variant), ("location", &a.shop), ("delta", delta)],
            )
            .await;
        assert_eq!(r.status, status, "{delta}: {}", r.html);
        assert!(r.error_at("delta"), "{delta}: {}", r.html);
    }
    // A transfer: not a number, zero, negative, more than there is, to where
    // it leaves, ids that are not this shop's, a note too long.
    let long_note = "n".repeat(201);
    let transfers: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("quantity", "abc")], "quantity"),
        (vec![("quantity", "0")], "quantity"),
        (vec![("quantity", "-2")], "quantity"),
        (vec![("quantity", "1000")], "quantity"),
        (vec![("to", a.warehouse.as_str())], "to"),
        (vec![("t_variant", "var-nope")], "t_variant"),
        (vec![("from", "loc-nope")], "from"),
        (vec![("t_variant", "")], "t_variant"),
        (vec![("t_note", long_note.as_str())], "t_note"),
    ];
    for (change, field) in transfers {
        let mut fields: Vec<(&str, &str)> = vec![
            ("csrf", &csrf),
            ("t_variant", &a.variant),
            ("from", &a.warehouse),
            ("to", &a.shop),
            ("quantity", "1"),
        ];
        for (k, v) in change {
            fields.retain(|(name, _)| *name != k);
            fields.push((k, v));
        }
        let r = admin.post("/admin/inventory/transfer", &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(field), "{fields:?}: no message at {field}: {}", r.html);
    }
    // A return: not a number, negative, more than left with the order, no
    // line at all, no location or another shop's, a disposition made up.
    let shipped = format!("/admin/orders/{}/return", a.order_shipped);
    let returns: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("qty_1", "abc")], "qty_1"),
        (vec![("qty_1", "-1")], "qty_1"),
        (vec![("qty_1", "3")], "qty_1"),
        (vec![("qty_1", "")], "qty_1"),
        (vec![("location", "")], "location"),
        (vec![("location", "loc-nope")], "location"),
        (vec![("disp_1", "burn")], "disp_1"),
    ];
    for (change, field) in returns {
        let mut fields: Vec<(&str, &str)> =
            vec![("csrf", &csrf), ("location", &a.shop), ("qty_1", "1"), ("disp_1", "restock")];
        for (k, v) in change {
            fields.retain(|(name, _)| *name != k);
            fields.push((k, v));
        }
        let r = admin.post(&shipped, &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(field), "{fields:?}: no message at {field}: {}", r.html);
    }
    let r = admin.get("/admin/orders?fulfilment=drone&location=loc-nope", &browser).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_at("fulfilment") && r.error_at("location"), "{}", r.html);
    // An upload that is not an image.
    let r = admin.send(upload_request(&browser, &a.product, &csrf, b"not an image".to_vec())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.error_at("image"), "{}", r.html);
    assert!(admin.api.dump() == before, "refused input changed the store");
}

impl Admin {
    fn core_product(&self, w: &World) -> omnistore_core::ProductDetail {
        let t = TenantId::new(w.tenant.as_str()).unwrap();
        self.api.core.get_product(&t, &omnistore_core::ProductId::new(w.product.as_str())).unwrap()
    }
}

#[tokio::test]
async fn products_are_created_edited_published_and_pictured_and_stock_adjusted() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "it").await;
    let csrf = admin.get("/admin/products/new", &browser).await.hidden("csrf");
    let r = admin
        .post(
            "/admin/products",
            &browser,
            &[
                ("csrf", &csrf),
                ("title", "Babà al rum"),
                ("handle", ""),
                ("description", "Soffice"),
                ("sku", "BABA-1"),
                ("price", "3,50"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = r.location().trim_start_matches("/admin/products/").split('?').next().unwrap().to_owned();
    let t = TenantId::new("alpha").unwrap();
    let made = admin.api.core.get_product(&t, &omnistore_core::ProductId::new(id.as_str())).unwrap();
    assert_eq!((made.product.handle.as_str(), made.variants[0].price.amount_minor), ("baba-al-rum", 350));
    let page = admin.get(r.location(), &browser).await;
    assert!(page.html.contains("Il prodotto è stato creato") && page.html.contains("value=\"3,50\""), "{}", page.html);

    // Publish it on the shop's channel.
    let r = admin
        .post(
            &format!("/admin/products/{id}/publications"),
            &browser,
            &[("csrf", &csrf), (&format!("channel_{}", a.channel), "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        admin.api.core.is_published(&t, &made.product.id, &omnistore_core::ChannelId::new(a.channel.as_str())).unwrap()
    );

    // An image, shown back through the admin.
    let r = admin.send(upload_request(&browser, &id, &csrf, png())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = admin.get(&format!("/admin/products/{id}"), &browser).await;
    let src = page
        .html
        .split("<img src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    assert!(src.starts_with("/admin/media/"), "{src}");
    let image = admin.get(&src, &browser).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.headers[header::CONTENT_TYPE], "image/png");

    // Stock at the shop: +7, then the grid shows it.
    let shop_loc = a.shop.clone();
    let r = admin
        .post(
            "/admin/inventory/adjust",
            &browser,
            &[("csrf", &csrf), ("variant", made.variants[0].id.as_ref()), ("location", &shop_loc), ("delta", "7")],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/inventory?done=adjusted"));
    let level = admin
        .api
        .core
        .stock_level(&t, &made.variants[0].id, &omnistore_core::LocationId::new(shop_loc.as_str()))
        .unwrap();
    assert_eq!(level.on_hand, 7);
}

#[tokio::test]
async fn the_admin_answers_only_on_the_hosts_own_names() {
    let admin = Admin::new();
    let storefront = Router::new().fallback(|| async { "the storefront" });
    let router = on_own_names(storefront, admin.ui.clone(), vec!["localhost".into()]);
    let ask = |host: &'static str, path: &'static str| {
        let router = router.clone();
        async move {
            let response = router
                .oneshot(Request::get(path).header(header::HOST, host).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let (status, body) = ask("localhost:8080", "/admin/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<form"), "{body}");
    let (_, body) = ask("shop.example", "/admin/sign-in").await;
    assert_eq!(body, "the storefront");
    let (_, body) = ask("localhost", "/administration").await;
    assert_eq!(body, "the storefront");
}

/// The HTML of every page, error states included, through the Nu HTML checker.
#[tokio::test]
async fn every_admin_page_passes_the_nu_html_checker() {
    let judges = omnistore_judges::Judges::find().unwrap();
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    ui_operations::report_sync_error(&admin, &a);
    let mut pages: Vec<(String, String)> = Vec::new();
    for language in ["it", "en"] {
        for (path, page) in every_page(&admin, &a, language).await {
            pages.push((format!("{language} {path}"), page.html));
        }
    }
    let browser = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/orders", &browser).await.hidden("csrf");
    let bad_product = admin.post("/admin/products", &browser, &[("csrf", &csrf), ("title", ""), ("price", "-1")]).await;
    let bad_stock = admin.post("/admin/inventory/adjust", &browser, &[("csrf", &csrf), ("delta", "x")]).await;
    let bad_transfer = admin
        .post(
            "/admin/inventory/transfer",
            &browser,
            &[("csrf", &csrf), ("quantity", "x"), ("to", &a.shop), ("from", &a.shop)],
        )
        .await;
    let bad_filter = admin.get("/admin/orders?from=yesterday&status=lost&fulfilment=drone&location=x", &browser).await;
    let bad_return = admin
        .post(&format!("/admin/orders/{}/return", a.order_shipped), &browser, &[("csrf", &csrf), ("qty_1", "9")])
        .await;
    assert_eq!(bad_return.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_return.html);
    let stale = admin.post(&format!("/admin/orders/{}/ready", a.order_pickup), &browser, &[]).await;
    let bad_promotion =
        admin.post("/admin/promotions", &browser, &[("csrf", &csrf), ("name", ""), ("value", "x")]).await;
    let bad_segment = admin.post("/admin/segments", &browser, &[("csrf", &csrf), ("min_orders", "x")]).await;
    let bad_campaign = admin.post("/admin/campaigns", &browser, &[("csrf", &csrf), ("name", "")]).await;
    let bad_install = admin
        .post("/admin/channels/new", &browser, &[("csrf", &csrf), ("plugin", "hello"), ("name", ""), ("mount", "x")])
        .await;
    assert_eq!(bad_install.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_install.html);
    let not_offered = admin.post("/admin/channels/new", &browser, &[("csrf", &csrf), ("plugin", "nope")]).await;
    let replayed = format!("/admin/channels/{}/dead-letters/{}/replay", a.channel, a.dead_delivery);
    assert_eq!(admin.post(&replayed, &browser, &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    let replayed_twice = admin.post(&replayed, &browser, &[("csrf", &csrf)]).await;
    assert_eq!(replayed_twice.status, StatusCode::CONFLICT);
    let missing = admin.get("/admin/orders/ord-nope", &browser).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for (name, page) in [
        ("bad product", bad_product),
        ("bad stock", bad_stock),
        ("bad transfer", bad_transfer),
        ("bad filter", bad_filter),
        ("bad return", bad_return),
        ("replayed twice", replayed_twice),
        ("stale", stale),
        ("missing", missing),
        ("bad promotion", bad_promotion),
        ("bad segment", bad_segment),
        ("bad campaign", bad_campaign),
        ("bad install", bad_install),
        ("not offered", not_offered),
    ] {
        pages.push((name.to_owned(), page.html));
    }
    let refs: Vec<(&str, &str)> = pages.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    let errors = judges.html_errors(&refs).unwrap();
    assert!(errors.is_empty(), "the Nu HTML checker found errors:\n{}", errors.join("\n"));
}

/// Users and sessions are the shop's data: deleting the shop takes them,
/// and a session of a deleted shop opens nothing.
#[tokio::test]
async fn a_deleted_shop_takes_its_users_and_sessions_with_it() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    admin.shop("bravo", "B").await;
    let alpha = admin.sign_in("alpha", "en").await;
    let bravo = admin.sign_in("bravo", "en").await;
    let r = admin.api.call("DELETE", "/tenants/alpha?confirm=alpha", Some(OPERATOR), None, None).await;
    assert!(r.status.is_success(), "{}", r.text);
    let keys: Vec<String> =
        admin.api.dump().into_iter().map(|(k, _)| String::from_utf8_lossy(&k).into_owned()).collect();
    assert!(
        !keys.iter().any(|k| k.starts_with("admin/user/alpha/") || k.starts_with("admin/session/alpha/")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("admin/user/bravo/"))
            && keys.iter().any(|k| k.starts_with("admin/session/bravo/"))
    );
    let r = admin.get("/admin/orders", &alpha).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/sign-in"));
    assert_eq!(admin.get("/admin/orders", &bravo).await.status, StatusCode::OK);
}

/// A channel switched off and on, and its settings form generated from the
/// manifest: bad input next to its field with nothing changed, secrets
/// write-only and sealed.
#[tokio::test]
async fn channels_are_switched_and_configured_from_their_manifest() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let id = omnistore_core::ChannelId::new(a.channel.as_str());
    let browser = admin.sign_in("alpha", "it").await;
    let list = admin.get("/admin/channels", &browser).await;
    assert!(list.html.contains("Instagram A") && list.html.contains("Spegni"), "{}", list.html);
    let csrf = list.hidden("csrf");
    let r =
        admin.post(&format!("/admin/channels/{}/switch", a.channel), &browser, &[("csrf", &csrf), ("on", "0")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/channels?done=off"));
    assert!(!admin.api.core.get_channel(&t, &id).unwrap().enabled);
    admin.post(&format!("/admin/channels/{}/switch", a.channel), &browser, &[("csrf", &csrf), ("on", "1")]).await;
    assert!(admin.api.core.get_channel(&t, &id).unwrap().enabled);

    let form = admin.get(&format!("/admin/channels/{}", a.channel), &browser).await;
    for field in ["setting_catalog_id", "setting_country", "secret_access_token"] {
        assert!(form.html.contains(&format!("name=\"{field}\"")), "{field}: {}", form.html);
    }
    assert!(form.html.contains("type=\"password\""));

    let path = format!("/admin/channels/{}/settings", a.channel);
    let before = admin.api.dump();
    let long = "x".repeat(2001);
    // Each setting's field fits its type: a choice and a flag are selects,
    // an address and a number are inputs of their kind.
    assert!(form.html.contains("<select id=\"f-setting_language\""), "{}", form.html);
    assert!(form.html.contains("<option value=\"en\">en</option>"), "{}", form.html);
    assert!(form.html.contains("<option value=\"on\">Attivo</option>"), "{}", form.html);
    assert!(form.html.contains("name=\"setting_shop_url\" type=\"url\""), "{}", form.html);
    assert!(form.html.contains("type=\"number\" min=\"100\" max=\"100000\""), "{}", form.html);
    let good = [("setting_catalog_id", "123"), ("secret_access_token", "tok")];
    let typed = |extra: (&'static str, &'static str)| {
        let mut f: Vec<(&str, &str)> = good.to_vec();
        f.push(extra);
        f
    };
    for (fields, bad) in [
        (vec![("setting_catalog_id", ""), ("secret_access_token", "tok")], "setting_catalog_id"),
        (vec![("setting_catalog_id", "123"), ("secret_access_token", "")], "secret_access_token"),
        (vec![("setting_catalog_id", long.as_str()), ("secret_access_token", "tok")], "setting_catalog_id"),
        (typed(("setting_shop_url", "dolcevita.example")), "setting_shop_url"),
        (typed(("setting_language", "de")), "setting_language"),
        (typed(("setting_pins", "yes")), "setting_pins"),
        (typed(("setting_kept", "5")), "setting_kept"),
        (typed(("setting_kept", "many")), "setting_kept"),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let r = admin.post(&path, &browser, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}: {}", r.html);
        assert!(r.error_at(bad), "{bad}: {}", r.html);
    }
    assert!(admin.api.dump() == before, "a refused form changed the store");

    let r = admin
        .post(
            &path,
            &browser,
            &[
                ("csrf", &csrf),
                ("setting_catalog_id", "123"),
                ("setting_country", ""),
                ("setting_shop_url", "https://dolcevita.example"),
                ("setting_language", "en"),
                ("setting_pins", "on"),
                ("setting_kept", "5000"),
                ("secret_access_token", "tok-SECRET-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let channel = admin.api.core.get_channel(&t, &id).unwrap();
    assert_eq!(channel.settings.get("catalog_id"), Some(&json!("123")));
    assert_eq!(channel.settings.get("language"), Some(&json!("en")));
    assert_eq!(channel.settings.get("kept"), Some(&json!("5000")));
    let stored = admin.api.core.channel_secret(&t, &id, "access_token").unwrap().unwrap();
    assert!(!stored.contains("tok-SECRET-1"), "secrets are sealed at rest");
    let page = admin.get(&format!("/admin/channels/{}", a.channel), &browser).await;
    assert!(!page.html.contains("tok-SECRET-1"), "a secret is never shown again");
    assert!(page.html.contains("Un valore è salvato"), "{}", page.html);
}

/// The dashboard adds up the day's orders per channel, lists what runs low
/// and shows what a channel reported about its sync.
#[tokio::test]
async fn the_dashboard_shows_sales_low_stock_and_channel_health() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let orders = admin.api.core.list_orders(&t, &omnistore_core::OrderQuery::default()).unwrap();
    let counted: Vec<_> =
        orders.iter().filter(|o| o.channel_id.as_ref().is_some_and(|c| c.as_str() == a.channel)).collect();
    let revenue: i64 = counted.iter().map(|o| o.total.amount_minor).sum();
    // One variant runs low at the shop: 10 there, 2 reserved, 6 written off.
    let large = admin.api.core.variant_by_sku(&t, "CAN-L").unwrap();
    admin
        .api
        .core
        .adjust_stock(&t, &large.id, &omnistore_core::LocationId::new(a.shop.as_str()), -7, None, admin.api.now())
        .unwrap();
    // The channel reports that it must be connected again.
    let mut key = omnistore_storage::keyspace::plugin_data_prefix(&t, &a.channel);
    key.extend_from_slice(b"sync/channel");
    let report =
        json!({ "status": "needs_reauthorization", "message": "Reconnect Instagram A", "updated_ms": START_MS });
    omnistore_storage::transact(&*admin.api.store, |txn| txn.put(&key, report.to_string().as_bytes())).unwrap();

    let browser = admin.sign_in("alpha", "en").await;
    let page = admin.get("/admin/dashboard", &browser).await;
    assert_eq!(page.status, StatusCode::OK);
    let money = format!("€{}.{:02}", revenue / 100, revenue % 100);
    let row = page.html.split("<th scope=\"row\">Instagram A</th>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(
        row.contains(&format!(">{}<", counted.len())) && row.contains(&money),
        "{row} should count {} orders, {money}",
        counted.len()
    );
    let sales = page.html.split("id=\"sales-h\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert_eq!(
        sales.matches("<rect").count(),
        sales.matches("<th scope=\"row\">").count(),
        "a bar per channel with sales"
    );
    let low = page.html.split("id=\"low-h\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(low.contains("CAN-L") && !low.contains("CAN-S"), "{low}");
    assert!(page.html.contains("Needs to be connected again") && page.html.contains("Reconnect Instagram A"));
    let campaigns = page.html.split("id=\"campaigns-h\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(
        campaigns.contains(&format!("href=\"/admin/campaigns/{}\"", a.campaign)) && campaigns.contains("Draft"),
        "the seeded campaign, a draft: {campaigns}"
    );
}
