//! Ordering of work per isolate, and the shared worker pool.
//!
//! Every isolate owns a [`TaskQueue`]. Blocking calls run on the caller's thread once it is
//! their turn; async and ignored work runs on the process-wide worker pool. Either way, work
//! runs one item at a time, in the order it was queued. A call made while the current
//! thread already holds the isolate's turn (a host callback calling back in) runs inline.
//!
//! A blocking call that would wait forever fails with [`Error::Deadlock`] instead: when
//! thread 1 holds isolate A and waits for B while thread 2 holds B and now asks for A
//! (two opposite cross-isolate calls, also through longer chains), the call that closes
//! the cycle is refused, so its thread unwinds and the other one goes on.
//!
//! # Waiting on a host callback
//!
//! The turn's holder may [lend](TaskQueue::lend) it to host code (a host callback the
//! guest called). A blocking call from another thread then waits for the callback to end,
//! but the callback may be waiting for that very thread (joining it), so the wait is
//! bounded ([`TaskQueue::run_by`]): by the waiting call's own deadline
//! ([`Error::Timeout`]), by the lending call's deadline ([`Error::ReentrancyRefused`]: it
//! is past it and still in its callback), and when neither call has one, by
//! [`UNBOUNDED_LEND_WAIT`] after the callback began ([`Error::ReentrancyRefused`]). A
//! call that must wait longer for a slow callback gives itself a timeout.
//! [`TaskQueue::close`] (the isolate is gone) ends every such wait with
//! [`Error::Disposed`].
//!
//! # Cancellation
//!
//! Every [`Task`] carries a [`CancelToken`]. [`Task::cancel`], or dropping a task that has
//! not finished, cancels it: a job that has not started is skipped (it never runs, the task
//! ends in [`Error::Cancelled`]); while a job runs, its token is
//! [current](CancelToken::current) on the worker thread, and each backend registers a hook
//! on it at the start of every guest call that stops that call (V8 terminates execution,
//! Boa-WASI traps at the next epoch tick), which then ends in [`Error::Cancelled`]. Only
//! the cancelled task's own calls are stopped, never the work queued after it. Blocking
//! calls have no token and cannot be cancelled (give them a timeout); `_ignored` work and
//! a [detached](Task::detach) task are not cancelled by drop.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::{CancelToken, Completer, Error, Result, Task};

/// How long a blocking call without a deadline waits for a host callback of a call
/// without a deadline either (see [`TaskQueue::run_by`]).
pub const UNBOUNDED_LEND_WAIT: Duration = Duration::from_secs(1);

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// Queues whose turn this thread holds, innermost last.
    static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The queue each thread blocked in [`TaskQueue::run`] waits for. Taken before any
/// queue's state, never while one is held.
static WAITING: Mutex<Option<HashMap<ThreadId, Arc<QueueInner>>>> = Mutex::new(None);

fn waiting() -> std::sync::MutexGuard<'static, Option<HashMap<ThreadId, Arc<QueueInner>>>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the current thread holds the turn of the queue with this key.
pub(crate) fn held_by_current_thread_key(key: usize) -> bool {
    HELD.with(|h| h.borrow().contains(&key))
}

fn me() -> ThreadId {
    std::thread::current().id()
}

/// Runs the work of one isolate in order. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct TaskQueue {
    inner: Arc<QueueInner>,
}

impl std::fmt::Debug for TaskQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskQueue").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct QueueInner {
    state: Mutex<QueueState>,
    granted: Condvar,
}

#[derive(Default)]
struct QueueState {
    entries: VecDeque<Entry>,
    /// Someone holds the turn (a blocking caller or a pool drain).
    busy: bool,
    next_ticket: u64,
    /// Ticket of the blocking caller the turn was handed to.
    granted: Option<u64>,
    /// The thread that holds the turn, if one does (for deadlock detection).
    holder: Option<ThreadId>,
    /// The deadlines of the holder's calls that lent the turn to a host callback
    /// (innermost last), while they do.
    lends: Vec<Option<Instant>>,
    /// When the outermost of those callbacks began.
    lent_since: Option<Instant>,
    /// The isolate is gone: blocking calls no longer wait for a turn.
    closed: bool,
    /// Blocking calls waiting in `await_grant` (lending wakes them only if there are any).
    waiters: usize,
}

