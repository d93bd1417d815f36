//! A campaign through the whole host: the core expands a segment, the
//! dispatcher hands each message to the e-mail or SMS installation, the
//! plugins send only with consent — a customer who texted STOP to the shop's
//! Twilio number gets the e-mail but no text; one who unsubscribed with one
//! click gets neither — and the results count what happened.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use http_body_util::BodyExt;
use omnistore_core::{
    Campaign, CampaignId, ChannelId, ConsentPurpose, Core, CustomerId, EmailMessage, Identity, Medium, NewCampaign,
    NewSegment, SegmentRule, SkipReason, SmsMessage, TenantId,
};
use omnistore_runtime::system_now_ms as now_ms;
use omnistore_sdk_harness::{StubHttp, StubResponse};
use omnistore_server::admin::InstallRequest;
use omnistore_server::deployment::HttpSettings;
use omnistore_server::host::{Host, HostOptions};
use omnistore_services::commerce::{CoreServices, QueuedMail};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::package;

const OPERATOR: &str = "operator-token-for-tests-0123456789";
const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "campaign-test-auth-token";
const SMS_BASE: &str = "https://dolcevita.example/sms";
const SHOP_URL: &str = "https://dolcevita.example";

/// A Twilio Messages API that accepts every text and keeps the forms.
fn twilio() -> StubHttp {
    StubHttp::start(|req| {
        let sid = format!("SM{:032x}", req.body.len());
        let body = json!({ "sid": sid, "status": "queued", "account_sid": ACCOUNT_SID });
        StubResponse::status_json(201, &body)
    })
    .unwrap()
}

/// A fixed-offset zone in which it is now midday, so the test never meets
/// the SMS channel's quiet hours whatever the hour it runs at.
fn midday_zone() -> String {
    let utc_hour = (now_ms() / 3_600_000).rem_euclid(24);
    let east = 12 - utc_hour;
    // IANA's Etc zones count the other way round: Etc/GMT-2 is two hours east.
    match east {
        0 => "Etc/UTC".to_string(),
        e if e > 0 => format!("Etc/GMT-{e}"),
        e => format!("Etc/GMT+{}", -e),
    }
}

async fn start(twilio: &StubHttp) -> Host {
    let dir = tempfile::tempdir().unwrap().keep();
    Host::start(HostOptions {
        data_dir: dir,
        store: Some("memory:".into()),
        // The Twilio stand-in listens on loopback.
        allow_private_network: true,
        operator_token: OPERATOR.into(),
        http: HttpSettings { path_routing: true, ..HttpSettings::default() },
        secrets: Some(std::sync::Arc::new(omnistore_server::secrets::SecretKeys::random().unwrap())),
        development_origins: vec![omnistore_manifest::Origin::parse(&twilio.url()).unwrap()],
    })
    .await
    .unwrap_or_else(|e| panic!("host start: {e:#}"))
}

async fn install(host: &Host, tenant: &TenantId, plugin: &str, settings: Value) -> ChannelId {
    let settings: BTreeMap<String, Value> = serde_json::from_value(settings).unwrap();
    let request = InstallRequest {
        package: Some(package(plugin)),
        mount: Some(format!("/{plugin}")),
        settings,
        enabled: true,
        by_operator: true,
        ..InstallRequest::default()
    };
    host.install(tenant, request).await.unwrap_or_else(|e| panic!("installing {plugin}: {}", e.message)).id
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    omnistore_services::async_core::off_executor(f).await.unwrap()
}

