//! `HostState`: the data of one guest's wasmtime `Store`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use engine_api::{DeterministicSeed, Error};
use wasmtime::{Global, Memory};

use super::{Clock, HostTable, MemoryLimiter, Random};
use crate::callback_errors::CallbackErrors;
use crate::cpu_meter::CpuMeter;
use crate::guest::Exports;
use crate::isolate::IsolateInner;
use crate::soft_stop::SoftStop;

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
    /// The soft stop asked of the running call (at its deadline or cancel), if any.
    pub(crate) soft_stop: Option<SoftStop>,
    /// CPU time of the guest's own code.
    pub(crate) cpu: CpuMeter,
    /// Exports the `host_call` import and nested calls need, filled in after instantiation.
    pub(crate) memory: Option<Memory>,
    pub(crate) exports: Option<Exports>,
    /// How many calls run nested in the outermost one (host callbacks calling back in).
    pub(crate) nesting: u32,
    /// A nested call trapped: the guest's state is unknown, so the calls it is nested in
    /// end too, with this error, as soon as their host calls return.
    pub(crate) fatal: Option<Error>,
    /// The guest's shadow stack: its `__stack_pointer` and where the stack starts (it
    /// grows down towards address 0), to tell a shadow-stack overflow from other traps.
    pub(crate) shadow_stack: Option<(Global, u32)>,
    /// The end of what the guest wrote to stderr, for error messages.
    pub(crate) stderr: Vec<u8>,
    /// Failures of host callbacks thrown into the guest, until it reports how they ended.
    pub(crate) callback_errors: CallbackErrors,
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
            soft_stop: None,
            cpu: CpuMeter::new(cpu),
            memory: None,
            exports: None,
            nesting: 0,
            fatal: None,
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
