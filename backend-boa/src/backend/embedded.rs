//! The Boa guest module this crate embeds, and the process-wide runtime that runs it.

use std::sync::OnceLock;

use engine_api::Result;
use host_wasi::{GuestModule, Runtime, RuntimeConfig};

static GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.wasm"));
static GUEST_SHA256: &[u8; 32] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.sha256"));

/// The Boa guest module (`wasm32-wasip1`), not pre-initialised. Its ABI is
/// [`engine_api::abi`]; any wasm host can load it.
pub fn guest_wasm() -> &'static [u8] {
    GUEST_WASM
}

/// sha256 of [`guest_wasm`] (computed by the build script).
pub fn guest_wasm_sha256() -> &'static [u8; 32] {
    GUEST_SHA256
}

/// The Boa guest, for [`Runtime::new`] (to run it with another [`RuntimeConfig`]).
pub fn guest() -> GuestModule {
    GuestModule::embedded("boa", GUEST_WASM, *GUEST_SHA256)
}

/// The process-wide runtime of the Boa guest, made on first use with
/// [`RuntimeConfig::default`]: what [`BoaIsolate::new`](crate::BoaIsolate) uses.
pub fn runtime() -> Result<&'static Runtime> {
    static GLOBAL: OnceLock<Result<Runtime>> = OnceLock::new();
    GLOBAL
        .get_or_init(|| Runtime::new(guest(), RuntimeConfig::default()))
        .as_ref()
        .map_err(Clone::clone)
}
