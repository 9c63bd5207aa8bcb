//! Host functions that guest code calls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use crate::executor::{Executor, SpawnedFuture, Spawner};
use crate::host_function::ValueFuture;
use crate::host_pool::PendingSlot;
use crate::{
    AnyReference, ApplyOptions, AsyncHostFunction, Error, HostFunction, HostPool, IsolateId,
    Refused, Result, TypeOf, Value,
};

#[cfg(doc)]
use crate::{FromValue, IntoCallbackResult};

/// How the guest calls a [`Callback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackMode {
    /// The guest waits for the result (the closure runs on the guest's thread).
    Sync,
    /// The guest gets a promise; a blocking closure runs on the [`HostPool`], a future on
    /// its executor.
    Async,
    /// The guest gets `undefined` at once; the closure runs later (as for `Async`) and its
    /// result is dropped.
    Ignored,
}

type HostFn = dyn Fn(Vec<Value>) -> Result<Value> + Send + Sync;
type AsyncHostFn = dyn Fn(Vec<Value>) -> ValueFuture + Send + Sync;

/// What runs when the guest calls.
#[derive(Clone)]
enum Body {
    /// A closure that returns when done (run on the guest's thread or the host pool).
    Blocking(Arc<HostFn>),
    /// A closure that returns a future, polled on `spawner` or the global [`Executor`].
    Future(Arc<AsyncHostFn>, Option<Spawner>),
}

/// A Rust closure exposed to guest code.
///
/// Pass it as [`Value::Callback`] to get a plain JS function in the guest, or as a
/// reference ([`Callback::into_reference`]) to get an `ivm.Reference` whose `applySync`,
/// `apply` and `applyIgnored` call the closure.
///
/// Three kinds of closure:
/// - typed ([`Callback::wrap`]): arguments and result convert through [`FromValue`] and
///   [`IntoCallbackResult`];
/// - futures ([`Callback::from_async`], [`Callback::new_future`]): the guest gets a
///   promise, settled when the future completes; the future runs on the [`Executor`] (or
///   the executor given with [`Callback::with_spawner`]) and holds no thread while it
///   waits;
/// - untyped blocking ([`Callback::new`], [`Callback::new_async`],
///   [`Callback::new_ignored`]): a closure over `Vec<Value>`.
///
/// An `Err` returned by the closure is thrown in the guest: an [`Error::Js`] keeps its name
/// and message, any other error becomes an `Error` with its message.
///
/// ```
/// use engine_api::{Callback, Value};
/// let add = Callback::new(|args| {
///     let a = args.first().and_then(Value::as_f64).unwrap_or(0.0);
///     let b = args.get(1).and_then(Value::as_f64).unwrap_or(0.0);
///     Ok(Value::from(a + b))
/// });
/// assert_eq!(add.call(vec![1.into(), 2.into()]).unwrap(), Value::from(3));
/// ```
#[derive(Clone)]
pub struct Callback {
    body: Body,
    mode: CallbackMode,
}

impl Callback {
    /// A callback the guest calls synchronously.
    pub fn new(f: impl Fn(Vec<Value>) -> Result<Value> + Send + Sync + 'static) -> Self {
        Callback {
            body: Body::Blocking(Arc::new(f)),
            mode: CallbackMode::Sync,
        }
    }

    /// A callback that returns a promise in the guest; the closure blocks a thread of the
    /// [`HostPool`] while it runs. For work that waits, prefer [`Callback::from_async`].
    pub fn new_async(f: impl Fn(Vec<Value>) -> Result<Value> + Send + Sync + 'static) -> Self {
        Callback::new(f).with_mode(CallbackMode::Async)
    }

    /// A callback whose result the guest never sees.
    pub fn new_ignored(f: impl Fn(Vec<Value>) -> Result<Value> + Send + Sync + 'static) -> Self {
        Callback::new(f).with_mode(CallbackMode::Ignored)
    }

