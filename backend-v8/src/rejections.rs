//! Unhandled promise rejections: a call that leaves a rejected promise without a handler
//! once its microtasks ran fails with that rejection (as isolated-vm does).
//!
//! V8 reports each rejection without a handler, and each handler added to an already
//! rejected promise, to [`on_reject`]; the isolate's [`Rejections`] slot keeps the ones
//! still unhandled, and the call's end takes the oldest ([`take`]).

use engine_api::Error;

/// How many unhandled rejections one call remembers: a guest that floods them keeps the
/// host from holding more than this (the call fails with the oldest anyway).
const REMEMBERED: usize = 1_000;

/// The rejected promises of the current call that have no handler, oldest first.
#[derive(Default)]
pub(crate) struct Rejections {
    /// (identity hash, promise, reason).
    unhandled: Vec<(i32, v8::Global<v8::Promise>, v8::Global<v8::Value>)>,
}

/// Installs the tracking on a new isolate.
pub(crate) fn install(isolate: &mut v8::Isolate) {
    isolate.set_slot(Rejections::default());
    isolate.set_promise_reject_callback(on_reject);
}

/// Forgets what earlier turns left (called when an outermost call starts).
pub(crate) fn clear(isolate: &mut v8::Isolate) {
    if let Some(r) = isolate.get_slot_mut::<Rejections>() {
        r.unhandled.clear();
    }
}

/// The error of the oldest rejection still unhandled, forgetting them all.
pub(crate) fn take(scope: &mut v8::PinScope<'_, '_>) -> Option<Error> {
    let first = {
        let r = scope.get_slot_mut::<Rejections>()?;
        if r.unhandled.is_empty() {
            return None;
        }
        let first = r.unhandled.swap_remove(0);
        r.unhandled.clear();
        first
    };
    let reason = v8::Local::new(scope, &first.2);
    Some(crate::errors::thrown(scope, reason, None))
}

extern "C" fn on_reject(message: v8::PromiseRejectMessage) {
    // SAFETY: V8 calls this on the thread that holds the isolate, inside its execution.
    v8::callback_scope!(unsafe scope, &message);
    let promise = message.get_promise();
    let hash = promise.get_identity_hash().get();
    match message.get_event() {
        v8::PromiseRejectEvent::PromiseRejectWithNoHandler => {
            let full = scope
                .get_slot::<Rejections>()
                .is_none_or(|r| r.unhandled.len() >= REMEMBERED);
            if full {
                return;
            }
            let reason = message
                .get_value()
                .unwrap_or_else(|| v8::undefined(scope).into());
            let entry = (
                hash,
                v8::Global::new(scope, promise),
                v8::Global::new(scope, reason),
            );
            if let Some(r) = scope.get_slot_mut::<Rejections>() {
                r.unhandled.push(entry);
            }
        }
        v8::PromiseRejectEvent::PromiseHandlerAddedAfterReject => {
            let at = scope.get_slot::<Rejections>().and_then(|r| {
                r.unhandled
                    .iter()
                    .position(|(h, p, _)| *h == hash && *p == promise)
            });
            if let (Some(at), Some(r)) = (at, scope.get_slot_mut::<Rejections>()) {
                r.unhandled.remove(at);
            }
        }
        _ => {}
    }
}
