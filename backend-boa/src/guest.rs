//! The guest side: Boa behind the message ABI of [`engine_api::abi`].
//!
//! One Boa [`boa_engine::Context`] lives in a thread-local (wasm is single-threaded);
//! isovm contexts are Boa realms of it. Values the host holds live in a handle table.

mod alloc;
mod convert;
mod errors;
mod exports;
mod handles;
mod host;
mod ivm;
mod module_entry;
mod module_loader;
mod modules;
mod properties;
mod random;
mod realm;
mod rejections;
mod requests;
mod runtime;
mod script_entry;
mod source;
