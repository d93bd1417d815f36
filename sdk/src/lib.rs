//! The Rust SDK for omnistore channel plugins.
//!
//! A channel plugin is a WebAssembly component that adapts the one commerce
//! core of an omnistore host to one sales or messaging channel. This crate
//! hides the component-model plumbing: you implement [`Plugin`] on a type,
//! register it with [`export_plugin!`], and call the host through the typed
//! modules ([`catalog`], [`storage`], [`http`], [`settings`], …).
//!
//! # Your first channel
//!
//! 1. `cargo new --lib my-channel`, then in its `Cargo.toml`:
//!    `[lib] crate-type = ["cdylib"]` and `omnistore-sdk` as a dependency.
//! 2. Next to `Cargo.toml`, write `plugin.toml`: who the plugin is and which
//!    host interfaces it imports. The SDK embeds this file, so `describe`
//!    always answers with its id, name, version, events and settings.
//!    ```toml
//!    [plugin]
//!    id = "my-channel"
//!    name = "My channel"
//!    version = "0.1.0"
//!    publisher = "Me"
//!    contract = "^0.2"
//!
//!    [capabilities]
//!    imports = ["settings", "log"]
//!
//!    [[settings]]
//!    key = "greeting"
//!    label = "Greeting"
//!    default = "Hello"
//!    ```
//! 3. In `src/lib.rs`, route requests to handlers with a [`Router`]:
//!    ```text
//!    use omnistore_sdk::{Params, Plugin, PluginError, Request, Response, Router, export_plugin, settings};
//!
//!    struct MyChannel;
//!
//!    impl Plugin for MyChannel {
//!        fn handle_request(req: Request) -> Result<Response, PluginError> {
//!            Router::new()
//!                .get("/", home)
//!                .get("/hello/:name", hello)
//!                .handle(&req)
//!        }
//!    }
//!
//!    fn home(req: &Request, _params: &Params) -> Result<Response, PluginError> {
//!        let greeting = settings::get_or("greeting", "Hello");
//!        omnistore_sdk::info!("home page served", path = req.path);
//!        Ok(Response::text(format!("{greeting} from my channel!")))
//!    }
//!
//!    fn hello(_req: &Request, params: &Params) -> Result<Response, PluginError> {
//!        let greeting = settings::get_or("greeting", "Hello");
//!        Ok(Response::text(format!("{greeting}, {}!", params.get("name").unwrap_or_default())))
//!    }
//!
//!    export_plugin!(MyChannel);
//!    ```
//!    A path no route matches is a 404, a known path with another method a
//!    405; the handlers themselves can be tried natively, without the host:
//!    ```
//!    # use omnistore_sdk::{Params, PluginError, Request, Response, Router};
//!    # fn hello(_req: &Request, params: &Params) -> Result<Response, PluginError> {
//!    #     Ok(Response::text(format!("Hello, {}!", params.get("name").unwrap_or_default())))
//!    # }
//!    let router = Router::new().get("/hello/:name", hello);
//!    let r = router.handle(&Request::new("GET", "/hello/Giulia")).unwrap();
//!    assert_eq!(r.body_text(), Some("Hello, Giulia!"));
//!    assert_eq!(router.handle(&Request::new("POST", "/hello/Giulia")).unwrap().status, 405);
//!    ```
//! 4. `omnistore plugin build` compiles it for `wasm32-unknown-unknown`, turns
//!    it into a component, and checks its imports against `plugin.toml`: a call
//!    to an interface the manifest does not list fails the build.
//!
//! Each call runs in a fresh instance: keep state in [`storage`], not in
//! statics. A plugin whose requests rebuild the same things from the same
//! files may ask for warm instances (`instances = "warm"` in `plugin.toml`,
//! see `wit/README.md`): its statics then act as a cache that lives across
//! requests of one installation and may be lost at any time. There is no clock, file system or network except through the
//! host: use [`clock::now`], [`storage`] and [`http`].
//!
//! For the web side there are [forms](form) (urlencoded and multipart, read
//! into your own types), [cookies](cookie) (signed when they must be
//! trusted), checked redirects ([`Response::redirect_see_other`]), and typed
//! [`ids`] so that a cart id is never passed where a variant id belongs.
//! Catalog channels (product feeds, catalog APIs) share the conversions of
//! [`catalog_text`]: descriptions as plain text, prices as `"12.50 EUR"`,
//! ISO-8601 dates, absolute links, CSV and XML fields.
//!
//! Errors: host calls return [`HostError`] (or [`http::HttpError`]); both
//! convert into [`PluginError`] with `?`, which the host maps to an HTTP
//! status (see [`PluginError`]).
//!
//! Building: `omnistore plugin build` (and `cargo xtask build-plugins` here)
//! optimises a plugin as one program, with link-time optimisation across the
//! SDK and your dependencies, and gives it 8 MiB of memory to start with. In
//! wasm the SDK allocates small blocks from size classes and the rest with
//! talc, both over that memory first, which is faster than std's default
//! there and spares the host a change of page protections per call; to bring
//! another global allocator, turn off the SDK's default `allocator` feature.

