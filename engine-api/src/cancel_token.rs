//! Cancellation of queued work: the token a [`Task`](crate::Task) carries, and the hooks
//! a backend registers on it to stop the guest call that is running.
//!
//! A token is cancelled once (by [`Task::cancel`](crate::Task::cancel) or by dropping an
//! unfinished task). While the queue runs a task's job, the job's token is
//! [current](CancelToken::current) on that thread; a backend asks for it at the start of a
//! guest call and registers a hook ([`CancelToken::on_cancel`]) that stops that call. The
//! guard the hook returns unregisters it, and once the guard is dropped the hook neither
//! runs nor is running: a hook can never stop the call after its own.
//!
//! ```
//! use engine_api::CancelToken;
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicBool, Ordering};
//!
//! let token = CancelToken::new();
//! let stop = Arc::new(AtomicBool::new(false));
//! let s = stop.clone();
//! let hook = token.on_cancel(move || s.store(true, Ordering::SeqCst));
//! token.cancel();
//! assert!(stop.load(Ordering::SeqCst) && token.is_cancelled());
//! drop(hook);
//! ```

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Hook = Box<dyn FnOnce() + Send>;

thread_local! {
    /// The token of the job this thread runs for the queue, if it runs one.
    static CURRENT: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
    /// The token whose hooks this thread is running (in [`CancelToken::cancel`]), by
    /// address: a hook may drop a [`CancelHook`] of that same token.
    static RUNNING_HOOKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether a piece of queued work was cancelled, and what stops it when it is. Cheap to
/// clone (shared).
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<TokenInner>,
}

#[derive(Default)]
struct TokenInner {
    cancelled: AtomicBool,
    hooks: Mutex<Hooks>,
}

#[derive(Default)]
struct Hooks {
    next: u64,
    live: Vec<(u64, Hook)>,
}

impl TokenInner {
    fn hooks(&self) -> std::sync::MutexGuard<'_, Hooks> {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token of the queued job running on this thread; `None` outside one (blocking
    /// calls and the backends' own work have none). Does not allocate.
    pub fn current() -> Option<CancelToken> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Makes this token [current](Self::current) on this thread until the guard drops
    /// (then the previous one is again).
    pub fn enter(&self) -> CurrentToken {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        CurrentToken { previous }
    }

    /// Whether the work was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// Cancels the work: runs every registered hook once (on this thread). Later calls do
    /// nothing.
    pub fn cancel(&self) {
        let mut hooks = self.inner.hooks();
        if self.inner.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        // Run under the lock: a guard dropped meanwhile waits, so once it is gone its hook
        // cannot run late (into the next call). Hooks are short (set a flag, wake a thread).
        // A hook may itself drop a guard of this token (what it cleans up held one): that
        // drop, on this thread, does not wait for the lock held here (see CancelHook's drop).
        let previous = RUNNING_HOOKS.with(|r| r.replace(Arc::as_ptr(&self.inner) as usize));
        for (_, hook) in hooks.live.drain(..) {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook));
        }
        RUNNING_HOOKS.with(|r| r.set(previous));
    }

    /// Registers `hook` to run when the token is cancelled, until the returned guard
    /// drops. On a token already cancelled it runs at once.
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) -> CancelHook {
        let mut hooks = self.inner.hooks();
        if self.is_cancelled() {
            drop(hooks);
            hook();
            return CancelHook { token: None, id: 0 };
        }
        let id = hooks.next;
        hooks.next += 1;
        hooks.live.push((id, Box::new(hook)));
        CancelHook {
            token: Some(self.clone()),
            id,
        }
    }
}

/// Keeps a hook of [`CancelToken::on_cancel`] registered; dropping it unregisters the
/// hook (waiting for it if it is running).
#[must_use = "the hook is unregistered when this guard drops"]
pub struct CancelHook {
    token: Option<CancelToken>,
    id: u64,
}

impl Drop for CancelHook {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            if RUNNING_HOOKS.with(|r| r.get()) == Arc::as_ptr(&token.inner) as usize {
                // Dropped by a hook of this token, which this thread is running: the hooks
                // were taken out of the list already, so there is nothing to unregister,
                // and the lock is held by this very thread.
                return;
            }
            token.inner.hooks().live.retain(|(id, _)| *id != self.id);
        }
    }
}

impl std::fmt::Debug for CancelHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHook").finish_non_exhaustive()
    }
}

/// Keeps a token current on this thread; see [`CancelToken::enter`].
#[must_use = "the token stops being current when this guard drops"]
pub struct CurrentToken {
    previous: Option<CancelToken>,
}

impl Drop for CurrentToken {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

impl std::fmt::Debug for CurrentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentToken").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn hooks_run_once_and_only_while_registered() {
        let t = CancelToken::new();
        let n = Arc::new(AtomicUsize::new(0));
        let (a, b) = (n.clone(), n.clone());
        let gone = t.on_cancel(move || {
            a.fetch_add(100, Ordering::SeqCst);
        });
        drop(gone);
        let _kept = t.on_cancel(move || {
            b.fetch_add(1, Ordering::SeqCst);
        });
        t.cancel();
        t.cancel();
        assert_eq!(n.load(Ordering::SeqCst), 1);
        let c = n.clone();
        let _late = t.on_cancel(move || {
            c.fetch_add(10, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 11);
    }

    #[test]
    fn a_hook_may_drop_a_guard_of_its_own_token() {
        let t = CancelToken::new();
        let held: Arc<Mutex<Option<CancelHook>>> = Arc::default();
        let n = Arc::new(AtomicUsize::new(0));
        let (h, a, b) = (held.clone(), n.clone(), n.clone());
        let _first = t.on_cancel(move || {
            a.fetch_add(1, Ordering::SeqCst);
            // Would deadlock on the hooks' lock if the drop waited for it.
            drop(h.lock().unwrap_or_else(|e| e.into_inner()).take());
        });
        *held.lock().unwrap() = Some(t.on_cancel(move || {
            b.fetch_add(10, Ordering::SeqCst);
        }));
        t.cancel();
        assert!(held.lock().unwrap().is_none());
        // Both ran: the second was taken out before the first dropped its guard.
        assert_eq!(n.load(Ordering::SeqCst), 11);
        // Another token's guards still unregister normally inside a hook.
        let (outer, inner) = (CancelToken::new(), CancelToken::new());
        let m = Arc::new(AtomicUsize::new(0));
        let c = m.clone();
        let inner_guard = inner.on_cancel(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        let _o = outer.on_cancel(move || drop(inner_guard));
        outer.cancel();
        inner.cancel();
        assert_eq!(m.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn current_is_scoped_and_nests() {
        assert!(CancelToken::current().is_none());
        let (a, b) = (CancelToken::new(), CancelToken::new());
        {
            let _a = a.enter();
            {
                let _b = b.enter();
                b.cancel();
                assert!(CancelToken::current().unwrap().is_cancelled());
            }
            assert!(!CancelToken::current().unwrap().is_cancelled());
        }
        assert!(CancelToken::current().is_none());
    }
}
