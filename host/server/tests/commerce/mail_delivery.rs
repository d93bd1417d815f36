//! The outbox reaches a real SMTP server (aiosmtpd): delivered mail leaves
//! the queue, a 4xx is retried on the policy's schedule, a 5xx or the last
//! attempt makes a dead letter that can be replayed, and a relay that cannot
//! be reached costs no message an attempt.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use omnistore_mail::{RelayConfig, RetryPolicy, Security, Sender};
use omnistore_server::commerce::DeliveryOutcome;
use omnistore_services::mail_delivery::{MailDelivery, TenantMail};

use super::*;

struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let judges = std::env::var_os("OMNISTORE_JUDGES")
            .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/judges"), PathBuf::from);
        let python = judges.join("venv/bin/python");
        assert!(python.exists(), "{} is missing: run `cargo xtask judges`", python.display());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/smtp_server.py");
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .arg("--no-starttls")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).expect("READY <port>");
        SmtpServer { child, port, dir }
    }

    /// Raw messages received, in order.
    fn received(&self) -> Vec<String> {
        (1..)
            .map_while(|n| std::fs::read(self.dir.path().join(format!("{n}.eml"))).ok())
            .map(|raw| String::from_utf8_lossy(&raw).into_owned())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mail_to(to: &str, subject: &str) -> wit::MailMessage {
    wit::MailMessage {
        to: vec![to.into()],
        subject: subject.into(),
        text: "Il tuo ordine è pronto.".into(),
        html: Some("<p>Il tuo ordine è pronto.</p>".into()),
        headers: vec![("Reply-To".into(), "negozio@dolcevita.example".into())],
    }
}

fn settings(port: u16) -> TenantMail {
    TenantMail {
        sender: Sender {
            address: "ordini@dolcevita.example".into(),
            display_name: Some("Pasticceria Dolce Vita".into()),
            dkim: None,
        },
        relay: RelayConfig { timeout: Duration::from_secs(10), ..RelayConfig::new("127.0.0.1", port, Security::None) },
        retry: RetryPolicy { base: Duration::from_secs(60), max: Duration::from_secs(600), max_attempts: 3 },
    }
}

pub(super) async fn queued_mail_reaches_the_relay_and_failures_are_kept(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = Arc::new(services(&b));
    let server = SmtpServer::start();
    let delivery = MailDelivery::new(svc.clone());
    // A tenant without mail settings keeps its queue.
    let waiting = svc.send_mail(&s.web(), mail_to("giulia@example.com", "Pronto")).await.unwrap();
    let t0 = 1_800_000_000_000;
    assert_eq!(delivery.deliver_due(&s.t, t0).await.unwrap(), Default::default());
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap().len(), 1);

    delivery.configure(&s.t, settings(server.port)).unwrap();
    let temp = svc.send_mail(&s.web(), mail_to("tempfail@example.com", "Riprova")).await.unwrap();
    let rejected = svc.send_mail(&s.insta(), mail_to("reject@example.com", "Rifiutato")).await.unwrap();
    let report = delivery.deliver_due(&s.t, t0).await.unwrap();
    assert_eq!((report.delivered, report.retrying, report.dead), (1, 1, 1), "{report:?}");

    // Delivered: from the merchant's address, whatever the plugin wanted.
    let received = server.received();
    assert_eq!(received.len(), 1, "only the deliverable message arrives");
    let from = received[0].lines().find(|l| l.starts_with("From:")).unwrap_or_default();
    assert!(from.contains("Pasticceria Dolce Vita") && from.contains("<ordini@dolcevita.example>"), "{from}");
    assert!(received[0].contains("Reply-To: negozio@dolcevita.example"), "{}", received[0]);
    let queue = svc.mail_outbox(&s.t, None, 10).await.unwrap();
    assert_eq!(queue.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [temp.as_str()], "{queue:?}");
    assert!(!queue.iter().any(|m| m.id == waiting));

    // The 4xx waits for its next attempt, a minute later, with the reason kept.
    let retry = &queue[0];
    assert_eq!((retry.attempts, retry.next_attempt_ms), (1, t0 + 60_000));
    assert!(retry.last_error.as_deref().is_some_and(|e| e.contains("451")), "{retry:?}");
    let early = delivery.deliver_due(&s.t, t0 + 59_000).await.unwrap();
    assert_eq!((early.waiting, early.retrying), (1, 0), "not due yet: {early:?}");

    // The 5xx is a dead letter at once, with the relay's answer.
    let dead = svc.dead_mail(&s.t, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, rejected);
    assert!(dead[0].last_error.as_deref().is_some_and(|e| e.contains("550")), "{dead:?}");

    // The last of three attempts gives up: the schedule doubles (1, 2 minutes).
    let second = delivery.deliver_due(&s.t, t0 + 60_000).await.unwrap();
    assert_eq!(second.retrying, 1);
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap()[0].next_attempt_ms, t0 + 60_000 + 120_000);
    let third = delivery.deliver_due(&s.t, t0 + 180_000).await.unwrap();
    assert_eq!(third.dead, 1, "{third:?}");
    assert!(svc.mail_outbox(&s.t, None, 10).await.unwrap().is_empty());
    assert_eq!(svc.dead_mail(&s.t, 10).await.unwrap().len(), 2);

    // Replayed, a dead letter is due again with its attempts forgotten;
    // replaying what is not dead finds nothing.
    let replayed = svc.replay_dead_mail(&s.t, &rejected).await.unwrap().unwrap().unwrap();
    assert_eq!((replayed.attempts, replayed.next_attempt_ms), (0, 0));
    assert!(svc.replay_dead_mail(&s.t, &rejected).await.unwrap().is_none());
    assert!(svc.replay_dead_mail(&s.t, "mail-nope").await.unwrap().is_none());
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap().len(), 1);

    // A relay nobody answers on fails every message alike: the round stops
    // and the message keeps its attempts.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    delivery.configure(&s.t, settings(port)).unwrap();
    let down = delivery.deliver_due(&s.t, t0 + 200_000).await.unwrap();
    assert!(down.relay_failure.is_some(), "{down:?}");
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap()[0].attempts, 0, "no attempt burnt on a relay outage");
    // Recording an outcome for a message that is gone changes nothing.
    let gone = DeliveryOutcome::Retry { error: "x".into(), next_attempt_ms: 0 };
    assert!(!svc.record_delivery(&s.t, "mail-nope", gone).await.unwrap());
}

