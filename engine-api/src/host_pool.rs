//! A bounded, fair pool of threads for async host callbacks.
//!
//! Async host callbacks (a guest calls a host closure and gets a promise) run here, never
//! on the worker pool that drains isolate queues: an `_async` call waiting for a guest
//! promise holds a queue worker until an async host callback settles that promise, so if
//! the callbacks needed queue workers too, a few such waits would take every worker and
//! wait forever.
//!
//! The guest must not decide how many threads the host runs, nor let one isolate's flood
//! of slow callbacks stall its neighbours. So the pool has a bounded number of threads,
//! keeps one queue of jobs per isolate and serves those queues round-robin (a job of
//! isolate B waits behind at most about one job per busy thread, however many isolate A
//! has queued), and bounds how many jobs one isolate may have pending: past that bound a
//! new job is handed back with [`Error::HostQueueFull`], for the caller to reject the
//! guest's promise with.
//!
//! The process-wide pool has `ISOVM_HOST_THREADS` threads at most (default
//! `max(4, 2 x CPUs)`) and allows `ISOVM_HOST_QUEUE_LIMIT` pending jobs per isolate
//! (default 10,000); [`set_host_threads`] and [`set_host_queue_limit`] change them at run
//! time. Threads start on demand and exit after a while idle.
//!
//! ```
//! use engine_api::{HostPool, IsolateId};
//! let (tx, rx) = std::sync::mpsc::channel();
//! HostPool::global()
//!     .submit(IsolateId::next(), move || tx.send(42).unwrap())
//!     .map_err(|refused| refused.error)
//!     .unwrap();
//! assert_eq!(rx.recv().unwrap(), 42);
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::thread_gang::{Gang, Jobs, run_caught};
use crate::{Error, IsolateId};

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle thread waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// Default bound on pending jobs per isolate.
const DEFAULT_QUEUE_LIMIT: usize = 10_000;

/// A pool of threads for async host callbacks, fair between isolates. Cheap to clone
/// (shared). Most code uses the process-wide [`HostPool::global`].
#[derive(Clone)]
pub struct HostPool {
    shared: Arc<Shared>,
}

/// A job the pool did not take, handed back with the reason (for a host callback,
/// deliver `error` to the guest as the rejection of its promise).
pub struct Refused<F> {
    /// Why: [`Error::HostQueueFull`], or [`Error::Backend`] if no thread could be started.
    pub error: Error,
    /// The job, not run.
    pub job: F,
}

impl<F> fmt::Debug for Refused<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refused")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// One pending job of an isolate counted on a [`HostPool`] while it runs elsewhere (see
/// [`HostPool::reserve`]); dropping it ends the count.
pub struct PendingSlot {
    shared: Arc<Shared>,
    key: IsolateId,
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        self.shared.crew().jobs.finished(self.key);
    }
}

impl fmt::Debug for PendingSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSlot")
            .field("isolate", &self.key)
            .finish_non_exhaustive()
    }
}

/// The pool's queues, fair between isolates.
struct State {
    /// Queued (not yet started) jobs per isolate; a key is here only while it has some.
    queues: HashMap<IsolateId, VecDeque<Job>>,
    /// Keys with queued jobs, in the order they are served next (each key once).
    ring: VecDeque<IsolateId>,
    /// Queued plus running jobs per isolate.
    pending: HashMap<IsolateId, usize>,
    /// Queued jobs of all isolates.
    queued: usize,
    queue_limit: usize,
}

type Shared = Gang<State>;

impl Jobs for State {
    type Job = (IsolateId, Job);
    /// The isolate whose job finished.
    type Done = IsolateId;
    fn take(&mut self) -> Option<(IsolateId, Job)> {
        self.next_job()
    }
    fn queued(&self) -> usize {
        self.queued
    }
    fn run((key, job): (IsolateId, Job)) -> IsolateId {
        run_caught(job);
        key
    }
    fn done(&mut self, key: IsolateId) {
        self.finished(key);
    }
}

impl State {
    /// The next job, round-robin between keys.
    fn next_job(&mut self) -> Option<(IsolateId, Job)> {
        let key = self.ring.pop_front()?;
        let queue = self.queues.get_mut(&key)?;
        let job = queue.pop_front()?;
        self.queued -= 1;
        if queue.is_empty() {
            self.queues.remove(&key);
        } else {
            self.ring.push_back(key);
        }
        Some((key, job))
    }

