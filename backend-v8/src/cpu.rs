//! CPU time per isolate: what its own guest code took of a thread's CPU clock, without the
//! host callbacks it called (nor the other isolates those called into).
//!
//! Reading a thread's CPU clock is a system call (~0.27 us here), as much as a short call
//! costs. So a call reads the clock at its start only when the thread's last reading is
//! older than [`FRESH`], a call shorter than [`SHORT_CALL`] counts its wall time, and a
//! longer one reads the clock at its end. The error is at most `FRESH` per call; host
//! callbacks are timed by wall clock.

use std::cell::Cell;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64};
use std::time::{Duration, Instant};

/// A reading of this thread's CPU clock younger than this serves as a call's start.
const FRESH: Duration = Duration::from_micros(100);

/// Calls shorter than this count their wall time (minus host callbacks) as CPU time.
const SHORT_CALL: Duration = Duration::from_micros(100);

thread_local! {
    /// The last reading of this thread's CPU clock: (when, value).
    static READING: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
    /// Wall time the calls running on this thread spent in host callbacks.
    static HOST: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// Wall time of calls that re-entered their own isolate from a host callback (guest work
    /// again, given back to the callback's caller).
    static NESTED: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// This thread's CPU clock, readable from other threads.
    static CLOCK: libc::clockid_t = own_clock();
}

fn own_clock() -> libc::clockid_t {
    let mut clock: libc::clockid_t = libc::CLOCK_THREAD_CPUTIME_ID;
    // SAFETY: `clock` is a valid out-pointer; on failure it keeps the calling-thread id.
    unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    clock
}

fn read(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer for the duration of the call.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Reads this thread's CPU clock and remembers the reading.
fn read_now() -> (Instant, Duration) {
    let cpu = read(libc::CLOCK_THREAD_CPUTIME_ID);
    let r = (Instant::now(), cpu);
    READING.with(|c| c.set(Some(r)));
    r
}

/// The CPU time of one isolate: finished calls, plus the one running now.
///
/// The running call is published in atomics (no lock on the call path): its thread's
/// clock id, and its starting reading; `cpu_time` may see a call that just ended as still
/// running for an instant, which reads as a little more time, never less.
#[derive(Default)]
pub(crate) struct CpuMeter {
    done_ns: AtomicU64,
    wall_ns: AtomicU64,
    /// Whether a call runs now.
    running: AtomicBool,
    /// The running call's thread clock (a `clockid_t`).
    clock: AtomicI32,
    /// That clock's reading at the call's start, in nanoseconds.
    cpu0_ns: AtomicU64,
}

/// The timing of one outermost call of an isolate.
pub(crate) struct CallClock {
    start: Instant,
    cpu0: Duration,
    host0: Duration,
}

impl CallClock {
    /// When the call started.
    pub fn started(&self) -> Instant {
        self.start
    }
}

impl CpuMeter {
    /// Starts timing an outermost call on this thread.
    pub fn start(&self) -> CallClock {
        let start = Instant::now();
        let cpu0 = match READING.with(Cell::get) {
            Some((at, cpu)) if start.saturating_duration_since(at) < FRESH => cpu,
            _ => read_now().1,
        };
        self.clock.store(CLOCK.with(|c| *c), Relaxed);
        self.cpu0_ns.store(cpu0.as_nanos() as u64, Relaxed);
        self.running.store(true, Release);
        CallClock {
            start,
            cpu0,
            host0: HOST.with(Cell::get),
        }
    }

    /// Ends the call `clock` timed, adding its wall and own CPU time; returns its wall time.
    pub fn end(&self, clock: CallClock) -> Duration {
        let wall = clock.start.elapsed();
        // Host time of this call only; the caller (another isolate) sees it as its own
        // callback's wall time.
        let host = HOST
            .with(|h| h.replace(clock.host0))
            .saturating_sub(clock.host0);
        let own_wall = wall.saturating_sub(host);
        let cpu = if wall < SHORT_CALL {
            own_wall
        } else {
            let (_, now) = read_now();
            now.saturating_sub(clock.cpu0)
                .saturating_sub(host)
                .min(own_wall)
        };
        self.done_ns.fetch_add(cpu.as_nanos() as u64, Relaxed);
        self.running.store(false, Release);
        self.wall_ns.fetch_add(wall.as_nanos() as u64, Relaxed);
        wall
    }

    /// CPU time so far, the running call's included.
    pub fn cpu_time(&self) -> Duration {
        let running = if self.running.load(Acquire) {
            let cpu0 = Duration::from_nanos(self.cpu0_ns.load(Relaxed));
            read(self.clock.load(Relaxed)).saturating_sub(cpu0)
        } else {
            Duration::ZERO
        };
        Duration::from_nanos(self.done_ns.load(Relaxed)) + running
    }

    /// Wall time of finished calls.
    pub fn wall_time(&self) -> Duration {
        Duration::from_nanos(self.wall_ns.load(Relaxed))
    }
}

/// Runs a host callback of the call running on this thread, keeping its wall time out of
/// the isolate's CPU time (except for calls back into the isolate it makes).
pub(crate) fn host<R>(f: impl FnOnce() -> R) -> R {
    let nested0 = NESTED.with(Cell::get);
    let t0 = Instant::now();
    let r = f();
    let nested = NESTED.with(Cell::get).saturating_sub(nested0);
    let spent = t0.elapsed().saturating_sub(nested);
    HOST.with(|h| h.set(h.get() + spent));
    r
}

/// A call that re-entered its isolate on this thread took `wall`: guest work again.
pub(crate) fn nested(wall: Duration) {
    NESTED.with(|n| n.set(n.get() + wall));
}

/// Milliseconds since the backend's clock started (cheap: one monotonic clock read).
pub(crate) fn now_ms() -> u64 {
    ms_at(Instant::now())
}

/// `at` in milliseconds on the backend's clock (from 1: 0 reads as never).
pub(crate) fn ms_at(at: Instant) -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    at.saturating_duration_since(*EPOCH.get_or_init(Instant::now))
        .as_millis() as u64
        + 1
}
