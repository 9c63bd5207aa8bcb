//! Memory behind a `SharedArrayBuffer`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

/// Memory behind a `SharedArrayBuffer`, owned outside every isolate.
#[derive(Clone)]
pub struct SharedBuffer(Arc<[AtomicU8]>);

impl SharedBuffer {
    /// A zeroed buffer of `len` bytes.
    pub fn new(len: usize) -> Self {
        SharedBuffer((0..len).map(|_| AtomicU8::new(0)).collect())
    }

    /// A buffer holding a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        SharedBuffer(bytes.iter().map(|b| AtomicU8::new(*b)).collect())
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A snapshot of the current contents.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0
            .iter()
            .map(|b| b.load(std::sync::atomic::Ordering::Relaxed))
            .collect()
    }

    /// Pointer to the first byte, for backends that map this memory into an engine.
    pub fn as_ptr(&self) -> *const AtomicU8 {
        self.0.as_ptr()
    }

    /// Whether two handles share the same memory.
    pub fn ptr_eq(&self, other: &SharedBuffer) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The shared allocation, for backends that keep it alive while an engine uses it.
    pub fn arc(&self) -> Arc<[AtomicU8]> {
        self.0.clone()
    }
}

impl fmt::Debug for SharedBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedBuffer({} bytes)", self.len())
    }
}
