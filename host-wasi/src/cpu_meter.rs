//! CPU time of an isolate's own guest code.
//!
//! Counted per stretch of guest code on its thread: from entering the guest to a host
//! call (whose callbacks, and other isolates they call, are not counted) or to the end of
//! the request. A stretch reads the thread's CPU clock (a system call, ~0.4 us) only from
//! its first epoch tick on; one shorter than a tick counts its wall time. Every tick adds
//! what ran so far, so `cpu_time` grows while a long call runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Measures guest stretches and adds them to the isolate's total.
pub(crate) struct CpuMeter {
    /// Nanoseconds, shared with the isolate (`cpu_time`).
    total: Arc<AtomicU64>,
    stretch: Option<Stretch>,
}

/// Guest code running since `start`; from `mark` on (instant, thread CPU time) measured by
/// the thread's CPU clock.
#[derive(Clone, Copy)]
struct Stretch {
    start: Instant,
    mark: Option<(Instant, Duration)>,
}

impl Stretch {
    /// Time the guest ran from `start` to `now` (CPU time `cpu` now, when known).
    fn ran(&self, now: Instant, cpu: Option<Duration>) -> Duration {
        match (self.mark, cpu) {
            (Some((at, at_cpu)), Some(cpu)) => {
                at.saturating_duration_since(self.start) + cpu.saturating_sub(at_cpu)
            }
            _ => now.saturating_duration_since(self.start),
        }
    }
}

impl CpuMeter {
    pub(crate) fn new(total: Arc<AtomicU64>) -> Self {
        CpuMeter {
            total,
            stretch: None,
        }
    }

    /// Guest code starts (or resumes after a host call) on this thread.
    pub(crate) fn resume(&mut self) {
        self.stretch = Some(Stretch {
            start: Instant::now(),
            mark: None,
        });
    }

    /// Guest code stops (a host call, or the end of the request): its stretch counts.
    pub(crate) fn pause(&mut self) {
        if let Some(s) = self.stretch.take() {
            let cpu = s.mark.and_then(|_| thread_cpu());
            self.add(s.ran(Instant::now(), cpu));
        }
    }

    /// An epoch tick in guest code: marks the stretch, or adds what ran since the mark.
    pub(crate) fn tick(&mut self) {
        let Some(s) = self.stretch else { return };
        let (now, Some(cpu)) = (Instant::now(), thread_cpu()) else {
            return;
        };
        if s.mark.is_some() {
            self.add(s.ran(now, Some(cpu)));
        }
        self.stretch = Some(Stretch {
            start: now,
            mark: Some((now, cpu)),
        });
    }

    fn add(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.total.fetch_add(ns, Ordering::Relaxed);
    }
}

/// CPU time of the calling thread (`None` where the platform cannot say).
#[cfg(unix)]
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes to it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// CPU time of the calling thread (`None` where the platform cannot say).
#[cfg(not(unix))]
fn thread_cpu() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(d: Duration) {
        let t = Instant::now();
        while t.elapsed() < d {
            std::hint::black_box(0);
        }
    }

    #[test]
    fn paused_time_is_not_counted() {
        let total = Arc::new(AtomicU64::new(0));
        let mut meter = CpuMeter::new(total.clone());
        meter.resume();
        meter.tick();
        spin(Duration::from_millis(20));
        meter.pause();
        // A host call: spinning and sleeping here is not the guest's.
        spin(Duration::from_millis(60));
        std::thread::sleep(Duration::from_millis(60));
        meter.resume();
        meter.pause();
        let counted = Duration::from_nanos(total.load(Ordering::Relaxed));
        assert!(counted < Duration::from_millis(60), "{counted:?}");
        assert!(counted > Duration::ZERO);
    }

    #[test]
    fn ticks_publish_while_running() {
        let total = Arc::new(AtomicU64::new(0));
        let mut meter = CpuMeter::new(total.clone());
        meter.resume();
        meter.tick();
        spin(Duration::from_millis(10));
        meter.tick();
        let during = total.load(Ordering::Relaxed);
        assert!(during > 0);
        spin(Duration::from_millis(5));
        meter.pause();
        assert!(total.load(Ordering::Relaxed) > during);
    }
}
