//! Event delivery is fair between tenants and does not blame plugins for the
//! host's faults.

use super::*;

/// Deliveries to `slow_tenant` hang until released, like a plugin spinning
/// until its deadline; the others are recorded at once.
struct StuckSink {
    slow_tenant: String,
    release: tokio::sync::watch::Receiver<bool>,
    stuck: AtomicI64,
    got: Mutex<Vec<String>>,
}

#[async_trait]
impl EventSink for StuckSink {
    async fn deliver(&self, tenant: &TenantId, _channel: &ChannelId, event: wit::Event) -> Result<(), DeliveryFailure> {
        if tenant.as_str() == self.slow_tenant {
            self.stuck.fetch_add(1, Ordering::SeqCst);
            let mut release = self.release.clone();
            let _ = release.wait_for(|released| *released).await;
            self.stuck.fetch_sub(1, Ordering::SeqCst);
            return Ok(());
        }
        self.got.lock().unwrap().push(format!("{tenant}:{}", event.kind));
        Ok(())
    }
}

pub(super) async fn a_stuck_tenant_does_not_delay_another(b: Backend) {
    // "aaa" sorts first, so a dispatcher serving tenants one after another
    // would wait for it before ever reaching "zzz".
    let slow = shop(&b.core, "aaa-slow");
    let fast = shop(&b.core, "zzz-fast");
    let (release_tx, release) = tokio::sync::watch::channel(false);
    let sink = Arc::new(StuckSink {
        slow_tenant: slow.t.to_string(),
        release,
        stuck: AtomicI64::new(0),
        got: Mutex::default(),
    });
    let config = DispatcherConfig { poll_interval: Duration::from_millis(20), ..Default::default() };
    let handle = Dispatcher::new(b.core.clone(), sink.clone()).with_config(config).spawn();

    let mut delivered_while_stuck = false;
    for _ in 0..400 {
        let fast_got = sink.got.lock().unwrap().iter().filter(|g| g.starts_with("zzz-fast:")).count();
        if fast_got > 0 && sink.stuck.load(Ordering::SeqCst) > 0 {
            delivered_while_stuck = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(delivered_while_stuck, "tenant B's events waited for tenant A's stuck delivery");

    // A's lane is still stuck; B keeps being served: a new order of B
    // reaches B's web channel.
    let svc = services(&b);
    let cart = svc.create_cart(&fast.web(), None).await.unwrap();
    svc.set_cart_quantity(&fast.web(), &cart.id, fast.cannolo.1.as_str(), 1).await.unwrap();
    svc.checkout(&fast.web(), &cart.id, ship()).await.unwrap();
    handle.wake();
    let mut placed = false;
    for _ in 0..400 {
        if sink.got.lock().unwrap().iter().any(|g| g == "zzz-fast:order.placed") {
            placed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(placed, "tenant B's order never reached its channel while tenant A was stuck");
    assert!(sink.stuck.load(Ordering::SeqCst) > 0, "tenant A was meant to be stuck throughout");

    release_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), handle.stop()).await.expect("stops once A is released");
    assert!(b.core.dead_letters(&slow.t, 10).unwrap().is_empty());
}

/// Fails every delivery as a fault of the host.
struct HostFaultSink;

#[async_trait]
impl EventSink for HostFaultSink {
    async fn deliver(&self, _: &TenantId, channel: &ChannelId, _: wit::Event) -> Result<(), DeliveryFailure> {
        Err(DeliveryFailure::host(format!("no plugin is loaded for installation `{channel}`")))
    }
}

pub(super) async fn host_faults_do_not_count_as_attempts(b: Backend) {
    let s = shop(&b.core, "dolce-vita");
    let clock = TestClock::new(T0 + 1_000);
    let policy = RetryPolicy { base_ms: 1_000, cap_ms: 60_000, max_attempts: 2, max_retry_after_ms: 3_600_000 };
    let core = b.core.clone().with_retry_policy(policy);
    let config = DispatcherConfig { host_fault_retry: Duration::from_secs(5), ..Default::default() };
    let dispatcher = Dispatcher::new(core, Arc::new(HostFaultSink)).with_config(config).with_clock(clock.clock());
    let mut postponed = 0;
    for _ in 0..6 {
        let stats = dispatcher.run_once().await.unwrap();
        assert_eq!((stats.failed, stats.dead, stats.errors), (0, 0, 0), "{stats:?}");
        postponed += stats.postponed;
        clock.advance(5_001);
    }
    assert!(postponed >= 6, "every round retried the postponed deliveries ({postponed})");
    assert!(b.core.dead_letters(&s.t, 10).unwrap().is_empty(), "a host fault dead-lettered a delivery");
    let due = b.core.due_deliveries(&s.t, clock.now(), 100).unwrap();
    assert!(!due.is_empty());
    for d in due {
        assert_eq!(d.attempts, 0, "a host fault was counted against the plugin");
        assert!(d.last_error.as_deref().is_some_and(|e| e.contains("no plugin is loaded")), "{:?}", d.last_error);
    }
}
