//! Host bindings for every supported contract version.
//!
//! One module per released WIT folder. Adding contract 0.2.0 means adding a
//! module here beside `v0_1_0` and a variant to `crate::plugin::Bindings`;
//! plugins built against 0.1.0 keep loading through their own module.

pub mod v0_1_0 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1.0",
        world: "omnistore:plugin/channel@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}
