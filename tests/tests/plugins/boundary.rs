//! Every value a plugin passes the host is bounded before it is copied: a
//! list of strings that all point at one region of guest memory cannot make
//! the host allocate more than the transfer limit.
//!
//! What the host allocates is measured with a counting allocator, per
//! thread: the calls here run on the test's own single-threaded runtime, so
//! the count is what serving that call allocated.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use omnistore_runtime::Limit;

use super::*;

thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // A thread being torn down has no counter left; nothing to count then.
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + bytes as u64));
}

struct Counting;

#[allow(unsafe_code)]
// SAFETY: every method forwards to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocated_on_this_thread() -> u64 {
    ALLOCATED.with(Cell::get)
}

#[tokio::test]
async fn aliased_strings_cannot_multiply_what_the_host_copies() {
    let host = Host::new(false);
    let plugin = host.load("alias").await;
    let inst = installation("mallory", "alias", &plugin);
    let limit = test_limits().transfer_bytes;
    // 50 names and 50 values all pointing at one 1 MiB buffer: the guest holds
    // 1 MiB, a host copying each string would allocate 100 MiB.
    for path in ["/response", "/log", "/http"] {
        let before = allocated_on_this_thread();
        let outcome = host.runtime.handle_request(&plugin, &inst, get(&format!("{path}?n=50&size=1048576"))).await;
        let allocated = allocated_on_this_thread() - before;
        let err = outcome.expect_err(path);
        assert!(
            matches!(err, CallError::LimitExceeded { what: Limit::TransferBytes, limit: l } if l == limit),
            "{path}: {err:?}"
        );
        assert!(
            allocated < 2 * limit,
            "{path}: serving the call allocated {allocated} bytes; the transfer limit is {limit}"
        );
        assert!(err.to_string().contains("bytes in one value passed to the host"), "{err}");
    }
    // The same shape at an honest size passes. (Only the import: a returned
    // response is freed by the guest after the host copied it, and freeing
    // aliased strings is the guest's own undefined behaviour.)
    let logged = host.runtime.handle_request(&plugin, &inst, get("/log?n=4&size=64")).await.unwrap();
    assert_eq!(logged.body, b"logged");
}

#[tokio::test]
async fn an_oversized_transfer_is_a_bad_gateway_for_that_request_only() {
    let host = Host::new(false);
    let (app, _, _) = hello_server(&host).await;
    let plugin = host.load("alias").await;
    let registry = Arc::new(Registry::new());
    registry.add_tenant(tenant("mallory"), &[]);
    registry.mount(Mounted { mount: "/".into(), installation: installation("mallory", "alias", &plugin), plugin });
    let hostile =
        omnistore_server::router(AppState::new(host.runtime.clone(), registry).with_path_routing(super::dev_routing()));
    let response = hostile
        .oneshot(super::dev_get("/t/mallory/response?n=50&size=1048576").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let json: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(json["error"]["code"], "plugin_limit_exceeded");
    let ok = app.oneshot(super::dev_get("/t/demo/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}
