//! The operator's agency view in the browser admin, through the router:
//! every shop with its domains, storage against its quota, channels and
//! tokens; a shop's page where a token is issued (shown once, and it really
//! opens the JSON API) and revoked (and then it opens nothing); bad input
//! shown where it belongs with nothing changed; no way in for a shop's
//! user; every page through the Nu HTML checker.

use axum::http::{StatusCode, header};
use omnistore_core::TenantId;
use omnistore_runtime::TenantUsage;
use serde_json::json;

use crate::ui::{Admin, Browser, Page, QUOTA_BYTES};
use crate::{OPERATOR, World};

/// Sign in with the operator token; the browser keeps the session.
async fn operator(admin: &Admin, language: &str) -> Browser {
    let mut browser = Browser::new(language);
    let form = admin.get("/admin/sign-in", &browser).await;
    browser.keep(&form);
    let r =
        admin.post("/admin/sign-in/operator", &browser, &[("csrf", &form.hidden("csrf")), ("token", OPERATOR)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    browser.keep(&r);
    browser
}

fn location(page: &Page) -> &str {
    page.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Whether the page shows a message next to the field `name`.
fn error_at(page: &Page, name: &str) -> bool {
    page.html.contains(&format!("id=\"e-{name}\"")) && page.html.contains(&format!("aria-describedby=\"e-{name}\""))
}

/// The secret in the page's one-time token box.
fn issued_secret(page: &Page) -> String {
    let at = page.html.find("id=\"new-token\"").unwrap_or_else(|| panic!("no new token shown: {}", page.html));
    let rest = &page.html[at..];
    let start = rest.find("value=\"").unwrap() + "value=\"".len();
    rest[start..].split('"').next().unwrap().to_owned()
}

/// The table row of the shop `tenant` in the agency list.
fn row<'a>(page: &'a Page, tenant: &str) -> &'a str {
    let at = page.html.find(&format!("href=\"/admin/agency/{tenant}\"")).unwrap_or_else(|| panic!("{}", page.html));
    let rest = &page.html[at..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// Make the shop's counted storage `total` bytes, through the counter its
/// plugins' writes and its mail queue keep.
fn charge(admin: &Admin, tenant: &str, total: u64) {
    let usage = TenantUsage::new(&TenantId::new(tenant).unwrap());
    omnistore_storage::transact(&*admin.api.store, |txn| {
        let used = usage.used(txn)?;
        usage.charge(txn, used, total, u64::MAX).map(drop)
    })
    .unwrap();
}

async fn token_count(admin: &Admin, w: &World) -> usize {
    let r = admin.api.get(&format!("/tenants/{}/tokens", w.tenant), OPERATOR).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn the_agency_lists_each_shops_domains_storage_channels_and_tokens() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "ALPHA-ONLY").await;
    let b = admin.shop("bravo", "BRAVO-ONLY").await;
    charge(&admin, "alpha", 1_258_291);
    let t = TenantId::new("alpha").unwrap();
    let channels = admin.api.core.list_channels(&t).unwrap().len();
    assert!(channels > 1, "the seed installs channels");
    let tokens = token_count(&admin, &a).await;

    let browser = operator(&admin, "en").await;
    let list = admin.get("/admin/agency", &browser).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.html);
    let alpha = row(&list, "alpha");
    for text in [
        "Shop ALPHA-ONLY".to_owned(),
        "shop.alpha.example".to_owned(),
        "1.2 MB of 64 MB".to_owned(),
        format!("<meter min=\"0\" max=\"{QUOTA_BYTES}\" value=\"1258291\""),
        format!("<td class=\"num\">{channels}</td>"),
        format!("<td class=\"num\">{tokens}</td>"),
    ] {
        assert!(alpha.contains(&text), "alpha's row lacks {text}: {alpha}");
    }
    let bravo = row(&list, "bravo");
    assert!(bravo.contains("shop.bravo.example") && bravo.contains(" of 64 MB"), "{bravo}");
    assert!(!bravo.contains("shop.alpha.example"), "{bravo}");
    assert_eq!(token_count(&admin, &b).await, tokens);

    // In Italian, numbers the Italian way.
    let list = admin.get("/admin/agency", &operator(&admin, "it").await).await;
    assert!(row(&list, "alpha").contains("1,2 MB su 64 MB"), "{}", list.html);
    assert!(list.html.contains("Domini") && list.html.contains("Spazio"), "{}", list.html);

    // The shop's own page: the same facts, its channels, its tokens.
    let page = admin.get("/admin/agency/alpha", &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("shop.alpha.example") && page.html.contains("1.2 MB of 64 MB"), "{}", page.html);
    for c in admin.api.core.list_channels(&t).unwrap() {
        assert!(page.html.contains(&c.name), "the page lacks channel {}: {}", c.name, page.html);
    }
    let listed = admin.api.get("/tenants/alpha/tokens", OPERATOR).await;
    for token in listed.body["items"].as_array().unwrap() {
        let id = token["id"].as_str().unwrap();
        assert!(page.html.contains(&format!("/admin/agency/alpha/tokens/{id}/revoke")), "{}", page.html);
    }
    assert!(!page.html.contains(&a.token), "a token's secret is never shown again");

    // The JSON API's tenant reports the same names.
    let one = admin.api.get("/tenants/alpha", OPERATOR).await;
    assert_eq!(one.body["domains"], json!(["shop.alpha.example"]), "{}", one.text);
    let all = admin.api.get("/tenants", OPERATOR).await;
    assert_eq!(all.body["items"][1]["domains"], json!(["shop.bravo.example"]), "{}", all.text);
}

#[tokio::test]
async fn a_token_issued_in_the_agency_view_is_shown_once_and_opens_the_api_until_revoked() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = operator(&admin, "en").await;
    let page = admin.get("/admin/agency/alpha", &browser).await;
    let csrf = page.hidden("csrf");
    let before = token_count(&admin, &a).await;

    let issued =
        admin.post("/admin/agency/alpha/tokens", &browser, &[("csrf", &csrf), ("label", "warehouse app")]).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.html);
    assert!(issued.html.contains("Copy this token now: it is shown only this once"), "{}", issued.html);
    let secret = issued_secret(&issued);
    assert!(secret.starts_with("osk_") && secret.len() == 68, "{secret}");
    assert_eq!(issued.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");

    // It is a real token of the shop: it opens the shop's routes of the API.
    let mine = admin.api.get("/tenants/alpha/tokens", &secret).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), before + 1);
    let id = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "warehouse app")
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_owned();
    // And only there.
    admin.shop("bravo", "B").await;
    assert_eq!(admin.api.get("/tenants/bravo/tokens", &secret).await.status, StatusCode::FORBIDDEN);

    // Shown once: the page again lists the token by its label, never its secret,
    // and the store keeps only its hash.
    let again = admin.get("/admin/agency/alpha", &browser).await;
    assert!(again.html.contains("warehouse app") && again.html.contains(&id), "{}", again.html);
    assert!(!again.html.contains(&secret));
    assert!(!admin.api.dump().iter().any(|(k, v)| {
        let (k, v) = (String::from_utf8_lossy(k), String::from_utf8_lossy(v));
        k.contains(&secret) || v.contains(&secret)
    }));

    // Revoked: the API no longer knows it.
    let r = admin.post(&format!("/admin/agency/alpha/tokens/{id}/revoke"), &browser, &[("csrf", &csrf)]).await;
    assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/admin/agency/alpha?done=revoked"), "{}", r.html);
    let done = admin.get(location(&r), &browser).await;
    assert!(done.html.contains("The token was revoked"), "{}", done.html);
    assert!(!done.html.contains(&id), "{}", done.html);
    assert_eq!(admin.api.get("/tenants/alpha/tokens", &secret).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(token_count(&admin, &a).await, before);
    // The shop's other tokens still work.
    assert_eq!(admin.api.get("/tenants/alpha/tokens", &a.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_in_the_agency_view_is_shown_where_it_belongs_and_changes_nothing() {
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    admin.shop("bravo", "B").await;
    let pos = admin.api.post("/tenants/alpha/tokens", OPERATOR, json!({ "label": "pos" })).await;
    assert_eq!(pos.status, StatusCode::CREATED, "{}", pos.text);
    let (pos_id, pos_secret) = (pos.body["id"].as_str().unwrap(), pos.body["secret"].as_str().unwrap());
    let browser = operator(&admin, "en").await;
    let csrf = admin.get("/admin/agency/alpha", &browser).await.hidden("csrf");
    let before = admin.api.dump();

    // Empty and too long labels (the API's limit: 100 characters).
    let long = "x".repeat(101);
    for (label, message) in
        [("", "Fill this in."), ("   ", "Fill this in."), (long.as_str(), "At most 100 characters.")]
    {
        let r = admin.post("/admin/agency/alpha/tokens", &browser, &[("csrf", &csrf), ("label", label)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{label:?}: {}", r.html);
        assert!(error_at(&r, "label") && r.html.contains(message), "{label:?}: {}", r.html);
        assert!(!r.html.contains("id=\"new-token\""), "{}", r.html);
    }
    // A token the shop does not have.
    let r = admin.post("/admin/agency/alpha/tokens/tok_0000000000000000/revoke", &browser, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    assert!(r.html.contains("This shop has no token with that id") && r.html.contains("role=\"alert\""), "{}", r.html);
    // Another shop's token is not this shop's.
    let r = admin.post(&format!("/admin/agency/bravo/tokens/{pos_id}/revoke"), &browser, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    // Stale or missing CSRF tokens, on both forms: said, and the form is fresh.
    for stale in ["", "0000", &csrf[..csrf.len() - 1]] {
        let r = admin.post("/admin/agency/alpha/tokens", &browser, &[("csrf", stale), ("label", "kiosk")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.html);
        assert!(error_at(&r, "label") && r.html.contains("This form had expired"), "{}", r.html);
        assert!(r.html.contains("value=\"kiosk\""), "what was typed stays: {}", r.html);
        assert_eq!(r.hidden("csrf"), csrf);
        let r = admin.post(&format!("/admin/agency/alpha/tokens/{pos_id}/revoke"), &browser, &[("csrf", stale)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.html);
        assert!(r.html.contains("This form had expired"), "{}", r.html);
    }
    assert!(admin.api.dump() == before, "a refused form changed the store");
    assert_eq!(admin.api.get("/tenants/alpha/tokens", pos_secret).await.status, StatusCode::OK);

    // A shop that does not exist: a readable 404.
    for id in ["nope", "Not_A_Shop"] {
        let r = admin.get(&format!("/admin/agency/{id}"), &browser).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
        assert!(r.html.contains(&format!("No shop has the id {id}.")), "{}", r.html);
        let r = admin.post(&format!("/admin/agency/{id}/tokens"), &browser, &[("csrf", &csrf), ("label", "x")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    }
    assert!(admin.api.dump() == before, "a refused form changed the store");
    // (Signing in again starts a session: the store changes from here.)
    let r = admin.get("/admin/agency/nope", &operator(&admin, "it").await).await;
    assert!(r.html.contains("Nessun negozio ha il codice nope."), "{}", r.html);
}

#[tokio::test]
async fn a_shops_user_cannot_reach_the_agency_view() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let user = admin.sign_in("alpha", "en").await;
    let csrf = admin.get("/admin/orders", &user).await.hidden("csrf");
    let before = admin.api.dump();
    for path in ["/admin/agency", "/admin/agency/alpha"] {
        let r = admin.get(path, &user).await;
        assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/admin"), "{path}");
    }
    let r = admin.post("/admin/agency/alpha/tokens", &user, &[("csrf", &csrf), ("label", "mine")]).await;
    assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/admin"));
    let r = admin.post(&format!("/admin/agency/alpha/tokens/{}/revoke", a.token_id), &user, &[("csrf", &csrf)]).await;
    assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/admin"));
    assert!(admin.api.dump() == before, "a shop's user changed the agency's data");
    // Nobody signed in: to the sign-in page.
    let r = admin.get("/admin/agency/alpha", &Browser::new("en")).await;
    assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/admin/sign-in"));
}

/// Every agency page, its refusals included, in both languages.
#[tokio::test]
async fn the_agency_pages_pass_the_nu_html_checker() {
    let judges = omnistore_judges::Judges::find().unwrap();
    let admin = Admin::new();
    admin.shop("alpha", "A").await;
    admin.shop("bravo", "B").await;
    charge(&admin, "alpha", 5_000_000);
    let mut pages: Vec<(String, String)> = Vec::new();
    for language in ["it", "en"] {
        let browser = operator(&admin, language).await;
        let csrf = admin.get("/admin/agency", &browser).await.hidden("csrf");
        let tokens = "/admin/agency/alpha/tokens";
        for (name, page) in [
            ("list", admin.get("/admin/agency", &browser).await),
            ("shop", admin.get("/admin/agency/alpha", &browser).await),
            ("issued", admin.post(tokens, &browser, &[("csrf", &csrf), ("label", "app")]).await),
            ("bad label", admin.post(tokens, &browser, &[("csrf", &csrf), ("label", "")]).await),
            ("stale", admin.post(tokens, &browser, &[("csrf", "x"), ("label", "app")]).await),
            ("unknown token", admin.post(&format!("{tokens}/tok_x/revoke"), &browser, &[("csrf", &csrf)]).await),
            ("missing shop", admin.get("/admin/agency/nope", &browser).await),
        ] {
            assert!(!page.html.is_empty(), "{name}");
            pages.push((format!("{language} {name}"), page.html));
        }
    }
    let refs: Vec<(&str, &str)> = pages.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    let errors = judges.html_errors(&refs).unwrap();
    assert!(errors.is_empty(), "the Nu HTML checker found errors:\n{}", errors.join("\n"));
}

/// On a real host (`Host::start`, provisioned from a deployment file) the
/// names shown are the file's `domains` as the host routes them, the quota
/// is the runtime's, and a deleted shop's names are gone with it.
#[tokio::test]
async fn on_a_real_host_the_names_are_the_deployments_and_the_quota_the_runtimes() {
    use omnistore_server::deployment::Deployment;
    use omnistore_server::host::{Host, HostOptions};

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("omnistore.toml");
    let text = "[[tenants]]\nid = \"dolce\"\nname = \"Dolce\"\ndomains = [\"www.Dolce.example\", \"dolce.example\"]\n";
    std::fs::write(&file, text).unwrap();
    let deployment = Deployment::load(&file).unwrap();
    let host = Host::start(HostOptions {
        data_dir: dir.path().join("data"),
        store: None,
        allow_private_network: false,
        operator_token: OPERATOR.into(),
        http: deployment.http.clone(),
        secrets: Some(std::sync::Arc::new(omnistore_server::secrets::SecretKeys::random().unwrap())),
        development_origins: Vec::new(),
    })
    .await
    .unwrap();
    host.provision(&deployment).await.unwrap();
    let quota = host.runtime.config().limits.tenant_storage_quota_bytes;
    assert_eq!(quota, 256 << 20);
    // The fixture's browser and API helpers, over this host's routers.
    let media = tempfile::tempdir().unwrap();
    let api = crate::Api {
        router: host.router(),
        store: host.core.store().clone(),
        core: host.core.clone(),
        clock: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(crate::START_MS)),
        gate: std::sync::Arc::new(tokio::sync::Mutex::new(())),
    };
    let ui = omnistore_server::ui::ui_router(host.ui.clone());
    let admin = Admin { api, ui, registry: host.registry.clone(), _media: media };

    let one = admin.api.get("/tenants/dolce", OPERATOR).await;
    assert_eq!(one.body["domains"], json!(["dolce.example", "www.dolce.example"]), "{}", one.text);
    let browser = operator(&admin, "en").await;
    let list = admin.get("/admin/agency", &browser).await;
    let dolce = row(&list, "dolce");
    assert!(dolce.contains("dolce.example<br>www.dolce.example") && dolce.contains("0 B of 256 MB"), "{dolce}");

    let gone = admin.api.call("DELETE", "/tenants/dolce?confirm=dolce", Some(OPERATOR), None, None).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    assert!(host.registry.domains_of(&TenantId::new("dolce").unwrap()).is_empty());
    drop(admin);
    host.stop().await;
}
