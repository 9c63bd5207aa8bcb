//! The result of queued work, and what completes it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};

use crate::{CancelToken, Error, Result};

struct TaskSlot<T> {
    result: Option<Result<T>>,
    done: bool,
    waker: Option<Waker>,
}

struct TaskShared<T> {
    slot: Mutex<TaskSlot<T>>,
    cond: Condvar,
    token: CancelToken,
    /// The queue whose turn the work needs (see [`crate::TaskQueue::spawn_with`]).
    queue: OnceLock<usize>,
}

/// The result of queued work: a future (for any executor) that can also be waited on.
///
/// Dropping a task that has not finished cancels its work, as [`cancel`](Task::cancel)
/// does: work that has not started never runs, and a guest call that runs is stopped and
/// ends in [`Error::Cancelled`] (the isolate stays usable, as after a timeout; on
/// Boa-WASI a guest stuck in a native loop is disposed instead). To let work run on without
/// waiting for it, [`detach`](Task::detach) the task or use the `_ignored` form of the call.
#[must_use = "dropping a Task cancels its work; use detach() or the _ignored form to let it run"]
pub struct Task<T> {
    shared: Arc<TaskShared<T>>,
    /// Whether dropping the task unfinished cancels it (`false` once detached).
    cancel_on_drop: bool,
}

/// Completes a [`Task`]. Dropping it uncompleted fails the task.
pub struct Completer<T> {
    shared: Option<Arc<TaskShared<T>>>,
}

impl<T> Task<T> {
    /// A task and the handle that completes it.
    pub fn pending() -> (Task<T>, Completer<T>) {
        let shared = Arc::new(TaskShared {
            slot: Mutex::new(TaskSlot {
                result: None,
                done: false,
                waker: None,
            }),
            cond: Condvar::new(),
            token: CancelToken::new(),
            queue: OnceLock::new(),
        });
        (
            Task {
                shared: shared.clone(),
                cancel_on_drop: true,
            },
            Completer {
                shared: Some(shared),
            },
        )
    }

    /// A task that is already complete.
    pub fn ready(result: Result<T>) -> Task<T> {
        let (task, completer) = Task::pending();
        completer.complete(result);
        task
    }

    /// Blocks this thread until the task completes.
    ///
    /// Fails at once with [`Error::Deadlock`] (and cancels the work) when this thread holds
    /// the turn of the queue the work needs, so that it could never run: a host callback
    /// waiting for an async call into its own isolate, for example.
    pub fn wait(self) -> Result<T> {
        let mut slot = self.shared.slot.lock().unwrap_or_else(|e| e.into_inner());
        if !slot.done && self.shared.blocked_here() {
            return Err(Error::Deadlock);
        }
        while !slot.done {
            slot = self
                .shared
                .cond
                .wait(slot)
                .unwrap_or_else(|e| e.into_inner());
        }
        self.shared.take(&mut slot)
    }

    /// Cancels the work: if it has not started it never runs, if a guest call of it runs
    /// that call is stopped, and a promise it waits for is no longer waited for. Unless it
    /// had finished already, the task ends in [`Error::Cancelled`] at once; the isolate's
    /// next queued call runs once the stopped call has ended.
    pub fn cancel(&self) {
        self.shared.token.cancel();
        // Ends the task now, also when its work waits for a promise (nothing stops that
        // wait from the guest's side); a result the work completes with later is dropped.
        Completer::finish(&self.shared, Some(Err(Error::Cancelled)));
    }

    /// Whether [`cancel`](Task::cancel) was called (or the task dropped unfinished).
    pub fn is_cancelled(&self) -> bool {
        self.shared.token.is_cancelled()
    }

    /// Lets the work run to its end without anyone waiting for it: unlike dropping the
    /// task, this does not cancel it.
    pub fn detach(mut self) {
        self.cancel_on_drop = false;
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if !self.cancel_on_drop {
            return;
        }
        let done = self
            .shared
            .slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .done;
        if !done {
            self.shared.token.cancel();
        }
    }
}

impl<T> TaskShared<T> {
    /// The result of a completed task (a completer dropped unused after a cancel counts
    /// as cancelled).
    fn take(&self, slot: &mut TaskSlot<T>) -> Result<T> {
        match slot.result.take() {
            Some(r) => r,
            None if self.token.is_cancelled() => Err(Error::Cancelled),
            None => lost(),
        }
    }
}

fn lost<T>() -> Result<T> {
    Err(Error::backend(
        "engine-api",
        "queued work ended without a result",
    ))
}

impl<T> TaskShared<T> {
    /// Whether the current thread holds the turn this task's work needs.
    fn blocked_here(&self) -> bool {
        self.queue
            .get()
            .is_some_and(|key| crate::queue::held_by_current_thread_key(*key))
    }
}

impl<T> Completer<T> {
    /// Ties the task to the queue (by key) whose turn its work needs.
    pub(crate) fn bind_queue(&self, key: usize) {
        if let Some(s) = &self.shared {
            let _ = s.queue.set(key);
        }
    }

    /// Whether the task was cancelled: work not started yet should not start.
    pub fn is_cancelled(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.token.is_cancelled())
    }

    /// The task's cancellation token (`None` once completed).
    pub fn token(&self) -> Option<CancelToken> {
        self.shared.as_ref().map(|s| s.token.clone())
    }

    /// Completes the task with `result`.
    pub fn complete(mut self, result: Result<T>) {
        if let Some(shared) = self.shared.take() {
            Self::finish(&shared, Some(result));
        }
    }

    fn finish(shared: &TaskShared<T>, result: Option<Result<T>>) {
        let waker = {
            let mut slot = shared.slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.done {
                // Cancelled first: the task already ended in Error::Cancelled.
                return;
            }
            slot.result = result;
            slot.done = true;
            slot.waker.take()
        };
        shared.cond.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            Self::finish(&shared, None);
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<T>> {
        let mut slot = self.shared.slot.lock().unwrap_or_else(|e| e.into_inner());
        if slot.done {
            Poll::Ready(self.shared.take(&mut slot))
        } else if self.shared.blocked_here() {
            // Polled inside the turn the work needs (a `block_on` in a host callback): it
            // cannot finish before this poll's caller returns.
            Poll::Ready(Err(Error::Deadlock))
        } else {
            slot.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl<T> std::fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskQueue;

    #[test]
    fn cancel_ends_a_task_whose_work_waits_and_drops_its_late_result() {
        let (task, completer) = Task::<u8>::pending();
        task.cancel();
        completer.complete(Ok(1));
        assert!(matches!(task.wait(), Err(Error::Cancelled)));
        let (task, completer) = Task::<u8>::pending();
        completer.complete(Ok(2));
        task.cancel();
        assert_eq!(task.wait().unwrap(), 2);
    }

    #[test]
    fn task_is_a_future() {
        let q = TaskQueue::new();
        let t = q.spawn(|| Ok(41 + 1));
        assert_eq!(pollster::block_on(t).unwrap(), 42);
    }
}
