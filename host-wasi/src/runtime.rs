//! The wasmtime side shared by isolates: engines, the compiled guest (pre-initialised,
//! cached on disk), the `InstancePre` every isolate instantiates, and the epoch ticker.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

use engine_api::{Capability, Error, Result};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig};

use crate::cache_dirs::CacheDirs;
use crate::prepared::{Prepared, link};
use crate::ticker::Ticker;
use crate::trap::backend_with;
use crate::{CacheStatus, GuestModule, GuestSource, RuntimeConfig};

/// Engines and compiled guest modules shared by isolates. Cheap to clone.
///
/// A runtime runs one [`GuestModule`]; `backend-boa` keeps a process-wide one for the Boa
/// guest. Build your own to change the configuration or to share an application's
/// `wasmtime::Engine` ([`Runtime::with_engines`]).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    guest: GuestModule,
    plain: EngineSlot,
    /// The engine with fuel metering (`None`: fuel is unsupported by this runtime).
    fuel: Option<EngineSlot>,
    ticker: Option<Arc<Ticker>>,
    max_memory: usize,
    cache: CacheDirs,
    /// Where the cache is, found on first need (it probes the file system).
    cache_status: OnceLock<CacheStatus>,
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

/// The engine [`Runtime::new`] makes (also what [`crate::precompile`] compiles for).
pub(crate) fn make_engine(config: &RuntimeConfig, fuel: bool) -> Result<Engine> {
    Engine::new(&engine_config(config, fuel, true))
        .or_else(|_| Engine::new(&engine_config(config, fuel, false)))
        .map_err(|e| backend_with("creating the wasmtime engine", e))
}

