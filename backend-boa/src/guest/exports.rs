//! The module's exports: the only place where raw guest memory is touched.

use std::alloc::{Layout, alloc, dealloc};

use engine_api::abi::{self, ErrorKind, GuestError, Request, Response};

use super::{random, runtime};

/// Layout of a buffer exchanged with the host (never zero-sized, byte-aligned).
fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), 1).ok()
}

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

/// Copies `len` bytes at `ptr` out of linear memory (`None` when out of bounds).
pub fn read_bytes(ptr: i32, len: i32) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    if !in_bounds(ptr, len) {
        return None;
    }
    // SAFETY: the range was checked to lie inside linear memory, which is always
    // readable in wasm; we copy it out before anything else can write to it.
    let bytes = unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) };
    Some(bytes.to_vec())
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
    let bytes = read_bytes(ptr, len);
    if bytes.is_some() && len > 0 {
        isovm_free(ptr, len);
    }
    let response = match bytes.as_deref().and_then(abi::decode::<Request>) {
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
