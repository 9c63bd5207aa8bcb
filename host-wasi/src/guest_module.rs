//! [`GuestModule`]: a wasm module that speaks the isovm ABI, as a runtime loads it.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// A guest: a `wasm32-wasip1` module running a JavaScript engine behind the isovm ABI
/// ([`engine_api::abi`]). `backend-boa` provides the Boa guest; any engine compiled to wasm
/// that speaks the ABI can be one.
///
/// ```
/// // Any bytes make a GuestModule; a runtime validates them when it first compiles them.
/// let guest = host_wasi::GuestModule::from_bytes("my-engine", b"\0asm\x01\0\0\0".to_vec());
/// assert_eq!(guest.name(), "my-engine");
/// assert_eq!(guest.wasm().len(), 8);
/// ```
#[derive(Clone)]
pub struct GuestModule {
    name: &'static str,
    wasm: Cow<'static, [u8]>,
    sha256: [u8; 32],
}

impl std::fmt::Debug for GuestModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestModule")
            .field("name", &self.name)
            .field("bytes", &self.wasm.len())
            .finish_non_exhaustive()
    }
}

impl GuestModule {
    /// A guest embedded in the program, with its sha256 computed at build time (it keys
    /// the compiled-module cache).
    pub fn embedded(name: &'static str, wasm: &'static [u8], sha256: [u8; 32]) -> Self {
        GuestModule {
            name,
            wasm: Cow::Borrowed(wasm),
            sha256,
        }
    }

    /// A guest from bytes (read from a file, say); hashes them.
    pub fn from_bytes(name: &'static str, wasm: Vec<u8>) -> Self {
        let sha256 = Sha256::digest(&wasm).into();
        GuestModule {
            name,
            wasm: Cow::Owned(wasm),
            sha256,
        }
    }

    /// The guest's name (the engine it runs: `boa`, ..), for errors and the cache.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module, not pre-initialised.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// sha256 of [`GuestModule::wasm`].
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }
}
