//! The isovm contract: isolates, contexts, scripts, modules, references, external copies
//! and host callbacks, with limits and one error type. No engine lives here; backends
//! (`backend-v8`, `host-wasi`) implement these traits and the `isovm` crate picks one.
//!
//! Every call that runs guest code has three forms: the plain one blocks the calling
//! thread (and runs on it), `_async` returns a [`Task`] (a future, or `.wait()` it), and
//! `_ignored` drops the result. All work of one isolate runs in the order it was queued,
//! whatever form queued it.
//! Dropping an unfinished [`Task`] (or [`Task::cancel`]) cancels its work: not started, it
//! never runs; running, its guest call is stopped and ends in [`Error::Cancelled`].
//!
//! ```
//! use engine_api::{ExternalCopy, Value, TransferOptions};
//!
//! // Values are backend-neutral data (structured clone), with serde in and out.
//! let data = ExternalCopy::from_serde(&serde_json::json!({"id": 1, "tags": ["a"]})).unwrap();
//! assert_eq!(data.copy().unwrap().get("id"), Some(&Value::from(1)));
//! assert!(TransferOptions::copy().copy);
//! ```
//!
//! Generic code runs on every backend:
//!
//! ```ignore
//! use engine_api::*;
//! fn run<E: Backend>() -> Result<Value> {
//!     let isolate = E::Isolate::new(IsolateOptions { memory_limit_mb: 64, ..Default::default() })?;
//!     let context = isolate.create_context()?;
//!     context.eval("[1, 2, 3].map(x => x * 2)", &EvalOptions::copy())
//! }
//! ```
#![deny(missing_docs)]

pub mod abi;
mod any_reference;
mod backend;
mod call_options;
mod callback;
mod cancel_token;
mod capabilities;
mod cause;
mod context;
mod convert;
mod error;
mod error_value;
mod executor;
mod external_copy;
mod heap_statistics;
mod host_function;
mod host_pool;
mod isolate;
mod isolate_id;
mod isolate_options;
mod js_error;
mod module;
mod property_options;
mod property_refusal;
mod queue;
mod reference;
mod script;
mod script_options;
mod script_origin;
mod shared_buffer;
mod snapshot;
mod task;
mod thread_gang;
mod transfer_options;
mod type_of;
mod typed_array_kind;
mod value;
mod value_deserializer;
mod value_identity;
mod value_serde;
mod value_serializer;
mod worker_pool;

pub use any_reference::{AnyReference, ReferenceHandle};
pub use backend::Backend;
pub use call_options::{ApplyOptions, EvalOptions, RunOptions};
pub use callback::{Callback, CallbackMode};
pub use cancel_token::{CancelHook, CancelToken, CurrentToken};
pub use capabilities::{Capabilities, Capability};
pub use cause::Cause;
pub use context::Context;
pub use convert::{FromValue, IntoValue, Serde};
pub use error::{Error, Result};
pub use error_value::ErrorValue;
pub use executor::{Executor, SpawnedFuture, Spawner};
pub use external_copy::ExternalCopy;
pub use heap_statistics::HeapStatistics;
pub use host_function::{AsyncHostFunction, HostFunction, IntoCallbackResult};
pub use host_pool::{
    HostPool, PendingSlot, Refused, host_queue_limit, host_threads, set_host_queue_limit,
    set_host_threads, spawn_host_call,
};
pub use isolate::Isolate;
pub use isolate_id::IsolateId;
pub use isolate_options::{DeterministicSeed, IsolateOptions};
pub use js_error::{JsError, Location};
pub use module::{Module, Resolver};
pub use property_options::PropertyOptions;
pub use property_refusal::PropertyRefusal;
pub use queue::{TaskQueue, UNBOUNDED_LEND_WAIT, spawn_detached};
pub use reference::Reference;
pub use script::Script;
pub use script_options::ScriptOptions;
pub use script_origin::ScriptOrigin;
pub use shared_buffer::SharedBuffer;
pub use snapshot::{Snapshot, SnapshotScript};
pub use task::{Completer, Task};
pub use transfer_options::TransferOptions;
pub use type_of::TypeOf;
pub use typed_array_kind::TypedArrayKind;
pub use value::{MAX_TRANSFER_DEPTH, Value, drop_values};
pub use value_deserializer::{FromValueError, ValueDeserializer, iso_date};
pub use value_identity::{MAX_EXPANSION_BYTES, check_view};
pub use worker_pool::{peak_worker_threads, set_worker_threads, worker_threads};
