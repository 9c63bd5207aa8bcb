//! Unhandled promise rejections: a call that leaves a rejected promise without a handler
//! once its jobs ran fails with that rejection (as isolated-vm, and the V8 backend, do).
//!
//! Boa reports each rejection without a handler, and each handler added to an already
//! rejected promise, to [`GuestHooks::promise_rejection_tracker`]; the list keeps the ones
//! still unhandled, and the call's end takes the oldest ([`take`]).

use std::cell::{Cell, RefCell};

use boa_engine::{
    Context, JsObject,
    builtins::promise::{OperationType, PromiseState},
    context::HostHooks,
    object::builtins::JsPromise,
};

use engine_api::abi::GuestError;

use super::errors;

/// How many unhandled rejections one call remembers: a guest that floods them keeps the
/// list this short (the call fails with the oldest anyway).
const REMEMBERED: usize = 1_000;

thread_local! {
    /// The rejected promises of the current call that have no handler, oldest first.
    static UNHANDLED: RefCell<Vec<JsObject>> = const { RefCell::new(Vec::new()) };
    /// How many requests are running (nested ones run while a call waits on the host).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// The guest's host hooks: Boa's defaults, plus rejection tracking and a collection
/// before buffers are allocated.
pub struct GuestHooks;

impl HostHooks for GuestHooks {
    fn promise_rejection_tracker(
        &self,
        promise: &JsObject<boa_engine::builtins::promise::Promise>,
        operation: OperationType,
        _context: &mut Context,
    ) {
        let promise = promise.clone().upcast();
        UNHANDLED.with_borrow_mut(|list| match operation {
            OperationType::Reject if list.len() < REMEMBERED => list.push(promise),
            OperationType::Reject => {}
            OperationType::Handle => {
                if let Some(at) = list.iter().position(|p| JsObject::equals(p, &promise)) {
                    list.remove(at);
                }
            }
        });
    }

    /// Boa asks this before it allocates any buffer: a safe point to give back the bytes
    /// of dropped buffers, which Boa's collector does not count (see [`super::alloc`]).
    fn max_buffer_size(&self, _context: &mut Context) -> u64 {
        super::alloc::collect_if_pressed();
        1_610_612_736 // Boa's default: 1.5 GiB.
    }
}

/// Marks a request running; the outermost one starts by forgetting what earlier ones left
/// (promises settled by the host between calls, say). Nested requests (a host callback
/// calling back in) keep their caller's list.
pub fn request() -> Request {
    if DEPTH.replace(DEPTH.get() + 1) == 0 {
        UNHANDLED.with_borrow_mut(Vec::clear);
    }
    Request(())
}

/// A running request (see [`request`]).
pub struct Request(());

impl Drop for Request {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get().saturating_sub(1));
    }
}

/// The error of the oldest rejection still unhandled, forgetting them all.
pub fn take(ctx: &mut Context) -> Option<GuestError> {
    let first = UNHANDLED.with_borrow_mut(|list| {
        let first = list.first().cloned();
        list.clear();
        first
    })?;
    let reason = match JsPromise::from_object(first).ok()?.state() {
        PromiseState::Rejected(reason) => reason,
        _ => return None,
    };
    Some(errors::from_value(&reason, None, ctx))
}