    fn finished(&mut self, key: IsolateId) {
        if let Some(n) = self.pending.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.pending.remove(&key);
            }
        }
    }
}

impl HostPool {
    /// A pool of at most `max_threads` threads (at least 1) allowing `queue_limit` pending
    /// jobs per isolate (at least 1).
    pub fn new(max_threads: usize, queue_limit: usize) -> Self {
        let queues = State {
            queues: HashMap::new(),
            ring: VecDeque::new(),
            pending: HashMap::new(),
            queued: 0,
            queue_limit: queue_limit.max(1),
        };
        HostPool {
            shared: Arc::new(Gang::new(
                queues,
                max_threads,
                "isovm-host-call",
                Some(IDLE_EXIT),
            )),
        }
    }

    /// The process-wide pool, sized from `ISOVM_HOST_THREADS` and `ISOVM_HOST_QUEUE_LIMIT`
    /// on first use.
    pub fn global() -> &'static HostPool {
        static GLOBAL: OnceLock<HostPool> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let threads = env_count("ISOVM_HOST_THREADS").unwrap_or_else(default_threads);
            let limit = env_count("ISOVM_HOST_QUEUE_LIMIT").unwrap_or(DEFAULT_QUEUE_LIMIT);
            HostPool::new(threads, limit)
        })
    }

    /// Queues `job` for isolate `key`. It runs on a pool thread, after the jobs `key`
    /// queued before it, taking turns with other isolates' jobs. A panic in `job` is
    /// caught (the thread lives on).
    ///
    /// Fails without queuing, handing the job back, when `key` already has the pool's
    /// queue limit of jobs pending ([`Error::HostQueueFull`]) or no thread can be started.
    pub fn submit<F: FnOnce() + Send + 'static>(
        &self,
        key: IsolateId,
        job: F,
    ) -> Result<(), Refused<F>> {
        let mut crew = self.shared.crew();
        let st = &crew.jobs;
        let pending = st.pending.get(&key).copied().unwrap_or(0);
        if pending >= st.queue_limit {
            let limit = st.queue_limit;
            return Err(Refused {
                error: Error::HostQueueFull { limit },
                job,
            });
        }
        // Start a thread unless an idle one is free for this job (idle threads already
        // woken for queued jobs are still counted idle until they take them).
        if let Err(e) = self.shared.grow(&mut crew, 1)
            && crew.threads == 0
        {
            return Err(Refused {
                error: Error::backend_with("engine-api", "cannot start a host callback thread", e),
                job,
            });
        }
        let st = &mut crew.jobs;
        *st.pending.entry(key).or_insert(0) += 1;
        let queue = st.queues.entry(key).or_default();
        if queue.is_empty() {
            st.ring.push_back(key);
        }
        queue.push_back(Box::new(job));
        st.queued += 1;
        drop(crew);
        self.shared.notify_one();
        Ok(())
    }

    /// Counts one pending job for `key` that runs elsewhere (an async host function's
    /// future on an executor), under the same per-isolate limit as [`HostPool::submit`];
    /// the count drops when the returned slot does. Fails with [`Error::HostQueueFull`]
    /// when `key` has the queue limit of jobs pending already.
    pub fn reserve(&self, key: IsolateId) -> Result<PendingSlot, Error> {
        let mut crew = self.shared.crew();
        let st = &mut crew.jobs;
        let limit = st.queue_limit;
        let pending = st.pending.entry(key).or_insert(0);
        if *pending >= limit {
            return Err(Error::HostQueueFull { limit });
        }
        *pending += 1;
        Ok(PendingSlot {
            shared: self.shared.clone(),
            key,
        })
    }

    /// The most threads this pool runs at once.
    pub fn max_threads(&self) -> usize {
        self.shared.crew().max_threads
    }

    /// Sets the most threads this pool runs at once (at least 1). Lowering it lets
    /// surplus threads exit as they finish their current job.
    pub fn set_max_threads(&self, n: usize) {
        self.shared.set_max_threads(n);
    }

    /// How many jobs one isolate may have pending (queued or running).
    pub fn queue_limit(&self) -> usize {
        self.shared.crew().jobs.queue_limit
    }

    /// Sets how many jobs one isolate may have pending (at least 1); jobs already queued
    /// stay queued.
    pub fn set_queue_limit(&self, n: usize) {
        self.shared.crew().jobs.queue_limit = n.max(1);
    }

    /// Threads alive now.
    pub fn threads(&self) -> usize {
        self.shared.crew().threads
    }

    /// The most threads that were ever alive at once.
    pub fn peak_threads(&self) -> usize {
        self.shared.crew().peak_threads
    }

    /// Jobs of `key` queued or running.
    pub fn pending(&self, key: IsolateId) -> usize {
        self.shared
            .crew()
            .jobs
            .pending
            .get(&key)
            .copied()
            .unwrap_or(0)
    }
}

