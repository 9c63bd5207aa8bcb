//! Guests compiled ahead of time (by a build script) and embedded in the program, so that
//! the first run of a fresh build loads its guest instead of compiling it.
//!
//! The artifact holds one entry per engine configuration, each the deflate-compressed
//! output of `Module::serialize` of the pre-initialised guest, keyed by
//! [`crate::cache::key`] (guest bytes, wasmtime version, engine configuration, target: the
//! disk cache's key). At load the entry whose key matches the runtime's engine is inflated
//! and given to `Module::deserialize`, which checks wasmtime's version and configuration
//! again; an artifact without a matching entry is ignored.

use std::borrow::Cow;

use engine_api::{Error, Result};
use wasmtime::{Engine, Module};

use crate::trap::backend_with;
use crate::{GuestModule, RuntimeConfig};

/// The artifact's first bytes (a new layout gets a new magic).
const MAGIC: &[u8; 8] = b"ivmpre01";

/// Bytes of an entry's header: key, fuel flag, serialized and compressed lengths.
const ENTRY_HEADER: usize = 32 + 1 + 8 + 8;

/// Largest serialized module an entry may inflate to (the Boa guest is about 20 MB).
const MAX_MODULE: usize = 1 << 30;

/// Deflate level: 6 gives 2.7x on the Boa guest (18 MB -> 6.6 MB) in ~2 s; 9 gains 1% for
/// 3x the time (measured with zlib).
const LEVEL: u8 = 6;

/// Compiles `guest` ahead of time for the engines [`Runtime::new`](crate::Runtime::new)
/// makes from `config`: always the engine without fuel, and the fuel-metering one too when
/// `with_fuel`. The result is for [`GuestModule::with_precompiled`] (a build script writes
/// it to a file for `include_bytes!`); it loads only into the same wasmtime build and
/// engine configuration, on a CPU with the features of the one that compiled it.
///
/// ```no_run
/// use host_wasi::{GuestModule, RuntimeConfig};
///
/// let guest = GuestModule::from_bytes("engine", std::fs::read("engine.wasm").unwrap());
/// let artifact = host_wasi::precompile(&guest, &RuntimeConfig::default(), false)?;
/// std::fs::write("engine.precompiled", artifact).unwrap();
/// # Ok::<(), engine_api::Error>(())
/// ```
pub fn precompile(guest: &GuestModule, config: &RuntimeConfig, with_fuel: bool) -> Result<Vec<u8>> {
    let wasm = crate::preinit::preinitialize(guest.wasm())?;
    let fuels: &[bool] = if with_fuel { &[false, true] } else { &[false] };
    let mut out = Vec::from(&MAGIC[..]);
    out.extend_from_slice(&(fuels.len() as u32).to_le_bytes());
    for &fuel in fuels {
        let engine = crate::runtime::make_engine(config, fuel)?;
        let module = Module::new(&engine, &wasm[..])
            .map_err(|e| backend_with("compiling the guest ahead of time", e))?;
        let serialized = module
            .serialize()
            .map_err(|e| backend_with("serializing the compiled guest", e))?;
        let compressed = miniz_oxide::deflate::compress_to_vec(&serialized, LEVEL);
        out.extend_from_slice(&crate::cache::key(guest.sha256(), &engine));
        out.push(u8::from(fuel));
        out.extend_from_slice(&(serialized.len() as u64).to_le_bytes());
        out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
        out.extend_from_slice(&compressed);
    }
    Ok(out)
}

/// One entry of an artifact, not yet inflated.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub(crate) key: [u8; 32],
    pub(crate) fuel: bool,
    serialized_len: usize,
    compressed: &'a [u8],
}

/// The entries of `artifact`, or an error saying where it is malformed.
pub(crate) fn entries(artifact: &[u8]) -> Result<Vec<Entry<'_>>> {
    let malformed = |what: &str| Error::InvalidArgument(format!("precompiled guest: {what}"));
    let rest = artifact
        .strip_prefix(&MAGIC[..])
        .ok_or_else(|| malformed("not an isovm precompiled artifact (magic)"))?;
    let (count, mut rest) = split(rest, 4).ok_or_else(|| malformed("truncated header"))?;
    let count = u32::from_le_bytes(count.try_into().unwrap_or_default());
    let mut entries = Vec::new();
    for _ in 0..count {
        let (header, tail) =
            split(rest, ENTRY_HEADER).ok_or_else(|| malformed("truncated entry"))?;
        let (key, header) = header.split_at(32);
        let (fuel, header) = header.split_at(1);
        let (serialized, compressed) = header.split_at(8);
        let len = |b: &[u8]| usize::try_from(u64::from_le_bytes(b.try_into().unwrap_or_default()));
        let serialized_len = len(serialized)
            .ok()
            .filter(|l| *l <= MAX_MODULE)
            .ok_or_else(|| malformed("an entry larger than 1 GiB"))?;
        let compressed_len = len(compressed).map_err(|_| malformed("an oversized entry"))?;
        let (compressed, tail) =
            split(tail, compressed_len).ok_or_else(|| malformed("truncated entry data"))?;
        entries.push(Entry {
            key: key.try_into().unwrap_or_default(),
            fuel: fuel[0] != 0,
            serialized_len,
            compressed,
        });
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(entries)
}

