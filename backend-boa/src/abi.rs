//! The guest ABI: how a host talks to the Boa guest module.
//!
//! # Exports (guest → host can call)
//! - `isovm_alloc(len: i32) -> i32`: allocates `len` bytes in guest memory (0 on failure).
//! - `isovm_free(ptr: i32, len: i32)`: frees what `isovm_alloc` returned.
//! - `isovm_call(ptr: i32, len: i32) -> i64`: handles one [`Request`] (postcard bytes at
//!   `ptr..ptr+len`, which the guest frees). Returns `(resp_ptr << 32) | resp_len` of a
//!   [`Response`] in guest memory that the host must read, then free with `isovm_free`.
//! - `isovm_start(seed_lo: i64, seed_hi: i64)`: called once per instance before anything
//!   else; seeds `Math.random` (so instances started from one pre-initialised image do not
//!   share a random sequence).
//! - `wizer-initialize()`: builds the Boa engine and its first realm. Run once, at
//!   pre-initialisation (wasmtime-wizer), or by the host right after instantiation when the
//!   module was not pre-initialised.
//! - `memory`: the linear memory.
//!
//! # Imports (host functions the guest calls), module `isovm`
//! - `host_call(ptr: i32, len: i32) -> i64`: handles one [`HostRequest`] (postcard bytes in
//!   guest memory, owned by the guest). Returns `(resp_ptr << 32) | resp_len` of a
//!   [`HostResponse`] the host wrote into memory it got from `isovm_alloc`; the guest frees
//!   it. While the host handles the call it may call `isovm_alloc` (and nothing else).
//!
//! Plus WASI preview 1 (`wasi_snapshot_preview1`): clocks, `random_get`, `fd_write` (for
//! panic messages), environ/args (empty), `proc_exit`.
//!
//! Everything a guest returns is untrusted by the host: every pointer and length is
//! bounds-checked and every message is validated by decoding.

use serde::{Deserialize, Serialize};

/// A handle in the guest's handle table (contexts, scripts, modules, referenced values).
pub type Handle = u32;

/// How a value leaves the guest (mirrors `engine_api::TransferOptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Deep copy.
    pub copy: bool,
    /// Deep copy, to be wrapped in an ExternalCopy by the host.
    pub external_copy: bool,
    /// Return a handle to the value.
    pub reference: bool,
    /// Await a promise first.
    pub promise: bool,
    /// What a non-transferable value becomes when none of the above is set:
    /// `false` = `undefined` (eval, run), `true` = a handle (get, apply).
    pub fallback_reference: bool,
}

/// Where source code came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// File name for errors and stacks.
    pub filename: String,
    /// Added to line numbers.
    pub line_offset: i32,
    /// Added to column numbers of the first line.
    pub column_offset: i32,
}

/// A value on the wire, in either direction.
///
/// Decoding refuses values nested deeper than [`MAX_WIRE_DEPTH`], so a hostile guest cannot
/// exhaust the host's native stack with a deeply nested message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum WireValue {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A BigInt in decimal.
    BigInt(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<WireValue>),
    /// A plain object.
    Object(Vec<(String, WireValue)>),
    /// A Map.
    Map(Vec<(WireValue, WireValue)>),
    /// A Set.
    Set(Vec<WireValue>),
    /// A Date (ms since epoch).
    Date(f64),
    /// A RegExp.
    RegExp {
        /// Pattern.
        source: String,
        /// Flags.
        flags: String,
    },
    /// An Error object.
    Error {
        /// `name`.
        name: String,
        /// `message`.
        message: String,
        /// `stack`.
        stack: Option<String>,
    },
    /// An ArrayBuffer (also a SharedArrayBuffer, copied: the guest cannot share memory).
    ArrayBuffer(Vec<u8>),
    /// A typed array or DataView; `kind` is the constructor name (`Uint8Array`, ..).
    TypedArray {
        /// Constructor name.
        kind: String,
        /// Viewed bytes.
        bytes: Vec<u8>,
    },
    /// Guest → host: a new guest handle to a value that was not copied (a reference).
    /// Host → guest: the value behind one of this guest's own handles (`derefInto`).
    GuestHandle {
        /// The handle.
        handle: Handle,
        /// `typeof` the value (`null` is "null"), for the host's `Reference::type_of`.
        type_of: String,
    },
    /// Host → guest: a reference living in the host (a callback, or a value of another
    /// isolate). The guest sees an `ivm.Reference`-like object whose methods call
    /// [`HostRequest`]s with this id.
    HostReference {
        /// The host's id for it.
        id: u32,
        /// `typeof` the referenced value.
        type_of: String,
    },
    /// Host → guest: a plain function calling host callback `id`.
    HostFunction {
        /// The host's id for it.
        id: u32,
        /// 0 = sync (returns the value), 1 = async (returns a promise), 2 = ignored.
        mode: u8,
    },
    /// Host → guest: an `ivm.ExternalCopy`-like object for host copy `id`.
    /// Guest → host (result with `external_copy`): never; the host wraps copied data.
    ExternalCopy {
        /// The host's id for it.
        id: u32,
    },
}

