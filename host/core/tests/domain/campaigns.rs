//! Campaigns: templates checked when saved, consent honoured per channel,
//! each message exactly once per (campaign, customer, channel) — across a
//! sender that dies between batches and a store that fails mid-send — each
//! reaching only its own channel, and the orders that follow credited.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use omnistore_storage::{Entry, KeyRange, KvStore, ReadTxn, StorageError, Txn};
use sha2::{Digest, Sha256};

use super::segments::{People, people};
use super::support::*;
use super::*;

const SHOP: &str = "https://dolcevita.example";

/// The people of the segment tests, with the e-mail and SMS channels and
/// two more customers: Sara texted STOP, Paolo unsubscribed from e-mail.
///
/// Who may get what: Giulia both; Marco SMS (no e-mail consent); Sara e-mail
/// (STOP); Anna e-mail (SMS consent, no number); Paolo and Luca nothing.
struct Audience {
    p: People,
    mail: ChannelId,
    sms: ChannelId,
    sara: CustomerId,
    paolo: CustomerId,
    everyone: SegmentId,
}

fn audience(core: &Core, tenant: &str) -> Audience {
    let p = people(core, tenant);
    let s = &p.s;
    let channel = |plugin: &str, capabilities: &[&str]| {
        s.core
            .install_channel(
                &s.t,
                NewChannel {
                    plugin_id: plugin.into(),
                    version: "1.0.0".into(),
                    name: plugin.into(),
                    capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
                    subscriptions: vec!["order.placed".into(), "campaign.message".into()],
                    enabled: true,
                    ..Default::default()
                },
                T0,
            )
            .unwrap()
            .id
    };
    let mail = channel("email", &["mail", "customers"]);
    let sms = channel("sms", &["customers", "http:https://api.twilio.com"]);
    let grant = |c: &CustomerId, purpose, granted, source| {
        s.core.set_consent(&s.t, c, purpose, granted, None, source, T0 + 60).unwrap();
    };
    grant(&p.giulia, ConsentPurpose::SmsMarketing, true, "checkout");
    grant(&p.anna, ConsentPurpose::EmailMarketing, true, "checkout");
    grant(&p.anna, ConsentPurpose::SmsMarketing, true, "checkout");
    let sara =
        s.core.identify(&s.t, &Identity::email("sara@example.it").unwrap(), Some("Sara Bianchi"), T0).unwrap().id;
    s.core.add_identity(&s.t, &sara, &Identity::phone("+39 333 555 6666").unwrap(), T0).unwrap();
    grant(&sara, ConsentPurpose::EmailMarketing, true, "checkout");
    grant(&sara, ConsentPurpose::SmsMarketing, true, "checkout");
    s.core.set_consent(&s.t, &sara, ConsentPurpose::SmsMarketing, false, Some(&sms), "STOP reply", T0 + 70).unwrap();
    let paolo = s.core.identify(&s.t, &Identity::email("paolo@example.it").unwrap(), Some("Paolo"), T0).unwrap().id;
    grant(&paolo, ConsentPurpose::EmailMarketing, true, "checkout");
    s.core
        .set_consent(&s.t, &paolo, ConsentPurpose::EmailMarketing, false, Some(&mail), "unsubscribe link", T0 + 70)
        .unwrap();
    let everyone = s
        .core
        .create_segment(
            &s.t,
            NewSegment { name: "Everyone".into(), rule: SegmentRule::OrderCount { at_least: Some(0), at_most: None } },
            T0,
        )
        .unwrap()
        .id;
    Audience { p, mail, sms, sara, paolo, everyone }
}

