//! [`BoaWasi`]: the backend family.

use engine_api::{Backend, Capabilities};

use super::{BoaContext, BoaIsolate, BoaModule, BoaReference, BoaScript};

/// The Boa-WASI backend.
#[derive(Debug)]
pub struct BoaWasi;

impl Backend for BoaWasi {
    type Isolate = BoaIsolate;
    type Context = BoaContext;
    type Script = BoaScript;
    type Module = BoaModule;
    type Reference = BoaReference;

    const NAME: &'static str = "boa-wasi";

    fn capabilities() -> Capabilities {
        host_wasi::capabilities()
    }
}
