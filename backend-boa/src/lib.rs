//! The isovm Boa guest.
//!
//! Built for `wasm32-wasip1`, this crate is Boa behind the message ABI described in
//! [`abi`]. On any other target it is only the ABI's message types, which the host
//! (`host-wasi`) shares. `host-wasi`'s build script builds the guest; nothing needs to be
//! done by hand.
#![deny(missing_docs)]

pub mod abi;

#[cfg(target_arch = "wasm32")]
mod guest;
