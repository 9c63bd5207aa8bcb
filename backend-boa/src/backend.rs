//! The host side: the Boa-WASI backend over `host-wasi`, with the Boa guest embedded.

mod boa_wasi;
mod context;
mod embedded;
mod isolate;
mod module;
mod reference;
mod script;

pub use boa_wasi::BoaWasi;
pub use context::BoaContext;
pub use embedded::{PRECOMPILED, guest, guest_wasm, guest_wasm_sha256, runtime};
pub use isolate::BoaIsolate;
pub use module::BoaModule;
pub use reference::BoaReference;
pub use script::BoaScript;