pub(super) async fn mail_settings_are_checked_before_use(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let delivery = MailDelivery::new(Arc::new(services(&b)));
    let mut bad_sender = settings(25);
    bad_sender.sender.address = "not an address".into();
    assert!(delivery.configure(&s.t, bad_sender).unwrap_err().to_string().contains("not a valid e-mail address"));
    let mut empty_relay = settings(25);
    empty_relay.relay.host = String::new();
    assert!(delivery.configure(&s.t, empty_relay).unwrap_err().to_string().contains("host"));
    assert!(delivery.tenants().is_empty(), "refused settings are not kept");
}

pub(super) async fn messages_waiting_to_retry_do_not_hold_back_newer_ones(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let svc = Arc::new(services(&b));
    let server = SmtpServer::start();
    // One message per read, so the queue is read in pages.
    let delivery = MailDelivery::new(svc.clone()).with_page_size(1);
    delivery.configure(&s.t, settings(server.port)).unwrap();
    for n in 0..2 {
        svc.send_mail(&s.web(), mail_to("tempfail@example.com", &format!("Riprova {n}"))).await.unwrap();
    }
    let t0 = 1_800_000_000_000;
    let first = delivery.deliver_due(&s.t, t0).await.unwrap();
    assert_eq!(first.retrying, 2, "{first:?}");
    // Two messages ahead of it wait for their next attempt; the new one goes now.
    svc.send_mail(&s.web(), mail_to("giulia@example.com", "Pronto")).await.unwrap();
    let second = delivery.deliver_due(&s.t, t0 + 1_000).await.unwrap();
    assert_eq!((second.delivered, second.waiting), (1, 2), "{second:?}");
    assert_eq!(server.received().len(), 1);
}
