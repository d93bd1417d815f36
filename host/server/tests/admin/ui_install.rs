//! Adding a channel from the deployment's catalogue, in the browser admin
//! and through the JSON API: the catalogue lists what is offered with what
//! each package asks for; the form installs one with its settings, its
//! secret sealed and a capability withheld; every bad input is said next to
//! its field with nothing installed; another shop sees and reaches nothing
//! of it. First over the fake installer (whose catalogue has `hello` and the
//! seeded shops' `instagram`), then over a real host with a real package
//! (`target/plugins`, from `cargo xtask build-plugins`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use omnistore_core::{ChannelId, TenantId};
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host, HostOptions};
use omnistore_server::secrets::SecretKeys;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::OPERATOR;
use crate::ui::{Admin, Browser, PASSWORD, Page};

fn location(page: &Page) -> &str {
    page.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Whether the page shows an error next to the field `name`.
fn error_at(page: &Page, name: &str) -> bool {
    page.html.contains(&format!("id=\"e-{name}\"")) && page.html.contains(&format!("aria-describedby=\"e-{name}\""))
}

/// The text of the error shown next to the field `name`.
fn error_text<'p>(page: &'p Page, name: &str) -> &'p str {
    let marker = format!("id=\"e-{name}\">");
    page.html.split(&marker).nth(1).and_then(|rest| rest.split('<').next()).unwrap_or("")
}

/// A form to install the fake's `hello`: every field filled well, the
/// capabilities requested all ticked.
fn hello_form(csrf: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("plugin", "hello".into()),
        ("name", "Ciao".into()),
        ("mount", "/ciao".into()),
        ("setting_greeting", String::new()),
        ("setting_shop_name", "Dolce Vita".into()),
        ("secret_api_key", "key-SECRET-1".into()),
        ("grant_catalog", "1".into()),
        ("grant_storage", "1".into()),
        ("grant_settings", "1".into()),
        ("grant_http", "1".into()),
    ]
}

