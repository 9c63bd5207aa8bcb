//! One process-wide thread that stops calls running past their timeout.
//!
//! At a deadline the watchdog first requests an interrupt: V8 runs it on the isolate's
//! thread at its next interrupt check, where it captures the guest's JS stack (naming the
//! looping function) and terminates execution. Where V8 checks for termination but not for
//! API interrupts (regexp backtracking, some builtins) or no JS runs, the watchdog
//! terminates it itself a grace period later (and again every grace period until the call
//! ends), and the timeout has no stack.
//!
//! A call of a cancellable task is also registered here (with or without a timeout): its
//! cancel hook fires the call's deadline at once ([`Canceller::fire`]), which terminates
//! execution right away (a stack is not wanted) and again every grace period until the
//! call ends, like a deadline that fired; the call then ends in `Error::Cancelled`.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the interrupt gets before the watchdog terminates without a stack (generous:
/// on a loaded machine the isolate's thread may wait that long to be scheduled).
const GRACE: Duration = Duration::from_millis(100);

/// Frames captured into a timeout's stack.
const FRAMES: usize = 10;

struct Fired {
    handle: v8::IsolateHandle,
    /// Set once execution was terminated (by the interrupt or the watchdog).
    terminated: bool,
    stack: Option<String>,
    /// Fired by the call's task being cancelled, not by its timeout.
    cancelled: bool,
}

#[derive(Default)]
struct State {
    /// Armed deadlines, by (deadline, key).
    armed: BTreeMap<(Instant, u64), v8::IsolateHandle>,
    /// Cancellable calls without a deadline, by key.
    untimed: BTreeMap<u64, v8::IsolateHandle>,
    /// Interrupted calls waiting for their grace period to end, by (grace end, key).
    grace: BTreeMap<(Instant, u64), ()>,
    /// Deadlines that fired and were not disarmed yet, by key.
    fired: BTreeMap<u64, Fired>,
}

struct Watchdog {
    state: Mutex<State>,
    wake: Condvar,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let w: &'static Watchdog = Box::leak(Box::new(Watchdog {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("isovm-v8-watchdog".into())
            .spawn(move || w.run())
            .expect("spawning the isovm watchdog thread");
        w
    })
}