fn split(bytes: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= at).then(|| bytes.split_at(at))
}

impl Entry<'_> {
    /// The serialized module (inflated), if it inflates to its declared length.
    pub(crate) fn inflate(&self) -> Option<Vec<u8>> {
        miniz_oxide::inflate::decompress_to_vec_with_limit(self.compressed, self.serialized_len)
            .ok()
            .filter(|bytes| bytes.len() == self.serialized_len)
    }
}

/// The serialized module (`Module::serialize` output) `guest`'s artifact holds for
/// `engine`, if any: its key must match the engine and it must inflate whole.
pub(crate) fn serialized_for(guest: &GuestModule, engine: &Engine) -> Option<Cow<'static, [u8]>> {
    let key = crate::cache::key(guest.sha256(), engine);
    let artifact = guest.precompiled()?;
    let entries = entries(artifact).ok()?;
    let entry = entries.iter().find(|e| e.key == key)?;
    entry.inflate().map(Cow::Owned)
}

/// Loads `serialized` (from [`serialized_for`]) into `engine`.
///
/// # Safety
///
/// `serialized` must be `Module::serialize` output of this wasmtime build:
/// [`GuestModule::with_precompiled`]'s contract.
pub(crate) unsafe fn deserialize(engine: &Engine, serialized: &[u8]) -> Option<Module> {
    // SAFETY: the caller passes bytes of an artifact made by `precompile` (the contract of
    // `GuestModule::with_precompiled`), whose key matched this engine; wasmtime checks its
    // own header (version, configuration, CPU features) again and rejects a mismatch.
    unsafe { Module::deserialize(engine, serialized) }.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An artifact with `n` entries of `data` (not real modules: the format only).
    fn artifact(entries: &[(&[u8; 32], bool, &[u8])]) -> Vec<u8> {
        let mut out = Vec::from(&MAGIC[..]);
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (key, fuel, data) in entries {
            let compressed = miniz_oxide::deflate::compress_to_vec(data, LEVEL);
            out.extend_from_slice(&key[..]);
            out.push(u8::from(*fuel));
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
            out.extend_from_slice(&compressed);
        }
        out
    }

    #[test]
    fn entries_round_trip() {
        let bytes = artifact(&[
            (&[1; 32], false, b"plain module"),
            (&[2; 32], true, &[7; 4096]),
        ]);
        let entries = entries(&bytes).expect("parses");
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].key, entries[0].fuel), ([1; 32], false));
        assert_eq!(entries[0].inflate().as_deref(), Some(&b"plain module"[..]));
        assert_eq!((entries[1].key, entries[1].fuel), ([2; 32], true));
        assert_eq!(entries[1].inflate(), Some(vec![7; 4096]));
    }

    #[test]
    fn every_truncation_and_bad_header_is_an_error_not_a_panic() {
        let bytes = artifact(&[
            (&[1; 32], false, b"plain module"),
            (&[2; 32], true, b"fuel"),
        ]);
        for len in 0..bytes.len() {
            assert!(
                entries(&bytes[..len]).is_err(),
                "{len} of {} bytes",
                bytes.len()
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(entries(&trailing).is_err());
        let mut magic = bytes.clone();
        magic[0] ^= 1;
        assert!(entries(&magic).is_err());
        // A declared length past the data, and a huge one.
        let mut long = bytes.clone();
        long[8 + 4 + 33 + 8] = 0xff;
        assert!(entries(&long).is_err());
        let mut huge = bytes;
        huge[8 + 4 + 33..8 + 4 + 41].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(entries(&huge).is_err());
    }

    #[test]
    fn damaged_data_or_a_wrong_length_does_not_inflate() {
        let mut bytes = artifact(&[(&[1; 32], false, &[3; 10_000])]);
        // Declared one byte shorter: inflating stops at the limit, which is not the whole.
        bytes[8 + 4 + 33] = (10_000u16 - 1) as u8;
        bytes[8 + 4 + 34] = ((10_000u16 - 1) >> 8) as u8;
        assert_eq!(entries(&bytes).expect("parses")[0].inflate(), None);
        let mut bytes = artifact(&[(&[1; 32], false, &[3; 10_000])]);
        let last = bytes.len() - 1;
        bytes.truncate(last - 4);
        let count = bytes.len() - (8 + 4 + ENTRY_HEADER);
        bytes[8 + 4 + 41..8 + 4 + 49].copy_from_slice(&(count as u64).to_le_bytes());
        assert_eq!(entries(&bytes).expect("parses")[0].inflate(), None);
    }
}
