//! `Request`: a call from the host into the guest, and its `Response`.

use serde::{Deserialize, Serialize};

use super::{GuestError, Handle, Origin, Transfer, WireValue};

/// A call from the host into the guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// A new realm. Answers `Handle`.
    CreateContext,
    /// Releases a handle of any kind. Answers `Ok`.
    Release {
        /// The handle.
        handle: Handle,
    },
    /// A reference to the realm's global object. Answers `Handle`.
    Global {
        /// The context.
        context: Handle,
    },
    /// Runs a classic script in a realm. Answers `Value`.
    Eval {
        /// The context.
        context: Handle,
        /// Source.
        code: String,
        /// Origin.
        origin: Origin,
        /// Result transfer.
        result: Transfer,
    },
    /// Runs `code` as a function body with `$0`, `$1`, .. bound to `args`. Answers `Value`.
    EvalClosure {
        /// The context.
        context: Handle,
        /// Function body.
        code: String,
        /// Arguments.
        args: Vec<WireValue>,
        /// Origin.
        origin: Origin,
        /// Result transfer.
        result: Transfer,
    },
    /// Parses a script (syntax errors are reported here). Answers `Handle`.
    CompileScript {
        /// Source.
        code: String,
        /// Origin.
        origin: Origin,
    },
    /// Runs a compiled script in a realm. Answers `Value`.
    RunScript {
        /// The script.
        script: Handle,
        /// The context.
        context: Handle,
        /// Result transfer.
        result: Transfer,
    },
    /// Parses a module. Answers `Module`.
    CompileModule {
        /// Source.
        code: String,
        /// Origin.
        origin: Origin,
        /// What `import.meta` holds (a `WireValue::Object` whose properties are copied onto
        /// it when the module first reads it), if anything.
        meta: Option<WireValue>,
    },
    /// Links a module in a realm. `resolutions` maps every (module, specifier) pair of the
    /// whole graph, as the host's resolver answered, to a module handle. Answers `Ok`.
    InstantiateModule {
        /// The root module.
        module: Handle,
        /// The context.
        context: Handle,
        /// `(importing module, specifier, imported module)`.
        resolutions: Vec<(Handle, String, Handle)>,
    },
    /// Evaluates a linked module; a second call returns the first outcome. Answers `Value`.
    EvaluateModule {
        /// The module.
        module: Handle,
        /// Result transfer.
        result: Transfer,
    },
    /// The namespace object of an evaluated (or linked) module. Answers `Handle`.
    ModuleNamespace {
        /// The module.
        module: Handle,
    },
    /// `typeof` a handle's value. Answers `TypeOf`.
    TypeOf {
        /// The handle.
        handle: Handle,
    },
    /// `value[key]` (see `engine_api::PropertyOptions`). Answers `Value`.
    Get {
        /// The handle.
        handle: Handle,
        /// The key.
        key: WireValue,
        /// Result transfer.
        result: Transfer,
        /// Run getters and Proxy traps; without it, data properties only.
        accessors: bool,
        /// Without `accessors`, also find data properties on the prototype chain (an
        /// inheriting reference). A handle the guest made inheriting inherits anyway.
        inherit: bool,
    },
    /// `value[key] = v` (see `engine_api::PropertyOptions`). Answers `Bool`.
    Set {
        /// The handle.
        handle: Handle,
        /// The key.
        key: WireValue,
        /// The value.
        value: WireValue,
        /// Run setters and Proxy traps; without it, write or define an own data property.
        accessors: bool,
    },
    /// `delete value[key]`; a Proxy is refused. Answers `Bool`.
    Delete {
        /// The handle.
        handle: Handle,
        /// The key.
        key: WireValue,
    },
    /// Calls the handle's value. Answers `Value`.
    Apply {
        /// The function.
        handle: Handle,
        /// `this`.
        receiver: WireValue,
        /// Arguments.
        args: Vec<WireValue>,
        /// Result transfer.
        result: Transfer,
    },
    /// A deep copy of the handle's value. Answers `Value`.
    Copy {
        /// The handle.
        handle: Handle,
    },
    /// Settles a promise the guest handed out for an async host call, then runs jobs.
    /// Answers `Ok`.
    SettlePromise {
        /// The promise id from `HostRequest::Apply { mode: Async { promise } }`.
        promise: u32,
        /// Fulfilled (true) or rejected.
        ok: bool,
        /// Set when a host callback failed (`value` is then its error): the id the host
        /// keeps its failure under. If the rejection ends a guest call uncaught, the guest
        /// reports `ErrorKind::Callback { id }`, as for a sync callback's
        /// `HostResponse::Error`.
        callback: Option<u32>,
        /// The value or the rejection reason.
        value: WireValue,
    },
    /// Memory use. Answers `Heap`.
    HeapStatistics,
}

/// The guest's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Done, nothing to return.
    Ok,
    /// A value.
    Value(WireValue),
    /// A new handle.
    Handle(Handle),
    /// A boolean.
    Bool(bool),
    /// A `typeof` string.
    TypeOf(String),
    /// A compiled module.
    Module {
        /// Its handle.
        handle: Handle,
        /// Its static import specifiers, in order.
        specifiers: Vec<String>,
    },
    /// Result of `promise` transfer when the promise is still pending after the job queue
    /// ran dry: the guest will make a `HostRequest::PromiseSettled { watch }` when it
    /// settles.
    Pending {
        /// Watch id.
        watch: u32,
    },
    /// Guest memory statistics.
    Heap {
        /// Bytes the guest allocator has handed out and not freed.
        used: u64,
    },
    /// The call failed.
    Error(GuestError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{decode, encode};

    #[test]
    fn property_requests_roundtrip_and_old_shapes_fail_to_decode() {
        let get = Request::Get {
            handle: 3,
            key: WireValue::String("k".into()),
            result: Transfer::default(),
            accessors: true,
            inherit: false,
        };
        let set = Request::Set {
            handle: 3,
            key: WireValue::Number(1.0),
            value: WireValue::Null,
            accessors: false,
        };
        for (req, new_fields) in [(get, 2), (set, 1)] {
            let bytes = encode(&req);
            assert_eq!(decode::<Request>(&bytes), Some(req));
            // A message of the shape before `accessors` / `inherit`: refused, not misread.
            assert_eq!(decode::<Request>(&bytes[..bytes.len() - new_fields]), None);
        }
    }
}
