//! The module's exports: the only place where raw guest memory is touched.

use std::alloc::{Layout, alloc, dealloc};

use engine_api::abi::{self, ErrorKind, GuestError, Request, Response};

use super::{random, runtime};

/// Layout of a buffer exchanged with the host (never zero-sized, byte-aligned). A large
/// one gets some slack (an eighth, at most 1 MiB), so that once freed, the string decoded
/// from it fits in its place as a `JsString`: without it, an 11 MiB string argument grew
/// memory by a third copy (44 MB, not 32).
fn layout(len: usize) -> Option<Layout> {
    let size = if len >= LARGE {
        len.checked_add((len / 8).min(1 << 20))?
    } else {
        len.max(1)
    };
    Layout::from_size_align(size, 1).ok()
}

/// Buffers this large get slack.
const LARGE: usize = 64 << 10;

/// Linear memory size in bytes.
fn memory_size() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}

/// Whether `ptr..ptr+len` lies inside linear memory.
fn in_bounds(ptr: i32, len: i32) -> bool {
    if ptr <= 0 || len < 0 {
        return false;
    }
    (ptr as usize)
        .checked_add(len as usize)
        .is_some_and(|end| end <= memory_size())
}

/// Decodes the `len` bytes at `ptr` where they lie, then frees them (they came from
/// [`isovm_alloc`]); `None` when out of bounds (nothing freed) or malformed. Decoding in
/// place spares a copy of the message: a large string argument is then held twice at
/// most (the message, and its decoded `String`), not three times.
pub fn take_decoded<T: serde::de::DeserializeOwned>(ptr: i32, len: i32) -> Option<T> {
    if len == 0 {
        return abi::decode(&[]);
    }
    if !in_bounds(ptr, len) {
        return None;
    }
    let decoded = {
        // SAFETY: the range was checked to lie inside linear memory, which is always
        // readable in wasm and never moves (growing it keeps addresses); the host wrote it
        // before this call and nothing writes to it until it is freed below.
        let bytes = unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) };
        abi::decode(bytes)
    };
    isovm_free(ptr, len);
    decoded
}

/// Allocates `len` bytes for the host; 0 on failure.
#[unsafe(no_mangle)]
pub extern "C" fn isovm_alloc(len: i32) -> i32 {
    let Some(layout) = usize::try_from(len).ok().and_then(layout) else {
        return 0;
    };
    // SAFETY: `layout` has a non-zero size.
    let ptr = unsafe { alloc(layout) };
    ptr as usize as i32
}

/// Frees what [`isovm_alloc`] returned (or a response buffer).
#[unsafe(no_mangle)]
pub extern "C" fn isovm_free(ptr: i32, len: i32) {
    if ptr == 0 {
        return;
    }
    let Some(layout) = usize::try_from(len).ok().and_then(layout) else {
        return;
    };
    // SAFETY: by the ABI contract `ptr` was returned by `isovm_alloc(len)` (or is a
    // response buffer of length `len`, allocated the same way) and is freed once.
    unsafe { dealloc(ptr as usize as *mut u8, layout) };
}

/// Copies `bytes` into a fresh buffer the host frees with [`isovm_free`]; packs ptr and len.
pub fn hand_out(bytes: &[u8]) -> i64 {
    let Ok(len) = i32::try_from(bytes.len()) else {
        return 0;
    };
    let ptr = isovm_alloc(len);
    if ptr == 0 {
        return 0;
    }
    // SAFETY: `ptr` is a fresh allocation of at least `len` bytes that nothing else uses.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as usize as *mut u8, bytes.len());
    }
    ((ptr as u32 as i64) << 32) | (len as u32 as i64)
}

/// Handles one request; see [`engine_api::abi`].
#[unsafe(no_mangle)]
pub extern "C" fn isovm_call(ptr: i32, len: i32) -> i64 {
    let response = match take_decoded::<Request>(ptr, len) {
        Some(request) => runtime::interrupted_response(runtime::handle(request)),
        None => Response::Error(GuestError {
            kind: Some(ErrorKind::InvalidRequest),
            name: "Error".into(),
            message: "malformed request".into(),
            ..GuestError::default()
        }),
    };
    hand_out(&abi::encode(&response))
}

/// Seeds per-instance state (`Math.random`).
#[unsafe(no_mangle)]
pub extern "C" fn isovm_start(seed_lo: i64, seed_hi: i64) {
    random::seed(seed_lo as u64, seed_hi as u64);
    runtime::init();
}

/// The host's soft stop of the running call (1) and its end (0); see
/// [`runtime::interrupt`]. Returns 1 when the guest can be stopped so.
#[unsafe(no_mangle)]
pub extern "C" fn isovm_interrupt(stop: i32) -> i32 {
    i32::from(runtime::interrupt(stop != 0))
}

/// Builds the engine and its first realm (run at pre-initialisation).
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn wizer_initialize() {
    runtime::init();
}
