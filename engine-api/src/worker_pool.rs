//! The process-wide worker pool that runs isolates' async and ignored work.
//!
//! Each isolate's queued work runs here one item at a time (see [`TaskQueue`]); an isolate
//! with a backlog gives its thread up after a short slice, so isolates share the pool
//! round-robin. Threads start on demand, up to [`worker_threads`]
//! (`ISOVM_WORKERS`, default max(4, CPUs)); a thread that cannot be started leaves the
//! pool smaller, never panics. A guest that spins holds its worker until its timeout,
//! its task's cancellation or its disposal: size the pool for the spinning guests you
//! allow at once, and give async calls timeouts.
//!
//! [`TaskQueue`]: crate::TaskQueue

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<State>,
    ready: Condvar,
    /// The most threads the pool runs.
    target: AtomicUsize,
    /// The most threads it ever ran at once.
    peak: AtomicUsize,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads started and not exited.
    alive: usize,
    /// Threads waiting for a job.
    idle: usize,
}

fn default_threads() -> usize {
    std::env::var("ISOVM_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .max(4)
        })
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State::default()),
        ready: Condvar::new(),
        target: AtomicUsize::new(default_threads()),
        peak: AtomicUsize::new(0),
    })
}

impl Pool {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn submit(&'static self, job: Job) {
        let mut st = self.state();
        st.jobs.push_back(job);
        if st.idle == 0 && st.alive < self.target.load(Ordering::Relaxed) {
            st.alive += 1;
            self.peak.fetch_max(st.alive, Ordering::Relaxed);
            let n = st.alive;
            let started = std::thread::Builder::new()
                .name(format!("isovm-worker-{n}"))
                .spawn(move || self.work());
            if started.is_err() {
                // Out of threads: the pool stays smaller. With none at all, nothing would
                // ever run the job, so run it here (as a blocking call would).
                st.alive -= 1;
                if st.alive == 0
                    && let Some(job) = st.jobs.pop_back()
                {
                    drop(st);
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    return;
                }
            }
        }
        drop(st);
        self.ready.notify_one();
    }

    fn work(&self) {
        loop {
            let job = {
                let mut st = self.state();
                loop {
                    if st.alive > self.target.load(Ordering::Relaxed) {
                        st.alive -= 1;
                        return;
                    }
                    if let Some(job) = st.jobs.pop_front() {
                        break job;
                    }
                    st.idle += 1;
                    st = self.ready.wait(st).unwrap_or_else(|e| e.into_inner());
                    st.idle -= 1;
                }
            };
            // A panicking job must not take the thread down.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }
}

/// Runs `job` on the worker pool.
pub(crate) fn submit(job: Job) {
    pool().submit(job);
}

/// The most threads the worker pool runs at once (`ISOVM_WORKERS`, default max(4, CPUs)).
///
/// ```
/// let n = engine_api::worker_threads();
/// assert!(n >= 1);
/// ```
pub fn worker_threads() -> usize {
    pool().target.load(Ordering::Relaxed)
}

/// Sets the most threads the worker pool runs at once (at least 1). Raising it takes
/// effect with the next queued work; lowering it lets surplus threads exit once they
/// finish what they run.
pub fn set_worker_threads(n: usize) {
    let p = pool();
    p.target.store(n.max(1), Ordering::Relaxed);
    p.ready.notify_all();
}

/// The most worker threads that ever ran at once in this process.
pub fn peak_worker_threads() -> usize {
    pool().peak.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;

    #[test]
    fn jobs_run_and_threads_stay_within_the_target() {
        let (tx, rx) = mpsc::channel();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let n = worker_threads();
        // More blocked jobs than threads: only `n` run at once, the rest wait their turn.
        for i in 0..n + 3 {
            let (tx, gate) = (tx.clone(), gate.clone());
            submit(Box::new(move || {
                let (open, cv) = &*gate;
                let mut g = open.lock().unwrap();
                while !*g {
                    g = cv.wait(g).unwrap();
                }
                let _ = tx.send(i);
            }));
        }
        {
            let (open, cv) = &*gate;
            *open.lock().unwrap() = true;
            cv.notify_all();
        }
        let mut got: Vec<usize> = (0..n + 3)
            .map(|_| {
                rx.recv_timeout(std::time::Duration::from_secs(120))
                    .unwrap()
            })
            .collect();
        got.sort_unstable();
        assert_eq!(got, (0..n + 3).collect::<Vec<_>>());
        assert!(peak_worker_threads() <= worker_threads());
    }
}
