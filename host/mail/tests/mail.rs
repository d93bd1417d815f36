//! The transport against real components: an aiosmtpd server (STARTTLS with
//! a throwaway CA, AUTH, recipients that answer 451 or 550), Python's `email`
//! package under `policy.strict` reading what arrived, and dkimpy verifying
//! the signature. Python and its packages are the judges' (`cargo xtask
//! judges`; `OMNISTORE_JUDGES` names their folder).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use omnistore_mail::{
    Credentials, DeliveryError, DkimKey, MailError, OutgoingMail, RelayConfig, Security, Sender, SmtpTransport, Stage,
    compose,
};
use serde_json::Value;

const USER: &str = "shop@relay.test";
const PASSWORD: &str = "correct horse battery staple";
const DOMAIN: &str = "dolcevita.example";
const SELECTOR: &str = "omni2024";

// ---------------------------------------------------------------- judges

fn python() -> PathBuf {
    let dir = match std::env::var_os("OMNISTORE_JUDGES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/judges"),
    };
    let python = dir.join("venv/bin/python");
    assert!(
        python.exists(),
        "the test judges are not installed ({} is missing): run `cargo xtask judges`",
        python.display()
    );
    python
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(name)
}

/// What Python's `email` (strict) and dkimpy make of a raw message; with
/// `dkim`, the signature is checked against that public key.
fn inspect(raw: &[u8], dkim: Option<&TestKey>) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("message.eml");
    std::fs::write(&path, raw).expect("writing the message");
    let mut command = Command::new(python());
    command.arg(script("inspect_mail.py")).arg(&path);
    if let Some(key) = dkim {
        command.arg(format!("{SELECTOR}._domainkey.{DOMAIN}")).arg(&key.txt_record);
    }
    let output = command.output().expect("running the judges' Python");
    assert!(output.status.success(), "the email/dkimpy judge failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the judge prints JSON")
}

// ---------------------------------------------------------------- keys

struct TestKey {
    /// PKCS#8 (`PRIVATE KEY`).
    private_pem: String,
    /// The same key in PKCS#1 (`RSA PRIVATE KEY`).
    pkcs1_pem: String,
    /// Made here with the `rsa` crate, independently of the crate under test.
    txt_record: String,
}

/// One RSA key for the whole run: generating one is slow.
fn dkim_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("generating an RSA key");
        let private_pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
        let pkcs1_pem = key.to_pkcs1_pem(LineEnding::CRLF).expect("PEM").to_string();
        TestKey { private_pem, pkcs1_pem, txt_record: txt_record(&key) }
    })
}

fn txt_record(key: &rsa::RsaPrivateKey) -> String {
    use rsa::pkcs8::EncodePublicKey;
    let public = key.to_public_key().to_public_key_der().expect("public key DER");
    format!("v=DKIM1; k=rsa; p={}", base64::engine::general_purpose::STANDARD.encode(public.as_bytes()))
}

/// A throwaway CA and a certificate it issued for 127.0.0.1, as files.
struct TestPki {
    ca_pem: String,
    dir: tempfile::TempDir,
}

impl TestPki {
    fn new() -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own, so another test's CA is a stranger, not a namesake.
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let name = format!("omnistore test CA {} {}", std::process::id(), SERIAL.fetch_add(1, Ordering::Relaxed));
        ca_params.distinguished_name.push(DnType::CommonName, name);
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().expect("server key");
        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("server params");
        leaf_params.distinguished_name.push(DnType::CommonName, "relay.test");
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("server certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cert.pem"), leaf.pem()).expect("writing the certificate");
        std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).expect("writing the key");
        TestPki { ca_pem: ca_cert.pem(), dir }
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }
}

// ---------------------------------------------------------------- the SMTP server

#[derive(Clone, Copy, PartialEq)]
enum Encryption {
    StartTls,
    Implicit,
    Off,
}

/// What the server asks of clients.
#[derive(Clone, Copy, PartialEq)]
enum Auth {
    Off,
    /// AUTH required; PLAIN and LOGIN offered.
    Required,
    /// AUTH required, LOGIN only.
    LoginOnly,
}

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

struct Received {
    envelope: Value,
    raw: Vec<u8>,
}

