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
    /// Modules compiled ahead of time ([`crate::precompile`]).
    precompiled: Option<&'static [u8]>,
}

impl std::fmt::Debug for GuestModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestModule")
            .field("name", &self.name)
            .field("bytes", &self.wasm.len())
            .field("precompiled", &self.precompiled.map(<[u8]>::len))
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
            precompiled: None,
        }
    }

    /// A guest from bytes (read from a file, say); hashes them.
    pub fn from_bytes(name: &'static str, wasm: Vec<u8>) -> Self {
        let sha256 = Sha256::digest(&wasm).into();
        GuestModule {
            name,
            wasm: Cow::Owned(wasm),
            sha256,
            precompiled: None,
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

    /// This guest with modules compiled ahead of time ([`crate::precompile`] of this guest,
    /// typically by a build script, embedded with `include_bytes!`). A runtime whose engine
    /// matches an entry loads it instead of compiling ([`GuestSource::Precompiled`]); it
    /// ignores entries of another guest, wasmtime build, engine configuration or CPU, and a
    /// malformed artifact, and compiles as before.
    ///
    /// # Safety
    ///
    /// `artifact` must be the output of [`crate::precompile`] from this crate's build
    /// (loading it maps native code: wasmtime checks its version and configuration, not
    /// that the code is what it compiled).
    ///
    /// [`GuestSource::Precompiled`]: crate::GuestSource::Precompiled
    pub unsafe fn with_precompiled(mut self, artifact: &'static [u8]) -> Self {
        self.precompiled = Some(artifact);
        self
    }

    /// The artifact of [`GuestModule::with_precompiled`], if any.
    pub fn precompiled(&self) -> Option<&'static [u8]> {
        self.precompiled
    }

    /// Whether [`GuestModule::with_precompiled`] gave this guest a module for the engine
    /// with fuel metering (`fuel`) or without; says nothing of whether it will load (that
    /// needs the same wasmtime build, configuration and CPU features).
    pub fn has_precompiled(&self, fuel: bool) -> bool {
        self.precompiled
            .and_then(|a| crate::precompiled::entries(a).ok())
            .is_some_and(|entries| entries.iter().any(|e| e.fuel == fuel))
    }
}