async fn call(host: &Host, request: HttpRequest<Body>) -> (StatusCode, String) {
    let response = host.router().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A customer of the test's segment with these identities and consents.
fn customer(core: &Core, t: &TenantId, email: Option<&str>, phone: Option<&str>, consents: [bool; 2]) -> CustomerId {
    let now = now_ms();
    let first = email.map(|e| Identity::email(e).unwrap()).or(phone.map(|p| Identity::phone(p).unwrap())).unwrap();
    let c = core.identify(t, &first, None, now).unwrap();
    if let (Some(_), Some(p)) = (email, phone) {
        core.add_identity(t, &c.id, &Identity::phone(p).unwrap(), now).unwrap();
    }
    for (purpose, granted) in [ConsentPurpose::EmailMarketing, ConsentPurpose::SmsMarketing].into_iter().zip(consents) {
        if granted {
            core.set_consent(t, &c.id, purpose, true, None, "checkout checkbox", now).unwrap();
        }
    }
    core.set_customer_tags(t, &c.id, &["e2e".to_string()], now).unwrap();
    c.id
}

fn campaign(name: &str, segment: omnistore_core::SegmentId, email: &ChannelId, sms: &ChannelId) -> NewCampaign {
    NewCampaign {
        name: name.into(),
        segment_id: segment,
        email: Some(EmailMessage {
            channel_id: email.clone(),
            subject: format!("{name}: la colomba è arrivata"),
            text: format!("{name}: colomba artigianale in negozio. {SHOP_URL}/"),
            html: None,
        }),
        sms: Some(SmsMessage { channel_id: sms.clone(), text: format!("{name}: colomba in negozio {SHOP_URL}/") }),
        shop_url: Some(SHOP_URL.into()),
        send_at_ms: None,
    }
}

/// Wait until the dispatcher delivered every message of the campaign.
async fn delivered(host: &Host, t: &TenantId, id: &CampaignId, want: u64) -> Campaign {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (core, t2, id2) = (host.core.clone(), t.clone(), id.clone());
        let results = blocking(move || core.campaign_results(&t2, &id2).unwrap()).await;
        let done: u64 = results.channels.iter().map(|c| c.delivered + c.failed).sum();
        if done >= want {
            for c in &results.channels {
                assert_eq!(c.failed, 0, "no message failed: {c:?}");
            }
            return results.campaign;
        }
        if Instant::now() > deadline {
            let (core, t2) = (host.core.clone(), t.clone());
            let waiting = blocking(move || core.due_deliveries(&t2, i64::MAX, 100).unwrap()).await;
            let why: Vec<String> =
                waiting.iter().map(|d| format!("{} {:?}: {:?}", d.kind, d.state, d.last_error)).collect();
            panic!("the campaign's messages were not delivered in time: {results:?}\nwaiting: {why:#?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Form encoding as Twilio's posts use it.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn campaign_mail<'a>(mail: &'a [QueuedMail], name: &str) -> Vec<&'a QueuedMail> {
    mail.iter().filter(|m| m.subject.starts_with(name)).collect()
}

fn texts_of(twilio: &StubHttp, name: &str) -> Vec<String> {
    twilio
        .requests()
        .iter()
        .map(|r| r.text())
        .filter(|body| body.contains(&format!("Body={name}")))
        .filter_map(|body| body.split('&').find_map(|kv| kv.strip_prefix("To=")).map(|to| to.replace("%2B", "+")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_reaches_its_segment_by_email_and_sms_with_every_consent_honoured() {
    let twilio = twilio();
    let host = start(&twilio).await;
    let core = host.core.clone();
    let tenant = blocking(move || omnistore_core::seed_demo(&core, now_ms()).unwrap().tenant).await;
    let email = install(&host, &tenant, "email", json!({ "shop_url": SHOP_URL })).await;
    let sms_settings = json!({
        "account_sid": ACCOUNT_SID, "from_number": "+15005550006",
        "api_base_url": twilio.url(), "callback_base_url": SMS_BASE, "time_zone": midday_zone(),
    });
    let sms = install(&host, &tenant, "sms", sms_settings).await;
    // The Auth Token is a secret: set through the admin API, never returned.
    let request = HttpRequest::put(format!("/api/v1/tenants/{tenant}/channels/{sms}/secrets/auth_token"))
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {OPERATOR}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "value": AUTH_TOKEN }).to_string()))
        .unwrap();
    let (status, answer) = call(&host, request).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");

    let (core, t) = (host.core.clone(), tenant.clone());
    let (anna, bruno, carla, segment) = blocking(move || {
        let anna = customer(&core, &t, Some("anna@example.com"), Some("+393330000001"), [true, true]);
        let bruno = customer(&core, &t, Some("bruno@example.com"), Some("+393330000002"), [true, true]);
        let carla = customer(&core, &t, Some("carla@example.com"), None, [true, false]);
        // Dario agreed to nothing: the segment holds him, the channels skip him.
        customer(&core, &t, Some("dario@example.com"), Some("+393330000004"), [false, false]);
        let rule = SegmentRule::Tagged { tag: "e2e".into() };
        let segment = core.create_segment(&t, NewSegment { name: "Test customers".into(), rule }, now_ms()).unwrap();
        (anna, bruno, carla, segment.id)
    })
    .await;

    // Bruno texts STOP to the shop's number, signed as Twilio signs it.
    let form = [("From", "+393330000002"), ("To", "+15005550006"), ("Body", " stop "), ("AccountSid", ACCOUNT_SID)];
    let params: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let signature = omnistore_sms::signature::sign(AUTH_TOKEN, &format!("{SMS_BASE}/inbound"), &params);
    let body: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect();
    let body = body.join("&");
    let request = HttpRequest::post(format!("/t/{tenant}/sms/inbound"))
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(Body::from(body))
        .unwrap();
    let (status, twiml) = call(&host, request).await;
    assert_eq!(status, StatusCode::OK, "{twiml}");

    // The first campaign.
    let (core, t, seg, e, s) = (host.core.clone(), tenant.clone(), segment.clone(), email.clone(), sms.clone());
    let first = blocking(move || {
        let c = core.create_campaign(&t, campaign("Primavera", seg, &e, &s), now_ms()).unwrap();
        core.send_campaign(&t, &c.id, now_ms()).unwrap()
    })
    .await;
    let first = delivered(&host, &tenant, &first.id, 3 + 1).await;
    let services = CoreServices::new(host.core.clone());
    let mail = services.mail_outbox(&tenant, None, 1000).await.unwrap();
    let spring = campaign_mail(&mail, "Primavera");
    let to: Vec<&str> = spring.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(to.len(), 3, "{to:?}");
    for who in ["anna@example.com", "bruno@example.com", "carla@example.com"] {
        assert!(to.contains(&who), "{who} has e-mail consent: {to:?}");
    }
    assert_eq!(texts_of(&twilio, "Primavera"), ["+393330000001"], "only Anna has SMS consent now");
    let sms_progress = first.progress.channel(Medium::Sms);
    assert_eq!(sms_progress.queued, 1, "{sms_progress:?}");
    assert_eq!(sms_progress.skipped(SkipReason::NoConsent), 3, "Bruno (STOP), Carla, Dario: {sms_progress:?}");
    assert_eq!(first.progress.channel(Medium::Email).skipped(SkipReason::NoConsent), 1, "Dario");

    // Carla unsubscribes with her mail app's one-click button.
    let carla_mail = spring.iter().find(|m| m.to[0] == "carla@example.com").unwrap();
    let list = carla_mail.headers.iter().find(|(k, _)| k == "List-Unsubscribe").map(|(_, v)| v.clone()).unwrap();
    let url = list.trim_start_matches('<').split('>').next().unwrap();
    let path = url.strip_prefix(&format!("{SHOP_URL}/email")).unwrap();
    let request = HttpRequest::post(format!("/t/{tenant}/email{path}"))
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    let (status, page) = call(&host, request).await;
    assert_eq!(status, StatusCode::OK, "{page}");

    // The second campaign: Carla gets neither message, Bruno only the e-mail.
    let (core, t, seg, e, s) = (host.core.clone(), tenant.clone(), segment.clone(), email.clone(), sms.clone());
    let second = blocking(move || {
        let c = core.create_campaign(&t, campaign("Estate", seg, &e, &s), now_ms()).unwrap();
        core.send_campaign(&t, &c.id, now_ms()).unwrap()
    })
    .await;
    delivered(&host, &tenant, &second.id, 2 + 1).await;
    let mail = services.mail_outbox(&tenant, None, 1000).await.unwrap();
    let summer: Vec<&str> = campaign_mail(&mail, "Estate").iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(summer.len(), 2, "{summer:?}");
    assert!(summer.contains(&"anna@example.com") && summer.contains(&"bruno@example.com"), "{summer:?}");
    assert_eq!(texts_of(&twilio, "Estate"), ["+393330000001"]);

    let (core, t) = (host.core.clone(), tenant.clone());
    let consent = blocking(move || {
        [&anna, &bruno, &carla]
            .map(|c| core.get_customer(&t, c).unwrap())
            .map(|c| (c.has_consent(ConsentPurpose::EmailMarketing), c.has_consent(ConsentPurpose::SmsMarketing)))
    })
    .await;
    assert_eq!(consent, [(true, true), (true, false), (false, false)]);
}