impl Server {
    /// An aiosmtpd server; with `auth`, it takes only [`USER`]/[`PASSWORD`].
    fn start(pki: &TestPki, tls: Encryption, auth: Auth) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(python());
        command.arg(script("smtp_server.py")).arg("--dir").arg(dir.path());
        command.arg("--cert").arg(pki.cert()).arg("--key").arg(pki.key());
        match tls {
            Encryption::StartTls => {}
            Encryption::Implicit => {
                command.arg("--implicit-tls");
            }
            Encryption::Off => {
                command.arg("--no-starttls");
            }
        }
        if auth != Auth::Off {
            command.args(["--user", USER, "--password", PASSWORD]);
        }
        if auth == Auth::LoginOnly {
            command.arg("--login-only");
        }
        let log = std::fs::File::create(dir.path().join("server.log")).expect("server log");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("starting the aiosmtpd server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("server stdout")).read_line(&mut line).expect("reading READY");
        let Some(port) = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()) else {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("the SMTP server did not start: {line:?}\n{log}");
        };
        Server { child, port, dir }
    }

    /// Messages saved so far, in arrival order.
    fn received(&self) -> Vec<Received> {
        (1..)
            .map_while(|n| {
                let envelope = std::fs::read(self.dir.path().join(format!("{n}.json"))).ok()?;
                let raw = std::fs::read(self.dir.path().join(format!("{n}.eml"))).expect("the raw message");
                Some(Received { envelope: serde_json::from_slice(&envelope).expect("envelope JSON"), raw })
            })
            .collect()
    }

    fn relay(&self, pki: &TestPki, security: Security) -> RelayConfig {
        RelayConfig {
            credentials: Some(Credentials { user: USER.into(), password: PASSWORD.into() }),
            timeout: Duration::from_secs(10),
            root_certificates: vec![pki.ca_pem.clone()],
            ..RelayConfig::new("127.0.0.1", self.port, security)
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- messages

fn sender(dkim: bool) -> Sender {
    Sender {
        address: format!("ordini@{DOMAIN}"),
        display_name: Some("Pasticceria Dolce Vità".into()),
        dkim: dkim.then(|| DkimKey::new(DOMAIN, SELECTOR, &dkim_key().private_pem).expect("the DKIM key loads")),
    }
}

fn order_ready(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: vec![to.to_owned()],
        subject: "Il tuo ordine è pronto ✓".into(),
        text: "Ciao Giulia,\nil tuo ordine n. 1042 è pronto: passa a ritirarlo quando vuoi.\n\nA presto!\n".into(),
        html: Some(
            "<!doctype html><p>Ciao Giulia,</p><p>il tuo ordine n. <b>1042</b> è pronto: passa a ritirarlo quando \
             vuoi.</p><p>A presto!</p>"
                .into(),
        ),
        headers: vec![("List-Unsubscribe".into(), "<https://dolcevita.example/unsubscribe/abc>".into())],
        message_id_hint: "dolcevita.mail-0000000001.1700000000000".into(),
    }
}

async fn send(transport: &SmtpTransport, mail: &OutgoingMail, sender: &Sender) -> Result<Vec<u8>, DeliveryError> {
    let raw = compose(mail, sender, SystemTime::now()).expect("the message composes");
    transport.deliver(&sender.address, &mail.to, &raw).await.map(|()| raw)
}

fn string(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn signed_mail_over_starttls_with_auth_arrives_whole_and_verifies() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::StartTls, Auth::Required);
    let transport = SmtpTransport::new(server.relay(&pki, Security::StartTlsRequired)).expect("relay settings");
    let mail = order_ready("giulia@example.net");
    let sent = send(&transport, &mail, &sender(true)).await.expect("delivered");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.envelope["mail_from"], format!("ordini@{DOMAIN}"));
    assert_eq!(r.envelope["rcpt_tos"], serde_json::json!(["giulia@example.net"]));
    assert_eq!(r.envelope["user"], USER, "the session authenticated");
    assert_eq!(r.envelope["mechanism"], "PLAIN");
    assert_eq!(r.envelope["encrypted"], true, "the session was encrypted by STARTTLS");
    assert_eq!(r.raw, sent, "the relay received the bytes composed");

    let m = inspect(&r.raw, Some(dkim_key()));
    assert_eq!(m["defects"], serde_json::json!([]), "{m}");
    assert_eq!(m["subject"], "Il tuo ordine è pronto ✓");
    assert_eq!(m["from_name"], "Pasticceria Dolce Vità");
    assert_eq!(m["from_address"], format!("ordini@{DOMAIN}"));
    assert_eq!(m["to"], serde_json::json!(["giulia@example.net"]));
    assert!(m["date"].is_string(), "a parseable Date: {m}");
    let id = string(&m["message_id"]);
    assert!(id.starts_with('<') && id.ends_with(&format!("@{DOMAIN}>")), "Message-ID {id}");
    assert_eq!(m["mime_version"], "1.0");
    assert_eq!(m["content_type"], "multipart/alternative");
    let parts = m["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["content_type"], "text/plain", "text first");
    assert_eq!(parts[1]["content_type"], "text/html", "then HTML");
    for (part, original) in parts.iter().zip([&mail.text, mail.html.as_ref().expect("html")]) {
        assert_eq!(part["charset"], "utf-8");
        assert_eq!(part["transfer_encoding"], "quoted-printable");
        assert_eq!(string(&part["content"]).replace("\r\n", "\n"), *original);
    }
    assert!(m["max_line"].as_u64().expect("max_line") <= 998);
    assert_eq!(m["bare_lf"], 0);
    assert_eq!(m["bare_cr"], 0);
    let headers = m["headers"].as_array().expect("headers");
    assert!(headers.iter().any(|h| h[0] == "List-Unsubscribe"), "the plugin's header is kept");

    assert_eq!(m["dkim"], true, "dkimpy verifies the signature: {m}");
    let tags = &m["dkim_tags"];
    assert_eq!(tags["d"], DOMAIN);
    assert_eq!(tags["s"], SELECTOR);
    assert_eq!(tags["a"], "rsa-sha256");
    let signed: Vec<String> = string(&tags["h"]).split(':').map(|h| h.trim().to_ascii_lowercase()).collect();
    for needed in ["from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-unsubscribe"] {
        assert!(signed.iter().any(|h| h == needed), "{needed} is signed (h={signed:?})");
    }
}

