//! What each wasmtime `Store` carries: limits, the WASI clock and randomness, the table of
//! host objects the guest holds ids of, and the per-call deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use engine_api::{AnyReference, Callback, DeterministicSeed, ExternalCopy};
use wasmtime::{Global, Memory, ResourceLimiter, TypedFunc};

use crate::cpu::CpuMeter;
use crate::isolate::IsolateInner;

/// Largest table the guest may grow to (elements); tables only hold function pointers.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;
/// Bytes of guest stderr kept for error messages (panic text).
const STDERR_TAIL: usize = 2048;

/// Store data of one guest instance.
pub(crate) struct HostState {
    pub(crate) limits: MemoryLimiter,
    pub(crate) clock: Clock,
    pub(crate) random: Random,
    pub(crate) table: HostTable,
    /// The isolate this store belongs to (`None` while pre-initialising).
    pub(crate) isolate: Option<Weak<IsolateInner>>,
    /// Set by `dispose` from any thread: the running call stops at the next epoch tick.
    pub(crate) interrupt: Arc<AtomicBool>,
    /// When the running call must stop (`Error::Timeout`).
    pub(crate) deadline: Option<Instant>,
    /// Set when the running call's task is cancelled (`Error::Cancelled`); `None` for calls
    /// no task can cancel.
    pub(crate) cancel: Option<Arc<AtomicBool>>,
    /// CPU time of the guest's own code.
    pub(crate) cpu: CpuMeter,
    /// Exports the `host_call` import needs, filled in after instantiation.
    pub(crate) memory: Option<Memory>,
    pub(crate) alloc: Option<TypedFunc<i32, i32>>,
    /// The guest's shadow stack: its `__stack_pointer` and where the stack starts (it
    /// grows down towards address 0), to tell a shadow-stack overflow from other traps.
    pub(crate) shadow_stack: Option<(Global, u32)>,
    /// The end of what the guest wrote to stderr, for error messages.
    pub(crate) stderr: Vec<u8>,
    /// Failures of host callbacks thrown into the guest, until it reports how they ended.
    pub(crate) callback_errors: crate::trap::CallbackErrors,
}

impl HostState {
    pub(crate) fn new(
        memory_limit: usize,
        seed: Option<DeterministicSeed>,
        isolate: Option<Weak<IsolateInner>>,
        interrupt: Arc<AtomicBool>,
        cpu: Arc<AtomicU64>,
    ) -> Self {
        HostState {
            limits: MemoryLimiter {
                max_bytes: memory_limit,
                exhausted: false,
            },
            clock: Clock::new(seed.map(|s| s.start_time_ms)),
            random: Random::new(seed.map(|s| s.random_seed)),
            table: HostTable::default(),
            isolate,
            interrupt,
            deadline: None,
            cancel: None,
            cpu: CpuMeter::new(cpu),
            memory: None,
            alloc: None,
            shadow_stack: None,
            stderr: Vec::new(),
            callback_errors: Default::default(),
        }
    }

    /// State for pre-initialisation: a fixed clock, so the image is reproducible.
    pub(crate) fn preinit() -> Self {
        Self::new(
            usize::MAX,
            Some(DeterministicSeed::default()),
            None,
            Arc::default(),
            Arc::default(),
        )
    }

    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    pub(crate) fn push_stderr(&mut self, bytes: &[u8]) {
        // Only the tail is kept: never copy more of a (possibly huge) write than that.
        let bytes = &bytes[bytes.len().saturating_sub(STDERR_TAIL)..];
        self.stderr.extend_from_slice(bytes);
        if self.stderr.len() > STDERR_TAIL {
            let cut = self.stderr.len() - STDERR_TAIL;
            self.stderr.drain(..cut);
        }
    }

    /// The guest's recent stderr output, trimmed, for an error message.
    pub(crate) fn stderr_tail(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.stderr);
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }
}

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

/// The guest's clocks. Deterministic: starts at the seed and advances by a fixed step on
/// every read. Otherwise the host's clocks.
pub(crate) enum Clock {
    Real { start: Instant },
    Logical { start_ns: u64, elapsed_ns: u64 },
}

/// How far a deterministic clock advances per read.
const LOGICAL_STEP_NS: u64 = 1_000;

impl Clock {
    fn new(start_ms: Option<u64>) -> Self {
        match start_ms {
            Some(ms) => Clock::Logical {
                start_ns: ms.saturating_mul(1_000_000),
                elapsed_ns: 0,
            },
            None => Clock::Real {
                start: Instant::now(),
            },
        }
    }