fn new_campaign(a: &Audience) -> NewCampaign {
    NewCampaign {
        name: "Black Friday".into(),
        segment_id: a.everyone.clone(),
        email: Some(EmailMessage {
            channel_id: a.mail.clone(),
            subject: "{{ customer.first_name | default: 'Ciao' }}, 20% sui cannoli".into(),
            text: "Ciao {{ customer.first_name }}! Scegli qui: https://dolcevita.example/collections/cannoli.".into(),
            html: Some(r#"<p>Ciao {{ customer.first_name }}!</p><a href="https://dolcevita.example/">Vai</a>"#.into()),
        }),
        sms: Some(SmsMessage {
            channel_id: a.sms.clone(),
            text: "{{ shop.name }}: 20% sui cannoli https://dolcevita.example/c".into(),
        }),
        shop_url: Some(SHOP.into()),
        send_at_ms: None,
    }
}

/// Who got what: (customer, medium) → how many `campaign.message` events.
fn sent(core: &Core, t: &TenantId, campaign: &CampaignId) -> BTreeMap<(CustomerId, Medium), usize> {
    let mut out = BTreeMap::new();
    for e in core.list_events(t, None, 10_000).unwrap() {
        if e.kind != DomainEventKind::CampaignMessage {
            continue;
        }
        let m: CampaignMessageEvent = serde_json::from_value(e.payload.clone()).unwrap();
        if &m.campaign_id == campaign {
            *out.entry((m.customer_id, m.medium)).or_default() += 1;
        }
    }
    out
}

fn expected(a: &Audience) -> BTreeMap<(CustomerId, Medium), usize> {
    let p = &a.p;
    [
        (p.giulia.clone(), Medium::Email),
        (p.giulia.clone(), Medium::Sms),
        (p.marco.clone(), Medium::Sms),
        (a.sara.clone(), Medium::Email),
        (p.anna.clone(), Medium::Email),
    ]
    .into_iter()
    .map(|k| (k, 1))
    .collect()
}

fn send_all(core: &Core, t: &TenantId, id: &CampaignId, batch: usize, now: i64) -> Campaign {
    for _ in 0..100 {
        let c = core.send_campaign_batch(t, id, batch, now).unwrap();
        if c.status != CampaignStatus::Sending {
            return c;
        }
    }
    panic!("the campaign never finished sending");
}

fn check_progress(c: &Campaign) {
    assert_eq!(c.status, CampaignStatus::Sent);
    assert_eq!((c.progress.total, c.progress.done), (6, 6));
    assert_eq!(c.progress.email.queued, 3);
    assert_eq!(c.progress.email.skipped, vec![(SkipReason::NoConsent, 3)]);
    assert_eq!(c.progress.sms.queued, 2);
    assert_eq!(c.progress.sms.skipped, vec![(SkipReason::NoConsent, 3), (SkipReason::NoIdentity, 1)]);
}

#[test]
fn a_campaign_reaches_its_segment_by_email_and_sms_with_consent_honoured() {
    let a = audience(&memory_core(), "cmpsend");
    let s = &a.p.s;
    let c = s.core.create_campaign(&s.t, new_campaign(&a), T0 + 100).unwrap();
    assert_eq!(c.status, CampaignStatus::Draft);
    assert!(sent(&s.core, &s.t, &c.id).is_empty(), "saving sends nothing");
    let started = s.core.send_campaign(&s.t, &c.id, T0 + 200).unwrap();
    assert_eq!((started.status, started.progress.total, started.progress.done), (CampaignStatus::Sending, 6, 0));
    // A customer who joins after the list was made is not in this send.
    let late = s.core.identify(&s.t, &Identity::email("late@example.it").unwrap(), None, T0 + 210).unwrap().id;
    s.core.set_consent(&s.t, &late, ConsentPurpose::EmailMarketing, true, None, "form", T0 + 210).unwrap();
    let partly = s.core.send_campaign_batch(&s.t, &c.id, 2, T0 + 220).unwrap();
    assert_eq!((partly.status, partly.progress.done), (CampaignStatus::Sending, 2), "a batch moves the cursor");
    let done = send_all(&s.core, &s.t, &c.id, 2, T0 + 230);
    check_progress(&done);
    assert_eq!(sent(&s.core, &s.t, &c.id), expected(&a));
    // Sending again is harmless: the campaign is sent.
    assert_eq!(s.core.send_campaign(&s.t, &c.id, T0 + 240).unwrap().progress, done.progress);
    assert_eq!(s.core.send_campaign_batch(&s.t, &c.id, 2, T0 + 240).unwrap().progress, done.progress);
    assert_eq!(sent(&s.core, &s.t, &c.id), expected(&a));

    // Each message is one event whose id is derived from (campaign, customer,
    // channel), rendered for its customer, with the campaign on its links.
    let events: Vec<Event> = s
        .core
        .list_events(&s.t, None, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == DomainEventKind::CampaignMessage)
        .collect();
    for e in &events {
        let m: CampaignMessageEvent = serde_json::from_value(e.payload.clone()).unwrap();
        let mut digest = Sha256::new();
        digest.update(s.t.as_str().as_bytes());
        digest.update([0]);
        digest.update(format!("campaign.message/{}/{}/{}", c.id, m.customer_id, m.medium.as_str()).as_bytes());
        let tail = hex::encode(&digest.finalize()[..16]);
        assert!(e.id.as_str().ends_with(&tail), "{} is not derived from its message", e.id);
        assert_eq!(e.subject, m.customer_id.as_str());
        let params = format!("utm_campaign={}&utm_medium={}&utm_source=omnistore", c.id, m.medium.as_str());
        assert!(m.text.contains(&params), "{}", m.text);
        match m.medium {
            Medium::Email => assert_eq!(m.channel_id, a.mail),
            Medium::Sms => assert_eq!(m.channel_id, a.sms),
        }
    }
    let giulia_mail = events
        .iter()
        .map(|e| serde_json::from_value::<CampaignMessageEvent>(e.payload.clone()).unwrap())
        .find(|m| m.customer_id == a.p.giulia && m.medium == Medium::Email)
        .unwrap();
    assert_eq!(giulia_mail.subject, "Ciao, 20% sui cannoli", "Giulia's profile has no name");
    assert_eq!(
        giulia_mail.html.as_deref(),
        Some(&*format!(
            r#"<p>Ciao !</p><a href="https://dolcevita.example/?utm_campaign={}&amp;utm_medium=email&amp;utm_source=omnistore">Vai</a>"#,
            c.id
        ))
    );
    let sara_mail = events
        .iter()
        .map(|e| serde_json::from_value::<CampaignMessageEvent>(e.payload.clone()).unwrap())
        .find(|m| m.customer_id == a.sara)
        .unwrap();
    assert_eq!(sara_mail.subject, "Sara, 20% sui cannoli");
    assert!(sara_mail.text.starts_with("Ciao Sara! Scegli qui: https://dolcevita.example/collections/cannoli?utm_"));
    assert!(sara_mail.text.ends_with("utm_source=omnistore."), "{}", sara_mail.text);

    // Fan-out hands each message to its own channel only.
    while s.core.fan_out(&s.t, T0 + 300, 0).unwrap() > 0 {}
    for e in &events {
        let m: CampaignMessageEvent = serde_json::from_value(e.payload.clone()).unwrap();
        let deliveries = s.core.event_deliveries(&s.t, &e.id).unwrap();
        assert_eq!(deliveries.len(), 1, "{:?}", deliveries);
        assert_eq!(deliveries[0].channel_id, m.channel_id);
        assert_eq!(deliveries[0].kind, EventKind::CampaignMessage);
        // The channel may now read the customer it must write to.
        s.core.customer_for_channel(&s.t, &m.channel_id, &m.customer_id, Reach::Handed).unwrap();
    }
    assert!(matches!(
        s.core.customer_for_channel(&s.t, &a.sms, &a.paolo, Reach::Handed),
        Err(CoreError::NotFound { .. })
    ));
}

#[test]
fn a_template_error_or_a_wrong_channel_is_refused_when_saved() {
    let a = audience(&memory_core(), "cmpbad");
    let s = &a.p.s;
    let elsewhere = audience(&s.core, "cmpbad-other");
    let before = snapshot(s.core.store());
    let with = |f: &dyn Fn(&mut NewCampaign)| {
        let mut n = new_campaign(&a);
        f(&mut n);
        n
    };
    let cases: Vec<(NewCampaign, &str)> = vec![
        (
            with(&|n| n.email.as_mut().unwrap().subject = "{{ customer.name ".into()),
            "e-mail subject: Liquid syntax error",
        ),
        (with(&|n| n.sms.as_mut().unwrap().text = "{{ shop.name | shout }}".into()), "SMS text"),
        (with(&|n| n.email.as_mut().unwrap().html = Some("{% for x in %}".into())), "e-mail HTML"),
        (with(&|n| n.sms.as_mut().unwrap().text = "x".repeat(1700)), "1-1600 characters"),
        (with(&|n| n.sms.as_mut().unwrap().channel_id = a.p.s.web.clone()), "does not take campaign messages"),
        (with(&|n| n.email.as_mut().unwrap().channel_id = a.sms.clone()), "cannot send e-mail"),
        (with(&|n| n.shop_url = Some("dolcevita.example".into())), "web address"),
        (
            with(&|n| {
                n.email = None;
                n.sms = None;
            }),
            "needs an e-mail message, an SMS message or both",
        ),
        (with(&|n| n.name = " ".into()), "campaign name"),
    ];
    for (new, why) in cases {
        let err = s.core.create_campaign(&s.t, new, T0 + 100).unwrap_err();
        assert!(matches!(err, CoreError::Invalid(_)), "{why}: {err}");
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    // Another tenant's segment or channel is not found here.
    let foreign = [
        with(&|n| n.sms.as_mut().unwrap().channel_id = elsewhere.sms.clone()),
        with(&|n| n.segment_id = elsewhere.everyone.clone()),
    ];
    for new in foreign {
        let err = s.core.create_campaign(&s.t, new, T0 + 100).unwrap_err();
        assert!(matches!(err, CoreError::NotFound { .. }), "{err}");
    }
    assert!(snapshot(s.core.store()) == before, "a refused campaign writes nothing");
    let theirs = elsewhere.p.s.core.create_campaign(&elsewhere.p.s.t, new_campaign(&elsewhere), T0).unwrap();
    assert!(matches!(s.core.get_campaign(&s.t, &theirs.id), Err(CoreError::NotFound { .. })));
    assert!(matches!(s.core.send_campaign(&s.t, &theirs.id, T0), Err(CoreError::NotFound { .. })));
}

#[test]
fn a_preview_renders_one_customers_messages() {
    let a = audience(&memory_core(), "cmppreview");
    let s = &a.p.s;
    let c = s.core.create_campaign(&s.t, new_campaign(&a), T0 + 100).unwrap();
    let preview = s.core.preview_campaign(&s.t, &c.id, &a.sara, T0 + 150).unwrap();
    // Giulia, Sara and Anna by e-mail; Giulia and Marco by text.
    assert_eq!((preview.email_reach, preview.sms_reach), (3, 2));
    let email = preview.email.unwrap();
    assert_eq!(email.subject, "Sara, 20% sui cannoli");
    let sms = preview.sms.unwrap();
    assert_eq!(
        sms.text,
        format!(
            "Pasticceria: 20% sui cannoli https://dolcevita.example/c?utm_campaign={}&utm_medium=sms&utm_source=omnistore",
            c.id
        )
    );
    assert!(sent(&s.core, &s.t, &c.id).is_empty(), "a preview sends nothing");
}

fn redb_at(path: &std::path::Path) -> Core {
    Core::new(omnistore_storage::open(&format!("redb:{}", path.display())).expect("open redb"))
}

#[test]
fn nothing_is_sent_twice_when_the_sender_dies_between_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (t, id, want) = {
        let core = redb_at(&path);
        let a = audience(&core, "cmpcrash");
        let c = core.create_campaign(&a.p.s.t, new_campaign(&a), T0 + 100).unwrap();
        core.send_campaign(&a.p.s.t, &c.id, T0 + 200).unwrap();
        let partly = core.send_campaign_batch(&a.p.s.t, &c.id, 4, T0 + 210).unwrap();
        assert_eq!(partly.progress.done, 4);
        (a.p.s.t.clone(), c.id, expected(&a))
        // The sender stops here, store and all.
    };
    let core = redb_at(&path);
    let c = core.get_campaign(&t, &id).unwrap();
    assert_eq!((c.status, c.progress.done), (CampaignStatus::Sending, 4), "the progress survived");
    // Starting it again does not remake the list or resend the first batch.
    core.send_campaign(&t, &id, T0 + 300).unwrap();
    let round = core.run_campaigns(&t, T0 + 310, 10).unwrap();
    assert_eq!(round.batches, 1);
    check_progress(&core.get_campaign(&t, &id).unwrap());
    assert_eq!(sent(&core, &t, &id), want, "each recipient got exactly one message per channel");
}

/// A store that dies: after `commits` more commits, the next one is lost
/// (the process died before it reached the disk) and so is everything after.
struct DyingStore {
    inner: Arc<dyn KvStore>,
    commits: AtomicI64,
}

struct DyingTxn<'a> {
    inner: Box<dyn Txn + 'a>,
    store: &'a DyingStore,
}

