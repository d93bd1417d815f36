//! Host bindings for every supported contract version.
//!
//! One module per released WIT folder, and a variant of `Bindings` in
//! `runtime.rs` for each; plugins built against an older contract keep
//! loading through their own module.
//!
//! Contract 0.2.0 changed the shared `types` (new fields on products,
//! variants, cart lines, orders and touchpoints), so it has its own
//! generated types and Host traits for every interface that uses them; they
//! are the host's types (`crate::types`), and the 0.1.0 imports convert at
//! their boundary (`compat_v0_1_0.rs`). `http`, `log` and `clock` are, apart
//! from their version, the same as in 0.1.0, so `with:` maps them onto the
//! 0.1.0 module and one host implementation serves both versions (component
//! types are checked structurally, not by package name). `with:` does not
//! rename what is linked, though: a mapped module's `add_to_linker`
//! registers its own `@0.1.0` name. So 0.2.0 is linked by
//! [`v0_2_0::add_to_linker`], which puts the 0.1.0 functions under the
//! 0.2.0 names, instead of by the world's generated `add_to_linker`.

pub mod v0_1_0 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1.0",
        world: "omnistore:plugin/channel@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

pub mod v0_2_0 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.2.0",
        world: "omnistore:plugin/channel@0.2.0",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "omnistore:plugin/http@0.2.0": crate::bindings::v0_1_0::omnistore::plugin::http,
            "omnistore:plugin/log@0.2.0": crate::bindings::v0_1_0::omnistore::plugin::log,
            "omnistore:plugin/clock@0.2.0": crate::bindings::v0_1_0::omnistore::plugin::clock,
        },
    });

    use wasmtime::component::{HasSelf, Linker};

    use super::v0_1_0::omnistore::plugin as same;
    use crate::state::PluginState;

    /// Link every import of contract 0.2.0: the unchanged interfaces through
    /// the 0.1.0 host code under their 0.2.0 names, the others through their
    /// own 0.2.0 modules.
    pub(crate) fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        macro_rules! shared {
            ($($iface:ident),*) => {$(
                same::$iface::add_to_linker_instance::<PluginState, HasSelf<PluginState>>(
                    &mut linker.instance(concat!("omnistore:plugin/", stringify!($iface), "@0.2.0"))?,
                    |s| s,
                )?;
            )*};
        }
        macro_rules! own {
            ($($iface:ident),*) => {$(
                omnistore::plugin::$iface::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |s| s)?;
            )*};
        }
        own!(types, catalog, locations, files, carts, orders, customers, touchpoints, storage, mail, settings);
        shared!(http, log, clock);
        Ok(())
    }
}
