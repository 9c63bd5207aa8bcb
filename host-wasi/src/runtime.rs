//! The wasmtime side shared by isolates: engines, the compiled guest (pre-initialised,
//! cached on disk), the `InstancePre` every isolate instantiates, and the epoch ticker.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use engine_api::{Capability, Error, Result};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig,
};

use crate::state::HostState;
use crate::ticker::Ticker;
use crate::trap::backend;

/// How a [`Runtime`] sets up wasmtime.
///
/// ```
/// let config = host_wasi::RuntimeConfig { max_isolates: 100, ..Default::default() };
/// assert_eq!(config.max_isolates, 100);
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Live isolates the pooling allocator has slots for (per engine). Creating more fails
    /// with `Error::Backend` until some are dropped.
    pub max_isolates: u32,
    /// The largest `memory_limit_mb` an isolate can use (a pool slot's size); larger
    /// limits are capped to this.
    pub max_memory_mb: u64,
    /// Native stack the guest may use, in bytes. Calls run on the caller's thread, which
    /// must have this much stack free (plus some for the host).
    pub max_wasm_stack: usize,
    /// How often the epoch advances; timeouts are checked once per tick.
    pub epoch_tick: Duration,
    /// Where compiled modules are cached (`None`: see [`Runtime::new`]).
    pub cache_dir: Option<PathBuf>,
    /// Whether to use the on-disk cache at all.
    pub disk_cache: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_isolates: 1000,
            max_memory_mb: 4096,
            max_wasm_stack: 1 << 20,
            epoch_tick: Duration::from_millis(1),
            cache_dir: None,
            disk_cache: true,
        }
    }
}

/// Engines and compiled guest modules shared by isolates. Cheap to clone.
///
/// [`Runtime::global`] is what `BoaIsolate::new` uses; build your own to change the
/// configuration or to share an application's `wasmtime::Engine`
/// ([`Runtime::with_engines`]).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    plain: EngineSlot,
    /// The engine with fuel metering (`None`: fuel is unsupported by this runtime).
    fuel: Option<EngineSlot>,
    ticker: Option<Arc<Ticker>>,
    max_memory: usize,
    cache_dir: Option<PathBuf>,
    /// The pre-initialised guest, made once and compiled per engine.
    preinitialized: Mutex<Option<Arc<Vec<u8>>>>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        if let Some(t) = &self.ticker {
            t.stop.store(true, Ordering::SeqCst);
            t.asleep.store(true, Ordering::SeqCst);
            t.wake();
        }
    }
}

struct EngineSlot {
    engine: Engine,
    prepared: Mutex<Option<Arc<Prepared>>>,
}

/// The guest compiled for one engine, ready to instantiate.
pub(crate) struct Prepared {
    pub(crate) instance_pre: InstancePre<HostState>,
    /// Whether stores of this engine need fuel set before running.
    pub(crate) consumes_fuel: bool,
    /// Linear memory of a fresh instance (Boa, its first realm and the guest's stack).
    pub(crate) base_memory: usize,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("fuel", &self.inner.fuel.is_some())
            .field("own_ticker", &self.inner.ticker.is_some())
            .finish_non_exhaustive()
    }
}

fn engine_config(config: &RuntimeConfig, fuel: bool, pooling: bool) -> Config {
    let mut c = Config::new();
    c.epoch_interruption(true)
        .consume_fuel(fuel)
        .memory_init_cow(true)
        .max_wasm_stack(config.max_wasm_stack);
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(config.max_isolates)
            .total_memories(config.max_isolates)
            .total_tables(config.max_isolates)
            .max_memory_size((config.max_memory_mb as usize).saturating_mul(1 << 20))
            .table_elements(1 << 16);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    c
}

fn make_engine(config: &RuntimeConfig, fuel: bool) -> Result<Engine> {
    Engine::new(&engine_config(config, fuel, true))
        .or_else(|_| Engine::new(&engine_config(config, fuel, false)))
        .map_err(|e| backend(format!("creating the wasmtime engine: {e:#}")))
}

