//! hello-channel's one test binary: the built plugin in a real host (the
//! SDK's harness: the real core over the memory store, with the demo pastry
//! shop). Build it first: `cargo xtask build-plugins`.

#[path = "hello/browser.rs"]
mod browser;
#[path = "hello/guestbook.rs"]
mod guestbook;
#[path = "hello/pages.rs"]
mod pages;