#[tokio::test]
async fn an_altered_message_fails_dkim_verification() {
    let raw = compose(&order_ready("giulia@example.net"), &sender(true), SystemTime::now()).expect("composes");
    let text = String::from_utf8(raw).expect("ASCII");
    assert_eq!(inspect(text.as_bytes(), Some(dkim_key()))["dkim"], true, "the untouched message verifies");

    let body_changed = text.replacen("1042", "1043", 1);
    assert_ne!(body_changed, text);
    assert_eq!(inspect(body_changed.as_bytes(), Some(dkim_key()))["dkim"], false, "a changed body fails");

    let subject_at = text.find("Subject: ").expect("a Subject header");
    let mut subject_changed = text.clone();
    subject_changed.replace_range(subject_at..subject_at + 9, "Subject: Re:");
    assert_eq!(inspect(subject_changed.as_bytes(), Some(dkim_key()))["dkim"], false, "a changed header fails");

    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("another key");
    let other_key = TestKey { private_pem: String::new(), pkcs1_pem: String::new(), txt_record: txt_record(&other) };
    assert_eq!(inspect(text.as_bytes(), Some(&other_key))["dkim"], false, "another key fails");
}

#[tokio::test]
async fn text_only_mail_over_implicit_tls_with_auth_login() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::Implicit, Auth::LoginOnly);
    let transport = SmtpTransport::new(server.relay(&pki, Security::ImplicitTls)).expect("relay settings");
    let mut mail = order_ready("giulia@example.net");
    mail.html = None;
    mail.headers.clear();
    send(&transport, &mail, &sender(false)).await.expect("delivered");

    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope["user"], USER);
    assert_eq!(received[0].envelope["mechanism"], "LOGIN");
    let m = inspect(&received[0].raw, None);
    assert_eq!(m["defects"], serde_json::json!([]), "{m}");
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["parts"][0]["transfer_encoding"], "quoted-printable");
    assert_eq!(string(&m["parts"][0]["content"]).replace("\r\n", "\n"), mail.text);
    assert_eq!(m["subject"], "Il tuo ordine è pronto ✓");
    assert!(!m["headers"].as_array().expect("headers").iter().any(|h| h[0] == "DKIM-Signature"), "unsigned");
}

