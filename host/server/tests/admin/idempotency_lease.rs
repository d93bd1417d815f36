//! An `Idempotency-Key` reservation lasts as long as its request runs, however
//! long that is: a retry never runs the mutation a second time.

use super::*;

/// Far beyond the reservation lease (a minute) of a crashed request.
const LONG_MS: i64 = 10 * 60_000;

#[tokio::test]
async fn a_retry_after_the_lease_does_not_run_a_running_request_again() {
    let api = Arc::new(Api::memory());
    let a = seed(&api, "alpha", "A").await;
    let body = fake_upload("slow");
    let held = api.gate.lock().await;
    let call = |api: Arc<Api>| {
        let (body, token) = (body.clone(), a.token.clone());
        tokio::spawn(async move {
            api.call("POST", "/tenants/alpha/channels", Some(&token), Some(&body), Some("slow-lease")).await
        })
    };
    let first = call(api.clone());
    let reserved = async {
        while !api.dump().iter().any(|(k, _)| k.starts_with(b"admin/idem/alpha/")) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), reserved)
        .await
        .expect("the first request never reserved its idempotency key");
    // The first request is still running ten minutes later; the client retries.
    api.clock.fetch_add(LONG_MS, Ordering::SeqCst);
    let mut retry = call(api.clone());
    let answered = tokio::time::timeout(std::time::Duration::from_secs(10), &mut retry).await;
    drop(held);
    let retry = match answered {
        Ok(r) => r.unwrap(),
        // It ran the install again and waited for the gate like the first.
        Err(_) => retry.await.unwrap(),
    };
    assert_eq!((retry.status, retry.code()), (StatusCode::CONFLICT, "idempotency_in_progress"), "{}", retry.text);
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let channels = api.get("/tenants/alpha/channels", &a.token).await;
    assert_eq!(channels.body["items"].as_array().unwrap().len(), 4, "three seeded, one installed once");
    // Once finished, the retry gets the first response, long after any lease.
    api.clock.fetch_add(LONG_MS, Ordering::SeqCst);
    let again = api.call("POST", "/tenants/alpha/channels", Some(&a.token), Some(&body), Some("slow-lease")).await;
    assert_eq!((again.status, &again.text), (StatusCode::CREATED, &first.text));
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
}
