//! The mail queue is bounded and counts against the tenant's storage quota;
//! list reads page through the key order instead of decoding whole tables.

use super::*;
use omnistore_server::commerce::MailLimits;

fn note(to: &str, text: &str) -> wit::MailMessage {
    wit::MailMessage {
        to: vec![to.into()],
        subject: "Pronto per il ritiro".into(),
        text: text.into(),
        html: None,
        headers: vec![],
    }
}

pub(super) async fn mail_queue_is_bounded_per_tenant(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let other = shop(&b.core, "altro");
    let limits = MailLimits { max_queued: 3, ..Default::default() };
    let svc = services(&b).with_mail_limits(limits);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(svc.send_mail(&s.web(), note("giulia@example.com", &format!("n. {i}"))).await.unwrap());
    }
    match svc.send_mail(&s.insta(), note("giulia@example.com", "one too many")).await {
        Err(HostError::QuotaExceeded(m)) => assert!(m.contains("3 messages waiting") && m.contains("later"), "{m}"),
        other => panic!("expected quota-exceeded, got {other:?}"),
    }
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap().len(), 3, "refused mail is not queued");
    // Another tenant's queue is its own.
    svc.send_mail(&other.web(), note("marco@example.com", "ciao")).await.unwrap();
    // Once the transport takes one, there is room again.
    assert!(svc.remove_mail(&s.t, &ids[0]).await.unwrap());
    assert!(!svc.remove_mail(&s.t, &ids[0]).await.unwrap(), "removing twice frees nothing twice");
    svc.send_mail(&s.web(), note("giulia@example.com", "n. 3")).await.unwrap();
    assert!(matches!(svc.send_mail(&s.web(), note("a@example.com", "x")).await, Err(HostError::QuotaExceeded(_))));
}

pub(super) async fn mail_counts_against_the_tenant_storage_quota(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let limits = MailLimits { max_queued: 1000, tenant_quota_bytes: 4_000 };
    let svc = services(&b).with_mail_limits(limits);
    let first = svc.send_mail(&s.web(), note("giulia@example.com", &"x".repeat(1_500))).await.unwrap();
    svc.send_mail(&s.web(), note("giulia@example.com", &"y".repeat(1_500))).await.unwrap();
    match svc.send_mail(&s.web(), note("giulia@example.com", &"z".repeat(1_500))).await {
        Err(HostError::QuotaExceeded(m)) => assert!(m.contains("quota is 4000"), "{m}"),
        other => panic!("expected quota-exceeded, got {other:?}"),
    }
    assert_eq!(svc.mail_outbox(&s.t, None, 10).await.unwrap().len(), 2);
    // The quota is the tenant's, shared with its plugins' data: what they
    // store leaves less room for mail, and sent mail frees its share.
    assert!(svc.remove_mail(&s.t, &first).await.unwrap());
    let usage = TenantUsage::new(&s.t);
    omnistore_storage::transact(&*b.store, |txn| usage.charge(txn, 0, 1_000, u64::MAX).map(drop)).unwrap();
    assert!(matches!(
        svc.send_mail(&s.web(), note("giulia@example.com", &"z".repeat(1_500))).await,
        Err(HostError::QuotaExceeded(_))
    ));
    svc.send_mail(&s.web(), note("giulia@example.com", "short")).await.unwrap();
}

pub(super) async fn customer_list_pages_without_decoding_the_whole_table(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let mut ids = Vec::new();
    for i in 0..5 {
        let new = omnistore_core::NewCustomer { name: Some(format!("Cliente {i}")), identities: vec![] };
        ids.push(b.core.create_customer(&s.t, new, T0).unwrap().id);
    }
    // A record far behind the first page that no longer decodes: a list
    // that decodes the whole table to return one page fails on it.
    let mut key = format!("t/{}/cus/", s.t).into_bytes();
    key.extend_from_slice(b"zzzz-unreadable");
    omnistore_storage::transact(&*b.store, |txn| txn.put(&key, b"{not json")).unwrap();
    let page = b.core.list_customers(&s.t, None, 2).unwrap();
    assert_eq!(page.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids[..2]);
    let next = b.core.list_customers(&s.t, Some(&ids[1]), 2).unwrap();
    assert_eq!(next.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids[2..4]);
}