    /// Nanoseconds since the Unix epoch.
    pub(crate) fn realtime(&mut self) -> u64 {
        match self {
            Clock::Real { .. } => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            Clock::Logical {
                start_ns,
                elapsed_ns,
            } => {
                *elapsed_ns += LOGICAL_STEP_NS;
                start_ns.saturating_add(*elapsed_ns)
            }
        }
    }

    /// Nanoseconds since an arbitrary start.
    pub(crate) fn monotonic(&mut self) -> u64 {
        match self {
            Clock::Real { start } => start.elapsed().as_nanos() as u64,
            Clock::Logical { elapsed_ns, .. } => {
                *elapsed_ns += LOGICAL_STEP_NS;
                *elapsed_ns
            }
        }
    }

    /// The resolution reported by `clock_res_get`.
    pub(crate) fn resolution(&self) -> u64 {
        match self {
            Clock::Real { .. } => 1_000,
            Clock::Logical { .. } => LOGICAL_STEP_NS,
        }
    }
}

/// The guest's randomness: a seeded generator (deterministic) or the OS.
pub(crate) enum Random {
    Os,
    Seeded(SplitMix64),
}

impl Random {
    fn new(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => Random::Seeded(SplitMix64(s)),
            None => Random::Os,
        }
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        match self {
            Random::Os => {
                if getrandom::fill(buf).is_err() {
                    // No OS randomness: still fill, from a clock-seeded generator.
                    let seed = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos() as u64);
                    SplitMix64(seed).fill(buf);
                }
            }
            Random::Seeded(rng) => rng.fill(buf),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }
}

/// A small, fast, seedable generator (not cryptographic; used only when asked to be
/// deterministic).
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Something of the host's that the guest holds an id of.
#[derive(Clone)]
pub(crate) enum HostObject {
    Callback(Callback),
    Reference(AnyReference),
    Copy(ExternalCopy),
}

/// Host ids → host objects, per isolate.
#[derive(Default)]
pub(crate) struct HostTable {
    objects: HashMap<u32, HostObject>,
    next_id: u32,
    /// Bytes of the external copies in `objects`.
    copy_bytes: usize,
    /// Ids of the callbacks inserted last: passing the same callback again reuses its id
    /// (the guest never releases plain functions, so ids would pile up otherwise).
    recent_callbacks: Vec<u32>,
}

/// How many recent callbacks `HostTable::insert` checks for reuse.
const RECENT_CALLBACKS: usize = 16;

impl HostTable {
    pub(crate) fn insert(&mut self, object: HostObject) -> u32 {
        if let HostObject::Callback(c) = &object {
            let same = |id: &&u32| matches!(self.objects.get(id), Some(HostObject::Callback(old)) if old.ptr_eq(c));
            if let Some(&id) = self.recent_callbacks.iter().find(same) {
                return id;
            }
        }
        loop {
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.objects.contains_key(&self.next_id) {
                break;
            }
        }
        match &object {
            HostObject::Copy(c) => self.copy_bytes = self.copy_bytes.saturating_add(c.size()),
            HostObject::Callback(_) => {
                if self.recent_callbacks.len() == RECENT_CALLBACKS {
                    self.recent_callbacks.remove(0);
                }
                self.recent_callbacks.push(self.next_id);
            }
            HostObject::Reference(_) => {}
        }
        self.objects.insert(self.next_id, object);
        self.next_id
    }

    pub(crate) fn get(&self, id: u32) -> Option<&HostObject> {
        self.objects.get(&id)
    }

    pub(crate) fn remove(&mut self, id: u32) {
        if let Some(HostObject::Copy(c)) = self.objects.remove(&id) {
            self.copy_bytes = self.copy_bytes.saturating_sub(c.size());
        }
    }

    /// Bytes of external copies the guest holds.
    pub(crate) fn external_bytes(&self) -> usize {
        self.copy_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine_api::Value;

    #[test]
    fn the_same_callback_keeps_its_id() {
        let mut table = HostTable::default();
        let cb = Callback::new(|_| Ok(Value::Undefined));
        let a = table.insert(HostObject::Callback(cb.clone()));
        let b = table.insert(HostObject::Callback(cb.clone()));
        let other = table.insert(HostObject::Callback(Callback::new(|_| Ok(Value::Null))));
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(table.objects.len(), 2);
    }

    #[test]
    fn copy_bytes_follow_inserts_and_removals() {
        let mut table = HostTable::default();
        let copy = ExternalCopy::new(Value::from("x".repeat(1000))).expect("copy");
        let id = table.insert(HostObject::Copy(copy.clone()));
        assert_eq!(table.external_bytes(), copy.size());
        table.remove(id);
        assert_eq!(table.external_bytes(), 0);
    }
}
