//! The guest ABI: how a wasm host (`host-wasi`) talks to a guest module that runs an engine
//! inside wasm (the Boa guest of `backend-boa`, or any other speaking this ABI). Its value
//! type [`WireValue`] is [`Value`](crate::Value) with handles as numbers: one wire model
//! for every backend.
//!
//! # Exports (guest → host can call)
//! - `isovm_alloc(len: i32) -> i32`: allocates `len` bytes in guest memory (0 on failure).
//! - `isovm_free(ptr: i32, len: i32)`: frees what `isovm_alloc` returned.
//! - `isovm_call(ptr: i32, len: i32) -> i64`: handles one [`Request`] (postcard bytes at
//!   `ptr..ptr+len`, which the guest frees). Returns `(resp_ptr << 32) | resp_len` of a
//!   [`Response`] in guest memory that the host must read, then free with `isovm_free`.
//! - `isovm_start(seed_lo: i64, seed_hi: i64)`: called once per instance before anything
//!   else; seeds `Math.random` (so instances started from one pre-initialised image do not
//!   share a random sequence).
//! - `isovm_interrupt(stop: i32) -> i32` (optional): `stop = 1`, called by the host from
//!   its epoch callback at a call's deadline (or cancel), asks the running call to unwind
//!   at its next loop back-edge or function call, and every response until `stop = 0` to
//!   be an `ErrorKind::Interrupted` error carrying the JS stack where it stopped; `0`
//!   resumes normal running. Returns 1 when the guest can be stopped so. Only touches
//!   flags: safe to call at any instruction boundary of a running call.
//! - `wizer-initialize()`: builds the Boa engine and its first realm. Run once, at
//!   pre-initialisation (wasmtime-wizer), or by the host right after instantiation when the
//!   module was not pre-initialised.
//! - `memory`: the linear memory.
//!
//! # Imports (host functions the guest calls), module `isovm`
//! - `host_call(ptr: i32, len: i32) -> i64`: handles one [`HostRequest`] (postcard bytes in
//!   guest memory, owned by the guest). Returns `(resp_ptr << 32) | resp_len` of a
//!   [`HostResponse`] the host wrote into memory it got from `isovm_alloc`; the guest frees
//!   it. While the host handles the call it may call `isovm_alloc` (and nothing else).
//!
//! Plus WASI preview 1 (`wasi_snapshot_preview1`): clocks, `random_get`, `fd_write` (for
//! panic messages), environ/args (empty), `proc_exit`.
//!
//! Everything a guest returns is untrusted by the host: every pointer and length is
//! bounds-checked and every message is validated by decoding.

use serde::{Deserialize, Serialize};

mod error;
pub mod guest_options;
mod host_request;
mod origin;
mod request;
mod transfer;
mod value;

pub use error::{ErrorKind, GuestError};
pub use host_request::{CallMode, HostRequest, HostResponse};
pub use origin::Origin;
pub use request::{Request, Response};
pub use transfer::Transfer;
pub use value::{MAX_WIRE_DEPTH, WireValue};

/// A handle in the guest's handle table (contexts, scripts, modules, referenced values).
pub type Handle = u32;

/// Encodes a message.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    postcard::to_allocvec(msg).unwrap_or_default()
}

/// Decodes a message; `None` for malformed bytes.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}