/// How deeply a [`WireValue`] may nest (arrays, objects, maps, sets inside each other):
/// a little more than [`engine_api::MAX_TRANSFER_DEPTH`], which both sides enforce first.
pub const MAX_WIRE_DEPTH: usize = engine_api::MAX_TRANSFER_DEPTH + 12;

thread_local! {
    static DECODE_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one level of nesting while a `WireValue` decodes.
struct DepthGuard;

impl DepthGuard {
    fn enter() -> Option<DepthGuard> {
        DECODE_DEPTH.with(|d| {
            if d.get() >= MAX_WIRE_DEPTH {
                None
            } else {
                d.set(d.get() + 1);
                Some(DepthGuard)
            }
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DECODE_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

impl<'de> Deserialize<'de> for WireValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _guard = DepthGuard::enter()
            .ok_or_else(|| <D::Error as serde::de::Error>::custom("value nested too deeply"))?;
        WireValueDef::deserialize(d)
    }
}

/// The derived decoder behind `WireValue`'s depth-checked one (same shape, field for field).
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(remote = "WireValue")]
enum WireValueDef {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    BigInt(String),
    String(String),
    Array(Vec<WireValue>),
    Object(Vec<(String, WireValue)>),
    Map(Vec<(WireValue, WireValue)>),
    Set(Vec<WireValue>),
    Date(f64),
    RegExp {
        source: String,
        flags: String,
    },
    Error {
        name: String,
        message: String,
        stack: Option<String>,
    },
    ArrayBuffer(Vec<u8>),
    TypedArray {
        kind: String,
        bytes: Vec<u8>,
    },
    GuestHandle {
        handle: Handle,
        type_of: String,
    },
    HostReference {
        id: u32,
        type_of: String,
    },
    HostFunction {
        id: u32,
        mode: u8,
    },
    ExternalCopy {
        id: u32,
    },
}

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
    /// `value[key]`. Answers `Value`.
    Get {
        /// The handle.
        handle: Handle,
        /// The key.
        key: WireValue,
        /// Result transfer.
        result: Transfer,
    },
    /// `value[key] = v`. Answers `Bool`.
    Set {
        /// The handle.
        handle: Handle,
        /// The key.
        key: WireValue,
        /// The value.
        value: WireValue,
    },
    /// `delete value[key]`. Answers `Bool`.
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

/// Why a guest call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// JS threw (or a syntax error).
    Js,
    /// The value cannot be transferred.
    NotTransferable,
    /// The handle was released or never existed.
    Released,
    /// The handle exists but is of the wrong kind (a script where a context was expected),
    /// or the value it holds is (a reference applied that is not a function, a property
    /// read through a reference to a primitive).
    WrongKind,
    /// Recursion too deep.
    StackOverflow,
    /// The request was malformed.
    InvalidRequest,
    /// JS threw, and what ended the call is the error a failed host callback was thrown as:
    /// the host answered its `HostRequest::Apply` with `HostResponse::Error` carrying
    /// `callback: Some(id)`.
    Callback {
        /// The id the host keeps the callback's failure under.
        id: u32,
    },
}

/// A failure, as data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestError {
    /// Kind.
    pub kind: Option<ErrorKind>,
    /// JS error name (`TypeError`, ..).
    pub name: String,
    /// Message.
    pub message: String,
    /// `stack`, if any.
    pub stack: Option<String>,
    /// Where it was thrown: file.
    pub file: Option<String>,
    /// Line (1-based).
    pub line: Option<u32>,
    /// Column (1-based).
    pub column: Option<u32>,
}

