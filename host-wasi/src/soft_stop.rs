//! The deadline path of a running call: on every epoch tick the store checks `dispose`,
//! its task's cancel and its deadline. A due cancel or deadline first asks the guest to
//! stop softly (`isovm_interrupt(1)`, see [`engine_api::abi`]): it unwinds its JS at the
//! next loop back-edge or call and answers `ErrorKind::Interrupted` with the JS stack, and
//! the isolate stays usable. A guest that is not back within [`GRACE`] (a native loop: a
//! regex backtracking, `Array(1e9).fill(0)`), or has no such export, is trapped, and its
//! isolate disposed.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use engine_api::Error;
use wasmtime::{AsContextMut, StoreContextMut, UpdateDeadline};

use crate::state::HostState;
use crate::trap::HostTrap;

/// How long an interrupted guest has to come back before it is trapped. Unwinding JS
/// takes microseconds; this only bounds native loops, which never see the stop.
pub(crate) const GRACE: Duration = Duration::from_millis(50);

/// Ticks the guest must also have run through, so that a loaded machine that kept the
/// guest's thread off the CPU does not count against it.
const GRACE_TICKS: u32 = 3;

/// Why the host stops a running call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopReason {
    Timeout,
    Cancelled,
}

impl StopReason {
    /// The trap that ends the call when the guest does not stop softly.
    fn trap(self) -> wasmtime::Error {
        wasmtime::Error::new(match self {
            StopReason::Timeout => HostTrap::Timeout,
            StopReason::Cancelled => HostTrap::Cancelled,
        })
    }
}

/// A soft stop the host asked the guest for, during the running call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SoftStop {
    pub(crate) why: StopReason,
    at: Instant,
    ticks: u32,
}

impl SoftStop {
    fn new(why: StopReason, at: Instant) -> Self {
        SoftStop { why, at, ticks: 0 }
    }

    /// One more tick with the guest still running: whether its grace is over.
    fn overdue(&mut self, now: Instant) -> bool {
        self.ticks = self.ticks.saturating_add(1);
        self.ticks >= GRACE_TICKS && now.saturating_duration_since(self.at) >= GRACE
    }

    /// The error the stopped call ends with, whatever it returned (`outcome`): the
    /// guest's JS stack, when its answer carried one, goes into a timeout.
    pub(crate) fn error<R>(&self, outcome: &engine_api::Result<R>) -> Error {
        match self.why {
            StopReason::Cancelled => Error::Cancelled,
            StopReason::Timeout => match outcome {
                Err(Error::Timeout { stack }) => Error::Timeout {
                    stack: stack.clone(),
                },
                _ => Error::timeout(),
            },
        }
    }
}

/// Why the running call must stop now, if it must (its cancel before its deadline).
pub(crate) fn due(state: &HostState, now: Instant) -> Option<StopReason> {
    if state
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::Relaxed))
    {
        Some(StopReason::Cancelled)
    } else if state.deadline.is_some_and(|d| now >= d) {
        Some(StopReason::Timeout)
    } else {
        None
    }
}

/// Called on every epoch tick while the guest runs: stop on dispose (a trap), on cancel
/// or past the deadline (softly, then a trap once the grace is over).
pub(crate) fn epoch_tick(
    mut cx: StoreContextMut<'_, HostState>,
) -> wasmtime::Result<UpdateDeadline> {
    let state = cx.data_mut();
    state.cpu.tick();
    if state.interrupted() {
        return Err(wasmtime::Error::new(HostTrap::Disposed));
    }
    let now = Instant::now();
    if let Some(stop) = &mut state.soft_stop {
        if stop.overdue(now) {
            return Err(stop.why.trap());
        }
        return Ok(UpdateDeadline::Continue(1));
    }
    let Some(why) = due(state, now) else {
        return Ok(UpdateDeadline::Continue(1));
    };
    if !interrupt(&mut cx, true) {
        return Err(why.trap());
    }
    cx.data_mut().soft_stop = Some(SoftStop::new(why, now));
    Ok(UpdateDeadline::Continue(1))
}

/// Calls the guest's `isovm_interrupt(stop)`; whether it has one and it answered 1.
///
/// From the epoch callback this runs guest code on top of the interrupted call, which
/// wasmtime allows (as from a host function). While the callback runs the store has no
/// deadline behaviour: the deadline is moved out of reach so the export's own epoch checks
/// do not trap (the callback's answer sets it again).
fn interrupt(cx: &mut StoreContextMut<'_, HostState>, stop: bool) -> bool {
    let Some(func) = cx.data().exports.as_ref().and_then(|e| e.interrupt.clone()) else {
        return false;
    };
    cx.set_epoch_deadline(u64::MAX / 2);
    let answer = func.call(cx.as_context_mut(), i32::from(stop));
    cx.set_epoch_deadline(1);
    matches!(answer, Ok(1))
}

/// Ends a soft stop after the stopped call returned: the guest runs normally again.
/// Fails (the guest's state is unknown: dispose it) when the guest cannot resume.
pub(crate) fn resume(mut cx: StoreContextMut<'_, HostState>) -> Result<(), Error> {
    // The call is over: no deadline or cancel may stop the resume itself.
    let state = cx.data_mut();
    let saved = (state.deadline.take(), state.cancel.take());
    let resumed = interrupt(&mut cx, false);
    let state = cx.data_mut();
    (state.deadline, state.cancel) = saved;
    if resumed {
        Ok(())
    } else {
        Err(crate::trap::backend(
            "the guest did not resume after a soft stop",
        ))
    }
}

/// A soft stop for the outer call, when a nested call stopped softly: kept (the guest
/// stays interrupted, the grace goes on) if the outer call is due to stop too.
pub(crate) fn carry_over(state: &HostState, inner: SoftStop) -> Option<SoftStop> {
    due(state, Instant::now()).map(|why| SoftStop { why, ..inner })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_needs_both_time_and_ticks() {
        let at = Instant::now();
        let mut stop = SoftStop::new(StopReason::Timeout, at);
        // Late enough, but the guest has not run through enough ticks yet.
        let late = at + GRACE * 10;
        assert!(!stop.overdue(late));
        assert!(!stop.overdue(late));
        assert!(stop.overdue(late));
        // Enough ticks, but too early.
        let mut stop = SoftStop::new(StopReason::Timeout, at);
        for _ in 0..10 {
            assert!(!stop.overdue(at + GRACE / 2));
        }
        assert!(stop.overdue(at + GRACE));
    }

    #[test]
    fn a_stop_ends_the_call_with_its_own_error() {
        let stop = SoftStop::new(StopReason::Timeout, Instant::now());
        let stack = Some("    at spin (x.js:1:1)".to_owned());
        let carried: engine_api::Result<()> = Err(Error::Timeout {
            stack: stack.clone(),
        });
        assert_eq!(stop.error(&carried), Error::Timeout { stack });
        // A call that finished anyway, or failed otherwise, still timed out.
        assert_eq!(stop.error(&Ok(5)), Error::timeout());
        let other: engine_api::Result<()> = Err(Error::StackOverflow);
        assert_eq!(stop.error(&other), Error::timeout());
        let cancel = SoftStop::new(StopReason::Cancelled, Instant::now());
        assert_eq!(cancel.error(&carried), Error::Cancelled);
    }
}