impl Watchdog {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        let mut st = self.lock();
        loop {
            let now = Instant::now();
            let next_armed = st.armed.keys().next().copied();
            let next_grace = st.grace.keys().next().copied();
            let next = match (next_armed, next_grace) {
                (Some(a), Some(g)) => Some(a.0.min(g.0)),
                (a, g) => a.or(g).map(|k| k.0),
            };
            match next {
                None => st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(at) if at <= now => {
                    if let Some(key) = next_armed.filter(|k| k.0 <= now)
                        && let Some(handle) = st.armed.remove(&key)
                    {
                        // Requested under the lock: once `disarm` returns, the
                        // interrupt finds its key gone and does nothing.
                        handle.request_interrupt(interrupt, key.1 as usize as *mut c_void);
                        st.grace.insert((now + GRACE, key.1), ());
                        st.fired.insert(
                            key.1,
                            Fired {
                                handle,
                                terminated: false,
                                stack: None,
                                cancelled: false,
                            },
                        );
                    }
                    if let Some(key) = next_grace.filter(|k| k.0 <= now) {
                        st.grace.remove(&key);
                        if let Some(f) = st.fired.get_mut(&key.1) {
                            // Terminating under the lock: once `disarm` returns, no
                            // termination from this deadline can arrive later. Again every
                            // grace period until then: V8 clears a termination once no JS
                            // is left on the stack, and the call may enter JS again (a
                            // getter read while its error is converted).
                            f.handle.terminate_execution();
                            f.terminated = true;
                            st.grace.insert((now + GRACE, key.1), ());
                        }
                    }
                }
                Some(at) => {
                    st = self
                        .wake
                        .wait_timeout(st, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}

/// Runs on the isolate's thread at an interrupt check after a deadline fired: records the
/// JS stack and terminates the call.
unsafe extern "C" fn interrupt(isolate: v8::UnsafeRawIsolatePtr, data: *mut c_void) {
    let key = data as usize as u64;
    let w = watchdog();
    if w.lock().fired.get(&key).is_none_or(|f| f.terminated) {
        // Disarmed meanwhile (the interrupt came late, in a later call), or already
        // terminated by the watchdog.
        return;
    }
    // SAFETY: V8 runs interrupt callbacks on the thread that holds the isolate, inside it;
    // `Isolate` is a plain pointer wrapper without a destructor.
    let mut iso = unsafe { v8::Isolate::from_raw_isolate_ptr(isolate) };
    let stack = {
        v8::scope!(let scope, &mut iso);
        // SAFETY: `isolate` is the isolate this thread is running inside; the returned
        // handle lives in `scope`, the innermost handle scope.
        let context = unsafe { v8__Isolate__GetCurrentContext(isolate) };
        match std::ptr::NonNull::new(context.cast_mut()) {
            Some(context) => {
                // SAFETY: `Local<Context>` is a `#[repr(C)]` non-null pointer to a handle
                // slot (plus a zero-sized marker), which is what V8 returned, and the
                // slot lives as long as `scope`.
                let context: v8::Local<'_, v8::Context> = unsafe { std::mem::transmute(context) };
                let scope = &mut v8::ContextScope::new(scope, context);
                current_stack(scope)
            }
            None => None,
        }
    };
    if stack.is_none() {
        // Between frames (e.g. the microtask loop itself): try again at the next check;
        // the grace period still bounds the wait.
        iso.thread_safe_handle().request_interrupt(interrupt, data);
        return;
    }
    let mut st = w.lock();
    if let Some(f) = st.fired.get_mut(&key).filter(|f| !f.terminated) {
        f.stack = stack;
        f.terminated = true;
        iso.terminate_execution();
    }
}

unsafe extern "C" {
    /// The `v8` crate's binding of `v8::Isolate::GetCurrentContext` (it exposes it only on
    /// scopes that already have a context).
    fn v8__Isolate__GetCurrentContext(isolate: v8::UnsafeRawIsolatePtr) -> *const v8::Context;
}

/// The current JS stack, as `    at fn (file:line:col)` lines; `None` without frames.
fn current_stack(scope: &mut v8::PinScope<'_, '_>) -> Option<String> {
    let trace = v8::StackTrace::current_stack_trace(scope, FRAMES)?;
    let mut out = String::new();
    for i in 0..trace.get_frame_count() {
        let Some(frame) = trace.get_frame(scope, i) else {
            continue;
        };
        let name = frame
            .get_function_name(scope)
            .map(|s| s.to_rust_string_lossy(scope))
            .filter(|s| !s.is_empty());
        let file = frame
            .get_script_name_or_source_url(scope)
            .map(|s| s.to_rust_string_lossy(scope))
            .unwrap_or_else(|| "<anonymous>".into());
        let at = format!("{file}:{}:{}", frame.get_line_number(), frame.get_column());
        if !out.is_empty() {
            out.push('\n');
        }
        match name {
            Some(name) => out.push_str(&format!("    at {name} ({at})")),
            None => out.push_str(&format!("    at {at}")),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// An armed timeout; `disarm` says whether it fired.
pub(crate) struct Deadline {
    key: (Instant, u64),
    /// Registered in `untimed` (cancellable, without a timeout) rather than `armed`.
    untimed: bool,
}

/// Stops execution of `handle`'s isolate after `timeout`, unless disarmed first. `None`
/// when there is nothing to arm: no timeout (or one too long to ever fire, beyond what
/// `Instant` can represent) and not `cancellable`.
pub(crate) fn arm(
    handle: &v8::IsolateHandle,
    timeout: Option<Duration>,
    cancellable: bool,
) -> Option<Deadline> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let at = timeout.and_then(crate::deadline);
    if at.is_none() && !cancellable {
        return None;
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let w = watchdog();
    match at {
        Some(at) => {
            w.lock().armed.insert((at, n), handle.clone());
            w.wake.notify_one();
            Some(Deadline {
                key: (at, n),
                untimed: false,
            })
        }
        None => {
            w.lock().untimed.insert(n, handle.clone());
            Some(Deadline {
                key: (Instant::now(), n),
                untimed: true,
            })
        }
    }
}

/// How a deadline ended.
pub(crate) enum Outcome {
    /// The call ended in time.
    InTime,
    /// The deadline fired; the guest's stack when the interrupt captured one.
    Fired(Option<String>),
    /// The call's task was cancelled and the call stopped.
    Cancelled,
}

/// Fires one call's deadline from any thread (its task was cancelled).
pub(crate) struct Canceller {
    key: (Instant, u64),
}

impl Canceller {
    /// Terminates the call now and marks its deadline cancelled; nothing once the deadline
    /// was disarmed (the call ended) or fired already (the timeout wins).
    pub fn fire(&self) {
        let w = watchdog();
        let mut st = w.lock();
        let handle = match st.armed.remove(&self.key) {
            Some(h) => h,
            None => match st.untimed.remove(&self.key.1) {
                Some(h) => h,
                None => return,
            },
        };
        // Under the lock, as the watchdog's own terminations: once `disarm` returns, no
        // termination from this call can arrive later.
        handle.terminate_execution();
        let now = Instant::now();
        st.grace.insert((now + GRACE, self.key.1), ());
        st.fired.insert(
            self.key.1,
            Fired {
                handle,
                terminated: true,
                stack: None,
                cancelled: true,
            },
        );
        drop(st);
        w.wake.notify_one();
    }
}

impl Deadline {
    /// What stops this call when its task is cancelled.
    pub fn canceller(&self) -> Canceller {
        Canceller { key: self.key }
    }

    /// Cancels the deadline, saying whether it fired.
    pub fn disarm(self) -> Outcome {
        let w = watchdog();
        let mut st = w.lock();
        let in_time = if self.untimed {
            st.untimed.remove(&self.key.1).is_some()
        } else {
            st.armed.remove(&self.key).is_some()
        };
        if in_time {
            return Outcome::InTime;
        }
        match st.fired.remove(&self.key.1) {
            Some(f) => {
                drop(st);
                drop(f.handle);
                if f.cancelled {
                    Outcome::Cancelled
                } else {
                    Outcome::Fired(f.stack)
                }
            }
            None => Outcome::InTime,
        }
    }
}
