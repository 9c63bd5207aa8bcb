//! `Prepared`: the guest compiled for one engine and linked (WASI, `isovm.host_call`,
//! `isovm.out_of_memory`), ready to instantiate.

use engine_api::Result;
use wasmtime::{Engine, InstancePre, Linker, Module};

use crate::GuestSource;
use crate::state::HostState;
use crate::trap::backend_with;

/// The guest compiled for one engine, ready to instantiate.
pub(crate) struct Prepared {
    pub(crate) source: GuestSource,
    pub(crate) instance_pre: InstancePre<HostState>,
    /// Whether stores of this engine need fuel set before running.
    pub(crate) consumes_fuel: bool,
    /// Linear memory of a fresh instance (Boa, its first realm and the guest's stack).
    pub(crate) base_memory: usize,
}

/// `isovm.out_of_memory`: the guest could not allocate and is about to abort (or to throw
/// a `RangeError`); the call ends as `Error::MemoryLimit`.
pub(crate) fn out_of_memory(mut caller: wasmtime::Caller<'_, HostState>) {
    caller.data_mut().limits.exhausted = true;
}

/// The linker every isolate instantiates with: WASI, `isovm.host_call` and
/// `isovm.out_of_memory`.
pub(crate) fn link(engine: &Engine, module: &Module, source: GuestSource) -> Result<Prepared> {
    let mut linker = Linker::new(engine);
    crate::wasi::add_to_linker(&mut linker)
        .and_then(|()| {
            linker.func_wrap("isovm", "host_call", crate::host_calls::host_call)?;
            linker.func_wrap("isovm", "out_of_memory", out_of_memory)?;
            crate::wasi::stub_unknown(&mut linker, module)
        })
        .map_err(|e| backend_with("linking the guest", e))?;
    let instance_pre = linker
        .instantiate_pre(module)
        .map_err(|e| backend_with("preparing the guest for instantiation", e))?;
    let base_memory = module
        .exports()
        .find(|e| e.name() == "memory")
        .and_then(|e| e.ty().memory().map(|m| m.minimum() * m.page_size()))
        .unwrap_or(0);
    Ok(Prepared {
        source,
        instance_pre,
        consumes_fuel: engine.get_consume_fuel(),
        base_memory: usize::try_from(base_memory).unwrap_or(usize::MAX),
    })
}