/// `fields` with `name` set to `value` (or left out when `None`).
fn with(fields: &[(&'static str, String)], name: &str, value: Option<&str>) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = fields.iter().filter(|(k, _)| *k != name).cloned().collect();
    if let Some(v) = value {
        let key = fields.iter().map(|(k, _)| *k).find(|k| *k == name).unwrap_or_else(|| panic!("no field {name}"));
        out.push((key, v.to_owned()));
    }
    out
}

async fn post(admin: &Admin, browser: &Browser, fields: &[(&'static str, String)]) -> Page {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.post("/admin/channels/new", browser, &refs).await
}

#[tokio::test]
async fn the_catalogue_lists_what_is_offered_and_what_each_asks_for() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let channels = admin.get("/admin/channels", &browser).await;
    assert!(channels.html.contains("href=\"/admin/channels/new\""), "{}", channels.html);

    let page = admin.get("/admin/channels/new", &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let (available, in_shop) = page.html.split_once("id=\"in-shop-h\"").expect("both sections");
    // Not yet in the shop: `hello`, in plain words, with the site it reaches.
    for said in [
        "Hello channel",
        "Says hello on the shop&#x27;s pages.",
        "read your products, prices and stock as this channel sees them",
        "send requests to the internet addresses listed",
        "<code>https:&#x2f;&#x2f;api.hello.example</code>",
        "href=\"/admin/channels/new?plugin=hello\"",
    ] {
        assert!(available.contains(said), "{said}: {available}");
    }
    // Already in the shop: Instagram, which may be added again.
    assert!(!available.contains("plugin=instagram") && in_shop.contains("plugin=instagram"), "{in_shop}");
    assert!(in_shop.contains("Add another"), "{in_shop}");
    let italian = admin.get("/admin/channels/new", &admin.sign_in("alpha", "it").await).await;
    assert!(italian.html.contains("leggere i tuoi prodotti, prezzi e scorte"), "{}", italian.html);

    // The form: name and address filled in, every setting of the manifest,
    // the secret a password field, every capability ticked.
    let form = admin.get("/admin/channels/new?plugin=hello", &browser).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    for field in
        ["name=\"name\" type=\"text\" value=\"Hello channel\"", "name=\"mount\" type=\"text\" value=\"&#x2f;hello\""]
    {
        assert!(form.html.contains(field), "{field}: {}", form.html);
    }
    for field in ["setting_greeting", "setting_shop_name", "secret_api_key"] {
        assert!(form.html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(form.html.contains("name=\"secret_api_key\" type=\"password\""));
    assert!(form.html.contains("When empty: Ciao"), "the default is said");
    for capability in ["catalog", "storage", "settings", "http"] {
        assert!(form.html.contains(&format!("name=\"grant_{capability}\" value=\"1\" checked")), "{capability}");
    }

    // The JSON API lists the same, with this shop's channels of each.
    let r = admin.api.get("/tenants/alpha/catalog", &a.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let hello = items.iter().find(|i| i["id"] == "hello").unwrap();
    assert_eq!((hello["installed"].clone(), hello["channels"].clone()), (json!(false), json!([])));
    assert_eq!(hello["http_origins"], json!(["https://api.hello.example:443"]));
    assert!(hello["settings"].as_array().unwrap().iter().any(|s| s["key"] == "api_key" && s["secret"] == true));
    let instagram = items.iter().find(|i| i["id"] == "instagram").unwrap();
    assert_eq!((instagram["installed"].clone(), instagram["channels"].clone()), (json!(true), json!([a.channel])));
}

#[tokio::test]
async fn a_channel_is_installed_from_the_form_with_its_settings_secret_and_a_withheld_capability() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    let t = TenantId::new("alpha").unwrap();
    let browser = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/channels/new?plugin=hello", &browser).await.hidden("csrf");
    // `http` unticked: withheld.
    let fields = with(&hello_form(&csrf), "grant_http", None);
    let r = post(&admin, &browser, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let channel = admin.api.core.list_channels(&t).unwrap().into_iter().find(|c| c.plugin_id == "hello").unwrap();
    assert_eq!(location(&r), format!("/admin/channels/{}?done=installed", channel.id));
    assert_eq!(channel.name, "Ciao");
    assert_eq!(channel.capabilities, vec!["catalog", "settings", "storage"]);
    // The greeting left empty takes the manifest's default: it is not stored.
    assert_eq!(channel.settings, [("shop_name".to_owned(), json!("Dolce Vita"))].into_iter().collect());
    assert_eq!(channel.secret_keys, vec!["api_key"]);
    let sealed = admin.api.core.channel_secret(&t, &channel.id, "api_key").unwrap().unwrap();
    assert!(!sealed.contains("key-SECRET-1"), "secrets are sealed at rest");

    let shown = admin.get(location(&r), &browser).await;
    assert!(shown.html.contains("The channel was installed."), "{}", shown.html);
    assert!(shown.html.contains("value=\"Dolce Vita\"") && !shown.html.contains("key-SECRET-1"), "{}", shown.html);
    // Now in the shop: offered again only as another one.
    let catalogue = admin.get("/admin/channels/new", &browser).await;
    let in_shop = catalogue.html.split_once("id=\"in-shop-h\"").unwrap().1;
    assert!(in_shop.contains("plugin=hello"), "{in_shop}");
}

#[tokio::test]
async fn bad_input_is_said_next_to_its_field_and_installs_nothing() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/channels/new?plugin=hello", &browser).await.hidden("csrf");
    let good = hello_form(&csrf);
    let long_name = "n".repeat(201);
    let long_setting = "s".repeat(2001);
    // The seeded channel has no recorded mount: it is served at `/<its id>`.
    let taken = format!("/{}", a.channel);
    let cases: Vec<(&str, Option<&str>, &str, &str)> = vec![
        ("name", Some(""), "name", "Fill this in."),
        ("name", Some(&long_name), "name", "At most 200 characters."),
        ("mount", Some(""), "mount", "Fill this in."),
        ("mount", Some("ciao"), "mount", "a slash, then lowercase letters"),
        ("mount", Some("/Ciao!"), "mount", "a slash, then lowercase letters"),
        ("mount", Some("/ciao//due"), "mount", "a slash, then lowercase letters"),
        ("mount", Some("/api/v2"), "mount", "belongs to the admin"),
        ("mount", Some(&taken), "mount", "The channel Instagram A is already served here"),
        ("setting_shop_name", Some(""), "setting_shop_name", "Fill this in."),
        ("setting_shop_name", None, "setting_shop_name", "Fill this in."),
        ("setting_greeting", Some(&long_setting), "setting_greeting", "At most 2000 characters."),
    ];
    let before = admin.api.dump();
    for (field, value, at, says) in cases {
        let r = post(&admin, &browser, &with(&good, field, value)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value:?}: {}", r.html);
        assert!(error_at(&r, at), "{field}={value:?}: no message at {at}: {}", r.html);
        assert!(error_text(&r, at).contains(says), "{field}={value:?}: {}", error_text(&r, at));
        // What was typed stays; the secret is never sent back.
        assert!(r.html.contains("value=\"Ciao\"") || field == "name", "{field}: the name stays");
        assert!(!r.html.contains("key-SECRET-1"), "a secret is never shown again");
    }
    // An unticked box comes back unticked.
    let r = post(&admin, &browser, &with(&with(&good, "grant_http", None), "name", Some(""))).await;
    assert!(
        r.html.contains("name=\"grant_http\" value=\"1\">")
            && r.html.contains("name=\"grant_catalog\" value=\"1\" checked")
    );

    // A plugin id the deployment does not offer: the catalogue, saying so.
    let r = post(&admin, &browser, &with(&good, "plugin", Some("nope"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    assert!(r.html.contains("does not offer the channel nope") && r.html.contains("plugin=hello"), "{}", r.html);
    let r = admin.get("/admin/channels/new?plugin=nope", &browser).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);

    // A stale or missing form token: refused before anything is read.
    for stale in [Some("0".repeat(64)), None] {
        let r = post(&admin, &browser, &with(&good, "csrf", stale.as_deref())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{stale:?}: {}", r.html);
        assert!(r.html.contains("nothing was changed"));
    }
    assert!(admin.api.dump() == before, "a refused form changed the store");

    // The JSON API refuses the same, in its own words, and installs nothing.
    for (body, status, says) in [
        (json!({ "catalog": "nope" }), StatusCode::NOT_FOUND, "it offers: hello, instagram"),
        (
            json!({ "catalog": "hello", "upload": { "manifest": "x", "component": "" } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "exactly one of",
        ),
        (json!({ "catalog": "hello", "mount": "/api" }), StatusCode::UNPROCESSABLE_ENTITY, "the host's own"),
        (json!({ "catalog": "hello", "mount": "ciao" }), StatusCode::UNPROCESSABLE_ENTITY, "a path such as"),
        (json!({ "catalog": "hello", "mount": taken }), StatusCode::CONFLICT, "already served"),
        (json!({ "name": "x" }), StatusCode::UNPROCESSABLE_ENTITY, "`catalog`"),
    ] {
        let r = admin.api.post("/tenants/alpha/channels", &a.token, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.text.contains(says), "{body}: {}", r.text);
    }
    assert!(admin.api.dump() == before, "a refused request changed the store");

    // The control: the same form, well filled, installs.
    let r = post(&admin, &browser, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
}

#[tokio::test]
async fn another_shop_neither_sees_nor_installs_through_ids() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "ALPHA-ONLY").await;
    let b = admin.shop("bravo", "BRAVO-ONLY").await;
    let alpha = admin.sign_in("alpha", "en").await;
    let bravo = admin.sign_in("bravo", "en").await;
    let csrf = admin.get("/admin/channels/new", &alpha).await.hidden("csrf");
    let r = post(&admin, &alpha, &hello_form(&csrf)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let installed = location(&r).trim_start_matches("/admin/channels/").split('?').next().unwrap().to_owned();

    // Bravo's catalogue still offers `hello` as new, and shows nothing of Alpha.
    let page = admin.get("/admin/channels/new", &bravo).await;
    let available = page.html.split_once("id=\"in-shop-h\"").map_or(page.html.as_str(), |(a, _)| a);
    assert!(available.contains("plugin=hello"), "{}", page.html);
    assert!(!page.html.contains(&a.marker) && !page.html.contains(&installed));
    let r = admin.get(&format!("/admin/channels/{installed}"), &bravo).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = admin.api.get("/tenants/bravo/catalog", &b.token).await;
    assert!(!r.text.contains(&installed) && !r.text.contains(&a.channel), "{}", r.text);

    // Alpha's token on Bravo's catalogue and install: refused, nothing of Bravo changes.
    let of_b = |dump: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<(Vec<u8>, Vec<u8>)> {
        dump.into_iter().filter(|(k, _)| k.starts_with(b"t/bravo/") || k.starts_with(b"host/mount/bravo/")).collect()
    };
    let before = of_b(admin.api.dump());
    let r = admin.api.get("/tenants/bravo/catalog", &a.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = admin.api.post("/tenants/bravo/channels", &a.token, json!({ "catalog": "hello", "mount": "/x" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(of_b(admin.api.dump()) == before, "B's data changed");
    // Bravo's own form, even at the address Alpha's channel has, installs
    // into Bravo alone: a session installs into its own shop, and addresses
    // are per shop.
    let csrf = admin.get("/admin/channels/new", &bravo).await.hidden("csrf");
    let r = post(&admin, &bravo, &with(&hello_form(&csrf), "mount", Some(&format!("/{installed}")))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "Alpha's address is free in Bravo: {}", r.html);
    let bravo_channels = admin.api.core.list_channels(&TenantId::new("bravo").unwrap()).unwrap();
    assert_eq!(bravo_channels.iter().filter(|c| c.plugin_id == "hello").count(), 1);
    let alpha_channels = admin.api.core.list_channels(&TenantId::new("alpha").unwrap()).unwrap();
    assert_eq!(alpha_channels.iter().filter(|c| c.plugin_id == "hello").count(), 1, "Alpha's channels unchanged");
    assert!(of_b(admin.api.dump()) != before, "the control: Bravo's own install did change Bravo");
}

// ------------------------------------------------------------ a real host

/// A built plugin package.
fn package(id: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins").join(id);
    assert!(dir.join("plugin.wasm").exists(), "{} is missing: run `cargo xtask build-plugins` first", dir.display());
    dir
}

/// A real host and a merchant signed in to its admin on the host's own name.
struct Real {
    host: Host,
    router: Router,
    browser: Browser,
    token: String,
    dir: tempfile::TempDir,
}

impl Real {
    async fn start(catalogue: &[PathBuf]) -> (Real, usize) {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::start(HostOptions {
            data_dir: dir.path().to_path_buf(),
            store: None,
            allow_private_network: false,
            operator_token: OPERATOR.into(),
            http: HttpSettings::default(),
            secrets: Some(Arc::new(SecretKeys::random().unwrap())),
            development_origins: Vec::new(),
        })
        .await
        .unwrap();
        let offered = host.offer_catalogue(catalogue).await;
        let router = host.router();
        let mut real = Real { host, router, browser: Browser::new("en"), token: String::new(), dir };
        let created = real
            .api("POST", "/tenants", OPERATOR, Some(json!({ "id": "alpha", "name": "Shop alpha", "currency": "EUR" })))
            .await;
        assert_eq!(created["_status"], 201, "{created}");
        real.token = created["token"]["secret"].as_str().unwrap().to_owned();
        let user = json!({ "email": "owner@alpha.example", "password": PASSWORD });
        let r = real.api("POST", "/tenants/alpha/users", &real.token, Some(user)).await;
        assert_eq!(r["_status"], 201, "{r}");
        real.host.registry.add_tenant(TenantId::new("alpha").unwrap(), &["alpha.example".to_owned()]);
        let form = real.page("GET", "/admin/sign-in", &[]).await;
        real.browser.keep(&form);
        let csrf = form.hidden("csrf");
        let fields =
            [("csrf", csrf.as_str()), ("shop", "alpha"), ("email", "owner@alpha.example"), ("password", PASSWORD)];
        let signed = real.page("POST", "/admin/sign-in", &fields).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.html);
        real.browser.keep(&signed);
        (real, offered)
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A JSON API call; the answer with its status beside it, as `_status`.
    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"))
            .header(header::HOST, "localhost")
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |v| Body::from(v.to_string()));
        let (status, _, text) = self.send(b.body(body).unwrap()).await;
        let mut answer = serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
        answer["_status"] = json!(status.as_u16());
        answer
    }

    /// An admin page on the host's own name, with the session's cookies.
    async fn page(&self, method: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let cookie = self.browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::ACCEPT_LANGUAGE, "en");
        if !cookie.is_empty() {
            b = b.header(header::COOKIE, cookie);
        }
        let body = if fields.is_empty() {
            Body::empty()
        } else {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let encoded: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
            Body::from(encoded.join("&"))
        };
        let (status, headers, html) = self.send(b.body(body).unwrap()).await;
        Page { status, headers, html }
    }

    /// How many channels, recorded mounts and stored packages there are.
    fn installed(&self) -> (usize, Vec<String>, usize) {
        let t = TenantId::new("alpha").unwrap();
        let channels = self.host.core.list_channels(&t).unwrap().len();
        let mut txn = self.host.core.store().begin().unwrap();
        let mounts: Vec<String> = txn
            .scan(&omnistore_storage::KeyRange::prefix(b"host/mount/alpha/"), usize::MAX)
            .unwrap()
            .into_iter()
            .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
            .collect();
        let stored = std::fs::read_dir(self.dir.path().join("packages")).map(|d| d.count()).unwrap_or(0);
        (channels, mounts, stored)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_installs_a_real_package_from_the_catalogue_and_it_serves() {
    // One package offered; a missing one and an invalid one are left out
    // (with a warning), and the host starts all the same.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("plugin.toml"), "[plugin").unwrap();
    std::fs::write(broken.path().join("plugin.wasm"), b"\0asm").unwrap();
    let missing = broken.path().join("no-such-package");
    let hello = package("hello-channel");
    let (real, offered) = Real::start(&[missing, hello.clone(), broken.path().to_path_buf(), hello]).await;
    assert_eq!(offered, 1, "the missing, the invalid and the second copy are left out");

    let catalogue = real.api("GET", "/tenants/alpha/catalog", &real.token, None).await;
    assert_eq!(catalogue["_status"], 200, "{catalogue}");
    assert_eq!(catalogue["items"][0]["id"], "hello-channel", "{catalogue}");
    assert_eq!(catalogue["items"][0]["installed"], false);
    let page = real.page("GET", "/admin/channels/new", &[]).await;
    assert!(page.html.contains("A greeting page with a visit counter"), "{}", page.html);
    assert!(page.html.contains("write to the operator&#x27;s log"), "{}", page.html);

    let form = real.page("GET", "/admin/channels/new?plugin=hello-channel", &[]).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    let csrf = form.hidden("csrf");
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("plugin", "hello-channel"),
        ("name", "Benvenuti"),
        ("mount", "/ciao/"),
        ("setting_greeting", "Ciao dal catalogo"),
    ];
    let all = ["grant_storage", "grant_settings", "grant_log", "grant_clock", "grant_catalog"];
    fields.extend(all.iter().map(|g| (*g, "1")));
    let r = real.page("POST", "/admin/channels/new", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert!(location(&r).ends_with("?done=installed"), "{}", location(&r));

    // Installed, mounted where asked (normalised), and serving its greeting.
    let (channels, mounts, stored) = real.installed();
    assert_eq!((channels, mounts.clone(), stored), (1, vec!["/ciao".to_owned()], 1));
    let request = Request::get("/ciao").header(header::HOST, "alpha.example").body(Body::empty()).unwrap();
    let (status, _, body) = real.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Ciao dal catalogo"), "{body}");
    let shown = real.page("GET", location(&r), &[]).await;
    assert!(shown.html.contains("The channel was installed.") && shown.html.contains("Ciao dal catalogo"));

    // The same address again: said next to it, nothing installed.
    let before = real.installed();
    let again: Vec<(&str, &str)> =
        fields.iter().map(|(k, v)| if *k == "mount" { (*k, "/ciao") } else { (*k, *v) }).collect();
    let r = real.page("POST", "/admin/channels/new", &again).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(error_text(&r, "mount").contains("The channel Benvenuti is already served here"), "{}", r.html);
    assert_eq!(real.installed(), before);

    // A second one elsewhere, with a capability withheld: recorded exactly so.
    let second: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| *k != "grant_log")
        .map(|(k, v)| if *k == "mount" { (*k, "/secondo") } else { (*k, *v) })
        .collect();
    let r = real.page("POST", "/admin/channels/new", &second).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = location(&r).trim_start_matches("/admin/channels/").split('?').next().unwrap().to_owned();
    let channel = real.host.core.get_channel(&TenantId::new("alpha").unwrap(), &ChannelId::new(id)).unwrap();
    assert!(!channel.capabilities.contains(&"log".to_owned()), "{:?}", channel.capabilities);
    assert!(channel.capabilities.contains(&"catalog".to_owned()));
    let catalogue = real.api("GET", "/tenants/alpha/catalog", &real.token, None).await;
    assert_eq!(catalogue["items"][0]["channels"].as_array().map(Vec::len), Some(2), "{catalogue}");

    // Through the API: an id not offered is a 404 naming what is.
    let body = json!({ "catalog": "pinterest", "mount": "/pin" });
    let r = real.api("POST", "/tenants/alpha/channels", &real.token, Some(body)).await;
    assert_eq!(r["_status"], 404, "{r}");
    assert!(r.to_string().contains("it offers: hello-channel"), "{r}");
    real.host.stop().await;
}
