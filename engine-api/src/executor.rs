//! A small executor for async host functions: a bounded set of threads polling many
//! futures.
//!
//! [`Callback::from_async`](crate::Callback::from_async) futures run here unless the
//! callback was given an executor of its own ([`Callback::with_spawner`](crate::Callback::with_spawner),
//! for example a tokio runtime's handle). A future that waits (on a timer, a channel, I/O
//! driven elsewhere) holds no thread while it waits, so thousands of pending host calls
//! cost memory, not threads, and do not delay anyone else's work.
//!
//! Futures should not block: a future that blocks holds one of the few threads. Work that
//! must block belongs in [`Callback::new_async`](crate::Callback::new_async), which runs
//! on the [`HostPool`](crate::HostPool).
//!
//! The process-wide executor has `ISOVM_EXECUTOR_THREADS` threads at most (default
//! `clamp(CPUs, 2, 4)`); [`Executor::set_max_threads`] changes it at run time. Threads start
//! on demand and exit after a while idle.
//!
//! ```
//! use engine_api::Executor;
//! let (tx, rx) = std::sync::mpsc::channel();
//! Executor::global().spawn(Box::pin(async move { tx.send(42).unwrap() }));
//! assert_eq!(rx.recv().unwrap(), 42);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::thread_gang::{Gang, Jobs};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

/// A future handed to an executor: boxed, `Send`, with nothing to return.
pub type SpawnedFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Something that runs futures: the library's [`Executor`] or yours (a tokio user passes
/// `move |f| { handle.spawn(f); }` with a `tokio::runtime::Handle`).
pub type Spawner = Arc<dyn Fn(SpawnedFuture) + Send + Sync>;

/// How long an idle thread waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// A bounded pool of threads that polls futures: where async host functions
/// ([`Callback::from_async`](crate::Callback::from_async)) run unless given a spawner of
/// their own. Cheap to clone (shared). Most code uses the process-wide
/// [`Executor::global`], of `ISOVM_EXECUTOR_THREADS` threads at most (default
/// `clamp(CPUs, 2, 4)`; [`Executor::set_max_threads`] changes it).
///
/// A future that waits holds no thread while it waits, so thousands of pending host
/// calls cost memory, not threads. Futures should not block: blocking work belongs in
/// [`Callback::new_async`](crate::Callback::new_async), on the [`HostPool`](crate::HostPool).
///
/// ```
/// use engine_api::Executor;
/// let ex = Executor::new(2);
/// let (tx, rx) = std::sync::mpsc::channel();
/// for i in 0..100 {
///     let tx = tx.clone();
///     ex.spawn(Box::pin(async move { tx.send(i).unwrap() }));
/// }
/// assert_eq!(rx.iter().take(100).count(), 100);
/// assert!(ex.peak_threads() <= 2);
/// ```
#[derive(Clone)]
pub struct Executor {
    shared: Arc<Shared>,
}

/// The executor's queue: tasks woken and waiting to be polled.
struct RunQueue {
    run: VecDeque<Arc<Task>>,
    /// Tasks spawned and not yet finished.
    live: usize,
}

impl Jobs for RunQueue {
    type Job = Arc<Task>;
    /// Whether the task's future finished.
    type Done = bool;
    fn take(&mut self) -> Option<Arc<Task>> {
        self.run.pop_front()
    }
    fn queued(&self) -> usize {
        self.run.len()
    }
    fn run(task: Arc<Task>) -> bool {
        task.poll()
    }
    fn done(&mut self, finished: bool) {
        if finished {
            self.live -= 1;
        }
    }
}

type Shared = Gang<RunQueue>;

struct Task {
    future: Mutex<Option<SpawnedFuture>>,
    /// Whether the task is in the run queue (so a burst of wakes queues it once).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

/// Queues a woken task, starting a thread if none is free for it. Without a thread the
/// task waits for the next spawn's attempt to start one.
fn schedule(shared: &Arc<Shared>, task: Arc<Task>) {
    let mut crew = shared.crew();
    crew.jobs.run.push_back(task);
    let _ = shared.grow(&mut crew, 0);
    drop(crew);
    shared.notify_one();
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            schedule(&self.shared, self.clone());
        }
    }
}

impl Task {
    /// Polls once; whether the future finished (or panicked, which ends it too).
    fn poll(self: &Arc<Self>) -> bool {
        // Cleared before polling: a wake during the poll queues the task again.
        self.queued.store(false, Ordering::Release);
        let mut slot = self.future.lock().unwrap_or_else(|e| e.into_inner());
        let Some(future) = slot.as_mut() else {
            return false;
        };
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            future.as_mut().poll(&mut cx).is_ready()
        }))
        .unwrap_or(true);
        if done {
            *slot = None;
        }
        done
    }
}

