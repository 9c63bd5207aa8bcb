//! `MemoryLimiter`: the cap on a guest's linear memory and tables.

use wasmtime::ResourceLimiter;

/// Largest table the guest may grow to (elements); tables only hold function pointers.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Caps linear memory; remembers that memory ran out, so that the trap which follows
/// (Rust's allocation failure aborts) is reported as `Error::MemoryLimit`.
pub(crate) struct MemoryLimiter {
    pub(crate) max_bytes: usize,
    /// A grow was refused, or the guest reported an allocation it could not make
    /// (`isovm.out_of_memory`).
    pub(crate) exhausted: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_bytes && maximum.is_none_or(|m| desired <= m);
        if !allowed {
            self.exhausted = true;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // Allowed by us, but the host could not provide it (the pool slot, mmap).
        self.exhausted = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS && maximum.is_none_or(|m| desired <= m))
    }
}
