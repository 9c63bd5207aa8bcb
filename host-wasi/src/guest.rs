//! One guest instance: its store, its exports, and the `isovm_call` protocol over checked
//! guest memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Instant;

use engine_api::abi::{self, Request, Response};
use engine_api::{DeterministicSeed, Error, Result};
use wasmtime::{AsContextMut, Memory, Store, StoreContextMut, TypedFunc};

use crate::prepared::Prepared;
use crate::state::HostState;
use crate::trap::{backend, backend_with, classify};

/// Largest message either side may send (bytes).
pub(crate) const MAX_MESSAGE: usize = 1 << 30;

/// Request buffers up to this size are kept for reuse.
const KEEP_BUFFER: usize = 64 << 10;

/// An error after which the guest's state is unknown: the isolate must be disposed.
#[derive(Debug)]
pub(crate) struct Fatal(pub(crate) Error);

/// A live guest instance.
pub(crate) struct Guest {
    pub(crate) store: Store<HostState>,
    pub(crate) exports: Exports,
    /// The request buffer, reused between calls.
    pub(crate) buf: Vec<u8>,
}

/// The guest's exports the `isovm_call` protocol uses (also kept in the store's data, for
/// calls made through a lent store; see [`crate::lent_store`]).
#[derive(Clone)]
pub(crate) struct Exports {
    pub(crate) memory: Memory,
    pub(crate) alloc: TypedFunc<i32, i32>,
    free: TypedFunc<(i32, i32), ()>,
    call: TypedFunc<(i32, i32), i64>,
    /// `isovm_interrupt`, for soft stops (optional: without it a deadline traps).
    pub(crate) interrupt: Option<TypedFunc<i32, i32>>,
}

/// What a new guest needs besides the compiled module.
pub(crate) struct GuestOptions {
    pub(crate) memory_limit: usize,
    pub(crate) fuel: Option<u64>,
    pub(crate) seed: Option<DeterministicSeed>,
    pub(crate) isolate: std::sync::Weak<crate::isolate::IsolateInner>,
    pub(crate) interrupt: Arc<AtomicBool>,
    /// The isolate's CPU time (nanoseconds), which the store adds to.
    pub(crate) cpu: Arc<AtomicU64>,
}

impl Guest {
    /// Instantiates the pre-initialised guest and seeds it.
    pub(crate) fn new(prepared: &Prepared, opts: GuestOptions) -> Result<Guest> {
        let engine = prepared.instance_pre.module().engine();
        let state = HostState::new(
            opts.memory_limit,
            opts.seed,
            Some(opts.isolate),
            opts.interrupt,
            opts.cpu,
        );
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(crate::soft_stop::epoch_tick);
        store.set_epoch_deadline(1);
        if prepared.consumes_fuel {
            store
                .set_fuel(opts.fuel.unwrap_or(u64::MAX))
                .map_err(|e| backend_with("setting fuel", e))?;
        }
        let instance = match prepared.instance_pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(_) if store.data().limits.exhausted => return Err(Error::MemoryLimit),
            Err(e) => return Err(backend_with("instantiating the guest", e)),
        };
        let missing = |what: &str| backend(format!("the guest lacks the `{what}` export"));
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| missing("memory"))?;
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut store, "isovm_alloc")
            .map_err(|_| missing("isovm_alloc"))?;
        let free = instance
            .get_typed_func::<(i32, i32), ()>(&mut store, "isovm_free")
            .map_err(|_| missing("isovm_free"))?;
        let call = instance
            .get_typed_func::<(i32, i32), i64>(&mut store, "isovm_call")
            .map_err(|_| missing("isovm_call"))?;
        let start = instance
            .get_typed_func::<(i64, i64), ()>(&mut store, "isovm_start")
            .map_err(|_| missing("isovm_start"))?;
        let interrupt = instance
            .get_typed_func::<i32, i32>(&mut store, "isovm_interrupt")
            .ok();
        let exports = Exports {
            memory,
            alloc,
            free,
            call,
            interrupt,
        };
        store.data_mut().memory = Some(memory);
        store.data_mut().exports = Some(exports.clone());
        // Where the shadow stack starts: the stack pointer between calls.
        store.data_mut().shadow_stack = instance
            .get_global(&mut store, "__stack_pointer")
            .and_then(|g| g.get(&mut store).i32().map(|top| (g, top as u32)));
        let seed = (
            store.data_mut().random.next_u64() as i64,
            store.data_mut().random.next_u64() as i64,
        );
        if let Err(e) = start.call(&mut store, seed) {
            return Err(classify(&e, &mut store));
        }
        Ok(Guest {
            store,
            exports,
            buf: Vec::with_capacity(256),
        })
    }

    /// Arms the per-call deadline and cancel flag (checked on every epoch tick).
    pub(crate) fn begin(&mut self, deadline: Option<Instant>, cancel: Option<Arc<AtomicBool>>) {
        let state = self.store.data_mut();
        state.deadline = deadline;
        state.cancel = cancel;
        state.soft_stop = None;
        self.store.set_epoch_deadline(1);
    }

    /// Fuel left, when this store meters fuel.
    pub(crate) fn fuel(&self) -> Option<u64> {
        self.store.get_fuel().ok()
    }
}

