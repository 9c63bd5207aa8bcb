//! The Boa guest module this crate embeds, and the process-wide runtime that runs it.

use std::sync::OnceLock;

use engine_api::Result;
use host_wasi::{GuestModule, Runtime, RuntimeConfig};

static GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.wasm"));
static GUEST_SHA256: &[u8; 32] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.sha256"));
/// The guest compiled ahead of time by the build script (empty when it compiled nothing).
static GUEST_PRECOMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.precompiled"));

/// What the build compiled ahead of time: `plain`, `plain,fuel`, or `none (why)`.
pub const PRECOMPILED: &str = env!("ISOVM_BOA_PRECOMPILED");

/// The Boa guest module (`wasm32-wasip1`), not pre-initialised. Its ABI is
/// [`engine_api::abi`]; any wasm host can load it.
pub fn guest_wasm() -> &'static [u8] {
    GUEST_WASM
}

/// sha256 of [`guest_wasm`] (computed by the build script).
pub fn guest_wasm_sha256() -> &'static [u8; 32] {
    GUEST_SHA256
}

/// The Boa guest, for [`Runtime::new`] (to run it with another [`RuntimeConfig`]), with
/// what the build compiled ahead of time ([`PRECOMPILED`]).
pub fn guest() -> GuestModule {
    let guest = GuestModule::embedded("boa", GUEST_WASM, *GUEST_SHA256);
    if GUEST_PRECOMPILED.is_empty() {
        return guest;
    }
    // SAFETY: the build script wrote these bytes with `host_wasi::precompile`, from the
    // host-wasi this crate links.
    unsafe { guest.with_precompiled(GUEST_PRECOMPILED) }
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
