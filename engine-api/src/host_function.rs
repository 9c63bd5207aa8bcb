//! Typed host functions: Rust closures whose arguments and results convert to and from
//! [`Value`], for [`Callback::wrap`](crate::Callback::wrap) and
//! [`Callback::from_async`](crate::Callback::from_async).
//!
//! A closure of up to eight arguments qualifies when each argument type is [`FromValue`]
//! and its result is [`IntoCallbackResult`] (any [`IntoValue`], or a `Result` of one). A
//! guest passing fewer arguments leaves the rest `undefined` (an `Option` argument is then
//! `None`); extra arguments are ignored. An argument that does not convert is thrown in
//! the guest as a `TypeError` naming it (`argument 2: expected a number, got a string`).

use std::future::Future;
use std::pin::Pin;

use crate::convert::at;
use crate::{Error, FromValue, IntoValue, Result, Value};

#[cfg(doc)]
use crate::Callback;

/// The boxed future an async host function returns.
pub(crate) type ValueFuture = Pin<Box<dyn Future<Output = Result<Value>> + Send + 'static>>;

/// What a host function may return: any [`IntoValue`], or a `Result` of one whose error
/// is a [`std::error::Error`] (`Send + Sync`).
///
/// An [`Error`] of this crate is thrown as it is (an [`Error::Js`] keeps its name and
/// message); any other error becomes [`Error::Callback`] with its message, and itself as
/// the source.
///
/// ```
/// use engine_api::{Error, IntoCallbackResult, Value};
/// assert_eq!(3.5.into_callback_result().unwrap(), Value::from(3.5));
/// let e: Result<u8, std::num::ParseIntError> = "x".parse();
/// assert!(matches!(e.into_callback_result(), Err(Error::Callback { .. })));
/// let js: Result<(), Error> = Err(Error::js("RangeError", "too big"));
/// assert_eq!(js.into_callback_result().unwrap_err().as_js().unwrap().name, "RangeError");
/// ```
pub trait IntoCallbackResult {
    /// The value for the guest, or the error to throw.
    fn into_callback_result(self) -> Result<Value>;
}

impl<T: IntoValue> IntoCallbackResult for T {
    fn into_callback_result(self) -> Result<Value> {
        self.into_value()
    }
}

impl<T: IntoValue, E: std::error::Error + Send + Sync + 'static> IntoCallbackResult
    for Result<T, E>
{
    fn into_callback_result(self) -> Result<Value> {
        match self {
            Ok(v) => v.into_value(),
            Err(e) => Err(into_error(e)),
        }
    }
}

/// This crate's errors as they are; any other as [`Error::Callback`] with it as the source.
fn into_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    let boxed: Box<dyn std::any::Any> = Box::new(e);
    match boxed.downcast::<Error>() {
        Ok(e) => *e,
        Err(other) => match other.downcast::<E>() {
            Ok(e) => Error::Callback {
                message: e.to_string(),
                source: Some(crate::Cause::new(*e)),
            },
            Err(_) => Error::callback("host callback failed"),
        },
    }
}

/// A closure usable as a typed synchronous host function (see [`Callback::wrap`]).
/// `Args` is the tuple of its argument types; it is inferred.
///
/// A closure of up to eight arguments qualifies when each argument type is [`FromValue`]
/// and its result is [`IntoCallbackResult`]. A guest passing fewer arguments leaves the
/// rest `undefined` (an `Option` argument is then `None`); extra arguments are ignored. An
/// argument that does not convert is thrown in the guest as a `TypeError` naming it
/// (`argument 2: expected a number, got a string`).
pub trait HostFunction<Args>: Send + Sync + 'static {
    /// Converts `args`, calls the closure and converts its result.
    fn call_with(&self, args: Vec<Value>) -> Result<Value>;
}

/// A closure returning a future, usable as a typed async host function (see
/// [`Callback::from_async`]). `Args` is the tuple of its argument types; it is inferred.
pub trait AsyncHostFunction<Args>: Send + Sync + 'static {
    /// Converts `args` and calls the closure; the future gives the converted result.
    /// An argument that does not convert gives a future that fails at once.
    fn call_with(&self, args: Vec<Value>) -> ValueFuture;
}

/// Takes argument `index` (0-based) of `args`, `undefined` when missing.
fn arg<T: FromValue>(args: &mut std::vec::IntoIter<Value>, index: usize) -> Result<T> {
    T::from_value(args.next().unwrap_or_default())
        .map_err(|e| at(format_args!("argument {}", index + 1), e))
}

macro_rules! host_function {
    ($($a:ident : $i:tt),*) => {
        impl<F, R, $($a),*> HostFunction<($($a,)*)> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: IntoCallbackResult,
            $($a: FromValue,)*
        {
            #[allow(unused_mut, unused_variables, non_snake_case)]
            fn call_with(&self, args: Vec<Value>) -> Result<Value> {
                let mut args = args.into_iter();
                $(let $a = arg::<$a>(&mut args, $i)?;)*
                crate::drop_values(args);
                (self)($($a),*).into_callback_result()
            }
        }

        impl<F, Fut, $($a),*> AsyncHostFunction<($($a,)*)> for F
        where
            F: Fn($($a),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoCallbackResult,
            $($a: FromValue,)*
        {
            #[allow(unused_mut, unused_variables, non_snake_case)]
            fn call_with(&self, args: Vec<Value>) -> ValueFuture {
                let mut args = args.into_iter();
                $(let $a = match arg::<$a>(&mut args, $i) {
                    Ok(v) => v,
                    Err(e) => return Box::pin(std::future::ready(Err(e))),
                };)*
                crate::drop_values(args);
                let future = (self)($($a),*);
                Box::pin(async move { future.await.into_callback_result() })
            }
        }
    };
}

host_function!();
host_function!(A0: 0);
host_function!(A0: 0, A1: 1);
host_function!(A0: 0, A1: 1, A2: 2);
host_function!(A0: 0, A1: 1, A2: 2, A3: 3);
host_function!(A0: 0, A1: 1, A2: 2, A3: 3, A4: 4);
host_function!(A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5);
host_function!(A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6);
host_function!(A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6, A7: 7);
