//! Threads for async host callbacks.
//!
//! An `_async` call waiting for a guest promise holds a worker of the shared pool until an
//! async host callback settles it. If those callbacks also needed a pool worker, a few
//! such waits at once would take every worker and wait forever. So async callbacks run
//! here instead: on an idle thread of this small cache, or on a new one when none is idle
//! (threads idle for a while exit).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle thread waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// The threads waiting for work: (thread number, its job channel).
static IDLE: Mutex<Vec<(u64, Sender<Job>)>> = Mutex::new(Vec::new());

fn idle() -> std::sync::MutexGuard<'static, Vec<(u64, Sender<Job>)>> {
    IDLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `job` on a thread of its own (never queued behind other work).
pub(crate) fn spawn(job: impl FnOnce() + Send + 'static) {
    let mut job: Job = Box::new(job);
    loop {
        let Some((_, tx)) = idle().pop() else { break };
        match tx.send(job) {
            Ok(()) => return,
            // That thread exited: try the next one.
            Err(e) => job = e.0,
        }
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    // If no thread can be started, the job still runs, on the shared pool.
    let slot = Arc::new(Mutex::new(Some(job)));
    let theirs = slot.clone();
    let started = std::thread::Builder::new()
        .name("isovm-host-call".into())
        .spawn(move || {
            let job = theirs.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(job) = job {
                work(id, job);
            }
        });
    if started.is_err()
        && let Some(job) = slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    {
        engine_api::spawn_detached(job);
    }
}

fn work(id: u64, first: Job) {
    let (tx, rx): (Sender<Job>, Receiver<Job>) = channel();
    run(first);
    loop {
        idle().push((id, tx.clone()));
        match rx.recv_timeout(IDLE_EXIT) {
            Ok(job) => run(job),
            Err(RecvTimeoutError::Timeout) => {
                let mut idle = idle();
                let before = idle.len();
                idle.retain(|(other, _)| *other != id);
                if idle.len() < before {
                    return;
                }
                // Someone took our sender just now: a job is on its way.
                drop(idle);
                match rx.recv() {
                    Ok(job) => run(job),
                    Err(_) => return,
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn run(job: Job) {
    // A panicking job must not take the thread down with it.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
}