mod money;
mod web;

/// Plugins allocate small blocks from size classes and the rest with talc,
/// instead of std's dlmalloc: a storefront page spent about a seventh of its
/// CPU in dlmalloc, then a fifth of its wasm time in talc. Turn the SDK's
/// `allocator` feature off to bring another.
#[cfg(all(feature = "allocator", target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: size_classes::SizeClasses<heap::PluginHeap> = size_classes::SizeClasses::new(heap::new());

#[cfg(all(feature = "allocator", target_arch = "wasm32", not(target_feature = "atomics")))]
mod heap;
#[cfg(any(test, all(feature = "allocator", target_arch = "wasm32", not(target_feature = "atomics"))))]
mod size_classes;

pub mod carts;
pub mod catalog;
pub mod catalog_text;
pub mod clock;
pub mod cookie;
pub mod customers;
pub mod files;
pub mod follow_up;
pub mod form;
pub mod handled;
pub mod html;
pub mod http;
pub mod ids;
pub mod locations;
pub mod log;
pub mod mail;
pub mod orders;
pub mod router;

/// Liquid templates, as Shopify themes write them: every channel renders
/// HTML, e-mail and SMS through this one engine. Liquid does not escape
/// output by itself: templates use `| escape`, as on Shopify; the SDK's own
/// [`html`] helpers escape.
pub use omnistore_liquid as templates;
pub mod settings;
pub mod storage;
pub mod touchpoints;
pub mod url;

pub use cookie::{Cookie, CookieKey, SameSite};
pub use form::{Form, FormFile};
pub use ids::{
    CampaignId, CartId, ChannelId, CollectionId, CustomerId, EventId, LocationId, OrderId, ProductId, VariantId,
};
pub use money::{MoneyError, format_for_reader, minor_unit_digits};
pub use router::{Params, Router};
pub use web::{BASE_URL_HEADER, PREVIEW_HEADER};

/// The contract types, shared by every interface of `omnistore:plugin@0.2.0`.
pub use __private::bindings::omnistore::plugin::types::{
    Address, BodyPage, CampaignMessage, Cart, CartLine, CheckoutRequest, Collection, Consent, ConsentPurpose, Contact,
    CountedPage, Customer, Event, EventPayload, Fulfillment, Header, HostError, Id, Identity, IdentityKind, Image,
    IncomingOrder, IncomingOrderLine, Location, Money, Order, OrderLine, OrderReturn, OrderStatus, PaymentMethod,
    PluginError, PluginInfo, Product, ProductPage, ProductSort, Request, Response, ReturnedLine, SettingSpec, Shop,
    StockChange, Timestamp, Touchpoint, UpstreamError, Variant, VariantOption, VisitSource,
};