enum Entry {
    /// A job for the pool, with the token of its task (current while it runs).
    Async(Job, Option<CancelToken>),
    Sync(u64, ThreadId),
}

impl QueueInner {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether `me` waiting for `target` would close a cycle of threads that each hold one
/// queue's turn and wait for another's.
fn closes_cycle(
    target: &Arc<QueueInner>,
    me: ThreadId,
    waiting: &HashMap<ThreadId, Arc<QueueInner>>,
) -> bool {
    let mut queue = target.clone();
    // Each step follows one blocked thread; more steps than blocked threads means the
    // chain loops without `me` in it (not this thread's deadlock).
    for _ in 0..=waiting.len() {
        let holder = queue.state().holder;
        match holder {
            Some(h) if h == me => return true,
            Some(h) => match waiting.get(&h) {
                Some(next) => queue = next.clone(),
                None => return false,
            },
            None => return false,
        }
    }
    false
}

/// When a call due by `own` stops waiting for a turn that is lent to a host callback, and
/// with what error; `None` while the turn is not lent (the call waits its turn).
fn wait_limit(st: &QueueState, own: Option<Instant>) -> Option<(Instant, Error)> {
    let lender = *st.lends.last()?;
    Some(match (own, lender) {
        (Some(own), Some(lender)) if lender < own => (lender, lender_late()),
        (Some(own), _) => (own, Error::timeout()),
        (None, Some(lender)) => (lender, lender_late()),
        (None, None) => {
            let since = st.lent_since.unwrap_or_else(Instant::now);
            let limit = since.checked_add(UNBOUNDED_LEND_WAIT).unwrap_or(since);
            (limit, lender_slow())
        }
    })
}

fn lender_late() -> Error {
    Error::ReentrancyRefused {
        reason: "called from another thread while the isolate's own call, past its deadline, \
                 waits in a host callback (call back in from the callback's thread)",
    }
}

fn lender_slow() -> Error {
    Error::ReentrancyRefused {
        reason: "called from another thread while the isolate's own call waits in a host \
                 callback, and neither call has a timeout to bound the wait (call back in \
                 from the callback's thread, or give the call a timeout to wait longer)",
    }
}

/// Releases the turn when a blocking call ends, even by panic.
struct Turn<'a> {
    queue: &'a TaskQueue,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        HELD.with(|h| h.borrow_mut().pop());
        self.queue.pass_turn();
    }
}

impl TaskQueue {
    /// A new, empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Whether the current thread holds this queue's turn.
    pub fn held_by_current_thread(&self) -> bool {
        held_by_current_thread_key(self.key())
    }

    /// Whether nothing runs in this queue's turn and nothing waits for it.
    pub fn is_idle(&self) -> bool {
        let st = self.inner.state();
        !st.busy && st.entries.is_empty()
    }

