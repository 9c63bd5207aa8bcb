//! One process-wide thread that terminates calls running past their timeout.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Entry {
    handle: v8::IsolateHandle,
    fired: bool,
}

#[derive(Default)]
struct State {
    /// Armed deadlines, by (deadline, key).
    armed: BTreeMap<(Instant, u64), v8::IsolateHandle>,
    /// Deadlines that fired and were not disarmed yet, by key.
    fired: BTreeMap<u64, Entry>,
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
    fn run(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            let next = st.armed.keys().next().copied();
            match next {
                None => st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some((deadline, key)) if deadline <= now => {
                    if let Some(handle) = st.armed.remove(&(deadline, key)) {
                        // Terminating under the lock: once `disarm` returns, no
                        // termination from this deadline can arrive later.
                        handle.terminate_execution();
                        st.fired.insert(
                            key,
                            Entry {
                                handle,
                                fired: true,
                            },
                        );
                    }
                }
                Some((deadline, _)) => {
                    st = self
                        .wake
                        .wait_timeout(st, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}

/// An armed timeout; `disarm` says whether it fired.
pub(crate) struct Deadline {
    key: (Instant, u64),
}

/// Terminates execution of `handle`'s isolate after `timeout`, unless disarmed first.
pub(crate) fn arm(handle: &v8::IsolateHandle, timeout: Duration) -> Deadline {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let key = (
        Instant::now() + timeout,
        NEXT.fetch_add(1, Ordering::Relaxed),
    );
    let w = watchdog();
    w.state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .armed
        .insert(key, handle.clone());
    w.wake.notify_one();
    Deadline { key }
}

impl Deadline {
    /// Cancels the deadline; true if it already fired.
    pub fn disarm(self) -> bool {
        let w = watchdog();
        let mut st = w.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.armed.remove(&self.key).is_some() {
            return false;
        }
        st.fired.remove(&self.key.1).is_some_and(|e| {
            drop(e.handle);
            e.fired
        })
    }
}