/// What a channel plugin implements. Every method has a default, so a plugin
/// implements only what it uses.
///
/// The methods take no `self`: each call runs in a fresh instance (or a warm
/// one of the same installation, when the manifest asks), so there is no state
/// to rely on between calls except what the plugin puts in [`storage`].
pub trait Plugin {
    /// Answer an HTTP request routed to this installation (storefront pages,
    /// feeds, inbound webhooks). `req.path` is relative to the installation's
    /// mount point and always starts with `/`.
    ///
    /// A [`Router`] picks the handler by method and path.
    ///
    /// The default answers every request with [`PluginError::NotFound`] (404).
    fn handle_request(req: Request) -> Result<Response, PluginError> {
        Err(PluginError::NotFound(format!("{} {} is not handled by this plugin", req.method, req.path)))
    }

    /// Produce the next page of a response body whose `continuation` was set
    /// (see [`Response::with_continuation`]). The host calls it with the
    /// cursor of the previous page until a page has no continuation.
    ///
    /// The default refuses with [`PluginError::BadRequest`]: a plugin that
    /// never sets a continuation is never asked for a next page.
    fn next_page(continuation: String) -> Result<BodyPage, PluginError> {
        let _ = continuation;
        Err(PluginError::BadRequest("this plugin does not stream response bodies".into()))
    }

    /// Handle a domain event the plugin subscribed to in `plugin.toml`.
    /// Delivery is at least once: deduplicate on `event.id`. An error makes
    /// the host retry with backoff, and later dead-letter the event.
    ///
    /// The default accepts and ignores the event.
    fn on_event(event: Event) -> Result<(), PluginError> {
        let _ = event;
        Ok(())
    }
}

/// Export a type that implements [`Plugin`] as the plugin's component
/// interface. Use it exactly once, in the plugin crate's `lib.rs`.
///
/// The plugin's `plugin.toml` (next to its `Cargo.toml`) is embedded at
/// compile time, and `describe` answers with its id, name, version, events and
/// settings, so the two cannot disagree.
///
/// ```text
/// struct MyChannel;
/// impl omnistore_sdk::Plugin for MyChannel {}
/// omnistore_sdk::export_plugin!(MyChannel);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        struct __OmnistorePluginExport;

        impl $crate::__private::Guest for __OmnistorePluginExport {
            fn describe() -> $crate::PluginInfo {
                // Read here only so that cargo rebuilds the plugin when its manifest changes.
                const _MANIFEST: &str =
                    ::core::include_str!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/plugin.toml"));
                $crate::__private::plugin_info!($crate)
            }
            fn handle_request(req: $crate::Request) -> ::core::result::Result<$crate::Response, $crate::PluginError> {
                <$plugin as $crate::Plugin>::handle_request(req)
            }
            fn next_page(
                continuation: ::std::string::String,
            ) -> ::core::result::Result<$crate::BodyPage, $crate::PluginError> {
                <$plugin as $crate::Plugin>::next_page(continuation)
            }
            fn on_event(ev: $crate::Event) -> ::core::result::Result<(), $crate::PluginError> {
                <$plugin as $crate::Plugin>::on_event(ev)
            }
        }

        $crate::__private::bindings::export!(__OmnistorePluginExport with_types_in $crate::__private::bindings);
    };
}

/// Support for the SDK's macros. Not part of the API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use omnistore_sdk_macros::plugin_info;

    /// What `plugin_info!` expands to call: settings are `(key, label, secret,
    /// required, default)`.
    pub fn plugin_info_parts(
        id: String,
        name: String,
        version: String,
        events: Vec<String>,
        settings: Vec<(String, String, bool, bool, Option<String>)>,
    ) -> crate::PluginInfo {
        crate::PluginInfo {
            id,
            name,
            version,
            events,
            settings: settings
                .into_iter()
                .map(|(key, label, secret, required, default_value)| crate::SettingSpec {
                    key,
                    label,
                    secret,
                    required,
                    default_value,
                })
                .collect(),
        }
    }
    pub use bindings::exports::omnistore::plugin::handler::Guest;

    // Generated code is full of `unsafe` for the canonical ABI.
    #[allow(unsafe_code, clippy::all, missing_docs, rust_2018_idioms)]
    pub mod bindings {
        wit_bindgen::generate!({
            world: "channel",
            path: "../wit/v0.2.0",
            pub_export_macro: true,
            additional_derives: [PartialEq, Eq],
        });
    }
}