impl fmt::Debug for HostPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let crew = self.shared.crew();
        f.debug_struct("HostPool")
            .field("max_threads", &crew.max_threads)
            .field("queue_limit", &crew.jobs.queue_limit)
            .field("threads", &crew.threads)
            .finish_non_exhaustive()
    }
}

fn env_count(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
}

fn default_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (2 * cpus).max(4)
}

/// Queues `job` for isolate `key` on the process-wide [`HostPool`]; see
/// [`HostPool::submit`].
pub fn spawn_host_call<F: FnOnce() + Send + 'static>(
    key: IsolateId,
    job: F,
) -> Result<(), Refused<F>> {
    HostPool::global().submit(key, job)
}

/// The most threads the process-wide host callback pool runs at once (`ISOVM_HOST_THREADS`,
/// default `max(4, 2 x CPUs)`).
pub fn host_threads() -> usize {
    HostPool::global().max_threads()
}

/// Sets the most threads the process-wide host callback pool runs at once (at least 1).
pub fn set_host_threads(n: usize) {
    HostPool::global().set_max_threads(n);
}

/// How many async host calls one isolate may have pending on the process-wide pool
/// (`ISOVM_HOST_QUEUE_LIMIT`, default 10,000).
pub fn host_queue_limit() -> usize {
    HostPool::global().queue_limit()
}

