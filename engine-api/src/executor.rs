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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
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

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

struct State {
    /// Tasks woken and waiting to be polled.
    run: VecDeque<Arc<Task>>,
    /// Tasks spawned and not yet finished.
    live: usize,
    max_threads: usize,
    threads: usize,
    idle: usize,
    peak_threads: usize,
}

struct Task {
    future: Mutex<Option<SpawnedFuture>>,
    /// Whether the task is in the run queue (so a burst of wakes queues it once).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn schedule(self: &Arc<Self>, task: Arc<Task>) {
        let mut st = self.state();
        st.run.push_back(task);
        if st.idle < st.run.len() && st.threads < st.max_threads {
            let shared = self.clone();
            // Without a thread the task waits for the next spawn's attempt to start one.
            if std::thread::Builder::new()
                .name("isovm-executor".into())
                .spawn(move || work(&shared))
                .is_ok()
            {
                st.threads += 1;
                st.peak_threads = st.peak_threads.max(st.threads);
            }
        }
        drop(st);
        self.ready.notify_one();
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.schedule(self.clone());
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
        Executor {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    run: VecDeque::new(),
                    live: 0,
                    max_threads: max_threads.max(1),
                    threads: 0,
                    idle: 0,
                    peak_threads: 0,
                }),
                ready: Condvar::new(),
            }),
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
        self.shared.state().live += 1;
        let task = Arc::new(Task {
            future: Mutex::new(Some(future)),
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        self.shared.schedule(task);
    }

    /// This executor as a [`Spawner`].
    pub fn spawner(&self) -> Spawner {
        let this = self.clone();
        Arc::new(move |f| this.spawn(f))
    }

    /// The most threads this executor runs at once.
    pub fn max_threads(&self) -> usize {
        self.shared.state().max_threads
    }

    /// Sets the most threads this executor runs at once (at least 1). Lowering it lets
    /// surplus threads exit once they are between polls.
    pub fn set_max_threads(&self, n: usize) {
        self.shared.state().max_threads = n.max(1);
        self.shared.ready.notify_all();
    }

    /// Threads alive now.
    pub fn threads(&self) -> usize {
        self.shared.state().threads
    }

    /// The most threads that were ever alive at once.
    pub fn peak_threads(&self) -> usize {
        self.shared.state().peak_threads
    }

    /// Futures spawned and not yet finished (waiting or running).
    pub fn pending(&self) -> usize {
        self.shared.state().live
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state();
        f.debug_struct("Executor")
            .field("max_threads", &st.max_threads)
            .field("threads", &st.threads)
            .field("pending", &st.live)
            .finish_non_exhaustive()
    }
}

fn work(shared: &Shared) {
    let mut st = shared.state();
    loop {
        if st.threads > st.max_threads {
            break;
        }
        if let Some(task) = st.run.pop_front() {
            drop(st);
            let finished = task.poll();
            drop(task);
            st = shared.state();
            if finished {
                st.live -= 1;
            }
            continue;
        }
        st.idle += 1;
        let (next, timeout) = shared
            .ready
            .wait_timeout(st, IDLE_EXIT)
            .unwrap_or_else(|e| e.into_inner());
        st = next;
        st.idle -= 1;
        if timeout.timed_out() && st.run.is_empty() {
            break;
        }
    }
    st.threads -= 1;
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
