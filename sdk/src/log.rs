//! Structured logging into the host's log, tagged by the host with plugin and
//! tenant. Needs `"log"` in `[capabilities].imports`. The host caps the
//! volume per call and drops the excess.
//!
//! Use the macros: [`info!`](crate::info), [`warn!`](crate::warn),
//! [`error!`](crate::error), [`debug!`](crate::debug), [`trace!`](crate::trace).
//! The message is a format string that may name variables in scope
//! (`"{count} visits"`); `key = value` fields follow it, each value anything
//! that implements `Display`:
//!
//! ```no_run
//! # let (n, sku, elapsed_ms) = (2, "DV-001", 840);
//! # let page = omnistore_sdk::ProductPage { products: vec![], next: None };
//! omnistore_sdk::info!("feed page served", page = n, products = page.products.len());
//! omnistore_sdk::warn!("upstream slow for {sku}", ms = elapsed_ms);
//! ```

pub use crate::__private::bindings::omnistore::plugin::log::Level;

use crate::__private::bindings::omnistore::plugin::log as imp;

/// Write one log line; the macros call this.
pub fn write(level: Level, message: &str, fields: &[(String, String)]) {
    imp::log(level, message, fields)
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log {
    ($level:expr, $msg:literal $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::log::write(
            $level,
            &::std::format!($msg),
            &[$((
                ::std::string::String::from(::core::stringify!($key)),
                ::std::string::ToString::to_string(&$value),
            )),*],
        )
    };
    ($level:expr, $msg:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::log::write(
            $level,
            ::core::convert::AsRef::<str>::as_ref(&$msg),
            &[$((
                ::std::string::String::from(::core::stringify!($key)),
                ::std::string::ToString::to_string(&$value),
            )),*],
        )
    };
}

/// Log at error level: `error!("message {inline}", key = value, ...)`.
#[macro_export]
macro_rules! error {
    ($($t:tt)+) => { $crate::__log!($crate::log::Level::Error, $($t)+) };
}

/// Log at warn level: `warn!("message {inline}", key = value, ...)`.
#[macro_export]
macro_rules! warn {
    ($($t:tt)+) => { $crate::__log!($crate::log::Level::Warn, $($t)+) };
}

/// Log at info level: `info!("message {inline}", key = value, ...)`.
#[macro_export]
macro_rules! info {
    ($($t:tt)+) => { $crate::__log!($crate::log::Level::Info, $($t)+) };
}

/// Log at debug level: `debug!("message {inline}", key = value, ...)`.
#[macro_export]
macro_rules! debug {
    ($($t:tt)+) => { $crate::__log!($crate::log::Level::Debug, $($t)+) };
}

/// Log at trace level: `trace!("message {inline}", key = value, ...)`.
#[macro_export]
macro_rules! trace {
    ($($t:tt)+) => { $crate::__log!($crate::log::Level::Trace, $($t)+) };
}