    /// A typed callback the guest calls synchronously: arguments convert through
    /// [`FromValue`] (a wrong one is a `TypeError` in the guest naming it, a missing one is
    /// `undefined`), the result through [`IntoCallbackResult`] (a value, or a `Result`).
    ///
    /// ```
    /// use engine_api::{Callback, Serde, Value};
    /// let f = Callback::wrap(|a: f64, b: String| a + b.len() as f64);
    /// assert_eq!(f.call(vec![1.into(), "abc".into()]).unwrap(), Value::from(4));
    ///
    /// let e = f.call(vec!["x".into()]).unwrap_err();
    /// let e = e.as_js().unwrap();
    /// assert_eq!((e.name.as_str(), e.message.as_str()),
    ///            ("TypeError", "argument 1: expected a number, got a string"));
    ///
    /// // Results may fail; missing arguments are undefined, so Option gets None.
    /// let parse = Callback::wrap(|s: Option<String>| s.unwrap_or_default().parse::<u8>());
    /// assert_eq!(parse.call(vec!["7".into()]).unwrap(), Value::from(7));
    /// assert!(parse.call(vec![]).is_err());
    ///
    /// // Serde types in and out.
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct P { x: i32 }
    /// let shift = Callback::wrap(|Serde(p): Serde<P>| Serde(P { x: p.x + 1 }));
    /// let out = shift.call(vec![Value::object([("x", Value::from(1))])]).unwrap();
    /// assert_eq!(out.get("x"), Some(&Value::from(2)));
    /// ```
    pub fn wrap<Args, F: HostFunction<Args>>(f: F) -> Self {
        Callback::new(move |args| f.call_with(args))
    }

    /// A typed async host function: the closure takes converted arguments (as in
    /// [`Callback::wrap`]) and returns a future; the guest gets a promise, settled with the
    /// future's converted output. The future runs on the process-wide [`Executor`] (a
    /// bounded set of threads polling many futures) unless [`Callback::with_spawner`] gives
    /// it another; it counts against its isolate's pending limit on the [`HostPool`] until
    /// it completes. A panic in it rejects the promise with [`Error::Callback`].
    ///
    /// ```
    /// use engine_api::{Callback, CallbackMode, Value};
    /// let double = Callback::from_async(|n: f64| async move { n * 2.0 });
    /// assert_eq!(double.mode(), CallbackMode::Async);
    /// // On the host side `call` waits for the future.
    /// assert_eq!(double.call(vec![21.into()]).unwrap(), Value::from(42));
    /// ```
    pub fn from_async<Args, F: AsyncHostFunction<Args>>(f: F) -> Self {
        Callback {
            body: Body::Future(Arc::new(move |args| f.call_with(args)), None),
            mode: CallbackMode::Async,
        }
    }

    /// [`Callback::from_async`] with its futures run by `spawner` (for example
    /// `move |f| { handle.spawn(f); }` with a `tokio::runtime::Handle`: `tokio::spawn`
    /// itself needs a runtime on the calling thread, which a guest's thread is not).
    pub fn from_async_on<Args, F: AsyncHostFunction<Args>>(
        spawner: impl Fn(SpawnedFuture) + Send + Sync + 'static,
        f: F,
    ) -> Self {
        Callback::from_async(f).with_spawner(spawner)
    }