#[tokio::test]
async fn required_starttls_not_offered_is_permanent_and_sends_nothing() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::Off, Auth::Off);
    let mut relay = server.relay(&pki, Security::StartTlsRequired);
    relay.credentials = None;
    let transport = SmtpTransport::new(relay).expect("relay settings");
    let e = send(&transport, &order_ready("giulia@example.net"), &sender(true)).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert_eq!(e.failure().stage, Stage::StartTls);
    assert!(e.affects_every_message());
    assert!(e.to_string().contains("does not offer STARTTLS"), "{e}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn optional_starttls_not_offered_sends_in_clear_but_never_a_password() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::Off, Auth::Required);
    let transport = SmtpTransport::new(server.relay(&pki, Security::StartTlsOptional)).expect("relay settings");
    let e = send(&transport, &order_ready("giulia@example.net"), &sender(false)).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.failure().stage, Stage::StartTls);
    assert!(e.to_string().contains("password was not sent"), "{e}");
    assert!(server.received().is_empty());

    let open = Server::start(&pki, Encryption::Off, Auth::Off);
    let mut relay = open.relay(&pki, Security::StartTlsOptional);
    relay.credentials = None;
    let transport = SmtpTransport::new(relay).expect("relay settings");
    send(&transport, &order_ready("giulia@example.net"), &sender(false)).await.expect("delivered in clear");
    let received = open.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope["encrypted"], false);
}

#[tokio::test]
async fn a_451_for_a_recipient_is_transient_and_nobody_gets_the_message() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::StartTls, Auth::Required);
    let transport = SmtpTransport::new(server.relay(&pki, Security::StartTlsRequired)).expect("relay settings");
    let mut mail = order_ready("giulia@example.net");
    mail.to.push("tempfail@example.net".into());
    let e = send(&transport, &mail, &sender(true)).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.reply_code(), Some(451));
    assert_eq!(e.failure().stage, Stage::Recipient("tempfail@example.net".into()));
    assert!(!e.affects_every_message());
    let text = e.to_string();
    assert!(text.contains("451") && text.contains("try again later"), "{text}");
    assert!(server.received().is_empty(), "all recipients or none");
}

#[tokio::test]
async fn a_550_for_a_recipient_is_permanent() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::StartTls, Auth::Required);
    let transport = SmtpTransport::new(server.relay(&pki, Security::StartTlsRequired)).expect("relay settings");
    let e = send(&transport, &order_ready("reject@example.net"), &sender(true)).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert_eq!(e.reply_code(), Some(550));
    assert_eq!(e.failure().stage, Stage::Recipient("reject@example.net".into()));
    let text = e.to_string();
    assert!(text.contains("550") && text.contains("No such user"), "{text}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_permanent_and_says_so() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::StartTls, Auth::Required);
    let mut relay = server.relay(&pki, Security::StartTlsRequired);
    relay.credentials = Some(Credentials { user: USER.into(), password: "wrong".into() });
    let transport = SmtpTransport::new(relay).expect("relay settings");
    let e = send(&transport, &order_ready("giulia@example.net"), &sender(true)).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert_eq!(e.failure().stage, Stage::Authenticate);
    assert_eq!(e.reply_code(), Some(535));
    assert!(e.affects_every_message());
    let text = e.to_string();
    assert!(text.contains("user name or password"), "{text}");
    assert!(!text.contains("wrong"), "the password is never in the message: {text}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let pki = TestPki::new();
    let server = Server::start(&pki, Encryption::StartTls, Auth::Required);
    let mut relay = server.relay(&pki, Security::StartTlsRequired);
    relay.root_certificates = vec![TestPki::new().ca_pem];
    let transport = SmtpTransport::new(relay).expect("relay settings");
    let e = send(&transport, &order_ready("giulia@example.net"), &sender(true)).await.unwrap_err();
    assert_eq!(e.failure().stage, Stage::StartTls, "{e}");
    assert!(e.to_string().contains("TLS handshake failed") && e.to_string().contains("certificate"), "{e}");
    // Retried, and the worker is told to pause: someone has to fix the relay or the settings.
    assert!(e.is_retryable() && e.affects_every_message(), "{e}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_relay_that_never_answers_times_out_as_transient() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding");
    let port = listener.local_addr().expect("address").port();
    // Accept and hold connections without a word, like a wedged relay.
    let holder = std::thread::spawn(move || listener.accept().map(|(socket, _)| socket));
    let relay =
        RelayConfig { timeout: Duration::from_millis(800), ..RelayConfig::new("127.0.0.1", port, Security::None) };
    let transport = SmtpTransport::new(relay).expect("relay settings");
    let started = Instant::now();
    let e = send(&transport, &order_ready("giulia@example.net"), &sender(false)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.failure().stage, Stage::Connect);
    assert!(e.to_string().contains("did not answer within"), "{e}");
    assert!(elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(3), "gave up after {elapsed:?}");
    drop(holder.join());
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let port = TcpListener::bind("127.0.0.1:0").expect("binding").local_addr().expect("address").port();
    let transport = SmtpTransport::new(RelayConfig::new("127.0.0.1", port, Security::None)).expect("relay settings");
    let e = send(&transport, &order_ready("giulia@example.net"), &sender(false)).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.failure().stage, Stage::Connect);
    assert!(e.affects_every_message());
}