impl Exports {
    /// Sends one request through `store` (the guest's own, or one lent to a nested call)
    /// and decodes the response; `buf` is the request buffer to reuse.
    pub(crate) fn request(
        &self,
        store: &mut StoreContextMut<'_, HostState>,
        buf: &mut Vec<u8>,
        req: &Request,
    ) -> Result<Response, Fatal> {
        let mut bytes = std::mem::take(buf);
        bytes.clear();
        let bytes = postcard::to_extend(req, bytes)
            .map_err(|e| Fatal(backend(format!("encoding a request: {e}"))))?;
        store.data_mut().cpu.resume();
        let result = self.exchange(store, &bytes);
        store.data_mut().cpu.pause();
        // Keep a small buffer for the next request, not the largest one ever sent.
        *buf = if bytes.capacity() > KEEP_BUFFER {
            Vec::new()
        } else {
            bytes
        };
        result
    }

    fn exchange(
        &self,
        store: &mut StoreContextMut<'_, HostState>,
        bytes: &[u8],
    ) -> Result<Response, Fatal> {
        let trap = |e: wasmtime::Error, store: &mut StoreContextMut<'_, HostState>| {
            Fatal(classify(&e, store.as_context_mut()))
        };
        let len = i32::try_from(bytes.len())
            .ok()
            .filter(|l| (*l as usize) <= MAX_MESSAGE)
            .ok_or_else(|| Fatal(Error::InvalidArgument("request too large".into())))?;
        let ptr = match self.alloc.call(&mut *store, len) {
            Ok(p) => p,
            Err(e) => return Err(trap(e, store)),
        };
        if ptr == 0 && len > 0 {
            return Err(Fatal(if store.data().limits.exhausted {
                Error::MemoryLimit
            } else {
                backend("the guest could not allocate a request buffer")
            }));
        }
        self.memory
            .write(&mut *store, ptr as u32 as usize, bytes)
            .map_err(|_| {
                Fatal(backend(
                    "the guest returned an out-of-bounds request buffer",
                ))
            })?;
        let packed = match self.call.call(&mut *store, (ptr, len)) {
            Ok(p) => p,
            Err(e) => return Err(trap(e, store)),
        };
        let (rptr, rlen) = (
            (packed as u64 >> 32) as usize,
            (packed as u64 & 0xffff_ffff) as usize,
        );
        if rlen > MAX_MESSAGE {
            return Err(Fatal(backend("the guest returned an oversized response")));
        }
        let response = self
            .memory
            .data(&*store)
            .get(rptr..rptr.saturating_add(rlen))
            .ok_or_else(|| Fatal(backend("the guest returned an out-of-bounds response")))
            .map(abi::decode::<Response>)?;
        if let Err(e) = self.free.call(&mut *store, (rptr as i32, rlen as i32)) {
            return Err(trap(e, store));
        }
        response.ok_or_else(|| Fatal(backend("the guest returned a malformed response")))
    }
}
