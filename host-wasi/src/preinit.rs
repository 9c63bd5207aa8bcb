//! Pre-initialisation: runs the guest's `wizer-initialize` (Boa's engine and first realm)
//! once, and snapshots the result into a new module (`wasmtime-wizer`), so that every
//! isolate starts from an image where Boa is already built.

use wasmtime::{Config, Engine, Instance, Linker, Module, OptLevel, Store, Val};
use wasmtime_wizer::{InstanceState, SnapshotVal, Wizer};

use crate::state::HostState;
use crate::trap::{backend, backend_with, fault};

/// The guest, pre-initialised: a new wasm module.
pub(crate) fn preinitialize(wasm: &[u8]) -> engine_api::Result<Vec<u8>> {
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer
        .instrument(wasm)
        .map_err(|e| backend_with("instrumenting the guest for pre-initialisation", e))?;

    // The instrumented module runs once: compile it fast rather than well.
    let mut config = Config::new();
    config.cranelift_opt_level(OptLevel::None);
    let engine = Engine::new(&config).map_err(|e| backend_with("pre-initialisation engine", e))?;
    let module = Module::new(&engine, &instrumented)
        .map_err(|e| backend_with("compiling the instrumented guest", e))?;

    let mut linker = Linker::new(&engine);
    crate::wasi::add_to_linker(&mut linker)
        .and_then(|()| {
            linker.func_wrap(
                "isovm",
                "host_call",
                |_: wasmtime::Caller<'_, HostState>, _: i32, _: i32| -> wasmtime::Result<i64> {
                    Err(fault("host_call during pre-initialisation"))
                },
            )?;
            linker.func_wrap("isovm", "out_of_memory", crate::prepared::out_of_memory)?;
            crate::wasi::stub_unknown(&mut linker, &module)
        })
        .map_err(|e| backend_with("linking for pre-initialisation", e))?;

    let mut store = Store::new(&engine, HostState::preinit());
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| backend_with("instantiating the guest for pre-initialisation", e))?;
    for name in ["_initialize", wizer.get_init_func()] {
        if let Some(f) = instance.get_func(&mut store, name) {
            f.typed::<(), ()>(&store)
                .and_then(|f| f.call(&mut store, ()))
                .map_err(|e| {
                    let tail = store.data().stderr_tail().unwrap_or_default();
                    backend(format!("guest `{name}` failed: {e:#} {tail}"))
                })?;
        } else if name != "_initialize" {
            return Err(backend(format!("the guest has no `{name}` export")));
        }
    }

    let mut state = Snapshotter {
        store: &mut store,
        instance,
    };
    pollster::block_on(wizer.snapshot(&cx, &mut state))
        .map_err(|e| backend_with("snapshotting the pre-initialised guest", e))
}

/// Gives wizer the instance's globals and memory (synchronously).
struct Snapshotter<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
}

impl InstanceState for Snapshotter<'_> {
    async fn global_get(&mut self, name: &str, _: wasmtime_wizer::ValType) -> SnapshotVal {
        // The instrumented module exports every global under the name wizer asks for; a
        // missing one is a wizer bug, and the snapshot of an absent global reads as zero.
        match self
            .instance
            .get_global(&mut *self.store, name)
            .map(|g| g.get(&mut *self.store))
        {
            Some(Val::I64(x)) => SnapshotVal::I64(x),
            Some(Val::F32(x)) => SnapshotVal::F32(x),
            Some(Val::F64(x)) => SnapshotVal::F64(x),
            Some(Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            Some(Val::I32(x)) => SnapshotVal::I32(x),
            _ => SnapshotVal::I32(0),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut *self.store, name) {
            Some(memory) => contents(memory.data(&*self.store)),
            None => contents(&[]),
        }
    }
}