#[test]
fn a_key_for_another_domain_is_refused() {
    let key = DkimKey::new("another.example", SELECTOR, &dkim_key().private_pem).expect("the key loads");
    let sender = Sender { dkim: Some(key), ..sender(false) };
    let e = compose(&order_ready("giulia@example.net"), &sender, SystemTime::now()).unwrap_err();
    assert!(matches!(e, MailError::DkimDomainMismatch { .. }), "{e}");
    assert!(e.to_string().contains("another.example") && e.to_string().contains(DOMAIN), "{e}");
}

#[test]
fn a_malformed_key_is_refused_when_loaded() {
    let e =
        DkimKey::new(DOMAIN, SELECTOR, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap_err();
    assert!(matches!(e, MailError::DkimKey { .. }), "{e}");
    assert!(DkimKey::new(DOMAIN, "bad selector", &dkim_key().private_pem).is_err());
    let short = {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 768).expect("a short key");
        key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string()
    };
    let e = DkimKey::new(DOMAIN, SELECTOR, &short).unwrap_err();
    assert!(e.to_string().contains("768 bits"), "receivers ignore keys under 1024 bits: {e}");
}

#[test]
fn a_password_without_tls_is_refused_by_the_settings() {
    let relay = RelayConfig {
        credentials: Some(Credentials { user: USER.into(), password: PASSWORD.into() }),
        ..RelayConfig::new("127.0.0.1", 25, Security::None)
    };
    let e = SmtpTransport::new(relay).unwrap_err();
    assert!(matches!(e, MailError::InvalidRelay { field: "security", .. }), "{e}");
    assert!(!format!("{e} {e:?}").contains(PASSWORD));
}

#[test]
fn the_published_record_is_the_key_and_a_pkcs1_key_signs_too() {
    let key = DkimKey::new(DOMAIN, SELECTOR, &dkim_key().pkcs1_pem).expect("a PKCS#1 key loads");
    assert_eq!(key.dns_name(), format!("{SELECTOR}._domainkey.{DOMAIN}"));
    assert_eq!(key.dns_record(), dkim_key().txt_record, "SubjectPublicKeyInfo, as openssl prints it");
    let debug = format!("{key:?}");
    assert!(debug.contains(DOMAIN) && !debug.contains("PRIVATE") && debug.len() < 200, "{debug}");

    let sender = Sender { dkim: Some(key), ..sender(false) };
    let raw = compose(&order_ready("giulia@example.net"), &sender, SystemTime::now()).expect("composes");
    assert_eq!(inspect(&raw, Some(dkim_key()))["dkim"], true);
}

#[test]
fn sender_settings_are_checked_before_any_message() {
    assert_eq!(sender(true).validate().expect("valid settings"), DOMAIN);
    let upper = Sender { address: format!("Ordini@{}", DOMAIN.to_uppercase()), ..sender(true) };
    assert_eq!(upper.validate().expect("domains compare without case"), DOMAIN);
    let bad_name = Sender { display_name: Some("Dolce\r\nBcc: x@example.org".into()), ..sender(false) };
    assert!(matches!(bad_name.validate(), Err(MailError::InvalidHeader { .. })));
    let bad_address = Sender { address: "ordini at dolcevita".into(), ..sender(false) };
    assert!(matches!(bad_address.validate(), Err(MailError::InvalidSender { .. })));
}