    /// An untyped async host function: a closure over the raw arguments returning a future
    /// of a [`Value`]. Runs as [`Callback::from_async`] does.
    ///
    /// ```
    /// use engine_api::{Callback, Value};
    /// let count = Callback::new_future(|args: Vec<Value>| async move {
    ///     Ok(Value::from(args.len()))
    /// });
    /// assert_eq!(count.call(vec![Value::Null, Value::Null]).unwrap(), Value::from(2));
    /// ```
    pub fn new_future<Fut>(f: impl Fn(Vec<Value>) -> Fut + Send + Sync + 'static) -> Self
    where
        Fut: Future<Output = Result<Value>> + Send + 'static,
    {
        Callback {
            body: Body::Future(Arc::new(move |args| Box::pin(f(args))), None),
            mode: CallbackMode::Async,
        }
    }

    /// This callback with its futures run by `spawner` instead of the global [`Executor`].
    /// No effect on blocking callbacks.
    pub fn with_spawner(mut self, spawner: impl Fn(SpawnedFuture) + Send + Sync + 'static) -> Self {
        if let Body::Future(_, s) = &mut self.body {
            *s = Some(Arc::new(spawner));
        }
        self
    }

    /// This callback called in another way: [`CallbackMode::Async`] makes a typed
    /// [`Callback::wrap`] closure run on the host pool with a promise for the guest,
    /// [`CallbackMode::Ignored`] gives the guest `undefined` at once (for a future too),
    /// [`CallbackMode::Sync`] makes the guest wait (for a future, its thread waits for the
    /// future to complete).
    pub fn with_mode(mut self, mode: CallbackMode) -> Self {
        self.mode = mode;
        self
    }

    /// How the guest calls it.
    pub fn mode(&self) -> CallbackMode {
        self.mode
    }

    /// Whether the closure returns a future (made with [`Callback::from_async`] or
    /// [`Callback::new_future`]).
    pub fn is_future(&self) -> bool {
        matches!(self.body, Body::Future(..))
    }

    /// Calls the closure on this thread; for a future, this thread waits while the future
    /// runs on its executor. A panic in the closure becomes [`Error::Callback`].
    ///
    /// Do not call a future callback from inside a future running on the same executor:
    /// the waiting thread is one the future might need.
    pub fn call(&self, args: Vec<Value>) -> Result<Value> {
        match &self.body {
            Body::Blocking(f) => {
                let f = f.clone();
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(args)))
                    .unwrap_or_else(|_| Err(panicked()))
            }
            Body::Future(..) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                self.start_future(args, None, move |r| {
                    let _ = tx.send(r);
                });
                rx.recv().unwrap_or_else(|_| Err(dropped()))
            }
        }
    }

    /// Runs the callback for a guest's async (or ignored) call of isolate `isolate` and
    /// hands its result to `on_done`, once, on some other thread: a blocking closure
    /// queues on the process-wide [`HostPool`], a future is spawned on its executor. Both
    /// count as pending for `isolate` on the host pool until they finish, under its
    /// per-isolate limit. A panic, or a future dropped unfinished by its executor, gives
    /// `on_done` an [`Error::Callback`].
    ///
    /// Past the limit nothing runs and `on_done` comes back in [`Refused`] with
    /// [`Error::HostQueueFull`], for the backend to reject the guest's promise with.
    ///
    /// ```
    /// use engine_api::{Callback, IsolateId, Value};
    /// let cb = Callback::from_async(|n: f64| async move { n + 1.0 });
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// cb.spawn_async(IsolateId::next(), vec![1.into()], move |r| tx.send(r).unwrap())
    ///     .map_err(|refused| refused.error)
    ///     .unwrap();
    /// assert_eq!(rx.recv().unwrap().unwrap(), Value::from(2));
    /// ```
    pub fn spawn_async<D>(
        &self,
        isolate: IsolateId,
        args: Vec<Value>,
        on_done: D,
    ) -> std::result::Result<(), Refused<D>>
    where
        D: FnOnce(Result<Value>) + Send + 'static,
    {
        let pool = HostPool::global();
        match &self.body {
            Body::Blocking(_) => {
                // Shared so that a refused job's `on_done` can be handed back.
                let done = Arc::new(Mutex::new(Some(on_done)));
                let (this, inner) = (self.clone(), done.clone());
                let job = move || {
                    let r = this.call(args);
                    if let Some(d) = lock(&inner).take() {
                        d(r);
                    }
                };
                pool.submit(isolate, job).map_err(|refused| {
                    let job = lock(&done).take();
                    match job {
                        Some(job) => Refused {
                            error: refused.error,
                            job,
                        },
                        // Unreachable: a refused job never ran.
                        None => unreachable_refusal(),
                    }
                })
            }
            Body::Future(..) => match pool.reserve(isolate) {
                Ok(slot) => {
                    self.start_future(args, Some(slot), on_done);
                    Ok(())
                }
                Err(error) => Err(Refused {
                    error,
                    job: on_done,
                }),
            },
        }
    }

    /// Starts a future callback; `on_done` gets its result (or why it has none).
    fn start_future<D>(&self, args: Vec<Value>, slot: Option<PendingSlot>, on_done: D)
    where
        D: FnOnce(Result<Value>) + Send + 'static,
    {
        let Body::Future(f, spawner) = &self.body else {
            return;
        };
        let mut done = Completion {
            on_done: Some(on_done),
            _slot: slot,
        };
        let f = f.clone();
        let future = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(args))) {
            Ok(future) => future,
            Err(_) => return done.finish(Err(panicked())),
        };
        let task: SpawnedFuture = Box::pin(async move {
            let r = CatchUnwind(future).await;
            done.finish(r);
        });
        match spawner {
            Some(spawn) => {
                // A spawner that panics drops the task, whose completion then reports it.
                let spawn = spawn.clone();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || spawn(task)));
            }
            None => Executor::global().spawn(task),
        }
    }

    /// Whether two callbacks share the same closure.
    pub fn ptr_eq(&self, other: &Callback) -> bool {
        match (&self.body, &other.body) {
            (Body::Blocking(a), Body::Blocking(b)) => Arc::ptr_eq(a, b),
            (Body::Future(a, _), Body::Future(b, _)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// A reference to this callback (the guest sees an `ivm.Reference` to a function).
    pub fn into_reference(self) -> AnyReference {
        AnyReference::new(self)
    }
}

fn panicked() -> Error {
    Error::callback("host callback panicked")
}

fn dropped() -> Error {
    Error::callback("host callback future was dropped before it completed")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cold]
fn unreachable_refusal<D>() -> Refused<D> {
    unreachable!("the host pool ran a job it refused")
}

/// Delivers a future's result once; dropped unfinished (the executor dropped the future,
/// or the spawner panicked), it delivers that instead. Holds the future's pending slot.
struct Completion<D: FnOnce(Result<Value>)> {
    on_done: Option<D>,
    _slot: Option<PendingSlot>,
}

impl<D: FnOnce(Result<Value>)> Completion<D> {
    fn finish(&mut self, r: Result<Value>) {
        if let Some(d) = self.on_done.take() {
            d(r);
        }
    }
}

impl<D: FnOnce(Result<Value>)> Drop for Completion<D> {
    fn drop(&mut self) {
        self.finish(Err(dropped()));
    }
}

/// A future whose panic becomes [`Error::Callback`].
struct CatchUnwind(ValueFuture);

impl Future for CatchUnwind {
    type Output = Result<Value>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<Value>> {
        let inner = &mut self.0;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.as_mut().poll(cx)))
            .unwrap_or_else(|_| Poll::Ready(Err(panicked())))
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("mode", &self.mode)
            .field("future", &self.is_future())
            .finish()
    }
}

impl crate::ReferenceHandle for Callback {
    fn isolate_id(&self) -> Option<crate::IsolateId> {
        None
    }
    fn type_of(&self) -> Result<TypeOf> {
        Ok(TypeOf::Function)
    }
    fn apply(&self, _receiver: Value, args: Vec<Value>, _opts: &ApplyOptions) -> Result<Value> {
        self.call(args)
    }
    fn get(&self, _key: Value, _opts: &crate::PropertyOptions) -> Result<Value> {
        Ok(Value::Undefined)
    }
    fn set(&self, _key: Value, _value: Value, _opts: &crate::PropertyOptions) -> Result<bool> {
        Err(Error::WrongKind("a host callback has no properties".into()))
    }
    fn delete(&self, _key: Value) -> Result<bool> {
        Ok(false)
    }
    fn copy(&self) -> Result<Value> {
        Err(Error::NotTransferable("function".into()))
    }
    fn release(&self) {}
    fn is_released(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
