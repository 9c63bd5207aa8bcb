//! The epoch ticker of a runtime with its own engines: advances their epoch while guest
//! calls run (deadlines and `dispose` are checked on every tick) and sleeps when idle.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use engine_api::Result;
use wasmtime::Engine;

use crate::trap::backend_with;

/// Advances the epoch of a runtime's engines while guest calls run; sleeps when idle.
pub(crate) struct Ticker {
    engines: Vec<Engine>,
    pub(crate) active: AtomicUsize,
    pub(crate) stop: AtomicBool,
    /// Mirrors `sleeping`, so that starting a call only locks when the ticker sleeps.
    pub(crate) asleep: AtomicBool,
    sleeping: Mutex<bool>,
    wakeup: Condvar,
}

/// How long the ticker keeps ticking after the last call ended (avoids waking it per call).
const LINGER: Duration = Duration::from_millis(50);

impl Ticker {
    pub(crate) fn start(engines: Vec<Engine>, tick: Duration) -> Result<Arc<Ticker>> {
        let ticker = Arc::new(Ticker {
            engines,
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            asleep: AtomicBool::new(false),
            sleeping: Mutex::new(false),
            wakeup: Condvar::new(),
        });
        let t = ticker.clone();
        let tick = tick.max(Duration::from_micros(100));
        std::thread::Builder::new()
            .name("isovm-epoch".into())
            .spawn(move || t.run(tick))
            .map_err(|e| backend_with("spawning the epoch ticker", e))?;
        Ok(ticker)
    }

    pub(crate) fn wake(&self) {
        if !self.asleep.load(Ordering::SeqCst) {
            return;
        }
        let sleeping = self.sleeping.lock().unwrap_or_else(|e| e.into_inner());
        if *sleeping {
            self.wakeup.notify_all();
        }
    }

    fn run(&self, tick: Duration) {
        let mut idle = Duration::ZERO;
        while !self.stop.load(Ordering::SeqCst) {
            std::thread::sleep(tick);
            for e in &self.engines {
                e.increment_epoch();
            }
            if self.active.load(Ordering::SeqCst) > 0 {
                idle = Duration::ZERO;
                continue;
            }
            idle += tick;
            if idle < LINGER {
                continue;
            }
            let mut sleeping = self.sleeping.lock().unwrap_or_else(|e| e.into_inner());
            *sleeping = true;
            self.asleep.store(true, Ordering::SeqCst);
            while self.active.load(Ordering::SeqCst) == 0 && !self.stop.load(Ordering::SeqCst) {
                sleeping = self
                    .wakeup
                    .wait(sleeping)
                    .unwrap_or_else(|e| e.into_inner());
            }
            *sleeping = false;
            self.asleep.store(false, Ordering::SeqCst);
            idle = Duration::ZERO;
        }
    }
}