/// Sets how many async host calls one isolate may have pending (at least 1).
pub fn set_host_queue_limit(n: usize) {
    HostPool::global().set_queue_limit(n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, mpsc};

    /// Blocks jobs until opened.
    #[derive(Clone, Default)]
    struct Gate(Arc<(Mutex<bool>, Condvar)>);

    impl Gate {
        fn wait(&self) {
            let (open, cond) = &*self.0;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cond.wait(open).unwrap();
            }
        }
        fn open(&self) {
            *self.0.0.lock().unwrap() = true;
            self.0.1.notify_all();
        }
    }

    #[test]
    fn thread_count_stays_bounded_under_ten_thousand_jobs() {
        let pool = HostPool::new(3, 100_000);
        let ran = Arc::new(AtomicUsize::new(0));
        let ids = Arc::new(Mutex::new(HashSet::new()));
        let keys: Vec<_> = (0..10).map(|_| IsolateId::next()).collect();
        let (tx, rx) = mpsc::channel();
        for i in 0..10_000 {
            let (ran, ids, tx) = (ran.clone(), ids.clone(), tx.clone());
            let job = move || {
                ids.lock().unwrap().insert(std::thread::current().id());
                if ran.fetch_add(1, Ordering::SeqCst) + 1 == 10_000 {
                    tx.send(()).unwrap();
                }
            };
            assert!(pool.submit(keys[i % keys.len()], job).is_ok());
            assert!(pool.threads() <= 3);
        }
        rx.recv_timeout(Duration::from_secs(120)).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 10_000);
        assert!(pool.peak_threads() <= 3, "peak {}", pool.peak_threads());
        assert!(ids.lock().unwrap().len() <= 3);
    }

    #[test]
    fn a_flood_of_one_key_delays_another_by_a_few_jobs() {
        const THREADS: usize = 4;
        let pool = HostPool::new(THREADS, 100_000);
        let (a, b) = (IsolateId::next(), IsolateId::next());
        let started = Arc::new(AtomicUsize::new(0));
        for _ in 0..5_000 {
            let started = started.clone();
            pool.submit(a, move || {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(500));
            })
            .unwrap();
        }
        // Let A's flood get going, so B arrives behind thousands of queued A jobs.
        while started.load(Ordering::SeqCst) < 2 * THREADS {
            std::thread::sleep(Duration::from_millis(1));
        }
        let before = started.load(Ordering::SeqCst);
        let (tx, rx) = mpsc::channel();
        let seen = started.clone();
        pool.submit(b, move || tx.send(seen.load(Ordering::SeqCst)).unwrap())
            .unwrap();
        let at_start = rx.recv_timeout(Duration::from_secs(120)).unwrap();
        let a_jobs_before_b = at_start - before;
        // Picked before B was queued but not yet counted (one per thread), one picked
        // after, and those started while B's job was starting (one per other thread).
        assert!(
            a_jobs_before_b <= 2 * THREADS,
            "{a_jobs_before_b} of A's jobs started before B's"
        );
        assert!(pool.pending(a) > 4_000, "A's flood is still queued");
    }

    #[test]
    fn an_isolate_past_its_limit_gets_its_job_back_and_others_go_on() {
        let pool = HostPool::new(2, 10);
        let (a, b) = (IsolateId::next(), IsolateId::next());
        let gate = Gate::default();
        for _ in 0..10 {
            let gate = gate.clone();
            pool.submit(a, move || gate.wait()).unwrap();
        }
        let returned = Arc::new(AtomicUsize::new(0));
        let mark = returned.clone();
        let refused = pool
            .submit(a, move || _ = mark.fetch_add(1, Ordering::SeqCst))
            .unwrap_err();
        assert_eq!(refused.error, Error::HostQueueFull { limit: 10 });
        assert_eq!(pool.pending(a), 10, "the refused job was not queued");
        (refused.job)();
        assert_eq!(
            returned.load(Ordering::SeqCst),
            1,
            "the caller got the job back"
        );
        let (tx, rx) = mpsc::channel();
        let tx_b = tx.clone();
        pool.submit(b, move || tx_b.send("b").unwrap()).unwrap();
        gate.open();
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), "b");
        // Once A's jobs are done, A may queue again.
        while pool.pending(a) > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        pool.submit(a, move || tx.send("a").unwrap()).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), "a");
    }

    #[test]
    fn panicking_jobs_do_not_kill_workers() {
        let pool = HostPool::new(1, 1_000);
        let key = IsolateId::next();
        let ids = Arc::new(Mutex::new(HashSet::new()));
        for _ in 0..20 {
            pool.submit(key, || panic!("host callback panicked"))
                .unwrap();
        }
        let (tx, rx) = mpsc::channel();
        for _ in 0..20 {
            let (tx, ids) = (tx.clone(), ids.clone());
            pool.submit(key, move || {
                ids.lock().unwrap().insert(std::thread::current().id());
                tx.send(()).unwrap();
            })
            .unwrap();
        }
        for _ in 0..20 {
            rx.recv_timeout(Duration::from_secs(60)).unwrap();
        }
        assert_eq!(ids.lock().unwrap().len(), 1, "one thread ran every job");
        assert_eq!(pool.threads(), 1);
        assert_eq!(pool.peak_threads(), 1);
        // The last job counts as pending until its thread is back from it.
        for _ in 0..60_000 {
            if pool.pending(key) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(pool.pending(key), 0);
    }

    #[test]
    fn reserved_slots_count_against_the_limit_until_dropped() {
        let pool = HostPool::new(1, 2);
        let key = IsolateId::next();
        let a = pool.reserve(key).unwrap();
        let _b = pool.reserve(key).unwrap();
        assert_eq!(pool.pending(key), 2);
        assert_eq!(
            pool.reserve(key).unwrap_err(),
            Error::HostQueueFull { limit: 2 }
        );
        assert!(pool.submit(key, || ()).is_err());
        drop(a);
        assert_eq!(pool.pending(key), 1);
        assert!(pool.reserve(IsolateId::next()).is_ok());
        assert_eq!(pool.threads(), 0, "a reservation starts no thread");
    }

    #[test]
    fn jobs_of_one_key_run_in_order() {
        let pool = HostPool::new(1, 1_000);
        let key = IsolateId::next();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        for i in 0..100 {
            let (log, tx) = (log.clone(), tx.clone());
            pool.submit(key, move || {
                log.lock().unwrap().push(i);
                if i == 99 {
                    tx.send(()).unwrap();
                }
            })
            .unwrap();
        }
        rx.recv_timeout(Duration::from_secs(60)).unwrap();
        assert_eq!(*log.lock().unwrap(), (0..100).collect::<Vec<_>>());
    }
}
