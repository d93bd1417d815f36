//! Passes the host lists of `?n=` strings that all point at the same
//! `?size=`-byte region of guest memory, so the guest spends `size` bytes
//! while a host that copies each string would allocate `n * size`.
//!
//! - `GET /response`: a response whose headers are the aliased strings.
//! - `GET /log`: one log line whose fields are the aliased strings.
//! - `GET /http`: an outbound request whose headers are the aliased strings.
//!
//! The strings are built with `String::from_raw_parts` over one leaked
//! buffer and never dropped: deliberately unsound, which is the point of a
//! hostile guest.
#![allow(unsafe_code)]

use std::mem::ManuallyDrop;

use omnistore_sdk::http::OutgoingRequest;
use omnistore_sdk::log::Level;
use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin};

struct Alias;

fn number(req: &Request, name: &str, default: usize) -> Result<usize, PluginError> {
    match req.query_param(name) {
        Some(v) => v.parse().map_err(|_| PluginError::bad_request(format!("{name}={v} is not a number"))),
        None => Ok(default),
    }
}

/// `n` (name, value) pairs that all share one `size`-byte buffer.
fn aliased(n: usize, size: usize) -> Vec<(String, String)> {
    let region: &'static mut [u8] = Box::leak(vec![b'a'; size].into_boxed_slice());
    let ptr = region.as_mut_ptr();
    // SAFETY: none; the strings alias on purpose and are never dropped or mutated.
    (0..n)
        .map(|_| unsafe { (String::from_raw_parts(ptr, size, size), String::from_raw_parts(ptr, size, size)) })
        .collect()
}

impl Plugin for Alias {
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        let n = number(&req, "n", 50)?;
        let size = number(&req, "size", 1 << 20)?;
        match req.path.as_str() {
            // Returned to the host, which owns it from here on.
            "/response" => Ok(Response { status: 200, headers: aliased(n, size), body: vec![], continuation: None }),
            "/log" => {
                let fields = ManuallyDrop::new(aliased(n, size));
                omnistore_sdk::log::write(Level::Info, "aliased fields", &fields);
                Ok(Response::text("logged"))
            }
            "/http" => {
                let request = ManuallyDrop::new(OutgoingRequest {
                    method: "GET".into(),
                    url: "http://127.0.0.1:9/".into(),
                    headers: aliased(n, size),
                    body: vec![],
                    timeout_ms: Some(100),
                });
                let outcome = omnistore_sdk::http::send(&request);
                Ok(Response::text(format!("{:?}", outcome.map(|r| r.status))))
            }
            other => Err(PluginError::not_found(other)),
        }
    }
}

export_plugin!(Alias);
