//! The thread management the library's pools share ([`Executor`](crate::Executor),
//! [`HostPool`](crate::HostPool) and the worker pool): threads started on demand up to a
//! maximum, parked while idle, exiting after a while idle (or never), counted. Each pool
//! brings its own queue ([`Jobs`]): what to run next, how to run it, what to do after.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A pool's queue of work, kept under the gang's lock.
pub(crate) trait Jobs: Send + 'static {
    /// One unit of work taken from the queue.
    type Job: Send;
    /// What running a job leaves for [`Jobs::done`].
    type Done;
    /// Takes the next job to run, if any.
    fn take(&mut self) -> Option<Self::Job>;
    /// Jobs queued and not yet taken.
    fn queued(&self) -> usize;
    /// Runs `job` on a gang thread, without the lock. Must not unwind.
    fn run(job: Self::Job) -> Self::Done;
    /// Books a finished job, under the lock.
    fn done(&mut self, done: Self::Done);
}

/// The state under the gang's lock: the pool's queue and the thread counts.
pub(crate) struct Crew<Q> {
    pub(crate) jobs: Q,
    pub(crate) max_threads: usize,
    pub(crate) threads: usize,
    pub(crate) idle: usize,
    pub(crate) peak_threads: usize,
}

/// Threads running the jobs of one queue.
pub(crate) struct Gang<Q: Jobs> {
    crew: Mutex<Crew<Q>>,
    ready: Condvar,
    name: &'static str,
    /// How long an idle thread waits for work before it exits; `None`: it never exits.
    idle_exit: Option<Duration>,
}

impl<Q: Jobs> Gang<Q> {
    /// A gang of at most `max_threads` threads (at least 1) named `name`, none started yet.
    pub(crate) fn new(
        jobs: Q,
        max_threads: usize,
        name: &'static str,
        idle_exit: Option<Duration>,
    ) -> Self {
        Gang {
            crew: Mutex::new(Crew {
                jobs,
                max_threads: max_threads.max(1),
                threads: 0,
                idle: 0,
                peak_threads: 0,
            }),
            ready: Condvar::new(),
            name,
            idle_exit,
        }
    }

    /// The lock (a panic elsewhere never poisons the pool for good).
    pub(crate) fn crew(&self) -> MutexGuard<'_, Crew<Q>> {
        self.crew.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a thread if the queued jobs plus `incoming` outnumber the idle threads and
    /// the maximum allows one more. Fails only when a thread was needed and could not be
    /// started (the pool stays as it was; `crew.threads` says whether any runs).
    pub(crate) fn grow(
        self: &Arc<Self>,
        crew: &mut Crew<Q>,
        incoming: usize,
    ) -> std::io::Result<()> {
        if crew.idle >= crew.jobs.queued() + incoming || crew.threads >= crew.max_threads {
            return Ok(());
        }
        let gang = self.clone();
        std::thread::Builder::new()
            .name(self.name.into())
            .spawn(move || gang.work())?;
        crew.threads += 1;
        crew.peak_threads = crew.peak_threads.max(crew.threads);
        Ok(())
    }

    /// Wakes one idle thread (after a job was queued).
    pub(crate) fn notify_one(&self) {
        self.ready.notify_one();
    }

    /// Sets the most threads (at least 1); surplus threads exit between jobs.
    pub(crate) fn set_max_threads(&self, n: usize) {
        self.crew().max_threads = n.max(1);
        self.ready.notify_all();
    }

    fn work(&self) {
        let mut crew = self.crew();
        loop {
            if crew.threads > crew.max_threads {
                break;
            }
            if let Some(job) = crew.jobs.take() {
                drop(crew);
                let done = Q::run(job);
                crew = self.crew();
                crew.jobs.done(done);
                continue;
            }
            crew.idle += 1;
            let timed_out = match self.idle_exit {
                Some(after) => {
                    let (next, wait) = self
                        .ready
                        .wait_timeout(crew, after)
                        .unwrap_or_else(|e| e.into_inner());
                    crew = next;
                    wait.timed_out()
                }
                None => {
                    crew = self.ready.wait(crew).unwrap_or_else(|e| e.into_inner());
                    false
                }
            };
            crew.idle -= 1;
            if timed_out && crew.jobs.queued() == 0 {
                break;
            }
        }
        crew.threads -= 1;
    }
}

/// Runs a boxed job, catching a panic so that it cannot take its thread down.
pub(crate) fn run_caught(job: Box<dyn FnOnce() + Send>) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
}