impl Executor {
    /// An executor of at most `max_threads` threads (at least 1).
    pub fn new(max_threads: usize) -> Self {
        let queue = RunQueue {
            run: VecDeque::new(),
            live: 0,
        };
        Executor {
            shared: Arc::new(Gang::new(
                queue,
                max_threads,
                "isovm-executor",
                Some(IDLE_EXIT),
            )),
        }
    }

    /// The process-wide executor, sized from `ISOVM_EXECUTOR_THREADS` on first use.
    pub fn global() -> &'static Executor {
        static GLOBAL: OnceLock<Executor> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let threads = std::env::var("ISOVM_EXECUTOR_THREADS")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|n: &usize| *n > 0)
                .unwrap_or_else(|| {
                    std::thread::available_parallelism()
                        .map_or(2, |n| n.get())
                        .clamp(2, 4)
                });
            Executor::new(threads)
        })
    }

    /// Runs `future` to completion on this executor's threads. A panic inside ends the
    /// future (the thread lives on).
    pub fn spawn(&self, future: SpawnedFuture) {
        self.shared.crew().jobs.live += 1;
        let task = Arc::new(Task {
            future: Mutex::new(Some(future)),
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        schedule(&self.shared, task);
    }

    /// This executor as a [`Spawner`].
    pub fn spawner(&self) -> Spawner {
        let this = self.clone();
        Arc::new(move |f| this.spawn(f))
    }

    /// The most threads this executor runs at once.
    pub fn max_threads(&self) -> usize {
        self.shared.crew().max_threads
    }

    /// Sets the most threads this executor runs at once (at least 1). Lowering it lets
    /// surplus threads exit once they are between polls.
    pub fn set_max_threads(&self, n: usize) {
        self.shared.set_max_threads(n);
    }

    /// Threads alive now.
    pub fn threads(&self) -> usize {
        self.shared.crew().threads
    }

    /// The most threads that were ever alive at once.
    pub fn peak_threads(&self) -> usize {
        self.shared.crew().peak_threads
    }

    /// Futures spawned and not yet finished (waiting or running).
    pub fn pending(&self) -> usize {
        self.shared.crew().jobs.live
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let crew = self.shared.crew();
        f.debug_struct("Executor")
            .field("max_threads", &crew.max_threads)
            .field("threads", &crew.threads)
            .field("pending", &crew.jobs.live)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::task::Poll;

    /// A one-shot value that a future awaits and a test completes.
    #[derive(Clone, Default)]
    struct Shot(Arc<Mutex<(Option<u32>, Option<Waker>)>>);

    impl Shot {
        fn complete(&self, v: u32) {
            let waker = {
                let mut g = self.0.lock().unwrap();
                g.0 = Some(v);
                g.1.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl Future for Shot {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            let mut g = self.0.lock().unwrap();
            match g.0 {
                Some(v) => Poll::Ready(v),
                None => {
                    g.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    #[test]
    fn a_thousand_waiting_futures_hold_two_threads() {
        let ex = Executor::new(2);
        let (tx, rx) = mpsc::channel();
        let shots: Vec<Shot> = (0..1000).map(|_| Shot::default()).collect();
        for shot in &shots {
            let (shot, tx) = (shot.clone(), tx.clone());
            ex.spawn(Box::pin(async move { tx.send(shot.await).unwrap() }));
        }
        // Meanwhile other work goes on.
        let (otx, orx) = mpsc::channel();
        ex.spawn(Box::pin(async move { otx.send("other").unwrap() }));
        assert_eq!(orx.recv_timeout(Duration::from_secs(60)).unwrap(), "other");
        assert!(ex.pending() >= 1000 - 1, "the shots still wait");
        for (i, shot) in shots.iter().enumerate() {
            shot.complete(i as u32);
        }
        let mut got: Vec<u32> = (0..1000)
            .map(|_| rx.recv_timeout(Duration::from_secs(60)).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
        assert!(ex.peak_threads() <= 2, "peak {}", ex.peak_threads());
        while ex.pending() > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_panicking_future_leaves_the_thread_alive() {
        let ex = Executor::new(1);
        ex.spawn(Box::pin(async { panic!("boom") }));
        let (tx, rx) = mpsc::channel();
        ex.spawn(Box::pin(async move { tx.send(1).unwrap() }));
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), 1);
        assert_eq!(ex.peak_threads(), 1);
    }
}