impl Runtime {
    /// A runtime with its own engines (one metering fuel, one not; pooling allocator when
    /// the system allows it) and its own epoch ticker thread. Compiled modules are cached in
    /// `config.cache_dir`, else `$ISOVM_CACHE_DIR`, else the platform cache directory
    /// (`$XDG_CACHE_HOME/isovm` or `~/.cache/isovm`; `~/Library/Caches/isovm` on macOS;
    /// `%LOCALAPPDATA%\isovm` on Windows), else `isovm-<uid>` in the temporary directory
    /// (private to the user). [`Runtime::cache_status`] says which, or why none.
    pub fn new(guest: GuestModule, config: RuntimeConfig) -> Result<Self> {
        let plain = make_engine(&config, false)?;
        let fuel = make_engine(&config, true)?;
        let ticker = Ticker::start(vec![plain.clone(), fuel.clone()], config.epoch_tick)?;
        Ok(Self::build(guest, plain, Some(fuel), Some(ticker), &config))
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
    pub fn with_engines(guest: GuestModule, engine: Engine, fuel: Option<Engine>) -> Result<Self> {
        if !engine.get_epoch_interruption()
            || fuel.as_ref().is_some_and(|f| !f.get_epoch_interruption())
        {
            return Err(Error::invalid_option(
                "engine",
                "host-wasi needs engines with epoch_interruption(true)",
            ));
        }
        if fuel.as_ref().is_some_and(|f| !f.get_consume_fuel()) {
            return Err(Error::invalid_option(
                "fuel",
                "the fuel engine must have consume_fuel(true)",
            ));
        }
        let fuel = fuel.or_else(|| engine.get_consume_fuel().then(|| engine.clone()));
        Ok(Self::build(
            guest,
            engine,
            fuel,
            None,
            &RuntimeConfig::default(),
        ))
    }

    /// [`Runtime::with_engines`] with one engine.
    pub fn with_engine(guest: GuestModule, engine: Engine) -> Result<Self> {
        Self::with_engines(guest, engine, None)
    }

    /// The guest this runtime runs.
    pub fn guest(&self) -> &GuestModule {
        &self.inner.guest
    }

    fn build(
        guest: GuestModule,
        plain: Engine,
        fuel: Option<Engine>,
        ticker: Option<Arc<Ticker>>,
        config: &RuntimeConfig,
    ) -> Self {
        let slot = |engine| EngineSlot {
            engine,
            prepared: Mutex::new(None),
        };
        Runtime {
            inner: Arc::new(RuntimeInner {
                guest,
                plain: slot(plain),
                fuel: fuel.map(slot),
                ticker,
                max_memory: (config.max_memory_mb as usize).saturating_mul(1 << 20),
                cache: CacheDirs::new(config.disk_cache, config.cache_dir.clone()),
                cache_status: OnceLock::new(),
                preinitialized: Mutex::new(None),
            }),
        }
    }

    /// Compiles (or loads from the cache) the guest for the engine isolates with
    /// (`fuel = true`) or without a fuel budget use, and says which it did (the first
    /// answer stays: later calls return at once). Done lazily on first use; call it to pay
    /// the cost up front.
    ///
    /// ```no_run
    /// use host_wasi::{GuestModule, GuestSource, Runtime, RuntimeConfig};
    ///
    /// let wasm = std::fs::read("engine.wasm").expect("a guest module");
    /// let runtime = Runtime::new(GuestModule::from_bytes("engine", wasm), RuntimeConfig::default())?;
    /// let source = runtime.prepare_with(false, |cache| {
    ///     eprintln!("compiling the guest (seconds); cache: {cache:?}");
    /// })?;
    /// assert_eq!(runtime.prepare(false)?, source);
    /// # Ok::<(), engine_api::Error>(())
    /// ```
    pub fn prepare(&self, fuel: bool) -> Result<GuestSource> {
        self.prepare_with(fuel, |_| {})
    }

    /// [`Runtime::prepare`], calling `before_compile` (with where the result will be
    /// cached) just before the slow path starts, so that a program can tell its user.
    /// Not called when the guest is already prepared or loads from the cache.
    /// `before_compile` must not use this runtime (it runs under its lock).
    pub fn prepare_with(
        &self,
        fuel: bool,
        before_compile: impl FnOnce(&CacheStatus),
    ) -> Result<GuestSource> {
        self.prepared_with(fuel, before_compile).map(|p| p.source)
    }

    /// Where this runtime caches compiled guests, or why it cannot. Found on first use
    /// (creating the directory and probing it with a file) and kept.
    pub fn cache_status(&self) -> &CacheStatus {
        self.inner
            .cache_status
            .get_or_init(|| self.inner.cache.resolve())
    }

    /// The largest memory an isolate of this runtime can have, in bytes.
    pub(crate) fn max_memory(&self) -> usize {
        self.inner.max_memory
    }

    pub(crate) fn prepared(&self, fuel: bool) -> Result<Arc<Prepared>> {
        self.prepared_with(fuel, |_| {})
    }

    fn prepared_with(
        &self,
        fuel: bool,
        before_compile: impl FnOnce(&CacheStatus),
    ) -> Result<Arc<Prepared>> {
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
        let (module, source) = self.compile(&slot.engine, before_compile)?;
        let p = Arc::new(link(&slot.engine, &module, source)?);
        *prepared = Some(p.clone());
        Ok(p)
    }

    /// The pre-initialised guest compiled for `engine`: from the disk cache, else from the
    /// guest's precompiled artifact, else compiled (and written to the cache). An entry
    /// that does not load (damaged, truncated, from an incompatible build) is compiled
    /// again and replaced.
    fn compile(
        &self,
        engine: &Engine,
        before_compile: impl FnOnce(&CacheStatus),
    ) -> Result<(Module, GuestSource)> {
        let name = crate::cache::file_name(self.inner.guest.sha256(), engine);
        let status = self.cache_status();
        let written = match status {
            CacheStatus::Enabled(dir) => Some(dir.join(&name)),
            _ => None,
        };
        let read_only = self
            .inner
            .cache
            .read_only(status)
            .map(|dir| dir.join(&name));
        for path in written.iter().chain(&read_only) {
            if let Some(module) = crate::cache::load(engine, path) {
                return Ok((module, GuestSource::DiskCache));
            }
        }
        // Compiled at build time: inflating costs ~0.1 s, so the cache (mapped from disk in
        // milliseconds) comes first, and gets a copy for later processes.
        if let Some(serialized) = crate::precompiled::serialized_for(&self.inner.guest, engine)
            // SAFETY: the artifact is `GuestModule::with_precompiled`'s, whose contract is
            // that it is `precompile` output of this crate's build.
            && let Some(module) = unsafe { crate::precompiled::deserialize(engine, &serialized) }
        {
            if let Some(path) = written {
                // A failed write only costs inflating again in the next process.
                let _ = crate::cache::store(&path, &serialized);
            }
            return Ok((module, GuestSource::Precompiled));
        }
        before_compile(status);
        let wasm = self.preinitialized()?;
        let module =
            Module::new(engine, &wasm[..]).map_err(|e| backend_with("compiling the guest", e))?;
        if let Some(path) = written
            && let Ok(bytes) = module.serialize()
        {
            // A failed write only costs a recompile in the next process.
            let _ = crate::cache::store(&path, &bytes);
        }
        Ok((module, GuestSource::Compiled))
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
        let wasm = Arc::new(crate::preinit::preinitialize(self.inner.guest.wasm())?);
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