    /// Runs `f` on this thread once every earlier item has run.
    ///
    /// Fails with [`Error::Deadlock`] (without running `f`) when waiting for the turn
    /// would never end: the turn's holder waits, directly or through other threads, for
    /// a queue this thread holds. A call without a deadline: see [`TaskQueue::run_by`].
    pub fn run<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        self.run_by(None, f)
    }

    /// Like [`TaskQueue::run`], for a call due by `deadline`: while the turn's holder
    /// [lends](TaskQueue::lend) it to host code, waiting ends (without running `f`) at
    /// `deadline` with [`Error::Timeout`], at the lending call's deadline with
    /// [`Error::ReentrancyRefused`], or, when neither has one, [`UNBOUNDED_LEND_WAIT`]
    /// after the callback began, also with [`Error::ReentrancyRefused`]. A closed queue
    /// fails waiting calls with [`Error::Disposed`].
    pub fn run_by<R>(&self, deadline: Option<Instant>, f: impl FnOnce() -> Result<R>) -> Result<R> {
        if self.held_by_current_thread() {
            return f();
        }
        let me = me();
        let ticket = {
            let mut st = self.inner.state();
            if !st.busy && st.entries.is_empty() {
                st.busy = true;
                st.holder = Some(me);
                None
            } else {
                let ticket = st.next_ticket;
                st.next_ticket += 1;
                st.entries.push_back(Entry::Sync(ticket, me));
                Some(ticket)
            }
        };
        if let Some(ticket) = ticket {
            self.wait_for_turn(me, ticket, deadline)?;
        }
        HELD.with(|h| h.borrow_mut().push(self.key()));
        let _turn = Turn { queue: self };
        f()
    }

    /// Runs `f`, host code the holder of this queue's turn runs inside a call due by
    /// `deadline`, with the turn lent: calls from other threads wait for it only so long
    /// (see [`TaskQueue::run_by`]). On a thread that does not hold the turn it just runs `f`.
    pub fn lend<R>(&self, deadline: Option<Instant>, f: impl FnOnce() -> R) -> R {
        struct Lent<'a>(&'a QueueInner);
        impl Drop for Lent<'_> {
            fn drop(&mut self) {
                let mut st = self.0.state();
                st.lends.pop();
                if st.lends.is_empty() {
                    st.lent_since = None;
                }
                if st.waiters > 0 {
                    self.0.granted.notify_all();
                }
            }
        }
        if !self.held_by_current_thread() {
            return f();
        }
        {
            let mut st = self.inner.state();
            if st.lends.is_empty() {
                st.lent_since = Some(Instant::now());
            }
            st.lends.push(deadline);
            if st.waiters > 0 {
                // Waiters re-time their wait against this callback.
                self.inner.granted.notify_all();
            }
        }
        let _lent = Lent(&self.inner);
        f()
    }

    /// Ends every wait for this queue's turn, now and later, with [`Error::Disposed`]
    /// (its isolate is gone). Work that holds the turn, and queued async work, still run.
    pub fn close(&self) {
        let mut st = self.inner.state();
        st.closed = true;
        self.inner.granted.notify_all();
    }

    /// Blocks until `ticket` is granted, unless that would deadlock or the wait is
    /// refused (see [`TaskQueue::run_by`]).
    fn wait_for_turn(&self, me: ThreadId, ticket: u64, deadline: Option<Instant>) -> Result<()> {
        {
            let mut waiting = waiting();
            let map = waiting.get_or_insert_with(HashMap::new);
            if closes_cycle(&self.inner, me, map) {
                let mut st = self.inner.state();
                if st.granted == Some(ticket) {
                    // Granted meanwhile: the holder let go, there is no cycle any more.
                    st.granted = None;
                    return Ok(());
                }
                st.entries
                    .retain(|e| !matches!(e, Entry::Sync(t, _) if *t == ticket));
                return Err(Error::Deadlock);
            }
            map.insert(me, self.inner.clone());
        }
        let r = self.await_grant(ticket, deadline);
        if let Some(map) = waiting().as_mut() {
            map.remove(&me);
        }
        r
    }

    fn await_grant(&self, ticket: u64, own: Option<Instant>) -> Result<()> {
        let mut st = self.inner.state();
        st.waiters += 1;
        let r = loop {
            if st.granted == Some(ticket) {
                st.granted = None;
                break Ok(());
            }
            let now = Instant::now();
            let (limit, refusal) = match wait_limit(&st, own) {
                _ if st.closed => (now, Error::Disposed),
                Some(limit) => limit,
                None => {
                    st = self
                        .inner
                        .granted
                        .wait(st)
                        .unwrap_or_else(|e| e.into_inner());
                    continue;
                }
            };
            if now >= limit {
                st.entries
                    .retain(|e| !matches!(e, Entry::Sync(t, _) if *t == ticket));
                break Err(refusal);
            }
            st = self
                .inner
                .granted
                .wait_timeout(st, limit - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        st.waiters -= 1;
        r
    }

    /// Queues `f` to run on the worker pool; the task resolves to its result. Cancelling
    /// the task skips `f` if it has not started, and stops the guest call it runs if it has
    /// (see [`Task`]).
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Task<T> {
        let (task, completer) = Task::pending();
        self.spawn_with(completer, move |completer| completer.complete(f()));
        task
    }

    /// Queues `f` to run on the worker pool with the task of `completer` (from
    /// [`Task::pending`]), for work that completes its task itself, maybe later. If the
    /// task is cancelled before `f` starts, `f` never runs and the task ends in
    /// [`Error::Cancelled`]; while `f` runs, the task's token is
    /// [current](CancelToken::current).
    pub fn spawn_with<T: Send + 'static>(
        &self,
        completer: Completer<T>,
        f: impl FnOnce(Completer<T>) + Send + 'static,
    ) {
        let token = completer.token();
        completer.bind_queue(self.key());
        self.push(
            Box::new(move || {
                if completer.is_cancelled() {
                    completer.complete(Err(Error::Cancelled));
                } else {
                    f(completer);
                }
            }),
            token,
        );
    }

    /// Queues `f` to run on the worker pool, dropping its result. Nothing cancels it.
    pub fn spawn_ignored(&self, f: impl FnOnce() + Send + 'static) {
        self.push(Box::new(f), None);
    }

    fn push(&self, job: Job, token: Option<CancelToken>) {
        let start = {
            let mut st = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            st.entries.push_back(Entry::Async(job, token));
            if st.busy {
                false
            } else {
                st.busy = true;
                true
            }
        };
        if start {
            self.schedule_drain();
        }
    }

    fn schedule_drain(&self) {
        let queue = self.clone();
        crate::worker_pool::submit(Box::new(move || queue.drain()));
    }

    /// Runs queued async items on a pool thread until the queue is empty or a blocking
    /// caller is next; yields the thread to other isolates after a few items or a short
    /// slice of time, so that isolates with a backlog share the pool round-robin.
    fn drain(&self) {
        const BATCH: usize = 32;
        const SLICE: std::time::Duration = std::time::Duration::from_millis(2);
        let started = std::time::Instant::now();
        for _ in 0..BATCH {
            if started.elapsed() > SLICE {
                break;
            }
            let job = {
                let mut st = self.inner.state();
                match st.entries.pop_front() {
                    None => {
                        st.busy = false;
                        return;
                    }
                    Some(Entry::Sync(ticket, thread)) => {
                        st.granted = Some(ticket);
                        st.holder = Some(thread);
                        self.inner.granted.notify_all();
                        return;
                    }
                    Some(Entry::Async(job, token)) => {
                        st.holder = Some(me());
                        (job, token)
                    }
                }
            };
            let (job, token) = job;
            let _current = token.as_ref().map(CancelToken::enter);
            HELD.with(|h| h.borrow_mut().push(self.key()));
            // A panicking job must not take the pool thread or the queue down with it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            HELD.with(|h| h.borrow_mut().pop());
            // Clear now, not at the next pop: this pool thread may go on to block on
            // another queue, and a stale holder here would make a false cycle.
            self.inner.state().holder = None;
        }
        self.schedule_drain();
    }

    /// Hands the turn to the next item, or marks the queue idle.
    fn pass_turn(&self) {
        let mut st = self.inner.state();
        st.holder = None;
        match st.entries.front() {
            None => st.busy = false,
            Some(&Entry::Sync(ticket, thread)) => {
                st.entries.pop_front();
                st.granted = Some(ticket);
                st.holder = Some(thread);
                self.inner.granted.notify_all();
            }
            Some(Entry::Async(..)) => {
                drop(st);
                self.schedule_drain();
            }
        }
    }
}