/// How the guest calls a host function or reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallMode {
    /// Wait for the result.
    Sync,
    /// The guest made promise `promise`; the host settles it later with
    /// `Request::SettlePromise`.
    Async {
        /// Promise id.
        promise: u32,
    },
    /// Fire and forget.
    Ignored,
}

/// A call from the guest into the host (through the `host_call` import).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostRequest {
    /// Calls host function / reference `target`. Answers `Value` (Sync) or `Ok`.
    Apply {
        /// Host id.
        target: u32,
        /// `this`.
        receiver: WireValue,
        /// Arguments (already copied by the guest per its `arguments` options).
        args: Vec<WireValue>,
        /// How.
        mode: CallMode,
        /// Result transfer, for references into other isolates.
        result: Transfer,
    },
    /// `target[key]`. Answers `Value`.
    Get {
        /// Host id.
        target: u32,
        /// Key.
        key: WireValue,
        /// Result transfer.
        result: Transfer,
    },
    /// `target[key] = value`. Answers `Bool`.
    Set {
        /// Host id.
        target: u32,
        /// Key.
        key: WireValue,
        /// Value.
        value: WireValue,
    },
    /// `delete target[key]`. Answers `Bool`.
    Delete {
        /// Host id.
        target: u32,
        /// Key.
        key: WireValue,
    },
    /// A deep copy of the host reference's value. Answers `Value`.
    Copy {
        /// Host id.
        target: u32,
    },
    /// The guest no longer uses host id `target` (reference released). Answers `Ok`.
    Release {
        /// Host id.
        target: u32,
    },
    /// `new ivm.ExternalCopy(value)` in the guest. Answers `Id`.
    NewExternalCopy {
        /// The copied value.
        value: WireValue,
    },
    /// `externalCopy.copy()` in the guest. Answers `Value`.
    ReadExternalCopy {
        /// Host id of the copy.
        id: u32,
    },
    /// A promise the host waits on (see `Response::Pending`) settled. Answers `Ok`.
    PromiseSettled {
        /// Watch id.
        watch: u32,
        /// Fulfilled or rejected.
        ok: bool,
        /// Value or reason (already transferred per the original request).
        value: WireValue,
    },
}

/// The host's answer to a [`HostRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostResponse {
    /// Done.
    Ok,
    /// A value.
    Value(WireValue),
    /// A boolean.
    Bool(bool),
    /// A new host id.
    Id(u32),
    /// The call failed; the guest throws an error with this name and message.
    Error {
        /// Error name.
        name: String,
        /// Message.
        message: String,
        /// Set when a host callback failed: the id the host keeps its failure under. If the
        /// thrown error ends the guest call, the guest reports `ErrorKind::Callback { id }`.
        callback: Option<u32>,
    },
}

/// Encodes a message.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    postcard::to_allocvec(msg).unwrap_or_default()
}

/// Decodes a message; `None` for malformed bytes.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let v = WireValue::Array(vec![
            WireValue::Object(vec![("k".into(), WireValue::Number(1.5))]),
            WireValue::TypedArray {
                kind: "Uint8Array".into(),
                bytes: vec![1, 2],
            },
        ]);
        assert_eq!(decode::<WireValue>(&encode(&v)), Some(v));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // Runs on a 2 MiB stack, the default of Rust threads: the deepest accepted value
        // decodes there, and a hostile million-deep message is refused, not overflowed.
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut v = WireValue::Null;
                for _ in 0..MAX_WIRE_DEPTH - 1 {
                    v = WireValue::Array(vec![v]);
                }
                let bytes = encode(&v);
                let ok = decode::<WireValue>(&bytes).is_some();
                std::mem::forget(v);
                // Variant index of Array and length 1, repeated, then a Null.
                let array = encode(&WireValue::Array(vec![WireValue::Null]));
                let (prefix, _) = array.split_at(array.len() - 1);
                let mut hostile = prefix.repeat(1_000_000);
                hostile.extend_from_slice(&encode(&WireValue::Null));
                let refused = decode::<WireValue>(&hostile).is_none();
                let again = decode::<WireValue>(&encode(&WireValue::Array(vec![]))).is_some();
                (ok, refused, again)
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), (true, true, true));
    }
}
