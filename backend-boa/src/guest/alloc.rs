//! A counting global allocator, so `HeapStatistics` can report live bytes, and the
//! report to the host when the guest runs out of memory.
//!
//! Boa's collector counts only its own cells, not what they own (array buffer bytes, array
//! elements, strings): garbage holding megabytes looks small to it. The allocator sees
//! every byte, so it tells [`collect_if_pressed`], run at safe points, when the heap grew
//! enough since the last collection to be worth one (never from inside the allocator:
//! Boa's collector is not re-entrant, and it allocates).
//!
//! An allocation failure (the host refused to grow memory, or a size beyond what wasm32
//! can address: Rust's "capacity overflow") ends in an abort, which the host sees only as
//! a wasm `unreachable`. Telling the host first lets it answer `Error::MemoryLimit`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

#[link(wasm_import_module = "isovm")]
unsafe extern "C" {
    /// Marks the running call as out of memory (the host disposes the isolate after it).
    fn out_of_memory();
}

/// Tells the host that the guest could not allocate.
fn report_out_of_memory() {
    // SAFETY: the import takes no arguments and touches no guest memory.
    unsafe { out_of_memory() };
}

/// Reports capacity overflows (sizes no wasm32 allocation can have) before the abort.
pub fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload_as_str() == Some("capacity overflow") {
                report_out_of_memory();
            }
            default(info);
        }));
    });
}

/// Bytes handed out and not yet freed.
static USED: AtomicUsize = AtomicUsize::new(0);
/// Live bytes right after the last collection [`collect_if_pressed`] ran.
static AFTER_COLLECTION: AtomicUsize = AtomicUsize::new(0);

/// Growth since the last collection that makes the next safe point collect: a quarter of
/// what was live then, and at least this many bytes (so that a small heap is not walked
/// on every request).
const MIN_GROWTH: usize = 2 << 20;

/// Whether the heap grew enough since the last collection to collect at a safe point.
pub fn pressed() -> bool {
    let after = AFTER_COLLECTION.load(Ordering::Relaxed);
    USED.load(Ordering::Relaxed) > after.saturating_add(MIN_GROWTH.max(after / 4))
}

/// Collects Boa's garbage if the heap grew enough since the last collection. Only at a
/// safe point: outside the allocator and outside Boa's collector (a request's start, a
/// buffer's allocation); what the running code holds is rooted on Boa's side.
pub fn collect_if_pressed() {
    if pressed() {
        collect();
    }
}

/// Collects Boa's garbage now (same safe points as [`collect_if_pressed`]).
pub fn collect() {
    boa_gc::force_collect();
    AFTER_COLLECTION.store(USED.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Wraps the system allocator and counts live bytes.
struct Counting;

// SAFETY: every method delegates to `System` with the caller's arguments unchanged and
// only adjusts a counter, so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() {
            report_out_of_memory();
        } else {
            USED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if ptr.is_null() {
            report_out_of_memory();
        } else {
            USED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from our caller: `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        USED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if new.is_null() {
            report_out_of_memory();
        } else {
            USED.fetch_sub(layout.size(), Ordering::Relaxed);
            USED.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap bytes.
pub fn used() -> u64 {
    USED.load(Ordering::Relaxed) as u64
}