/// Runs `f` on the shared worker pool, outside any isolate's queue.
pub fn spawn_detached(f: impl FnOnce() + Send + 'static) {
    crate::worker_pool::submit(Box::new(f));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn async_and_sync_work_run_in_queue_order() {
        let q = TaskQueue::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        for i in 0..50 {
            let log = log.clone();
            q.spawn_ignored(move || log.lock().unwrap().push(i));
        }
        q.run(|| {
            log.lock().unwrap().push(50);
            Ok(())
        })
        .unwrap();
        let log2 = log.clone();
        let t = q.spawn(move || {
            log2.lock().unwrap().push(51);
            Ok(())
        });
        t.wait().unwrap();
        assert_eq!(*log.lock().unwrap(), (0..52).collect::<Vec<_>>());
    }

    #[test]
    fn reentrant_run_is_inline() {
        let q = TaskQueue::new();
        let n = q.run(|| q.run(|| Ok(7))).unwrap();
        assert_eq!(n, 7);
        let q2 = q.clone();
        let t = q.spawn(move || q2.run(|| Ok(8)));
        assert_eq!(t.wait().unwrap(), 8);
    }

    #[test]
    fn panicking_job_fails_its_task_and_keeps_the_queue() {
        let q = TaskQueue::new();
        let t: Task<()> = q.spawn(|| panic!("boom"));
        assert!(t.wait().is_err());
        assert_eq!(q.run(|| Ok(1)).unwrap(), 1);
    }

    #[test]
    fn many_threads_serialize_on_one_queue() {
        let q = TaskQueue::new();
        let inside = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (q, inside, total) = (q.clone(), inside.clone(), total.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        q.run(|| {
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            total.fetch_add(1, Ordering::SeqCst);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .unwrap();
                        let (inside, total) = (inside.clone(), total.clone());
                        q.spawn_ignored(move || {
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            total.fetch_add(1, Ordering::SeqCst);
                            inside.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        q.run(|| Ok(())).unwrap();
        assert_eq!(total.load(Ordering::SeqCst), 8 * 400);
    }

    /// Each of `n` threads holds queue `i` and then asks for queue `i + 1` (a ring).
    fn ring(n: usize) -> Vec<Result<usize>> {
        let queues: Vec<_> = (0..n).map(|_| TaskQueue::new()).collect();
        let barrier = Arc::new(std::sync::Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let (mine, next) = (queues[i].clone(), queues[(i + 1) % n].clone());
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    mine.run(|| {
                        barrier.wait();
                        next.run(|| Ok(i))
                    })
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    }

    #[test]
    fn a_cycle_of_waits_is_refused_once_and_the_rest_go_on() {
        for n in [2, 3, 5] {
            for _ in 0..20 {
                let results = ring(n);
                let refused = results
                    .iter()
                    .filter(|r| matches!(r, Err(Error::Deadlock)))
                    .count();
                let through = results.iter().filter(|r| r.is_ok()).count();
                assert_eq!((refused, through), (1, n - 1), "{results:?}");
            }
        }
    }

    #[test]
    fn waiting_without_a_cycle_is_not_refused() {
        // Many threads chain through a few queues in one direction: long waits, no cycle.
        let queues: Vec<_> = (0..3).map(|_| TaskQueue::new()).collect();
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let queues = queues.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let (a, b) = (&queues[i % 2], &queues[2]);
                        a.run(|| b.run(|| Ok(())))?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
    }

    /// Holds `q`'s turn on a pool thread until the returned sender is dropped or sent to.
    fn hold(q: &TaskQueue) -> std::sync::mpsc::Sender<()> {
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        q.spawn_ignored(move || {
            entered_tx.send(()).unwrap();
            let _ = release_rx.recv();
        });
        entered_rx.recv().unwrap();
        release_tx
    }

    #[test]
    fn cancelled_or_dropped_queued_tasks_never_run() {
        let q = TaskQueue::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let release = hold(&q);
        let (r1, r2, r3) = (ran.clone(), ran.clone(), ran.clone());
        let cancelled = q.spawn(move || Ok(r1.fetch_add(1, Ordering::SeqCst)));
        let dropped = q.spawn(move || Ok(r2.fetch_add(10, Ordering::SeqCst)));
        let detached = q.spawn(move || Ok(r3.fetch_add(100, Ordering::SeqCst)));
        cancelled.cancel();
        drop(dropped);
        detached.detach();
        drop(release);
        assert!(matches!(cancelled.wait(), Err(Error::Cancelled)));
        q.run(|| Ok(())).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn a_running_job_sees_its_token_and_its_hook_fires_on_drop() {
        let q = TaskQueue::new();
        let (hooked_tx, hooked_rx) = std::sync::mpsc::channel();
        let (stopped_tx, stopped_rx) = std::sync::mpsc::channel();
        let task = q.spawn(move || {
            let token = CancelToken::current().expect("a task's job has a token");
            let (tx, rx) = std::sync::mpsc::channel();
            let _hook = token.on_cancel(move || tx.send(()).unwrap());
            hooked_tx.send(()).unwrap();
            rx.recv().unwrap();
            stopped_tx.send(()).unwrap();
            Err::<(), _>(Error::Cancelled)
        });
        hooked_rx.recv().unwrap();
        drop(task);
        stopped_rx.recv().unwrap();
        // Blocking calls and ignored work run without a token.
        assert!(q.run(|| Ok(CancelToken::current().is_none())).unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        q.spawn_ignored(move || tx.send(CancelToken::current().is_none()).unwrap());
        assert!(rx.recv().unwrap());
    }

    /// Holds `q`'s turn and lends it (due by `lender`) while another thread calls `q.run_by(own, ..)`,
    /// until that call ends; returns its result.
    fn call_in_while_lent(
        q: &TaskQueue,
        lender: Option<Instant>,
        own: Option<Instant>,
    ) -> Result<u32> {
        q.run(|| {
            q.lend(lender, || {
                let q2 = q.clone();
                std::thread::spawn(move || q2.run_by(own, || Ok(7)))
                    .join()
                    .map_err(|_| Error::Cancelled)
            })
        })
        .expect("the holder's call")
    }

    fn far() -> Option<Instant> {
        Instant::now().checked_add(Duration::from_secs(600))
    }

    fn soon() -> Option<Instant> {
        Instant::now().checked_add(Duration::from_millis(30))
    }

    #[test]
    fn waiting_on_a_lent_turn_ends_at_either_deadline() {
        let q = TaskQueue::new();
        let own = call_in_while_lent(&q, far(), soon());
        assert!(matches!(own, Err(Error::Timeout { .. })), "{own:?}");
        let lender = call_in_while_lent(&q, soon(), far());
        assert!(
            matches!(lender, Err(Error::ReentrancyRefused { .. })),
            "{lender:?}"
        );
        let lender = call_in_while_lent(&q, soon(), None);
        assert!(
            matches!(lender, Err(Error::ReentrancyRefused { .. })),
            "{lender:?}"
        );
        // Neither has a deadline: refused once the callback has lasted the grace.
        let neither = call_in_while_lent(&q, None, None);
        assert!(
            matches!(neither, Err(Error::ReentrancyRefused { .. })),
            "{neither:?}"
        );
        // The queue goes on, and nothing is left queued.
        assert_eq!(q.run(|| Ok(1)).unwrap(), 1);
        assert!(q.is_idle());
    }

    #[test]
    fn a_waiter_gets_the_turn_when_the_lend_ends_in_time() {
        let q = TaskQueue::new();
        let waiter = q.run(|| {
            q.lend(None, || {
                let q2 = q.clone();
                let t = std::thread::spawn(move || q2.run_by(far(), || Ok(8)));
                while q.inner.state().entries.is_empty() {
                    std::thread::yield_now();
                }
                Ok(t)
            })
        });
        assert_eq!(waiter.unwrap().join().unwrap().unwrap(), 8);
        assert!(q.is_idle());
    }

    #[test]
    fn closing_ends_waits_with_disposed() {
        let q = TaskQueue::new();
        let r = q.run(|| {
            q.lend(far(), || {
                let waiters: Vec<_> = (0..4)
                    .map(|_| {
                        let q2 = q.clone();
                        std::thread::spawn(move || q2.run_by(far(), || Ok(9)))
                    })
                    .collect();
                while q.inner.state().entries.len() < 4 {
                    std::thread::yield_now();
                }
                q.close();
                Ok(waiters
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .collect::<Vec<_>>())
            })
        });
        for w in r.unwrap() {
            assert!(matches!(w, Err(Error::Disposed)), "{w:?}");
        }
        // Async work still runs on a closed queue.
        assert_eq!(q.spawn(|| Ok(3)).wait().unwrap(), 3);
    }
}
