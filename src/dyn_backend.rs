//! [`Dyn`]: the backend whose handles choose their backend at run time.

use engine_api::{Backend, Capabilities};

use crate::{BackendKind, Context, Isolate, Module, Reference, Script};

/// The backend of the run-time-chosen handle types ([`Isolate`], [`Context`], [`Script`],
/// [`Module`], [`Reference`]), so that generic code written for `B: Backend` also runs on
/// them.
///
/// `Dyn::capabilities()` is what every compiled backend has; an isolate's own
/// [`Isolate::capabilities`] says what its backend has.
#[derive(Debug)]
pub struct Dyn;

impl Backend for Dyn {
    type Isolate = Isolate;
    type Context = Context;
    type Script = Script;
    type Module = Module;
    type Reference = Reference;

    const NAME: &'static str = "dyn";

    fn capabilities() -> Capabilities {
        BackendKind::compiled()
            .filter_map(|k| k.capabilities().ok())
            .reduce(|a, b| Capabilities {
                fuel: a.fuel && b.fuel,
                hard_memory_cap: a.hard_memory_cap && b.hard_memory_cap,
                snapshots: a.snapshots && b.snapshots,
                code_cache: a.code_cache && b.code_cache,
                inspector: a.inspector && b.inspector,
                deterministic: a.deterministic && b.deterministic,
                shared_memory: a.shared_memory && b.shared_memory,
                catchable_stack_overflow: a.catchable_stack_overflow && b.catchable_stack_overflow,
            })
            .unwrap_or_default()
    }
}