impl KvStore for DyingStore {
    fn backend(&self) -> &'static str {
        "dying"
    }
    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        if self.commits.load(Ordering::SeqCst) < 0 {
            return Err(StorageError::Invalid("the process is gone".into()));
        }
        Ok(Box::new(DyingTxn { inner: self.inner.begin()?, store: self }))
    }
    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        self.inner.begin_read()
    }
}

impl Txn for DyingTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.inner.put(key, value)
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.inner.delete(key)
    }
    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        self.inner.scan(range, limit)
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        if self.store.commits.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(StorageError::Invalid("the process died during the commit".into()));
        }
        self.inner.commit()
    }
}

#[test]
fn a_send_that_dies_in_a_commit_resumes_without_duplicates() {
    for dies_after in 0..4 {
        let inner = omnistore_storage::open("memory:").unwrap();
        let setup = Core::new(inner.clone());
        let a = audience(&setup, "cmpdying");
        let t = a.p.s.t.clone();
        let c = setup.create_campaign(&t, new_campaign(&a), T0 + 100).unwrap();
        setup.send_campaign(&t, &c.id, T0 + 200).unwrap();
        let dying = Core::new(Arc::new(DyingStore { inner: inner.clone(), commits: AtomicI64::new(dies_after) }));
        let mut batches = 0;
        let died = loop {
            match dying.send_campaign_batch(&t, &c.id, 1, T0 + 210) {
                Ok(_) => batches += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(batches, dies_after, "{died}");
        assert_eq!(setup.get_campaign(&t, &c.id).unwrap().progress.done, dies_after as u64);
        // A new process over what reached the store finishes the send.
        let restarted = Core::new(inner);
        let done = send_all(&restarted, &t, &c.id, 1, T0 + 300);
        check_progress(&done);
        assert_eq!(sent(&restarted, &t, &c.id), expected(&a), "died after {dies_after} batches");
    }
}

#[test]
fn a_scheduled_campaign_starts_on_the_clock_and_an_idle_round_writes_nothing() {
    let a = audience(&memory_core(), "cmpclock");
    let s = &a.p.s;
    let idle = snapshot(s.core.store());
    assert_eq!(s.core.run_campaigns(&s.t, T0 + 100, 5).unwrap(), CampaignRound::default());
    assert!(snapshot(s.core.store()) == idle, "a round with no campaign writes nothing");
    let mut new = new_campaign(&a);
    new.send_at_ms = Some(T0 + 10_000);
    let c = s.core.create_campaign(&s.t, new, T0 + 100).unwrap();
    assert_eq!(c.status, CampaignStatus::Scheduled);
    let waiting = snapshot(s.core.store());
    assert_eq!(s.core.run_campaigns(&s.t, T0 + 9_999, 5).unwrap(), CampaignRound::default());
    assert!(snapshot(s.core.store()) == waiting, "a campaign not yet due writes nothing");
    assert!(sent(&s.core, &s.t, &c.id).is_empty());
    let round = s.core.run_campaigns(&s.t, T0 + 10_000, 5).unwrap();
    assert_eq!(round, CampaignRound { started: 1, batches: 1 });
    let c = s.core.get_campaign(&s.t, &c.id).unwrap();
    check_progress(&c);
    assert_eq!(c.started_ms, Some(T0 + 10_000));
    assert_eq!(sent(&s.core, &s.t, &c.id), expected(&a));
    let after = snapshot(s.core.store());
    assert_eq!(s.core.run_campaigns(&s.t, T0 + 20_000, 5).unwrap(), CampaignRound::default());
    assert!(snapshot(s.core.store()) == after, "a sent campaign is not looked at again");
}

fn click(s: &Shop, customer: &CustomerId, campaign: &CampaignId, medium: &str, at: i64) {
    s.core
        .record_touchpoint(
            &s.t,
            NewTouchpoint {
                customer_id: customer.clone(),
                kind: "view".into(),
                channel_id: Some(s.web.clone()),
                product_id: None,
                variant_id: None,
                campaign: Some(campaign.as_ref_name()),
                detail: None,
                at_ms: at,
                visitor_id: None,
                source: Some(VisitSource {
                    source: "omnistore".into(),
                    medium: Some(medium.into()),
                    campaign: Some(campaign.to_string()),
                    referrer: None,
                }),
            },
            at,
        )
        .unwrap();
}

fn buy_as(s: &Shop, customer: &CustomerId, variant: &VariantId, at: i64) -> Order {
    let cart = s
        .core
        .create_cart(&s.t, NewCart { channel: Some(s.web.clone()), customer: Some(customer.clone()) }, at)
        .unwrap();
    s.core.add_to_cart(&s.t, &cart.id, variant, 1, at).unwrap();
    let request = CheckoutRequest {
        channel: Some(s.web.clone()),
        fulfilment: ship(),
        customer: None,
        email: None,
        note: None,
        expected_total_minor: None,
    };
    s.core.checkout(&s.t, &cart.id, request, at).unwrap()
}

#[test]
fn orders_after_campaign_clicks_are_credited_first_and_last_touch_per_channel() {
    let a = audience(&memory_core(), "cmpresults");
    let s = &a.p.s;
    let first = s.core.create_campaign(&s.t, new_campaign(&a), T0 + 100).unwrap();
    let second = s.core.create_campaign(&s.t, new_campaign(&a), T0 + 100).unwrap();
    for c in [&first, &second] {
        s.core.send_campaign(&s.t, &c.id, T0 + 200).unwrap();
        send_all(&s.core, &s.t, &c.id, 0, T0 + 200);
    }
    // The channels took some messages: the e-mail channel all, the SMS one none yet.
    while s.core.fan_out(&s.t, T0 + 300, 0).unwrap() > 0 {}
    for due in s.core.claim_due(&s.t, T0 + 300, 1000, 60_000).unwrap() {
        if due.delivery.channel_id == a.mail {
            s.core.mark_delivered(&s.t, &due.delivery.id, T0 + 301).unwrap();
        }
    }
    // Sara clicks the first campaign's e-mail, then the second's; Marco the first's SMS.
    let hour = 3_600_000;
    click(s, &a.sara, &first.id, "email", T0 + hour);
    click(s, &a.sara, &second.id, "email", T0 + 2 * hour);
    click(s, &a.p.marco, &first.id, "sms", T0 + hour);
    let sara_order = buy_as(s, &a.sara, &s.cassata, T0 + 3 * hour);
    assert_eq!(sara_order.first_touch_campaign, Some(first.id.as_ref_name()));
    assert_eq!(sara_order.attributed_campaign, Some(second.id.as_ref_name()), "last touch keeps its old field");
    let marco_order = buy_as(s, &a.p.marco, &s.cantucci, T0 + 4 * hour);
    assert_eq!(marco_order.first_touch_campaign, Some(first.id.as_ref_name()));
    assert_eq!(marco_order.attributed_campaign, Some(first.id.as_ref_name()));
    // Past the window, a click is no longer credited.
    let late = buy_as(s, &a.sara, &s.cantucci, T0 + 8 * 24 * hour);
    assert_eq!((late.first_touch_campaign, late.attributed_campaign), (None, None));

    let results = s.core.campaign_results(&s.t, &first.id).unwrap();
    let by = |m: Medium| results.channels.iter().find(|r| r.medium == m).unwrap().clone();
    let (email, sms) = (by(Medium::Email), by(Medium::Sms));
    assert_eq!((email.queued, email.delivered, email.failed, email.clicked), (3, 3, 0, 1));
    assert_eq!(email.skipped, vec![(SkipReason::NoConsent, 3)]);
    assert_eq!((email.orders_first_touch, email.revenue_first_touch.amount_minor), (1, 2800));
    assert_eq!(email.orders_last_touch, 0, "Sara's last touch was the second campaign");
    assert_eq!((sms.queued, sms.delivered, sms.clicked), (2, 0, 1));
    assert_eq!((sms.orders_last_touch, sms.revenue_last_touch.amount_minor), (1, 650));
    assert_eq!((sms.orders_first_touch, sms.revenue_first_touch.amount_minor), (1, 650));
    let results = s.core.campaign_results(&s.t, &second.id).unwrap();
    let email = results.channels.iter().find(|r| r.medium == Medium::Email).unwrap();
    assert_eq!((email.clicked, email.orders_last_touch, email.revenue_last_touch.amount_minor), (1, 1, 2800));
    assert_eq!(email.orders_first_touch, 0);
}

#[test]
fn an_erased_recipient_leaves_the_campaign_and_gets_nothing() {
    let a = audience(&memory_core(), "cmperase");
    let s = &a.p.s;
    let c = s.core.create_campaign(&s.t, new_campaign(&a), T0 + 100).unwrap();
    s.core.send_campaign(&s.t, &c.id, T0 + 200).unwrap();
    s.core.send_campaign_batch(&s.t, &c.id, 1, T0 + 210).unwrap();
    s.core.erase_customer(&s.t, &a.sara, T0 + 220).unwrap();
    let done = send_all(&s.core, &s.t, &c.id, 2, T0 + 230);
    assert_eq!((done.progress.total, done.progress.done), (6, 6));
    assert_eq!(done.progress.email.queued, 2);
    assert_eq!(done.progress.email.skipped(SkipReason::CustomerGone), 1);
    assert_eq!(done.progress.sms.skipped(SkipReason::CustomerGone), 1);
    assert!(sent(&s.core, &s.t, &c.id).keys().all(|(who, _)| who != &a.sara));
    // Her id stays only as the subject of past events and in the erasure log.
    let prefix = omnistore_storage::keyspace::core_prefix(&s.t);
    for (key, value) in snapshot(s.core.store()) {
        let (key, value) = (String::from_utf8_lossy(&key), String::from_utf8_lossy(&value));
        let Some(rest) = key.strip_prefix(&prefix) else { continue };
        if rest.starts_with("evt/") || rest.starts_with("erasure/") {
            continue;
        }
        for trace in [a.sara.as_str(), "sara@example.it", "Sara"] {
            assert!(!key.contains(trace) && !value.contains(trace), "`{trace}` left in {key}: {value}");
        }
    }
}

const SENDER_STORE_ENV: &str = "OMNISTORE_CAMPAIGN_SENDER_STORE";
const SENDER_CAMPAIGN_ENV: &str = "OMNISTORE_CAMPAIGN_SENDER_CAMPAIGN";

/// The child side of the kill test: sends a campaign one recipient per
/// batch, acknowledging each batch on stdout after its commit returned.
/// Does nothing in a normal test run.
#[test]
fn campaign_sender_child() {
    let (Ok(path), Ok(id)) = (std::env::var(SENDER_STORE_ENV), std::env::var(SENDER_CAMPAIGN_ENV)) else { return };
    let core = redb_at(std::path::Path::new(&path));
    let (t, id) = (TenantId::new("cmpkill").unwrap(), CampaignId::new(id));
    for _ in 0..100 {
        let c = core.send_campaign_batch(&t, &id, 1, T0 + 500).unwrap();
        println!("BATCH {}", c.progress.done);
        if c.status != CampaignStatus::Sending {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_sender_process_killed_mid_campaign_is_restarted_and_sends_nothing_twice() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (id, want) = {
        let core = redb_at(&path);
        let a = audience(&core, "cmpkill");
        let c = core.create_campaign(&a.p.s.t, new_campaign(&a), T0 + 100).unwrap();
        core.send_campaign(&a.p.s.t, &c.id, T0 + 200).unwrap();
        (c.id, expected(&a))
    };
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "campaigns::campaign_sender_child", "--nocapture", "--test-threads=1"])
        .env(SENDER_STORE_ENV, &path)
        .env(SENDER_CAMPAIGN_ENV, id.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // The test harness may print its own text before the first line's end.
    let first = lines.find_map(|l| l.ok().and_then(|l| l.split("BATCH ").nth(1).map(str::to_owned)));
    assert_eq!(first.as_deref(), Some("1"), "the sender sent its first batch");
    child.kill().expect("SIGKILL the sender");
    assert!(!child.wait().unwrap().success(), "the sender was killed, not finished");

    let core = redb_at(&path);
    let t = TenantId::new("cmpkill").unwrap();
    let stopped = core.get_campaign(&t, &id).unwrap();
    assert_eq!(stopped.status, CampaignStatus::Sending, "killed in the middle");
    assert!((1..6).contains(&stopped.progress.done), "{:?}", stopped.progress);
    let done = send_all(&core, &t, &id, 1, T0 + 600);
    check_progress(&done);
    assert_eq!(sent(&core, &t, &id), want, "each recipient got exactly one message per channel");
}
