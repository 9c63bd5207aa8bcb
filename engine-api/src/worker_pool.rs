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
use std::sync::{Arc, OnceLock};

use crate::thread_gang::{Gang, Jobs, run_caught};

type Job = Box<dyn FnOnce() + Send>;

/// The pool's queue: first in, first out (each isolate queues one drain at a time).
#[derive(Default)]
struct Fifo(VecDeque<Job>);

impl Jobs for Fifo {
    type Job = Job;
    type Done = ();
    fn take(&mut self) -> Option<Job> {
        self.0.pop_front()
    }
    fn queued(&self) -> usize {
        self.0.len()
    }
    fn run(job: Job) {
        run_caught(job);
    }
    fn done(&mut self, (): ()) {}
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

fn pool() -> &'static Arc<Gang<Fifo>> {
    static POOL: OnceLock<Arc<Gang<Fifo>>> = OnceLock::new();
    // Worker threads never exit: a drain is queued on almost every async call.
    POOL.get_or_init(|| {
        Arc::new(Gang::new(
            Fifo::default(),
            default_threads(),
            "isovm-worker",
            None,
        ))
    })
}

/// Runs `job` on the worker pool.
pub(crate) fn submit(job: Job) {
    let pool = pool();
    let mut crew = pool.crew();
    crew.jobs.0.push_back(job);
    if pool.grow(&mut crew, 0).is_err() && crew.threads == 0 {
        // Out of threads with none at all: nothing would ever run the job, so run it
        // here (as a blocking call would).
        if let Some(job) = crew.jobs.0.pop_back() {
            drop(crew);
            run_caught(job);
            return;
        }
    }
    drop(crew);
    pool.notify_one();
}

/// The most threads the worker pool runs at once (`ISOVM_WORKERS`, default max(4, CPUs)).
///
/// ```
/// let n = engine_api::worker_threads();
/// assert!(n >= 1);
/// ```
pub fn worker_threads() -> usize {
    pool().crew().max_threads
}

/// Sets the most threads the worker pool runs at once (at least 1). Raising it takes
/// effect with the next queued work; lowering it lets surplus threads exit once they
/// finish what they run.
pub fn set_worker_threads(n: usize) {
    pool().set_max_threads(n);
}

/// The most worker threads that ever ran at once in this process.
pub fn peak_worker_threads() -> usize {
    pool().crew().peak_threads
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::{Condvar, Mutex};

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
