//! Heap statistics of an isolate.

/// Heap statistics of an isolate, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStatistics {
    /// Memory reserved for the heap.
    pub total_heap_size: usize,
    /// Memory in use by live objects (or by the guest's allocator, on Boa-WASI).
    pub used_heap_size: usize,
    /// The limit the isolate runs under.
    pub heap_size_limit: usize,
    /// Memory outside the heap that counts against the limit (array buffers, ..).
    pub externally_allocated_size: usize,
}