impl Runtime {
    /// A runtime with its own engines (one metering fuel, one not; pooling allocator when
    /// the system allows it) and its own epoch ticker thread. Compiled modules are cached in
    /// `config.cache_dir`, else `$ISOVM_CACHE_DIR`, else `$XDG_CACHE_HOME/isovm`, else
    /// `~/.cache/isovm`.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let plain = make_engine(&config, false)?;
        let fuel = make_engine(&config, true)?;
        let ticker = Ticker::start(vec![plain.clone(), fuel.clone()], config.epoch_tick)?;
        Ok(Self::build(plain, Some(fuel), Some(ticker), &config))
    }

    /// A runtime on an application's own engines, sharing their configuration.
    ///
    /// `engine` must have `epoch_interruption(true)`; if it also consumes fuel it serves
    /// isolates with and without a fuel budget (those without get unlimited fuel). `fuel`,
    /// if given, must consume fuel and serves isolates with a budget.
    ///
    /// The application drives the epoch: call `engine.increment_epoch()` (and the fuel
    /// engine's) periodically. Deadlines are checked against the clock on every tick, so
    /// the tick period is the precision of timeouts and of `dispose` interrupting a running
    /// call; we assume about 1 ms, and anything up to ~10 ms works. Without ticks, timeouts
    /// never fire.
    pub fn with_engines(engine: Engine, fuel: Option<Engine>) -> Result<Self> {
        if !engine.get_epoch_interruption()
            || fuel.as_ref().is_some_and(|f| !f.get_epoch_interruption())
        {
            return Err(Error::InvalidArgument(
                "host-wasi needs engines with epoch_interruption(true)".into(),
            ));
        }
        if fuel.as_ref().is_some_and(|f| !f.get_consume_fuel()) {
            return Err(Error::InvalidArgument(
                "the fuel engine must have consume_fuel(true)".into(),
            ));
        }
        let fuel = fuel.or_else(|| engine.get_consume_fuel().then(|| engine.clone()));
        Ok(Self::build(engine, fuel, None, &RuntimeConfig::default()))
    }

    /// [`Runtime::with_engines`] with one engine.
    pub fn with_engine(engine: Engine) -> Result<Self> {
        Self::with_engines(engine, None)
    }

    fn build(
        plain: Engine,
        fuel: Option<Engine>,
        ticker: Option<Arc<Ticker>>,
        config: &RuntimeConfig,
    ) -> Self {
        let slot = |engine| EngineSlot {
            engine,
            prepared: Mutex::new(None),
        };
        let cache_dir = if config.disk_cache {
            config.cache_dir.clone().or_else(crate::cache::default_dir)
        } else {
            None
        };
        Runtime {
            inner: Arc::new(RuntimeInner {
                plain: slot(plain),
                fuel: fuel.map(slot),
                ticker,
                max_memory: (config.max_memory_mb as usize).saturating_mul(1 << 20),
                cache_dir,
                preinitialized: Mutex::new(None),
            }),
        }
    }

    /// The process-wide runtime, made on first use with [`RuntimeConfig::default`].
    pub fn global() -> Result<&'static Runtime> {
        static GLOBAL: OnceLock<Result<Runtime>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| Runtime::new(RuntimeConfig::default()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Compiles (or loads from the cache) the guest for the engine isolates with
    /// (`fuel = true`) or without a fuel budget use. Done lazily on first use; call it to
    /// pay the cost up front.
    pub fn prepare(&self, fuel: bool) -> Result<()> {
        self.prepared(fuel).map(drop)
    }

    /// The largest memory an isolate of this runtime can have, in bytes.
    pub(crate) fn max_memory(&self) -> usize {
        self.inner.max_memory
    }

    pub(crate) fn prepared(&self, fuel: bool) -> Result<Arc<Prepared>> {
        let slot = if fuel {
            self.inner
                .fuel
                .as_ref()
                .ok_or(Error::Unsupported(Capability::Fuel))?
        } else {
            &self.inner.plain
        };
        let mut prepared = slot.prepared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = &*prepared {
            return Ok(p.clone());
        }
        let module = self.compile(&slot.engine)?;
        let p = Arc::new(link(&slot.engine, &module)?);
        *prepared = Some(p.clone());
        Ok(p)
    }

    /// The pre-initialised guest compiled for `engine`: from the disk cache, else compiled
    /// (and written to the cache).
    fn compile(&self, engine: &Engine) -> Result<Module> {
        let path = self
            .inner
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(crate::cache::file_name(crate::guest_wasm_sha256(), engine)));
        if let Some(module) = path.as_deref().and_then(|p| crate::cache::load(engine, p)) {
            return Ok(module);
        }
        let wasm = self.preinitialized()?;
        let module = Module::new(engine, &wasm[..])
            .map_err(|e| backend(format!("compiling the guest: {e:#}")))?;
        if let Some(path) = path
            && let Ok(bytes) = module.serialize()
        {
            // A failed write only costs a recompile in the next process.
            let _ = crate::cache::store(&path, &bytes);
        }
        Ok(module)
    }

    fn preinitialized(&self) -> Result<Arc<Vec<u8>>> {
        let mut pre = self
            .inner
            .preinitialized
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(w) = &*pre {
            return Ok(w.clone());
        }
        let wasm = Arc::new(crate::preinit::preinitialize(crate::guest_wasm())?);
        *pre = Some(wasm.clone());
        Ok(wasm)
    }

    /// Marks a guest call in progress (the ticker runs while any is); ends on drop.
    pub(crate) fn enter_call(&self) -> CallGuard<'_> {
        if let Some(t) = &self.inner.ticker
            && t.active.fetch_add(1, Ordering::SeqCst) == 0
        {
            t.wake();
        }
        CallGuard { runtime: self }
    }
}

/// See [`Runtime::enter_call`].
pub(crate) struct CallGuard<'a> {
    runtime: &'a Runtime,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        if let Some(t) = &self.runtime.inner.ticker {
            t.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// `isovm.out_of_memory`: the guest could not allocate and is about to abort (or to throw
/// a `RangeError`); the call ends as `Error::MemoryLimit`.
pub(crate) fn out_of_memory(mut caller: wasmtime::Caller<'_, HostState>) {
    caller.data_mut().limits.exhausted = true;
}

/// The linker every isolate instantiates with: WASI, `isovm.host_call` and
/// `isovm.out_of_memory`.
fn link(engine: &Engine, module: &Module) -> Result<Prepared> {
    let mut linker = Linker::new(engine);
    crate::wasi::add_to_linker(&mut linker)
        .and_then(|()| {
            linker.func_wrap("isovm", "host_call", crate::host_calls::host_call)?;
            linker.func_wrap("isovm", "out_of_memory", out_of_memory)?;
            crate::wasi::stub_unknown(&mut linker, module)
        })
        .map_err(|e| backend(format!("linking the guest: {e:#}")))?;
    let instance_pre = linker
        .instantiate_pre(module)
        .map_err(|e| backend(format!("preparing the guest for instantiation: {e:#}")))?;
    let base_memory = module
        .exports()
        .find(|e| e.name() == "memory")
        .and_then(|e| e.ty().memory().map(|m| m.minimum() * m.page_size()))
        .unwrap_or(0);
    Ok(Prepared {
        instance_pre,
        consumes_fuel: engine.get_consume_fuel(),
        base_memory: usize::try_from(base_memory).unwrap_or(usize::MAX),
    })
}
